"""The SQL behind the HTML, Markdown and CSV reports (hub/html_report.py): read-only queries over
the derived tables, aggregated here (week by week, top N) so a report of a community of a million
messages stays small and quick.

A period is whole weeks: `first` and `last` are Mondays in the community's time zone, as in
`community_health`; [first, last + 7 days) is its span of time.
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb

from warehouse.scores import PARTS


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> duckdb.DuckDBPyConnection:
    """Executes with the parameters the SQL names (DuckDB refuses any other)."""
    named = set(re.findall(r"\$(\w+)", sql))
    return con.execute(sql, {k: v for k, v in params.items() if k in named})


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def community(con: duckdb.DuckDBPyConnection, community: str) -> dict | None:
    """Name, time zone and the first and last weeks of the community's health (None: not built)."""
    row = con.execute(
        """SELECT c.community, coalesce(c.name, c.community), coalesce(c.timezone, 'UTC'),
                  (SELECT min(week) FROM community_health h WHERE h.community = c.community AND h.platform IS NULL),
                  (SELECT max(week) FROM community_health h WHERE h.community = c.community AND h.platform IS NULL)
           FROM communities c WHERE c.community = $c""", {"c": community}).fetchone()
    if row is None:
        return None
    return dict(zip(("community", "name", "timezone", "first_week", "last_week"), row))


def platforms(con: duckdb.DuckDBPyConnection, community: str) -> list[str]:
    return [p for (p,) in con.execute(
        """SELECT DISTINCT platform FROM community_health WHERE community = $c AND platform IS NOT NULL
           ORDER BY platform""", {"c": community}).fetchall()]


# Messages written by persons (bots are not persons), as community_health counts them: a forward
# is activity too. $since and $until are local dates; the range on sent_at is computed once.
_MESSAGES = """
    pa AS (SELECT pa.person_id, a.account_id FROM person_accounts pa JOIN accounts a USING (account_id)
           WHERE a.community = $c),
    msg AS (
        SELECT m.platform, pa.person_id, date_trunc('week', timezone($tz, m.sent_at))::DATE AS week
        FROM messages m JOIN pa ON pa.account_id = m.author_id
        WHERE m.community = $c AND m.kind = 'message'
          AND m.sent_at >= timezone($tz, $since::TIMESTAMP) AND m.sent_at < timezone($tz, $until::TIMESTAMP)
    )"""


def headline(con: duckdb.DuckDBPyConnection, community: str, timezone: str, first: dt.date, last: dt.date,
             previous: dt.date) -> list[dict]:
    """For the period [first, last] ('current') and the weeks [previous, first) before it
    ('previous'), per platform and all together (platform None): messages, active members (persons
    who wrote), contributors (persons in an interaction, either side) and new members (the sum of
    community_health.new_members)."""
    params = {"c": community, "tz": timezone, "first": first, "since": previous, "until": last + dt.timedelta(days=7),
              "previous": previous, "last": last}
    return _dicts(_run(con, f"""
        WITH {_MESSAGES},
        written AS (
            SELECT platform, CASE WHEN week >= $first THEN 'current' ELSE 'previous' END AS period,
                   count(*) AS messages, count(DISTINCT person_id) AS active_members
            FROM msg GROUP BY GROUPING SETS ((period, platform), (period))
        ),
        linked AS (
            SELECT platform, CASE WHEN "at" >= timezone($tz, $first::TIMESTAMP) THEN 'current' ELSE 'previous' END
                       AS period, unnest([from_person, to_person]) AS person
            FROM interactions
            WHERE community = $c AND "at" >= timezone($tz, $since::TIMESTAMP)
              AND "at" < timezone($tz, $until::TIMESTAMP)
        ),
        contributing AS (
            SELECT platform, period, count(DISTINCT person) AS contributors
            FROM linked GROUP BY GROUPING SETS ((period, platform), (period))
        ),
        arriving AS (
            SELECT platform, CASE WHEN week >= $first THEN 'current' ELSE 'previous' END AS period,
                   sum(new_members)::BIGINT AS new_members
            FROM community_health WHERE community = $c AND week BETWEEN $previous AND $last GROUP BY ALL
        ),
        scopes AS (SELECT DISTINCT platform FROM community_health WHERE community = $c),
        periods AS (SELECT unnest(['current', 'previous']) AS period)
        SELECT s.platform, p.period, coalesce(w.messages, 0) AS messages,
               coalesce(w.active_members, 0) AS active_members, coalesce(k.contributors, 0) AS contributors,
               coalesce(n.new_members, 0) AS new_members
        FROM scopes s CROSS JOIN periods p
        LEFT JOIN written w ON w.platform IS NOT DISTINCT FROM s.platform AND w.period = p.period
        LEFT JOIN contributing k ON k.platform IS NOT DISTINCT FROM s.platform AND k.period = p.period
        LEFT JOIN arriving n ON n.platform IS NOT DISTINCT FROM s.platform AND n.period = p.period
        ORDER BY s.platform NULLS FIRST, p.period""", params))


def weekly(con: duckdb.DuckDBPyConnection, community: str, timezone: str, first: dt.date, last: dt.date) -> list[dict]:
    """Each week of [first, last], per platform and all together (platform None): messages (as in
    `headline`) and community_health's figures; a week without activity is all zeros (and no
    median)."""
    params = {"c": community, "tz": timezone, "first": first, "last": last, "since": first,
              "until": last + dt.timedelta(days=7)}
    return _dicts(_run(con, f"""
        WITH {_MESSAGES},
        written AS (SELECT platform, week, count(*) AS messages FROM msg GROUP BY GROUPING SETS ((platform, week), (week))),
        weeks AS (SELECT unnest(generate_series($first::DATE, $last::DATE, INTERVAL 7 DAY))::DATE AS week),
        scopes AS (SELECT DISTINCT platform FROM community_health WHERE community = $c)
        SELECT s.platform, w.week, coalesce(m.messages, 0) AS messages,
               coalesce(h.active_members, 0) AS active_members, coalesce(h.contributors, 0) AS contributors,
               coalesce(h.new_members, 0) AS new_members,
               coalesce(h.new_members_active_30d, 0) AS new_members_active_30d,
               coalesce(h.questions, 0) AS questions, coalesce(h.questions_answered, 0) AS questions_answered,
               h.median_minutes_to_reply
        FROM scopes s CROSS JOIN weeks w
        LEFT JOIN community_health h ON h.community = $c AND h.platform IS NOT DISTINCT FROM s.platform
                                    AND h.week = w.week
        LEFT JOIN written m ON m.platform IS NOT DISTINCT FROM s.platform AND m.week = w.week
        ORDER BY s.platform NULLS FIRST, w.week""", params))


def stages(con: duckdb.DuckDBPyConnection, community: str, first: dt.date, last: dt.date) -> list[dict]:
    """community_stages over the period, all platforms (platform None) first."""
    return _dicts(con.execute(
        """SELECT platform, week, stage, reason, messages, active_members, promoter_message_share,
                  promoter_start_share, contributing_share, ambassadors, member_density, reciprocity, retention
           FROM community_stages WHERE community = $c AND week BETWEEN $first AND $last
           ORDER BY platform NULLS FIRST, week""", {"c": community, "first": first, "last": last}))


def scores_week(con: duckdb.DuckDBPyConnection, community: str, first: dt.date, last: dt.date) -> dt.date | None:
    """The latest week of member_scores in the period: the week the member tables are read at."""
    return con.execute("SELECT max(week) FROM member_scores WHERE community = $c AND week BETWEEN $first AND $last",
                       {"c": community, "first": first, "last": last}).fetchone()[0]


_PLATFORMS_OF = """
    platforms_of AS (SELECT pa.person_id, list(DISTINCT a.platform ORDER BY a.platform) AS platforms
                     FROM person_accounts pa JOIN accounts a USING (account_id)
                     WHERE a.community = $c GROUP BY ALL)"""


def top_members(con: duckdb.DuckDBPyConnection, community: str, week: dt.date, limit: int) -> list[dict]:
    """The members of highest reputation that week: name, platforms, level, reputation and its parts."""
    parts = ", ".join(f"s.{p}" for p in PARTS)
    return _dicts(con.execute(f"""
        WITH {_PLATFORMS_OF}
        SELECT s.person_id, p.display_name AS name, coalesce(f.platforms, []) AS platforms, s.level,
               s.reputation, {parts}
        FROM member_scores s JOIN persons p ON p.person_id = s.person_id AND p.community = s.community
        LEFT JOIN platforms_of f ON f.person_id = s.person_id
        WHERE s.community = $c AND s.week = $week
        ORDER BY s.reputation DESC, p.display_name, s.person_id LIMIT $n""",
        {"c": community, "week": week, "n": limit}))


def member_count(con: duckdb.DuckDBPyConnection, community: str, week: dt.date) -> int:
    return con.execute("SELECT count(*) FROM member_scores WHERE community = $c AND week = $week",
                       {"c": community, "week": week}).fetchone()[0]


def flags(con: duckdb.DuckDBPyConnection, community: str, week: dt.date, limit: int) -> tuple[list[dict], dict[str, int]]:
    """The members flagged that week, at most `limit` per flag (highest reputation first), with
    the evidence; and how many each flag has in all."""
    rows = _dicts(con.execute(f"""
        WITH {_PLATFORMS_OF}
        SELECT f.flag, f.person_id, p.display_name AS name, coalesce(pf.platforms, []) AS platforms,
               s.level, s.reputation, f.evidence
        FROM member_flags f JOIN persons p ON p.person_id = f.person_id AND p.community = f.community
        LEFT JOIN member_scores s ON s.community = f.community AND s.person_id = f.person_id AND s.week = f.week
        LEFT JOIN platforms_of pf ON pf.person_id = f.person_id
        WHERE f.community = $c AND f.week = $week
        QUALIFY row_number() OVER (PARTITION BY f.flag ORDER BY s.reputation DESC NULLS LAST, p.display_name,
                                                                f.person_id) <= $n
        ORDER BY f.flag, s.reputation DESC NULLS LAST, p.display_name, f.person_id""",
        {"c": community, "week": week, "n": limit}))
    counts = dict(con.execute("SELECT flag, count(*) FROM member_flags WHERE community = $c AND week = $week GROUP BY 1",
                              {"c": community, "week": week}).fetchall())
    return rows, counts


