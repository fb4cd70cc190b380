"""`community_health`: members, activity, arrivals, answers and the 1–9–90 split, week by week.

Computed from persons (after identity resolution) per community, for each platform and for all
platforms together (scope `*`, stored as platform NULL). Weeks start on Monday in the community's
time zone, passed as a constant (one zone for the whole column is what keeps DuckDB fast).
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from warehouse.db import transaction

_SQL = """
INSERT INTO community_health
WITH pa AS (
    SELECT pa.person_id, a.account_id, a.platform FROM person_accounts pa JOIN accounts a USING (account_id)
    WHERE a.community = $community
),
own AS (  -- what persons posted (a forward is activity too, though not their own words)
    SELECT m.message_id, m.platform, pa.person_id, m.sent_at, m.reply_to_id, m.thread_id,
           contains(coalesce(m.text, ''), '?') AND m.forwarded_from IS NULL AS question
    FROM messages m JOIN pa ON pa.account_id = m.author_id
    WHERE m.community = $community AND m.kind = 'message'
),
scoped AS (  -- every message counts for its platform and for the whole community ('*')
    SELECT *, platform AS scope FROM own UNION ALL SELECT *, '*' AS scope FROM own
),
msg AS (SELECT *, date_trunc('week', timezone($timezone, sent_at))::DATE AS week FROM scoped),
arrivals AS (
    SELECT person_id, scope, min(t) AS first_at FROM (
        SELECT person_id, scope, sent_at AS t FROM msg
        UNION ALL
        SELECT pa.person_id, unnest([e.platform, '*']) AS scope, e."at" FROM membership_events e
        JOIN pa ON pa.account_id = e.account_id
        WHERE e.community = $community AND e.event IN ('join', 'add')
    ) GROUP BY ALL
),
arrived AS (SELECT *, date_trunc('week', timezone($timezone, first_at))::DATE AS week FROM arrivals),
weeks AS (SELECT DISTINCT scope, week FROM msg),
active AS (SELECT scope, week, count(DISTINCT person_id) AS n FROM msg GROUP BY ALL),
engaged AS (
    SELECT scope, week, count(DISTINCT person) AS n FROM (  -- two unnests in one SELECT would zip, not cross
        SELECT unnest([platform, '*']) AS scope, week, person FROM (
            SELECT platform, date_trunc('week', timezone($timezone, "at"))::DATE AS week,
                   unnest([from_person, to_person]) AS person
            FROM interactions WHERE community = $community))
    GROUP BY ALL
),
firsts AS (SELECT person_id, scope, min(sent_at) AS first_message FROM msg GROUP BY ALL),
newcomers AS (  -- arrival is the first message or join, so "active within 30 days" is a first message by then
    SELECT a.scope, a.week, count(*) AS n,
           count(*) FILTER (WHERE f.first_message <= a.first_at + INTERVAL 30 DAY) AS active
    FROM arrived a LEFT JOIN firsts f USING (person_id, scope) GROUP BY ALL
),
replies AS (  -- first reply from someone else to each question, directly or in its thread (two equi-joins:
              -- an OR in the join condition would compare every pair of messages)
    SELECT q.scope, q.message_id, min(r.sent_at) AS at FROM msg q
    JOIN msg r ON r.scope = q.scope AND r.reply_to_id = q.message_id AND r.person_id <> q.person_id
    WHERE q.question GROUP BY ALL
    UNION ALL
    SELECT q.scope, q.message_id, min(r.sent_at) FROM msg q
    JOIN msg r ON r.scope = q.scope AND r.thread_id = q.message_id AND r.person_id <> q.person_id
    WHERE q.question AND r.message_id <> q.message_id GROUP BY ALL
),
answers AS (
    SELECT q.scope, q.week, q.message_id, min(r.at) - q.sent_at AS wait
    FROM msg q LEFT JOIN replies r USING (scope, message_id)
    WHERE q.question GROUP BY q.scope, q.week, q.message_id, q.sent_at
),
asked AS (
    SELECT scope, week, count(*) AS questions, count(wait) AS answered,
           median(epoch(wait) / 60) AS minutes
    FROM answers GROUP BY ALL
),
members AS (  -- who belongs by the end of each week, and how much each wrote that week
    SELECT w.scope, w.week, a.person_id, count(m.message_id) AS messages
    FROM weeks w JOIN arrived a ON a.scope = w.scope AND a.week <= w.week
    LEFT JOIN msg m ON m.scope = w.scope AND m.week = w.week AND m.person_id = a.person_id
    GROUP BY ALL
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY scope, week ORDER BY messages DESC, person_id) AS rank,
           count(*) OVER (PARTITION BY scope, week) AS size,
           sum(messages) OVER (PARTITION BY scope, week) AS total
    FROM members
),
split AS (
    SELECT scope, week, any_value(size) AS size,
           sum(messages) FILTER (WHERE rank <= ceil(size * 0.01)) / nullif(any_value(total), 0) AS top,
           sum(messages) FILTER (WHERE rank > ceil(size * 0.01) AND rank <= ceil(size * 0.10))
               / nullif(any_value(total), 0) AS next,
           sum(messages) FILTER (WHERE rank > ceil(size * 0.10)) / nullif(any_value(total), 0) AS rest
    FROM ranked GROUP BY ALL
)
SELECT $community, nullif(w.scope, '*'), w.week, coalesce(s.size, 0), coalesce(a.n, 0), coalesce(e.n, 0),
       coalesce(n.n, 0), coalesce(n.active, 0), coalesce(q.questions, 0), coalesce(q.answered, 0), q.minutes,
       coalesce(s.top, 0), coalesce(s.next, 0), coalesce(s.rest, 0)
FROM weeks w
LEFT JOIN active a USING (scope, week) LEFT JOIN engaged e USING (scope, week)
LEFT JOIN newcomers n USING (scope, week) LEFT JOIN asked q USING (scope, week) LEFT JOIN split s USING (scope, week)
"""


def refresh(con: duckdb.DuckDBPyConnection, communities: Iterable[str] | None = None) -> int:
    """Rebuild the health of these communities (default: all with messages) in one transaction."""
    zones = dict(con.execute("""SELECT DISTINCT m.community, coalesce(c.timezone, 'UTC') FROM messages m
                                LEFT JOIN communities c USING (community)""").fetchall())
    wanted = sorted(zones if communities is None else set(communities) & set(zones))
    with transaction(con):
        for community in wanted:
            con.execute("DELETE FROM community_health WHERE community = ?", [community])
            con.execute(_SQL, {"community": community, "timezone": zones[community]})
    return con.execute("SELECT count(*) FROM community_health").fetchone()[0]


def latest(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The latest week of each community, all platforms together, for the asset's metadata."""
    return con.execute(
        """SELECT community, week, members, active_members, contributors, new_members, questions, questions_answered
           FROM community_health WHERE platform IS NULL
           QUALIFY row_number() OVER (PARTITION BY community ORDER BY week DESC) = 1 ORDER BY 1""").fetchall()
