"""Data-quality checks on the core tables, as SQL. Each returns (passed, details for a person)."""

from __future__ import annotations

import duckdb

PLATFORM_SINCE = "2009-01-01"  # the oldest platform we read (WhatsApp) launched in 2009


def unique_message_ids(con: duckdb.DuckDBPyConnection) -> tuple[bool, dict]:
    total, distinct = con.execute("SELECT count(*), count(DISTINCT message_id) FROM messages").fetchone()
    return total == distinct, {"messages": total, "duplicated ids": total - distinct}


def no_orphan_authors(con: duckdb.DuckDBPyConnection) -> tuple[bool, dict]:
    (orphans,) = con.execute(
        """SELECT count(DISTINCT m.author_id) FROM messages m ANTI JOIN accounts a ON a.account_id = m.author_id
           WHERE m.author_id IS NOT NULL""").fetchone()
    return orphans == 0, {"authors without an account": orphans}


def timestamps_within_export_range(con: duckdb.DuckDBPyConnection, path: str) -> tuple[bool, dict]:
    """Messages of the file at `path` lie within the range the file spans, after the platform
    existed, and not in the future."""
    outside, total, first, last = con.execute(
        f"""SELECT count(*) FILTER (WHERE m.sent_at < s.first_at OR m.sent_at > s.last_at
                                     OR m.sent_at < TIMESTAMPTZ '{PLATFORM_SINCE}' OR m.sent_at > now()),
                   count(*), min(s.first_at), max(s.last_at)
            FROM messages m JOIN sources s USING (source_id)
            WHERE s.path = ?""", [path]).fetchone()
    return outside == 0, {"messages from this file": total, "outside the range": outside,
                          "first": str(first), "last": str(last)}