def network(con: duckdb.DuckDBPyConnection, community: str, timezone: str, first: dt.date, last: dt.date,
            promoters: list[str], *, week: dt.date | None, nodes: int, edges: int) -> dict:
    """The interaction graph of the period, aggregated by pair.

    - `nodes`: the promoters, then the persons with most interactions (given and received), up to
      `nodes` of them: name, interactions, level at `week`, flagged ambassador then, promoter;
    - `edges`: pairs among those nodes, heaviest first, up to `edges`: interactions each way;
    - `figures`: over the whole graph, interactions, persons and pairs; and, as community_stages
      measures them (promoters left out), the density (linked pairs / possible pairs among the
      members who wrote or took part) and the reciprocity (links that go both ways / links).
    """
    params = {"c": community, "tz": timezone, "since": first, "until": last + dt.timedelta(days=7),
              "promoters": list(promoters), "week": week, "nodes": nodes, "edges": edges}
    try:
        _run(con, """
            CREATE OR REPLACE TEMP TABLE report_pairs AS  -- one row per directed pair
            SELECT from_person, to_person, count(*) AS n FROM interactions
            WHERE community = $c AND "at" >= timezone($tz, $since::TIMESTAMP) AND "at" < timezone($tz, $until::TIMESTAMP)
            GROUP BY ALL""", params)
        _run(con, """
            CREATE OR REPLACE TEMP TABLE report_nodes AS
            SELECT * FROM (
                SELECT person, sum(given)::BIGINT AS given, sum(received)::BIGINT AS received FROM (
                    SELECT from_person AS person, n AS given, 0 AS received FROM report_pairs
                    UNION ALL SELECT to_person, 0, n FROM report_pairs) GROUP BY person)
            ORDER BY list_contains($promoters, person) DESC, given + received DESC, person LIMIT $nodes""", params)
        node_rows = _dicts(_run(con, f"""
            WITH {_PLATFORMS_OF}
            SELECT t.person AS person_id, p.display_name AS name, coalesce(pf.platforms, []) AS platforms,
                   t.given + t.received AS interactions, t.given, t.received, s.level,
                   t.person IN (SELECT person_id FROM member_flags f WHERE f.community = $c AND f.week = $week
                                AND f.flag = 'ambassador') AS ambassador,
                   list_contains($promoters, t.person) AS promoter
            FROM report_nodes t LEFT JOIN persons p ON p.person_id = t.person AND p.community = $c
            LEFT JOIN member_scores s ON s.community = $c AND s.person_id = t.person AND s.week = $week
            LEFT JOIN platforms_of pf ON pf.person_id = t.person
            ORDER BY interactions DESC, person_id""", params))
        edge_rows = _dicts(_run(con, """
            SELECT least(from_person, to_person) AS source, greatest(from_person, to_person) AS target,
                   coalesce(sum(n) FILTER (WHERE from_person < to_person), 0)::BIGINT AS forward,
                   coalesce(sum(n) FILTER (WHERE from_person > to_person), 0)::BIGINT AS backward,
                   sum(n)::BIGINT AS interactions
            FROM report_pairs
            WHERE from_person IN (SELECT person FROM report_nodes) AND to_person IN (SELECT person FROM report_nodes)
            GROUP BY ALL ORDER BY interactions DESC, source, target LIMIT $edges""", params))
        figures = _dicts(_run(con, f"""
            WITH {_MESSAGES},
            undirected AS (  -- each pair once; both ways when both directed pairs are there
                SELECT count(*) = 2 AS mutual,
                       bool_or(list_contains($promoters, from_person) OR list_contains($promoters, to_person))
                           AS with_promoter
                FROM report_pairs GROUP BY least(from_person, to_person), greatest(from_person, to_person)
            ),
            counts AS (
                SELECT count(*) AS pairs, count(*) FILTER (WHERE NOT with_promoter) AS member_pairs,
                       count(*) FILTER (WHERE NOT with_promoter AND mutual) AS mutual
                FROM undirected
            ),
            people AS (SELECT from_person AS person FROM report_pairs UNION SELECT to_person FROM report_pairs),
            between_members AS (SELECT * FROM report_pairs WHERE NOT list_contains($promoters, from_person)
                                                           AND NOT list_contains($promoters, to_person)),
            linked AS (SELECT count(*) AS n FROM (SELECT from_person FROM between_members
                                                  UNION SELECT to_person FROM between_members)),
            writers AS (SELECT count(DISTINCT person_id) AS n FROM msg WHERE NOT list_contains($promoters, person_id)),
            sizes AS (SELECT greatest(w.n, l.n) AS n FROM writers w, linked l)
            SELECT (SELECT coalesce(sum(n), 0)::BIGINT FROM report_pairs) AS interactions,
                   (SELECT count(*) FROM people) AS persons,
                   c.pairs, s.n AS members, s.n * (s.n - 1) // 2 AS possible_pairs,
                   c.member_pairs, c.mutual AS member_pairs_mutual,
                   c.member_pairs / nullif(s.n * (s.n - 1) / 2, 0) AS density,
                   2 * c.mutual / nullif(c.member_pairs + c.mutual, 0) AS reciprocity
            FROM counts c, sizes s""", params))[0]
    finally:
        con.execute("DROP TABLE IF EXISTS report_pairs")
        con.execute("DROP TABLE IF EXISTS report_nodes")
    return {"nodes": node_rows, "edges": edge_rows, "figures": figures}
