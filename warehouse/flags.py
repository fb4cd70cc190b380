"""What the member flags read beyond the reputation's parts (see hub/scoring.py `flags`)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

_REPLIERS_SQL = """
SELECT to_person AS person_id, date_trunc('week', timezone($timezone, "at"))::DATE AS week,
       count(DISTINCT from_person)::DOUBLE AS repliers
FROM interactions
WHERE community = $community AND kind IN ('reply', 'thread') AND NOT list_contains($promoters, from_person)
  AND "at" >= $start::TIMESTAMP - INTERVAL 1 DAY  -- a day early: the zone may be behind UTC
GROUP BY ALL
"""


def member_repliers(con: duckdb.DuckDBPyConnection, community: str, timezone: str, promoters: list[str],
                    since: dt.date | None = None) -> pa.Table:
    """(person_id, week, repliers): how many distinct members, promoters aside, replied to each
    member or joined their threads that week (every week, or those from `since` on, and maybe the
    one before). The promoter answers everyone; members answering someone is what says that
    someone animates the community."""
    return con.execute(_REPLIERS_SQL, {"community": community, "timezone": timezone, "promoters": promoters,
                                       "start": since or dt.date(1, 1, 2)}).to_arrow_table()
