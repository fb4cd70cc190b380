-- Where each live source's sync stands (e.g. a Slack channel's window and page cursor). Written in
-- the same transaction as the data it describes, so a cursor never runs ahead of what is stored.
CREATE TABLE sync_state (
    source_id    VARCHAR NOT NULL,
    key          VARCHAR NOT NULL,
    value        VARCHAR NOT NULL,             -- JSON
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (source_id, key)
);
