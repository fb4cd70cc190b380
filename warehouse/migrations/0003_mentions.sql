-- Mentions: an account named in a message's text. The interaction graph (replies, reactions,
-- mentions) is built from messages, reactions and this table.
CREATE TABLE mentions (
    message_id   VARCHAR NOT NULL,
    platform     VARCHAR NOT NULL,
    account_id   VARCHAR NOT NULL,             -- who was mentioned
    source_id    VARCHAR NOT NULL
);
