"""Derived tables (marts), rebuilt from the core tables by the SQL files in `warehouse/sql/`."""

from __future__ import annotations

from importlib import resources

import duckdb


def mart_sql() -> dict[str, str]:
    """Mart name -> the SQL that rebuilds it, in name order."""
    files = sorted(f for f in resources.files("warehouse.sql").iterdir() if f.name.endswith(".sql"))
    return {f.name.removesuffix(".sql"): f.read_text(encoding="utf-8") for f in files}


def refresh(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild every mart in one transaction; returns each mart's row count."""
    counts = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for name, sql in mart_sql().items():
            con.execute(sql)
            counts[name] = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts
