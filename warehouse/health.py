"""`community_health`: members, activity, arrivals, answers and the 1–9–90 split, week by week.

Computed from persons (after identity resolution) per community, for each platform and for all
platforms together (scope `*`, stored as platform NULL). Weeks start on Monday in the community's
time zone, passed as a constant (one zone for the whole column is what keeps DuckDB fast).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from warehouse.changes import Plan
from warehouse.db import asks, local_weeks, only_platform, transaction

NEWCOMER_LOOK_BACK = dt.timedelta(weeks=5)

_SQL = """
INSERT INTO community_health
WITH pa AS (
    SELECT pa.person_id, a.account_id, a.platform FROM person_accounts pa JOIN accounts a USING (account_id)
    WHERE a.community = $community
),
own AS (  -- what persons posted (a forward is activity too, though not their own words)
    SELECT m.message_id, m.platform, pa.person_id, m.sent_at, m.reply_to_id, m.thread_id,
           {asks} AND m.forwarded_from IS NULL AS question,
           coalesce(z.week, date_trunc('week', timezone($timezone, m.sent_at))::DATE) AS week
    FROM messages m JOIN pa ON pa.account_id = m.author_id
    LEFT JOIN quarters z ON z.q = epoch_us(m.sent_at) // 900000000
    WHERE m.community = $community AND m.kind = 'message'
),
-- every message counts for the whole community ('*') and for its platform; on one platform ($only)
-- the platform's rows are the community's, computed once and copied at the end
msg AS (SELECT *, '*' AS scope FROM own UNION ALL SELECT *, platform FROM own WHERE $only IS NULL),
firsts AS (SELECT person_id, scope, min(sent_at) AS first_message FROM msg GROUP BY ALL),
arrivals AS (
    SELECT person_id, scope, min(t) AS first_at FROM (
        SELECT person_id, scope, first_message AS t FROM firsts
        UNION ALL
        SELECT pa.person_id, unnest(CASE WHEN $only IS NULL THEN [e.platform, '*'] ELSE ['*'] END) AS scope, e."at"
        FROM membership_events e JOIN pa ON pa.account_id = e.account_id
        WHERE e.community = $community AND e.event IN ('join', 'add')
    ) GROUP BY ALL
),
arrived AS (SELECT *, date_trunc('week', timezone($timezone, first_at))::DATE AS week FROM arrivals),
weeks AS (  -- the weeks with messages, and those in which someone arrived (a join in a quiet week counts too)
    SELECT DISTINCT scope, week FROM msg WHERE week >= $from
    UNION SELECT DISTINCT scope, week FROM arrived WHERE week >= $from
),
writers AS (SELECT scope, week, person_id, count(*) AS messages FROM msg WHERE week >= $from GROUP BY ALL),
active AS (SELECT scope, week, count(*) AS n FROM writers GROUP BY ALL),
engaged AS (
    SELECT scope, week, count(DISTINCT person) AS n FROM (  -- two unnests in one SELECT would zip, not cross
        SELECT unnest(CASE WHEN $only IS NULL THEN [platform, '*'] ELSE ['*'] END) AS scope, week, person FROM (
            SELECT platform, week, unnest([from_person, to_person]) AS person FROM (
                SELECT platform, coalesce(z.week, date_trunc('week', timezone($timezone, "at"))::DATE) AS week,
                       from_person, to_person
                FROM interactions LEFT JOIN quarters z ON z.q = epoch_us("at") // 900000000
                WHERE community = $community AND "at" >= $from::TIMESTAMP - INTERVAL 1 DAY)))
    WHERE week >= $from
    GROUP BY ALL
),
newcomers AS (  -- arrival is the first message or join, so "active within 30 days" is a first message by then
    SELECT a.scope, a.week, count(*) AS n,
           count(*) FILTER (WHERE f.first_message <= a.first_at + INTERVAL 30 DAY) AS active
    FROM arrived a LEFT JOIN firsts f USING (person_id, scope) GROUP BY ALL
),
questions AS (SELECT message_id, platform, person_id FROM own WHERE question AND week >= $from),
replied AS (  -- replies from someone else to each question, directly or in its thread (two equi-joins:
              -- an OR in the join condition would compare every pair of messages)
    SELECT q.message_id, q.platform, r.platform AS by_platform, r.sent_at FROM questions q
    JOIN own r ON r.reply_to_id = q.message_id AND r.person_id <> q.person_id
    UNION ALL
    SELECT q.message_id, q.platform, r.platform, r.sent_at FROM questions q
    JOIN own r ON r.thread_id = q.message_id AND r.person_id <> q.person_id AND r.message_id <> q.message_id
),
replies AS (  -- the first of them in each scope that holds both messages
    SELECT '*' AS scope, message_id, min(sent_at) AS at FROM replied GROUP BY ALL
    UNION ALL
    SELECT platform, message_id, min(sent_at) FROM replied WHERE $only IS NULL AND by_platform = platform GROUP BY ALL
),
answers AS (
    SELECT q.scope, q.week, q.message_id, min(r.at) - q.sent_at AS wait
    FROM msg q LEFT JOIN replies r USING (scope, message_id)
    WHERE q.question AND q.week >= $from GROUP BY q.scope, q.week, q.message_id, q.sent_at
),
asked AS (
    SELECT scope, week, count(*) AS questions, count(wait) AS answered,
           median(epoch(wait) / 60) AS minutes
    FROM answers GROUP BY ALL
),
sizes AS (  -- who belongs by the end of each week, and the ranks that make its top 1 % and 10 %
    SELECT w.scope, w.week, count(*) AS size, ceil(count(*) * 0.01) AS top, ceil(count(*) * 0.10) AS next
    FROM weeks w JOIN arrived a ON a.scope = w.scope AND a.week <= w.week GROUP BY ALL
),
ranked AS (  -- members who wrote that week, most first: the others rank after them, with nothing to share
    SELECT w.scope, w.week, w.messages,
           row_number() OVER (PARTITION BY w.scope, w.week ORDER BY w.messages DESC, w.person_id) AS rank
    FROM writers w JOIN arrived a ON a.scope = w.scope AND a.person_id = w.person_id AND a.week <= w.week
),
split AS (
    SELECT s.scope, s.week, s.size,
           sum(r.messages) FILTER (WHERE r.rank <= s.top) / nullif(sum(r.messages), 0) AS top,
           sum(r.messages) FILTER (WHERE r.rank > s.top AND r.rank <= s.next) / nullif(sum(r.messages), 0) AS next,
           sum(r.messages) FILTER (WHERE r.rank > s.next) / nullif(sum(r.messages), 0) AS rest
    FROM sizes s LEFT JOIN ranked r USING (scope, week) GROUP BY s.scope, s.week, s.size, s.top, s.next
),
health AS (
    SELECT $community AS community, nullif(w.scope, '*') AS platform, w.week, coalesce(s.size, 0) AS members,
           coalesce(a.n, 0) AS active_members, coalesce(e.n, 0) AS contributors, coalesce(n.n, 0) AS new_members,
           coalesce(n.active, 0) AS new_members_active_30d, coalesce(q.questions, 0) AS questions,
           coalesce(q.answered, 0) AS questions_answered, q.minutes AS median_minutes_to_reply,
           -- a week in which someone arrived but no one wrote has no messages to split: NULL, not 0 %
           CASE WHEN a.n > 0 THEN coalesce(s.top, 0) END AS share_top_1pct,
           CASE WHEN a.n > 0 THEN coalesce(s.next, 0) END AS share_next_9pct,
           CASE WHEN a.n > 0 THEN coalesce(s.rest, 0) END AS share_other_90pct
    FROM weeks w
    LEFT JOIN active a USING (scope, week) LEFT JOIN engaged e USING (scope, week)
    LEFT JOIN newcomers n USING (scope, week) LEFT JOIN asked q USING (scope, week)
    LEFT JOIN split s USING (scope, week)
)
SELECT * FROM health UNION ALL SELECT * REPLACE ($only AS platform) FROM health WHERE $only IS NOT NULL
""".format(asks=asks("coalesce(m.text, '')"))


def refresh(con: duckdb.DuckDBPyConnection, plans: dict[str, Plan] | None = None) -> int:
    """Rebuild the health each community's plan asks for (default: every community whole), in one
    transaction. A plan from a week recomputes from 5 weeks before it: whether a newcomer became
    active within 30 days counts in the week they arrived."""
    zones = dict(con.execute("""SELECT DISTINCT m.community, coalesce(c.timezone, 'UTC') FROM messages m
                                LEFT JOIN communities c USING (community)""").fetchall())
    plans = {c: Plan.whole(c) for c in zones} if plans is None else plans
    with transaction(con):
        for community in sorted(set(plans) & set(zones)):
            plan = plans[community]
            if not plan.changed:
                continue
            start = plan.from_week - NEWCOMER_LOOK_BACK if plan.from_week else dt.date.min
            con.execute("DELETE FROM community_health WHERE community = ? AND week >= ?", [community, start])
            with local_weeks(con, community, zones[community]):
                con.execute(_SQL, {"community": community, "timezone": zones[community],
                                   "only": only_platform(con, community), "from": start})
    return con.execute("SELECT count(*) FROM community_health").fetchone()[0]


def latest(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The latest week of each community, all platforms together, for the asset's metadata."""
    return con.execute(
        """SELECT community, week, members, active_members, contributors, new_members, questions, questions_answered
           FROM community_health WHERE platform IS NULL
           QUALIFY row_number() OVER (PARTITION BY community ORDER BY week DESC) = 1 ORDER BY 1""").fetchall()
