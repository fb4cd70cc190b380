"""What the member flags read beyond the reputation's parts (see hub/scoring.py `flags`)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

_REPLIERS_SQL = """
SELECT i.to_person AS person_id, coalesce(z.week, date_trunc('week', timezone($timezone, i."at"))::DATE) AS week,
       count(DISTINCT i.from_person)::DOUBLE AS repliers
FROM interactions i LEFT JOIN quarters z ON z.q = epoch_us(i."at") // 900000000
WHERE i.community = $community AND i.kind IN ('reply', 'thread') AND NOT list_contains($promoters, i.from_person)
  AND i."at" >= $start::TIMESTAMP - INTERVAL 1 DAY  -- a day early: the zone may be behind UTC
GROUP BY ALL
"""


def member_repliers(con: duckdb.DuckDBPyConnection, community: str, timezone: str, promoters: list[str],
                    since: dt.date | None = None) -> pa.Table:
    """(person_id, week, repliers): how many distinct members, promoters aside, replied to each
    member or joined their threads that week (every week, or those from `since` on, and maybe the
    one before). The promoter answers everyone; members answering someone is what says that
    someone animates the community. Within warehouse.db.local_weeks (each time's week is read from it)."""
    return con.execute(_REPLIERS_SQL, {"community": community, "timezone": timezone, "promoters": promoters,
                                       "start": since or dt.date(1, 1, 2)}).to_arrow_table()
