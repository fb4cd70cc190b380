"""What a live sync needs to know of what is already stored."""

from __future__ import annotations

import duckdb


def checkpoints(con: duckdb.DuckDBPyConnection, source_id: str) -> dict[str, str]:
    return dict(con.execute("SELECT key, value FROM sync_state WHERE source_id = ?", [source_id]).fetchall())


def latest_replies(con: duckdb.DuckDBPyConnection, community: str, platform: str,
                   since_epoch: float) -> dict[tuple[str, str], str]:
    """(channel native id, thread ts) -> ts of the newest reply stored, for threads started since."""
    rows = con.execute(
        """SELECT split_part(thread_id, ':', -1) AS thread, max(split_part(message_id, '/', -1)) AS newest
           FROM messages
           WHERE community = $c AND platform = $p AND reply_to_id IS NOT NULL
             AND thread_id IN (SELECT message_id FROM messages
                               WHERE community = $c AND platform = $p AND sent_at >= to_timestamp($since))
           GROUP BY thread_id""", {"c": community, "p": platform, "since": since_epoch}).fetchall()
    found = {}
    for thread, newest in rows:
        channel, thread_ts = thread.split("/", 1)
        found[(channel, thread_ts)] = newest
    return found
