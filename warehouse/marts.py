"""Derived tables (marts), rebuilt per community from the core tables by the SQL in `warehouse/sql/`.

Each file there is an INSERT of one community's rows into the mart of the same name (created by
a migration), with `$community` and `$timezone` as parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources

import duckdb


def mart_sql() -> dict[str, str]:
    """Mart name -> the SQL that rebuilds one community's rows, in name order."""
    files = sorted(f for f in resources.files("warehouse.sql").iterdir() if f.name.endswith(".sql"))
    return {f.name.removesuffix(".sql"): f.read_text(encoding="utf-8") for f in files}


def refresh(con: duckdb.DuckDBPyConnection, communities: Iterable[str] | None = None) -> dict[str, int]:
    """Rebuild every mart for these communities (default: all) in one transaction; returns row counts."""
    wanted = None if communities is None else sorted(set(communities))
    zones = con.execute(
        """SELECT DISTINCT m.community, coalesce(c.timezone, 'UTC') FROM messages m
           LEFT JOIN communities c ON c.community = m.community""").fetchall()
    zones += [(c, tz) for c, tz in con.execute("SELECT community, timezone FROM communities").fetchall()
              if c not in {z[0] for z in zones}]
    counts = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for name, sql in mart_sql().items():
            if wanted is None:
                con.execute(f'DELETE FROM "{name}"')
            for community, timezone in zones:
                if wanted is not None and community not in wanted:
                    continue
                if wanted is not None:
                    con.execute(f'DELETE FROM "{name}" WHERE community = ?', [community])
                con.execute(sql, {"community": community, "timezone": timezone})
            counts[name] = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts
