-- A community's health week by week, per platform and across platforms (platform NULL), from
-- persons (not accounts): one person active on two platforms is one active member overall.
CREATE TABLE community_health (
    community                 VARCHAR NOT NULL,
    platform                  VARCHAR,          -- NULL: all platforms together
    week                      DATE NOT NULL,    -- Monday, in the community's time zone
    members                   BIGINT NOT NULL,  -- persons seen by the end of the week (lurkers included)
    active_members            BIGINT NOT NULL,  -- persons who wrote that week
    contributors              BIGINT NOT NULL,  -- persons who replied to, reacted to or mentioned someone, or drew that from someone
    new_members               BIGINT NOT NULL,  -- persons first seen that week (first message, join or add)
    new_members_active_30d    BIGINT NOT NULL,  -- of those, how many wrote within 30 days of arriving
    questions                 BIGINT NOT NULL,  -- messages with a question mark
    questions_answered        BIGINT NOT NULL,  -- of those, with a reply (or thread reply) from someone else
    median_minutes_to_reply   DOUBLE,           -- time to the first such reply, for answered questions
    share_top_1pct            DOUBLE,           -- the 1–9–90 split of that week's messages among members
    share_next_9pct           DOUBLE,
    share_other_90pct         DOUBLE
);
