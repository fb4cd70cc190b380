"""What a build of the derived tables must recompute: the weeks whose inputs changed.

The first asset of the chain (persons) makes a plan per community: each day's raw inputs
(messages, reactions, mentions, links, membership events) get a fingerprint, an order-independent
hash of their rows, compared with those of the last complete build. The first day that differs
(one that appeared or vanished too) gives the week to recompute from, moved back to the week of
any older message that something changed replies to, threads under or reacts to, since reputation
counts an answer in the week of the message answered. What is not per day (the person mapping, the
rules, the promoters) is one more fingerprint, `whole`: when it changes, the community is
recomputed whole. Each derived step reads the plan; the last one records it as built. A build
that fails half-way leaves the plan in place, so the next one recomputes at least as much.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from warehouse.db import asks, in_turn

# Each input's rows as (day they count in, UTC, hash of the row), for community $c. A reaction
# counts at its time, or its message's when it has none; mentions and links at their message's.
# `kind` is hashed as text: an ENUM in a DuckDB file, VARCHAR on DuckLake.
_DAYS = """
WITH rows AS (
    SELECT epoch(sent_at)::BIGINT // 86400 AS day, 'messages' AS input,
           hash(message_id, author_id, sent_at, kind::VARCHAR, reply_to_id, thread_id, has_media, forwarded_from,
                {asks}) AS h
    FROM messages WHERE community = $c
    UNION ALL
    SELECT epoch(coalesce(r.reacted_at, m.sent_at))::BIGINT // 86400, 'reactions',
           hash(r.message_id, r.reactor_id, r.emoji, r.reacted_at, r."count")
    FROM reactions r JOIN messages m USING (message_id) WHERE m.community = $c
    UNION ALL
    SELECT epoch(m.sent_at)::BIGINT // 86400, 'mentions', hash(x.message_id, x.account_id)
    FROM mentions x JOIN messages m USING (message_id) WHERE m.community = $c
    UNION ALL
    SELECT epoch(m.sent_at)::BIGINT // 86400, 'links', hash(x.message_id, x.url)
    FROM links x JOIN messages m USING (message_id) WHERE m.community = $c
    UNION ALL
    SELECT epoch("at")::BIGINT // 86400, 'membership_events', hash(event_id, account_id, event, "at", actor_id)
    FROM membership_events WHERE community = $c
)
SELECT day, hash(list_sort(list(x))) FROM (
    SELECT day, hash(input, bit_xor(h), count(*)) AS x FROM rows GROUP BY day, input
) GROUP BY day
""".format(asks=asks("coalesce(text, '')"))

_OLDER = """
SELECT min(t.sent_at) FROM messages m JOIN messages t ON t.message_id = m.reply_to_id
WHERE m.community = $c AND m.sent_at >= $since
UNION ALL
SELECT min(t.sent_at) FROM messages m JOIN messages t ON t.message_id = m.thread_id
WHERE m.community = $c AND m.sent_at >= $since
UNION ALL
SELECT min(t.sent_at) FROM reactions r JOIN messages t USING (message_id)
WHERE t.community = $c AND r.reacted_at >= $since
"""


@dataclass(frozen=True)
class Plan:
    community: str
    everything: bool  # recompute the community whole
    since: dt.date | None  # else from the week of this Monday on; None: nothing changed

    @classmethod
    def whole(cls, community: str) -> "Plan":
        """Recompute the community whole (no plan made, or a step run on its own)."""
        return cls(community, True, None)

    @property
    def changed(self) -> bool:
        return self.everything or self.since is not None

    @property
    def from_week(self) -> dt.date | None:
        """The first week to recompute; None for all of them."""
        return None if self.everything else self.since


def make_plan(con: duckdb.DuckDBPyConnection, community: str, timezone: str, whole: str) -> Plan:
    """Compare the community's inputs with the last complete build, and store the plan (in one
    transaction: a plan half stored beside another writer's would mislead the next build)."""
    return in_turn(con, lambda: _make_plan(con, community, timezone, whole))


def _make_plan(con: duckdb.DuckDBPyConnection, community: str, timezone: str, whole: str) -> Plan:
    days = dict(con.execute(_DAYS, {"c": community}).fetchall())
    built = con.execute("SELECT whole FROM derived_state WHERE community = ? AND state = 'built'",
                        [community]).fetchone()
    everything, since = built is None or built[0] != whole, None
    if not everything:
        before = dict(con.execute("SELECT day, fingerprint FROM derived_inputs WHERE community = ? AND state = 'built'",
                                  [community]).fetchall())
        differ = [d for d in days.keys() | before.keys() if days.get(d) != before.get(d)]
        if differ:
            since = _week_of(con, community, timezone, min(differ))
    _store(con, community, "planned", whole, days, everything, since)
    con.execute("DELETE FROM derived_steps WHERE community = ?", [community])  # a new plan: every step again
    return Plan(community, everything, since)


