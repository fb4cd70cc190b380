-- Core tables: the public contract promoters query with SQL (documented in README.md).
-- Message-sized tables have no PRIMARY KEY: an ART index slows bulk loads several-fold. Loaders
-- dedupe by anti-join inside one transaction, and the pipeline's asset checks verify uniqueness.

-- An ENUM compares with strings like a VARCHAR (kind = 'message') and loads ten times faster.
CREATE TYPE message_kind AS ENUM ('message', 'system');

CREATE TABLE communities (
    community    VARCHAR PRIMARY KEY,          -- slug from hub.yaml, or 'default'
    name         VARCHAR NOT NULL,
    timezone     VARCHAR NOT NULL DEFAULT 'UTC'
);

-- The raw layer: every export file the pipeline landed, by content hash, and where its bytes are kept.
CREATE TABLE raw_files (
    path         VARCHAR PRIMARY KEY,          -- where the file was found (inbox or configured path)
    sha256       VARCHAR NOT NULL,
    bytes        BIGINT NOT NULL,
    platform     VARCHAR NOT NULL,             -- detected from the content
    stored_as    VARCHAR NOT NULL,             -- its immutable copy in the raw store, named by hash
    landed_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE sources (
    source_id    VARCHAR PRIMARY KEY,          -- stable: platform, community, channel and content hash
    platform     VARCHAR NOT NULL,
    community    VARCHAR NOT NULL,
    channel_id   VARCHAR,                      -- set when the file is one channel (a WhatsApp chat)
    path         VARCHAR NOT NULL,             -- where it was last ingested from
    sha256       VARCHAR NOT NULL,             -- of the file as given (the .zip, not what is inside)
    bytes        BIGINT NOT NULL,
    ingested_at  TIMESTAMPTZ NOT NULL,         -- first ingestion
    records      BIGINT NOT NULL,              -- messages read from the file
    quarantined  BIGINT NOT NULL,              -- records that could not be read (see quarantine)
    first_at     TIMESTAMPTZ,                  -- earliest and latest message in the file
    last_at      TIMESTAMPTZ,
    options      JSON                          -- how it was read: time zone, date order, channel name
);

CREATE TABLE channels (
    channel_id   VARCHAR PRIMARY KEY,
    platform     VARCHAR NOT NULL,
    community    VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL              -- group, direct, channel, thread
);

CREATE TABLE accounts (
    account_id    VARCHAR PRIMARY KEY,         -- one row per platform identity
    platform      VARCHAR NOT NULL,
    community     VARCHAR NOT NULL,
    native_id     VARCHAR NOT NULL,            -- the platform's id; for WhatsApp, the name as the export shows it
    display_name  VARCHAR,
    handle        VARCHAR,
    email         VARCHAR,
    phone         VARCHAR,                     -- E.164 when known
    is_bot        BOOLEAN NOT NULL DEFAULT false,
    first_seen_at TIMESTAMPTZ,
    last_seen_at  TIMESTAMPTZ
);

CREATE TABLE messages (
    message_id   VARCHAR NOT NULL,             -- unique; derived where the platform has none
    platform     VARCHAR NOT NULL,
    community    VARCHAR NOT NULL,
    channel_id   VARCHAR NOT NULL,
    author_id    VARCHAR,                      -- NULL for system messages
    author_name  VARCHAR,
    sent_at      TIMESTAMPTZ NOT NULL,
    kind         message_kind NOT NULL,        -- 'message' (a person wrote it) or 'system' (the platform did)
    text         VARCHAR,
    reply_to_id  VARCHAR,
    thread_id    VARCHAR,
    has_media    BOOLEAN NOT NULL,
    edited_at    TIMESTAMPTZ,
    source_id    VARCHAR NOT NULL,             -- the file that first brought it
    position     BIGINT                        -- line or offset in that file
);

CREATE TABLE reactions (
    message_id   VARCHAR NOT NULL,
    platform     VARCHAR NOT NULL,
    reactor_id   VARCHAR,                      -- NULL when only a count is known
    emoji        VARCHAR NOT NULL,
    reacted_at   TIMESTAMPTZ,
    count        INTEGER NOT NULL DEFAULT 1,
    source_id    VARCHAR NOT NULL
);

CREATE TABLE membership_events (
    event_id     VARCHAR NOT NULL,
    platform     VARCHAR NOT NULL,
    community    VARCHAR NOT NULL,
    channel_id   VARCHAR NOT NULL,
    account_id   VARCHAR NOT NULL,
    event        VARCHAR NOT NULL,             -- join, leave, add, remove
    "at"         TIMESTAMPTZ NOT NULL,       -- a keyword in DuckDB SQL: write "at" in quotes
    actor_id     VARCHAR,                      -- who added or removed them
    message_id   VARCHAR,                      -- the system message it was read from
    source_id    VARCHAR NOT NULL
);

CREATE TABLE quarantine (
    source_id      VARCHAR NOT NULL,
    location       VARCHAR NOT NULL,           -- 'line 17', 'lines 17-19', a JSON path or an offset
    reason         VARCHAR NOT NULL,
    raw            VARCHAR,                    -- the input as read; undecodable bytes escaped as \xNN
    quarantined_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
