"""The interaction graph: who replied to, reacted to, mentioned or joined the thread of whom.

Built from messages, reactions and mentions, with accounts mapped to persons (`person_accounts`),
so one person's Slack and WhatsApp activity is one node. A reply counts for the author replied
to; a message in a thread also counts for the thread's starter (kind `thread`) when it is not
already a reply to them. Self-interactions, bots (no person), forwards (not their sender's own
words) and reactions whose reactor is not listed are left out.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from warehouse.changes import Plan
from warehouse.db import transaction

_SQL = """
INSERT INTO interactions
WITH people AS (SELECT account_id, person_id FROM person_accounts),
own AS (  -- what persons wrote themselves in this community
    SELECT m.message_id, m.platform, m.sent_at, m.reply_to_id, m.thread_id, p.person_id
    FROM messages m JOIN people p ON p.account_id = m.author_id
    WHERE m.community = $community AND m.kind = 'message' AND m.forwarded_from IS NULL
),
-- what may have changed: the edges it starts (a filter on `own`, not a second copy of it)
recent AS NOT MATERIALIZED (SELECT * FROM own WHERE sent_at >= $since),
edges AS (
    SELECT o.person_id AS from_person, t.person_id AS to_person, 'reply' AS kind, o.sent_at AS "at",
           o.platform, o.reply_to_id AS message_id
    FROM recent o JOIN own t ON t.message_id = o.reply_to_id
    UNION ALL
    SELECT o.person_id, t.person_id, 'thread', o.sent_at, o.platform, o.thread_id
    FROM recent o JOIN own t ON t.message_id = o.thread_id
    WHERE o.message_id <> o.thread_id AND o.reply_to_id IS DISTINCT FROM o.thread_id
    UNION ALL
    SELECT r.person_id, t.person_id, 'reaction', coalesce(x.reacted_at, t.sent_at), t.platform, t.message_id
    FROM reactions x JOIN own t ON t.message_id = x.message_id JOIN people r ON r.account_id = x.reactor_id
    WHERE coalesce(x.reacted_at, t.sent_at) >= $since
    UNION ALL
    SELECT o.person_id, p.person_id, 'mention', o.sent_at, o.platform, o.message_id
    FROM mentions x JOIN recent o ON o.message_id = x.message_id JOIN people p ON p.account_id = x.account_id
)
SELECT $community, from_person, to_person, kind, "at", platform, message_id FROM edges
WHERE from_person <> to_person
"""


def refresh(con: duckdb.DuckDBPyConnection, plans: dict[str, Plan] | None = None) -> int:
    """Rebuild the interactions each community's plan asks for (default: every community whole),
    in one transaction: from the week the plan starts at, or all of them; rows in all."""
    if plans is None:
        plans = {c: Plan.whole(c) for (c,) in con.execute("SELECT DISTINCT community FROM messages").fetchall()}
    with transaction(con):
        for community, plan in sorted(plans.items()):
            if not plan.changed:
                continue
            since = plan.from_week and _start(con, community, plan.from_week)
            con.execute("""DELETE FROM interactions WHERE community = $c AND ($since IS NULL OR "at" >= $since)""",
                        {"c": community, "since": since})
            con.execute(_SQL, {"community": community, "since": since or dt.datetime.min.replace(tzinfo=dt.UTC)})
    return con.execute("SELECT count(*) FROM interactions").fetchone()[0]


def _start(con: duckdb.DuckDBPyConnection, community: str, monday: dt.date) -> dt.datetime:
    """The instant the week of `monday` starts in the community's time zone."""
    return con.execute("""SELECT timezone(coalesce((SELECT timezone FROM communities WHERE community = $c), 'UTC'),
                                          $m::TIMESTAMP)""", {"c": community, "m": monday}).fetchone()[0]


def summary(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(community, kind, interactions, distinct pairs) for the asset's metadata."""
    # Pairs counted by a 64-bit hash of the two ids: half the time of distinct string pairs, and
    # two pairs of a community's persons share a hash with odds of about one in ten million.
    return con.execute("""SELECT community, kind, count(*), count(DISTINCT hash(from_person, to_person))
                          FROM interactions GROUP BY ALL ORDER BY 1, 2""").fetchall()