def _week_of(con: duckdb.DuckDBPyConnection, community: str, timezone: str, day: int) -> dt.date:
    """The Monday (in the community's zone) of the week holding UTC day `day`, or of an older message
    that what changed from then on answers."""
    start = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=day - 1)  # a day early: zones behind UTC
    older = [t for (t,) in con.execute(_OLDER, {"c": community, "since": start}).fetchall() if t is not None]
    first = min([start, *older])
    return con.execute("SELECT date_trunc('week', timezone($tz, $t::TIMESTAMPTZ))::DATE",
                       {"tz": timezone, "t": first}).fetchone()[0]


def current_plan(con: duckdb.DuckDBPyConnection, community: str) -> Plan:
    """The plan of the build under way; without one (a step run on its own), everything."""
    row = con.execute("SELECT everything, since_week FROM derived_state WHERE community = ? AND state = 'planned'",
                      [community]).fetchone()
    return Plan.whole(community) if row is None else Plan(community, row[0], row[1])


def last_builds(con: duckdb.DuckDBPyConnection) -> list[Plan]:
    """What the last complete build of each community recomputed."""
    return [Plan(c, everything, since) for c, everything, since in con.execute(
        "SELECT community, everything, since_week FROM derived_state WHERE state = 'built' ORDER BY 1").fetchall()]


STEPS = ("interactions", "community_health", "member_scores", "community_stages")


def step_done(con: duckdb.DuckDBPyConnection, community: str, step: str) -> None:
    """`step` has carried out the community's plan under way."""
    con.execute("DELETE FROM derived_steps WHERE community = ? AND step = ?", [community, step])
    con.execute("INSERT INTO derived_steps VALUES (?, ?)", [community, step])


def record_built(con: duckdb.DuckDBPyConnection, community: str) -> bool:
    """When every step has carried out the plan, what it was made from is what the derived tables
    are now built from; True if so. A step run on its own leaves the plan for the next build."""
    done = {s for (s,) in con.execute("SELECT step FROM derived_steps WHERE community = ?", [community]).fetchall()}
    planned = con.execute("SELECT 1 FROM derived_state WHERE community = ? AND state = 'planned'",
                          [community]).fetchone()
    if planned is None or not set(STEPS) <= done:
        return False
    con.execute("DELETE FROM derived_steps WHERE community = ?", [community])
    con.execute("DELETE FROM derived_inputs WHERE community = ? AND state = 'built'", [community])
    con.execute("UPDATE derived_inputs SET state = 'built' WHERE community = ? AND state = 'planned'", [community])
    con.execute("DELETE FROM derived_state WHERE community = ? AND state = 'built'", [community])
    con.execute("""UPDATE derived_state SET state = 'built', "at" = now() WHERE community = ? AND state = 'planned'""",
                [community])
    return True


def _store(con, community: str, state: str, whole: str, days: dict[int, int], everything: bool,
           since: dt.date | None) -> None:
    con.execute("DELETE FROM derived_inputs WHERE community = ? AND state = ?", [community, state])
    con.execute("DELETE FROM derived_state WHERE community = ? AND state = ?", [community, state])
    ordered = sorted(days)
    con.execute("INSERT INTO derived_inputs SELECT $c, $s, unnest($days::BIGINT[]), unnest($prints::UBIGINT[])",
                {"c": community, "s": state, "days": ordered, "prints": [days[d] for d in ordered]})
    con.execute("INSERT INTO derived_state VALUES (?, ?, ?, now(), ?, ?)", [community, state, whole, everything, since])


def not_per_day(con: duckdb.DuckDBPyConnection, community: str) -> str:
    """What the derived tables depend on that is not per day, as text: who is who (persons and
    their accounts), the community's time zone, and which platforms' exports record replies (the
    stage indicators across platforms read conversation starts there)."""
    (mapping,) = con.execute(
        """SELECT hash(bit_xor(hash(pa.person_id, pa.account_id)), count(*)) FROM person_accounts pa
           JOIN persons p USING (person_id) WHERE p.community = ?""", [community]).fetchone()
    zone = con.execute("SELECT timezone FROM communities WHERE community = ?", [community]).fetchone()
    replying = con.execute("""SELECT string_agg(DISTINCT platform, ',' ORDER BY platform) FROM messages
                              WHERE community = ? AND (reply_to_id IS NOT NULL OR thread_id IS NOT NULL)""",
                           [community]).fetchone()[0]
    return f"{mapping}|{zone[0] if zone else 'UTC'}|{replying or ''}"
