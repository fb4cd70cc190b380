-- Marts: derived tables rebuilt per community by warehouse/marts.py from the SQL in warehouse/sql/.

-- Messages per member per community per week (weeks start on Monday, in the community's time zone).
-- One row per platform account until identities are merged into persons.
CREATE TABLE member_weekly_activity (
    community        VARCHAR NOT NULL,
    platform         VARCHAR NOT NULL,
    week             DATE NOT NULL,
    account_id       VARCHAR NOT NULL,
    display_name     VARCHAR,
    messages         BIGINT NOT NULL,         -- what the member wrote (system lines excluded)
    media_messages   BIGINT NOT NULL,
    channels         BIGINT NOT NULL,         -- channels they wrote in that week
    active_days      BIGINT NOT NULL,         -- days of that week they wrote on
    first_message_at TIMESTAMPTZ NOT NULL,
    last_message_at  TIMESTAMPTZ NOT NULL
);
