"""The weekly raw parts of members' reputation, and storing the scores `hub.scoring` makes of them.

`weekly_parts` returns, for every person of a community and every week since they arrived (weeks
without activity included, so that decay and drifting show), the undecayed count of each part.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from warehouse.db import NUMBERED_PERSONS, asks, insert_rows, local_weeks, transaction
from warehouse.flags import member_repliers

PARTS = ("messages", "conversations_started", "answers", "media_and_links", "welcomes", "replies_received",
         "reactions_received", "reach")

_PARTS_SQL = """
WITH pa AS (
    SELECT pa.person_id, a.account_id FROM person_accounts pa JOIN accounts a USING (account_id)
    WHERE a.community = $community
),
own AS (
    SELECT m.message_id, p.person_id, m.sent_at, m.reply_to_id, m.thread_id, m.has_media,
           coalesce(z.week, date_trunc('week', timezone($timezone, m.sent_at))::DATE) AS week,
           {asks} AS question
    FROM messages m JOIN pa p ON p.account_id = m.author_id
    LEFT JOIN quarters z ON z.q = epoch_us(m.sent_at) // 900000000
    WHERE m.community = $community AND m.kind = 'message' AND m.forwarded_from IS NULL
),
arrivals AS (
    SELECT person_id, first_at, date_trunc('week', timezone($timezone, first_at))::DATE AS first_week FROM (
        SELECT person_id, min(t) AS first_at FROM (
            SELECT person_id, sent_at AS t FROM own
            UNION ALL
            SELECT p.person_id, e."at" FROM membership_events e JOIN pa p ON p.account_id = e.account_id
            WHERE e.community = $community AND e.event IN ('join', 'add')
        ) GROUP BY ALL)
),
edges AS (
    SELECT i.*, coalesce(z.week, date_trunc('week', timezone($timezone, i."at"))::DATE) AS week
    FROM interactions i LEFT JOIN quarters z ON z.q = epoch_us(i."at") // 900000000 WHERE i.community = $community
),
{numbered},
weeks AS (SELECT unnest(generate_series(min(week), max(week), INTERVAL 7 DAY))::DATE AS week FROM own),
grid AS (SELECT a.person_id, w.week, a.first_week FROM arrivals a JOIN weeks w ON w.week >= a.first_week
         WHERE w.week >= $from),
written AS (
    SELECT person_id, week, count(*) AS messages,
           count(*) FILTER (WHERE has_media OR message_id IN (SELECT message_id FROM links)) AS media_and_links
    FROM own WHERE week >= $from GROUP BY ALL
),
started AS (
    SELECT o.person_id, o.week, count(DISTINCT o.message_id) AS n FROM own o
    JOIN edges e ON e.message_id = o.message_id AND e.to_person = o.person_id AND e.kind IN ('reply', 'thread')
    WHERE o.reply_to_id IS NULL AND o.week >= $from GROUP BY ALL
),
questions AS (SELECT message_id, person_id FROM own WHERE question),
answered AS (  -- replies to someone else's question, and any message in the thread it started (a Discord
               -- thread's messages do not reply to its first one), as community_health counts a question
               -- answered; each message once
    -- (Joined to the questions alone, not to every message twice: a tenth of the hash tables.)
    SELECT a.person_id, a.week, count(*) AS n FROM own a
    LEFT JOIN questions q ON q.message_id = a.reply_to_id LEFT JOIN questions t ON t.message_id = a.thread_id
    WHERE a.week >= $from AND (a.reply_to_id IS NOT NULL OR a.thread_id IS NOT NULL)
      AND (q.person_id <> a.person_id OR t.person_id <> a.person_id)
    GROUP BY ALL
),
welcomed AS (  -- newcomers each interacted with, once a week: three emoji on one message are one welcome
    SELECT e.from_person AS person_id, e.week, count(DISTINCT e.to_person) AS n FROM edges e
    JOIN arrivals a ON a.person_id = e.to_person AND e."at" < a.first_at + INTERVAL 30 DAY
    WHERE e.week >= $from GROUP BY ALL
),
pairs AS (  -- each pair of persons who interacted that week (interactions has no self-links), ordered (lo, hi);
            -- who replied to or reacted to whom as four bits of one aggregate, cheaper than four bool_or
    SELECT week, lo, hi, (bits & 1) > 0 AS lo_replied, (bits & 2) > 0 AS hi_replied,
           (bits & 4) > 0 AS lo_reacted, (bits & 8) > 0 AS hi_reacted
    FROM (SELECT week, least(f.n, t.n) AS lo, greatest(f.n, t.n) AS hi,
                 bit_or(CASE WHEN kind IN ('reply', 'thread') THEN CASE WHEN f.n < t.n THEN 1 ELSE 2 END
                             WHEN kind = 'reaction' THEN CASE WHEN f.n < t.n THEN 4 ELSE 8 END
                             ELSE 0 END::UTINYINT) AS bits
          FROM edges e JOIN numbered f ON f.person_id = e.from_person JOIN numbered t ON t.person_id = e.to_person
          WHERE week >= $from GROUP BY ALL)
),
recognised AS (  -- distinct others who replied to, reacted to, or interacted with each person: one pair each
    SELECT n, week, count(*) FILTER (WHERE replied) AS replies, count(*) FILTER (WHERE reacted) AS reactions,
           count(*) AS reach
    FROM (SELECT week, lo AS n, hi_replied AS replied, hi_reacted AS reacted FROM pairs
          UNION ALL SELECT week, hi, lo_replied, lo_reacted FROM pairs)
    GROUP BY ALL
)
SELECT g.person_id, g.week, g.first_week AS arrived, (SELECT min(week) FROM weeks) AS start_week,
       coalesce(w.messages, 0)::DOUBLE AS messages, coalesce(s.n, 0)::DOUBLE AS conversations_started,
       coalesce(q.n, 0)::DOUBLE AS answers, coalesce(w.media_and_links, 0)::DOUBLE AS media_and_links,
       coalesce(c.n, 0)::DOUBLE AS welcomes, coalesce(r.replies, 0)::DOUBLE AS replies_received,
       coalesce(r.reactions, 0)::DOUBLE AS reactions_received, coalesce(r.reach, 0)::DOUBLE AS reach
