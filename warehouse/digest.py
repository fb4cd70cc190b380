"""The SQL of the weekly digest (hub/digest.py): who others valued, who was welcomed, the member
of the month. Weeks start on Monday in the community's time zone; promoters are left out of the
names (the digest thanks members), not of who recognises them.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from warehouse.persons import timezones

_RECOGNISED = """
WITH edges AS (
    SELECT to_person, from_person, kind FROM interactions
    WHERE community = $c AND "at" >= timezone($tz, $first::TIMESTAMP) AND "at" < timezone($tz, $until::TIMESTAMP)
      AND NOT list_contains($promoters, to_person)
)
SELECT p.display_name, count(DISTINCT e.from_person) AS people,
       count(*) FILTER (WHERE e.kind IN ('reply', 'thread')) AS replies,
       count(*) FILTER (WHERE e.kind = 'reaction') AS reactions,
       count(*) FILTER (WHERE e.kind = 'mention') AS mentions
FROM edges e JOIN persons p ON p.person_id = e.to_person
GROUP BY p.person_id, p.display_name
ORDER BY people DESC, replies + reactions + mentions DESC, p.display_name
LIMIT $n
"""

_WELCOMED = """
WITH pa AS (SELECT pa.person_id, pa.account_id FROM person_accounts pa JOIN accounts a USING (account_id)
            WHERE a.community = $c),
arrivals AS (
    SELECT person_id, min(t) AS first_at FROM (
        SELECT pa.person_id, m.sent_at AS t FROM messages m JOIN pa ON pa.account_id = m.author_id
        WHERE m.community = $c AND m.kind = 'message'
        UNION ALL
        SELECT pa.person_id, e."at" FROM membership_events e JOIN pa ON pa.account_id = e.account_id
        WHERE e.community = $c AND e.event IN ('join', 'add')
    ) GROUP BY ALL
),
newcomers AS (
    SELECT person_id, first_at FROM arrivals
    WHERE first_at >= timezone($tz, $first::TIMESTAMP) AND first_at < timezone($tz, $until::TIMESTAMP)
      AND first_at > (SELECT min(first_at) FROM arrivals)  -- the founders are not newcomers
),
welcomes AS (
    SELECT n.person_id, i.from_person, min(i."at") AS at FROM newcomers n
    JOIN interactions i ON i.community = $c AND i.to_person = n.person_id
     AND i."at" >= n.first_at AND i."at" < n.first_at + INTERVAL 7 DAY
    GROUP BY ALL
)
SELECT p.display_name, list(w.display_name ORDER BY x.at, w.display_name) AS welcomers
FROM welcomes x JOIN persons p ON p.person_id = x.person_id JOIN persons w ON w.person_id = x.from_person
GROUP BY p.person_id, p.display_name
ORDER BY min(x.at), p.display_name
LIMIT $n
"""


def _window(first: dt.date, weeks: int) -> dict:
    return {"first": first, "until": first + dt.timedelta(weeks=weeks)}


def latest_week(con: duckdb.DuckDBPyConnection, community: str) -> dt.date | None:
    return con.execute("SELECT max(week) FROM member_scores WHERE community = ?", [community]).fetchone()[0]


def timezone(con: duckdb.DuckDBPyConnection, community: str) -> str:
    return timezones(con).get(community, "UTC")


def recognised(con: duckdb.DuckDBPyConnection, community: str, first: dt.date, weeks: int, promoters: list[str],
               limit: int) -> list[tuple]:
    """(name, distinct people who replied, reacted or mentioned, replies, reactions, mentions) of
    the members most recognised by others over `weeks` weeks from Monday `first`."""
    return con.execute(_RECOGNISED, {"c": community, "tz": timezone(con, community), "promoters": promoters,
                                     "n": limit, **_window(first, weeks)}).fetchall()


def welcomed(con: duckdb.DuckDBPyConnection, community: str, first: dt.date, limit: int) -> list[tuple]:
    """(name, [who welcomed them]) of the week's newcomers whom others replied to, reacted to or
    mentioned within their first seven days."""
    return con.execute(_WELCOMED, {"c": community, "tz": timezone(con, community), "n": limit,
                                   **_window(first, 1)}).fetchall()
