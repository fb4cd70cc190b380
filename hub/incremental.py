"""Recompute only what changed: the plan each build of the derived tables follows.

`plan_builds` runs after identity resolution (the `persons` asset) and stores, per community, from
which week the derived tables must be recomputed (warehouse/changes.py): the first week whose
messages, reactions, mentions, links or membership events changed since the last complete build,
or everything when who is who, the time zone, the rules, the promoters or the derived logic
changed. Each derived step carries the plan out and says so; once all have, the plan is recorded
as built (a step run on its own from the UI leaves it for the next build).
"""

from __future__ import annotations

import hashlib

import duckdb

from hub.config import HubConfig
from warehouse import changes
from warehouse.scores import communities_with_persons


# Bumped whenever the derived tables' SQL or logic changes what they hold: a build after an
# upgrade then recomputes everything instead of mixing old rows and new.
DERIVED_VERSION = 3


def whole(con: duckdb.DuckDBPyConnection, config: HubConfig, community: str) -> str:
    """The fingerprint of what is not per week: person mapping, time zone, platforms recording
    replies, rules, promoters, and the version of the derived logic."""
    from hub.stages import promoters

    parts = [str(DERIVED_VERSION), changes.not_per_day(con, community), config.rules(community).model_dump_json(),
             ",".join(promoters(con, config, community))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def plan_builds(con: duckdb.DuckDBPyConnection, config: HubConfig) -> dict[str, changes.Plan]:
    """Make and store the plan of every community whose persons are resolved."""
    return {community: changes.make_plan(con, community, timezone, whole(con, config, community))
            for community, timezone in communities_with_persons(con).items()}


def describe(plan: changes.Plan) -> str:
    if plan.everything:
        return "everything"
    return f"from the week of {plan.since}" if plan.since else "nothing changed"
