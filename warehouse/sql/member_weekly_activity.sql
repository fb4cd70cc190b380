-- Messages per member per community per week (weeks start on Monday, in the community's time zone).
-- One row per platform account until identities are merged into persons.
CREATE OR REPLACE TABLE member_weekly_activity AS
SELECT
    m.community,
    m.platform,
    date_trunc('week', timezone(coalesce(c.timezone, 'UTC'), m.sent_at))::DATE AS week,
    m.author_id                                           AS account_id,
    coalesce(any_value(a.display_name), any_value(m.author_name)) AS display_name,
    count(*)                                              AS messages,
    count(*) FILTER (WHERE m.has_media)                   AS media_messages,
    count(DISTINCT m.channel_id)                          AS channels,
    count(DISTINCT timezone(coalesce(c.timezone, 'UTC'), m.sent_at)::DATE) AS active_days,
    min(m.sent_at)                                        AS first_message_at,
    max(m.sent_at)                                        AS last_message_at
FROM messages m
LEFT JOIN communities c ON c.community = m.community
LEFT JOIN accounts a ON a.account_id = m.author_id
WHERE m.kind = 'message' AND m.author_id IS NOT NULL
GROUP BY m.community, m.platform, week, m.author_id;
