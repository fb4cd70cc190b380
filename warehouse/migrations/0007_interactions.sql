-- Who reacts to, replies to, mentions whom: the interaction graph between persons (not accounts),
-- rebuilt per community after identity resolution. Forwards and bots take no part.
CREATE TABLE interactions (
    community    VARCHAR NOT NULL,
    from_person  VARCHAR NOT NULL,             -- who replied, reacted, mentioned, joined the thread
    to_person    VARCHAR NOT NULL,             -- whose message it was, or who was mentioned
    kind         VARCHAR NOT NULL,             -- reply, thread, reaction, mention
    "at"         TIMESTAMPTZ NOT NULL,
    platform     VARCHAR NOT NULL,
    message_id   VARCHAR NOT NULL              -- the message replied to, reacted to, or mentioning
);
