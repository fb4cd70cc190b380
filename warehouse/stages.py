"""The indicators of a community's stage, week by week, over the four weeks ending with each week.

Computed per platform and for all platforms together (scope `*`), from persons: promoters are
given as person ids (resolved from the configuration by `hub.stages`).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

WINDOW_DAYS = 21  # the three weeks before `week`, and `week` itself

_SQL = """
WITH pa AS (
    SELECT pa.person_id, a.account_id FROM person_accounts pa JOIN accounts a USING (account_id)
    WHERE a.community = $community
),
own AS (
    SELECT m.message_id, m.platform, p.person_id, m.reply_to_id IS NULL AS starts,
           list_contains($promoters, p.person_id) AS by_promoter,
           date_trunc('week', timezone($timezone, m.sent_at))::DATE AS week
    FROM messages m JOIN pa p ON p.account_id = m.author_id
    WHERE m.community = $community AND m.kind = 'message' AND m.forwarded_from IS NULL
),
msg AS (SELECT *, platform AS scope FROM own UNION ALL SELECT *, '*' FROM own),
weeks AS (SELECT DISTINCT scope, week FROM msg),
windowed AS (  -- every message in the windows it falls in
    SELECT w.scope, w.week, m.* EXCLUDE (scope, week), m.week AS at_week
    FROM weeks w JOIN msg m ON m.scope = w.scope AND m.week BETWEEN w.week - INTERVAL 21 DAY AND w.week
),
edges AS (
    SELECT i.from_person, i.to_person, i.kind, u.scope,
           date_trunc('week', timezone($timezone, i."at"))::DATE AS at_week
    FROM interactions i, LATERAL (SELECT unnest([i.platform, '*']) AS scope) u
    WHERE i.community = $community AND NOT list_contains($promoters, i.from_person)
      AND NOT list_contains($promoters, i.to_person)
),
member_edges AS (  -- distinct member-to-member links in each window
    SELECT DISTINCT w.scope, w.week, e.from_person, e.to_person, e.kind IN ('reply', 'thread', 'mention') AS wrote
    FROM weeks w JOIN edges e ON e.scope = w.scope AND e.at_week BETWEEN w.week - INTERVAL 21 DAY AND w.week
),
active AS (
    SELECT scope, week, count(*) AS messages,
           count(*) FILTER (WHERE by_promoter) AS promoter_messages,
           count(*) FILTER (WHERE starts) AS starts,
           count(*) FILTER (WHERE starts AND by_promoter) AS promoter_starts,
           count(DISTINCT person_id) FILTER (WHERE NOT by_promoter) AS members,
           count(DISTINCT at_week) FILTER (WHERE NOT by_promoter) AS member_weeks,
           count(DISTINCT at_week) FILTER (WHERE by_promoter) AS promoter_weeks
    FROM windowed GROUP BY ALL
),
contributing AS (
    SELECT scope, week, count(DISTINCT from_person) AS n FROM member_edges WHERE wrote GROUP BY ALL
),
links AS (
    SELECT a.scope, a.week, count(DISTINCT least(a.from_person, a.to_person) || '|' || greatest(a.from_person, a.to_person)) AS pairs,
           count(DISTINCT (a.from_person, a.to_person)) AS directed,
           count(DISTINCT (a.from_person, a.to_person)) FILTER (WHERE EXISTS (
               SELECT 1 FROM member_edges b WHERE b.scope = a.scope AND b.week = a.week
                 AND b.from_person = a.to_person AND b.to_person = a.from_person)) AS mutual
    FROM member_edges a GROUP BY ALL
),
nodes AS (  -- persons in the member graph of each window
    SELECT scope, week, count(DISTINCT person) AS n FROM (
        SELECT scope, week, from_person AS person FROM member_edges
        UNION ALL SELECT scope, week, to_person FROM member_edges) GROUP BY ALL
),
silent AS (  -- weeks of the window where members wrote and the promoters did not
    SELECT w.scope, w.week, count(*) AS n FROM weeks w
    JOIN (SELECT scope, week AS at_week, bool_or(by_promoter) AS promoter, bool_or(NOT by_promoter) AS members
          FROM msg GROUP BY ALL) x
      ON x.scope = w.scope AND x.at_week BETWEEN w.week - INTERVAL 21 DAY AND w.week
    WHERE x.members AND NOT x.promoter GROUP BY ALL
),
people_in AS (SELECT DISTINCT scope, week, person_id FROM windowed WHERE NOT by_promoter),
retained AS (
    SELECT now.scope, now.week, count(*) FILTER (WHERE back.person_id IS NOT NULL) AS kept,
           (SELECT count(*) FROM people_in b2 WHERE b2.scope = now.scope AND b2.week = now.week - INTERVAL 28 DAY)
               AS before
    FROM (SELECT DISTINCT scope, week FROM people_in) now
    LEFT JOIN people_in cur ON cur.scope = now.scope AND cur.week = now.week
    LEFT JOIN people_in back ON back.scope = cur.scope AND back.week = cur.week - INTERVAL 28 DAY
                             AND back.person_id = cur.person_id
    GROUP BY ALL
),
flagged AS (
    SELECT week, person_id FROM member_flags WHERE community = $community AND flag = 'ambassador'
),
ambassadors AS (
    SELECT f.week, count(*) AS n,
           count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM flagged g WHERE g.person_id = f.person_id
                                              AND g.week = f.week - INTERVAL 84 DAY)) AS new
    FROM flagged f GROUP BY ALL
)
SELECT $community AS community, nullif(a.scope, '*') AS platform, a.week, a.messages,
       a.members AS active_members,
       a.promoter_messages / a.messages AS promoter_message_share,
       a.promoter_starts / nullif(a.starts, 0) AS promoter_start_share,
       coalesce(c.n, 0) / nullif(a.members, 0) AS contributing_share,
       -- ambassadors are flagged across platforms: the per-platform rows show the community's
       coalesce(b.n, 0) AS ambassadors, coalesce(b.new, 0) AS ambassadors_new,
       coalesce(l.pairs, 0) / nullif(greatest(a.members, g.n) * (greatest(a.members, g.n) - 1) / 2, 0)
           AS member_density,
       coalesce(l.mutual, 0) / nullif(l.directed, 0) AS reciprocity,
       r.kept / nullif(r.before, 0) AS retention,
       coalesce(s.n, 0) AS promoter_silent_weeks
FROM active a
LEFT JOIN contributing c USING (scope, week) LEFT JOIN links l USING (scope, week) LEFT JOIN nodes g USING (scope, week)
LEFT JOIN silent s USING (scope, week) LEFT JOIN retained r USING (scope, week)
LEFT JOIN ambassadors b ON b.week = a.week
ORDER BY platform NULLS FIRST, week
"""


def indicators(con: duckdb.DuckDBPyConnection, community: str, timezone: str, promoters: list[str]) -> pa.Table:
    return con.execute(_SQL, {"community": community, "timezone": timezone, "promoters": promoters}).to_arrow_table()


def promoter_candidates(con: duckdb.DuckDBPyConnection, community: str) -> list[tuple]:
    """(person_id, display name, native id, phone, handle, account display name) of a community's accounts."""
    return con.execute(
        """SELECT pa.person_id, p.display_name, a.native_id, a.phone, a.handle, a.display_name, a.platform
           FROM person_accounts pa JOIN persons p USING (person_id) JOIN accounts a USING (account_id)
           WHERE a.community = ?""", [community]).fetchall()


def busiest_at_start(con: duckdb.DuckDBPyConnection, community: str) -> str | None:
    """The person who wrote most in the community's first four weeks (the promoter, when none is named)."""
    row = con.execute(
        """SELECT pa.person_id FROM messages m JOIN person_accounts pa ON pa.account_id = m.author_id
           WHERE m.community = $c AND m.kind = 'message'
             AND m.sent_at < (SELECT min(sent_at) FROM messages WHERE community = $c) + INTERVAL 28 DAY
           GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""", {"c": community}).fetchone()
    return row[0] if row else None


def replace_stages(con: duckdb.DuckDBPyConnection, stages: dict[str, pa.Table]) -> int:
    con.execute("BEGIN TRANSACTION")
    try:
        for community, table in stages.items():
            con.execute("DELETE FROM community_stages WHERE community = ?", [community])
            con.register("rows", table)
            try:
                con.execute("INSERT INTO community_stages BY NAME SELECT * FROM rows")
            finally:
                con.unregister("rows")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return con.execute("SELECT count(*) FROM community_stages").fetchone()[0]
