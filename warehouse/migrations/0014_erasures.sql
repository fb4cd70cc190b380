-- Erasures (`hub forget`, warehouse/forget.py). A forgotten person's accounts are kept only as
-- hashes, so that a later re-ingest of an old export is scrubbed of them again without the
-- warehouse keeping who they were. `token` replaces their names inside ids (a WhatsApp account
-- or message id holds the author's name): one per erasure, so two forgotten people's messages
-- never share an id, and a re-ingested message gets back the id it was given the first time.
CREATE TABLE erasures (
    erasure_id    VARCHAR NOT NULL,
    community     VARCHAR NOT NULL,
    account_hash  VARCHAR NOT NULL,            -- sha256 of the forgotten account_id
    token         VARCHAR NOT NULL,            -- what their names became inside ids
    forgotten_at  TIMESTAMPTZ NOT NULL
);

-- The raw store's copy of a file that held a forgotten person is deleted; the row says when.
ALTER TABLE raw_files ADD COLUMN erased_at TIMESTAMPTZ;
