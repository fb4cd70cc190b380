"""Which stage a community is in, week by week, read from indicators stored beside it.

1 *lack of commitment*: the promoter posts, members watch. 2 *movement*: members start to take
part, mostly answering the promoter. 3 *mobilisation*: members start conversations themselves.
4 *consolidation*: members talk to each other densely and both ways, ambassadors are there, and
the community carries on when the promoter is silent.

The indicators (warehouse/stages.py) cover the four weeks ending with each week. The rules below
go from the highest stage down; the first whose conditions all hold is the stage, and `reason`
names the indicators that put it there. Thresholds are `StageRules` (hub/rules.py), set per
community in hub.yaml.
"""

from __future__ import annotations

import polars as pl

from hub.config import HubConfig
from hub.identity import normalise_phone
from hub.rules import StageRules
from warehouse.changes import Plan


def stage_of(rules: StageRules = StageRules()) -> tuple[pl.Expr, pl.Expr]:
    """(stage, reason) expressions over the indicator columns."""
    starts = pl.col("promoter_start_share").fill_null(1.0)
    share = pl.col("promoter_message_share").fill_null(1.0)
    contributing = pl.col("contributing_share").fill_null(0.0)
    reciprocity = pl.col("reciprocity").fill_null(0.0)
    silent = pl.col("promoter_silent_weeks")
    four = (starts <= rules.consolidation_max_promoter_starts) & (contributing >= rules.consolidation_min_contributing) \
        & ((silent >= rules.consolidation_min_silent_weeks) | (share <= rules.consolidation_max_promoter_messages))
    three = (starts <= rules.mobilisation_max_promoter_starts) & (contributing >= rules.mobilisation_min_contributing)
    two = (share <= rules.movement_max_promoter_messages) | (contributing >= rules.movement_min_contributing)
    pct = lambda e: (e * 100).round(0).cast(pl.Int64).cast(pl.String) + pl.lit("%")  # noqa: E731
    stage = pl.when(four).then(4).when(three).then(3).when(two).then(2).otherwise(1)
    reason = (
        pl.when(four).then(pl.lit("members start ") + pct(1 - starts) + pl.lit(" of conversations, ")
                           + pct(reciprocity) + pl.lit(" of member links go both ways, the promoter was silent ")
                           + silent.cast(pl.String) + pl.lit(" of 4 weeks"))
        .when(three).then(pl.lit("members start ") + pct(1 - starts) + pl.lit(" of conversations and ")
                          + pct(contributing) + pl.lit(" of active members reply to others"))
        .when(two).then(pl.lit("the promoter writes ") + pct(share) + pl.lit(" of messages; ")
                        + pct(contributing) + pl.lit(" of active members reply to others"))
        .otherwise(pl.lit("the promoter writes ") + pct(share) + pl.lit(" of messages and starts ") + pct(starts)
                   + pl.lit(" of conversations; ") + pct(contributing) + pl.lit(" of members reply to others")))
    return stage.cast(pl.Int32), reason


def promoters(con, config: HubConfig, community: str) -> list[str]:
    """Person ids of the community's promoters: named in hub.yaml (by name, or platform and
    account), else the person who wrote most in the community's first four weeks."""
    from warehouse import stages as sql

    configured = next((c for c in config.communities if c.slug == community), None)
    wanted = configured.promoters if configured else []
    if configured and configured.pseudonymise and wanted:
        from hub.pseudonyms import as_stored

        wanted = as_stored(wanted)  # named in hub.yaml as they are, stored as pseudonyms
    found: set[str] = set()
    for person, person_name, native, phone, handle, account_name, platform in sql.promoter_candidates(con, community):
        for p in wanted:
            if p.name and p.name.casefold() in {(person_name or "").casefold(), (account_name or "").casefold()}:
                found.add(person)
            elif p.account and (p.platform is None or p.platform == platform) and (
                    p.account in (native, handle) or (phone and normalise_phone(p.account) == normalise_phone(phone))):
                found.add(person)
    if not found and (busiest := sql.busiest_at_start(con, community)):
        found.add(busiest)
    return sorted(found)


def refresh_stages(con, config: HubConfig, plans: dict[str, Plan] | None = None) -> int:
    """Recompute community_stages of every community whose persons are resolved, each with its
    thresholds from the configuration: all weeks, or from the week its plan (hub/incremental.py)
    starts at."""
    from warehouse import scores, stages as sql

    tables = {}
    for community, timezone in scores.communities_with_persons(con).items():
        plan = (plans or {}).get(community) or Plan.whole(community)
        if not plan.changed:
            continue
        since = plan.from_week
        frame = pl.from_arrow(sql.indicators(con, community, timezone, promoters(con, config, community), since))
        stage, reason = stage_of(config.rules(community).stages)
        tables[community] = (since, frame.with_columns(stage=stage, reason=reason).to_arrow())
    return sql.replace_stages(con, tables)