FROM grid g JOIN numbered p USING (person_id)
LEFT JOIN written w USING (person_id, week) LEFT JOIN started s USING (person_id, week)
LEFT JOIN answered q USING (person_id, week) LEFT JOIN welcomed c USING (person_id, week)
LEFT JOIN recognised r ON r.n = p.n AND r.week = g.week
ORDER BY p.n, g.week
""".format(asks=asks("coalesce(m.text, '')"), numbered=NUMBERED_PERSONS)


def communities_with_persons(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """community -> time zone, for communities whose persons have been resolved."""
    return dict(con.execute("""SELECT DISTINCT p.community, coalesce(c.timezone, 'UTC') FROM persons p
                               LEFT JOIN communities c USING (community) ORDER BY 1""").fetchall())


def weekly_parts(con: duckdb.DuckDBPyConnection, community: str, timezone: str,
                 since: dt.date | None = None) -> pa.Table:
    """The parts of every week since each person arrived, or of the weeks from Monday `since` on;
    with each person's week of arrival (`arrived`) and the community's first week (`start_week`).
    Within warehouse.db.local_weeks (each time's week is read from it)."""
    return con.execute(_PARTS_SQL, {"community": community, "timezone": timezone,
                                    "from": since or dt.date.min}).to_arrow_table()


def weekly_parts_and_repliers(con: duckdb.DuckDBPyConnection, community: str, timezone: str,
                               promoters: list[str], since: dt.date | None = None) -> tuple[pa.Table, pa.Table]:
    """`weekly_parts` and `warehouse.flags.member_repliers`, both reading each time's local week from
    one quarter-hour table (warehouse.db.local_weeks), made once for the two."""
    with local_weeks(con, community, timezone):
        return (weekly_parts(con, community, timezone, since),
                member_repliers(con, community, timezone, promoters, since))


def stored_scores(con: duckdb.DuckDBPyConnection, community: str, week: dt.date) -> pa.Table:
    """member_scores of one week (the decayed parts and level a recompute from the next week carries on from)."""
    return con.execute(f"SELECT person_id, level, {', '.join(PARTS)} FROM member_scores WHERE community = ? AND week = ?",
                       [community, week]).to_arrow_table()


def replace_scores(con: duckdb.DuckDBPyConnection, scores: dict[str, tuple[dt.date | None, pa.Table]],
                   flags: dict[str, tuple[dt.date | None, pa.Table]]) -> int:
    """Replace the scores and flags of each community (community -> (from Monday, None for all
    weeks; rows)) in one transaction."""
    with transaction(con):
        for table_name, tables in (("member_scores", scores), ("member_flags", flags)):
            for community, (since, table) in tables.items():
                con.execute(f"DELETE FROM {table_name} WHERE community = ? AND week >= ?",
                            [community, since or dt.date.min])
                insert_rows(con, table_name, table)
    return con.execute("SELECT count(*) FROM member_scores").fetchone()[0]


def latest_flags(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(community, flag, members) in each community's latest week."""
    return con.execute(
        """SELECT community, flag, count(*) FROM member_flags f
           WHERE week = (SELECT max(week) FROM member_scores s WHERE s.community = f.community)
           GROUP BY ALL ORDER BY 1, 2""").fetchall()


def latest_levels(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(community, level, members) in each community's latest week."""
    return con.execute(
        """SELECT community, level, count(*) FROM member_scores s
           WHERE week = (SELECT max(week) FROM member_scores t WHERE t.community = s.community)
           GROUP BY community, level
           ORDER BY 1, list_position(['ambassador', 'contributor', 'participant', 'observer'], level)""").fetchall()


def latest_stages(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(community, week, stage, reason) of each community's latest week, all platforms together."""
    return con.execute(
        """SELECT community, week, stage, reason FROM community_stages WHERE platform IS NULL
           QUALIFY row_number() OVER (PARTITION BY community ORDER BY week DESC) = 1 ORDER BY 1""").fetchall()
