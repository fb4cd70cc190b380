"""Data-quality checks on the core tables, as SQL. Each returns (passed, details for a person)."""

from __future__ import annotations

import duckdb

# No message is older than its platform (with a year's margin). Facebook's groups date from 2004;
# Slack imports other tools' history, so its bound is Facebook's too.
PLATFORM_SINCE = {"facebook": "2004-01-01", "slack": "2004-01-01", "whatsapp": "2009-01-01",
                  "telegram": "2013-01-01", "discord": "2015-01-01"}


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
        """SELECT count(*) FILTER (WHERE m.sent_at < s.first_at OR m.sent_at > s.last_at
                                    OR m.sent_at < coalesce(f.since, TIMESTAMPTZ '2004-01-01') OR m.sent_at > now()),
                  count(*), min(s.first_at), max(s.last_at)
           FROM messages m JOIN sources s USING (source_id)
           LEFT JOIN (SELECT unnest($platforms::VARCHAR[]) AS platform, unnest($since::TIMESTAMPTZ[]) AS since) f
             ON f.platform = m.platform
           WHERE s.path = $path""",
        {"path": path, "platforms": list(PLATFORM_SINCE), "since": list(PLATFORM_SINCE.values())}).fetchone()
    return outside == 0, {"messages from this file": total, "outside the range": outside,
                          "first": str(first), "last": str(last)}
