-- Forwards are not the forwarder's own words: `forwarded_from` names who wrote the message first
-- (NULL for a message its author wrote). Reputation and the interaction graph leave forwards out.
ALTER TABLE messages ADD COLUMN forwarded_from VARCHAR;

-- URLs found in messages (Telegram's link entities, and any URL in a text).
CREATE TABLE links (
    message_id   VARCHAR NOT NULL,
    platform     VARCHAR NOT NULL,
    url          VARCHAR NOT NULL,
    source_id    VARCHAR NOT NULL
);
