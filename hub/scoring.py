"""Member reputation: explainable, decayed, with levels that do not flicker.

A member's reputation in a week is the weighted sum of named parts (`Scoring.weights`), each the
member's weekly count of one kind of contribution or recognition, decayed with a half-life: what
was done `half_life_weeks` ago counts half. The parts are stored beside the reputation in
`member_scores`, so any score can be rebuilt by hand: reputation = Σ weight × part.

Parts (see warehouse/scores.py): messages written; conversations started that others joined;
answers to someone else's question; media and links shared; welcomes (members in their first
30 days they replied to, reacted to or mentioned, each once a week); and, per week, how many
distinct others replied to them, reacted to them, and interacted with them at all (reach).
Recognition counts distinct people, so one fan cannot inflate a score.

Levels: observer, participant, contributor, ambassador, by where the member's reputation stands
among the community's members that week (its percent rank, members tied sharing the middle of
their ranks, so that the levels mean the same in a small group and a large one): by default
participant from the median, contributor from the 78th percentile, ambassador from the 95th (the
shares of the 1–9–90 rule, roughly). A member climbs as soon as they reach a level's rank and
drops only `hysteresis` below it, so a quiet week does not make them flicker between two levels.
No reputation at all is always an observer.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from hub.config import HubConfig
from hub.rules import LEVELS, Flags, Scoring
from warehouse.changes import Plan
from warehouse.scores import PARTS

__all__ = ["LEVELS", "Flags", "Scoring", "explain", "flags", "refresh_scores", "score"]


def score(parts: pl.DataFrame, scoring: Scoring = Scoring(), carry: pl.DataFrame | None = None) -> pl.DataFrame:
    """From weekly raw parts (person_id, week, one column per part; every week since arrival, or
    since the first week given, sorted by person and week) to decayed parts, reputation and level.
    `carry` (person_id, level, decayed parts) is the week before the first one given, for a
    recompute that starts there: its parts decay on, and its levels are where hysteresis starts."""
    if parts.is_empty():
        return parts.with_columns(reputation=pl.lit(0.0), level=pl.lit("observer"))
    decay = 0.5 ** (1 / scoring.half_life_weeks)
    start = parts["week"].min()
    if carry is not None:
        parts = parts.join(carry.select("person_id", _level=pl.col("level"), **{f"_carry_{p}": p for p in PARTS}),
                           on="person_id", how="left", maintain_order="left")
    # S_t = x_t + d·S_(t-1) over weekly steps, as d^t · cumsum(x_k · d^-k): one pass, column-wise;
    # what is carried in from before the first week decays on as d^(t+1).
    # Rows come sorted by person, so runs of one person_id are the groups (cheaper than hashing ids).
    t = ((pl.col("week") - pl.lit(start)).dt.total_days() // 7).cast(pl.Float64)
    carried = (lambda p: pl.col(f"_carry_{p}").fill_null(0.0) * pl.lit(decay) * pl.col("_shrink")) \
        if carry is not None else (lambda p: pl.lit(0.0))
    decayed = parts.with_columns(_t=t, _person=pl.col("person_id").rle_id()).with_columns(
        _grow=pl.lit(decay) ** -pl.col("_t"), _shrink=pl.lit(decay) ** pl.col("_t")).with_columns(
        [((pl.col(p) * pl.col("_grow")).cum_sum().over("_person") * pl.col("_shrink") + carried(p)).alias(p)
         for p in PARTS])
    reputation = pl.sum_horizontal([pl.col(p) * scoring.weights.get(p, 0.0) for p in PARTS])
    # Members tied share the middle of the ranks they span (five who each wrote one message stand
    # at the median, not at the bottom: all observers, before); a member alone stands at the median.
    members = pl.len().over("week")
    scored = decayed.with_columns(reputation=reputation).with_columns(
        rank=pl.when(members > 1).then((pl.col("reputation").rank("average").over("week") - 1) / (members - 1))
        .otherwise(0.5).fill_nan(0.0))
    held = scored["_level"].replace_strict({name: i for i, name in enumerate(LEVELS)}, default=0,
                                           return_dtype=pl.Int64).to_numpy() if carry is not None else None
    levels = _levels(scored["_person"].to_numpy(), scored["rank"].to_numpy(), scored["reputation"].to_numpy(),
                     scoring, held)
    scored = scored.drop("_t", "_person", "_grow", "_shrink", "rank", *(
        ["_level", *(f"_carry_{p}" for p in PARTS)] if carry is not None else []))
    return scored.with_columns(level=pl.Series(levels).replace_strict(dict(enumerate(LEVELS)),
                                                                      return_dtype=pl.String))


def _levels(people: np.ndarray, rank: np.ndarray, reputation: np.ndarray, scoring: Scoring,
            held: np.ndarray | None = None) -> np.ndarray:
    """Level per row, rows sorted by person then week: up at a threshold, down `hysteresis` below it.

    Each level is held from a week the member reaches its threshold (with some reputation) until a
    week they fall `hysteresis` below it or have none; a member starts below every level. The level
    is the number of levels held: a forward fill per level, column-wise. This needs thresholds that
    increase (a member above one is above those below it). `held`, per row, is the level the
    member held the week before their first row (a recompute carrying on); by default none."""
    up = np.asarray(scoring.thresholds)
    if np.any(np.diff(up) < 0):
        raise ValueError(f"level thresholds must increase: {scoring.thresholds}")
    down = up - scoring.hysteresis
    row = np.arange(len(rank))
    first = np.r_[True, people[1:] != people[:-1]]
    out = np.zeros(len(rank), dtype=np.int64)
    for i, (reach, keep) in enumerate(zip(up, down)):
        on = (reputation > 0) & (rank >= reach)
        decided = on | (reputation <= 0) | (rank < keep)
        state = on if held is None else on | (first & ~decided & (held > i))  # a first row keeps what was held
        out += state[np.maximum.accumulate(np.where(decided | first, row, 0))]
    return out


def flags(parts: pl.DataFrame, scored: pl.DataFrame, rules: Flags = Flags(),
          promoters: frozenset[str] = frozenset(), repliers: pl.DataFrame | None = None) -> pl.DataFrame:
    """member_flags rows (person_id, week, flag, evidence) from the raw weekly parts and the scores.
    `repliers` (person_id, week, repliers) counts the members other than promoters who replied to
    each member (warehouse/flags.py); without it, everyone who replied counts. Promoters are never
    flagged: they animate the community by design, ambassadors by choice."""
    if scored.is_empty():
        return pl.DataFrame(schema={"person_id": pl.String, "week": pl.Date, "flag": pl.String, "evidence": pl.String})
    frame = _flag_inputs(parts, scored, rules, repliers, promoters)
    return pl.concat([_ambassadors(frame, rules), _promising(frame, rules), _drifting(frame, rules)])


def _flag_inputs(parts: pl.DataFrame, scored: pl.DataFrame, rules: Flags,
                 repliers: pl.DataFrame | None = None, promoters: frozenset[str] = frozenset()) -> pl.DataFrame:
    rank = {name: i for i, name in enumerate(LEVELS)}
    w = rules.window_weeks
    frame = scored.select("person_id", "week", "level", "reputation").with_columns(
        level_n=pl.col("level").replace_strict(rank, return_dtype=pl.Int64),
        messages=parts["messages"], reach=parts["reach"],
        drew=parts["replies_received"].cast(pl.Float64),
        # From the parts when they say it (a recompute from a week sees only the weeks since).
        arrived=parts["arrived"] if "arrived" in parts.columns else pl.col("week").min().over("person_id"),
        start_week=parts["start_week"] if "start_week" in parts.columns else pl.col("week").min(),
    )
    if repliers is not None:  # rows stay in person, week order: the rolling sums below rely on it
        frame = frame.drop("drew").join(repliers.select("person_id", "week", drew=pl.col("repliers")),
                                        on=["person_id", "week"], how="left", maintain_order="left") \
            .with_columns(pl.col("drew").fill_null(0.0))
    # Promoters are neither flagged nor counted among the active members the bars are set on: the
    # most answered of all, they would take one of the few top places of a small community.
    frame = frame.filter(~pl.col("person_id").is_in(list(promoters)))
    frame = frame.with_columns(
        drew=pl.col("drew").rolling_sum(w, min_samples=1).over("person_id"),
        partners=pl.col("reach").rolling_sum(w, min_samples=1).over("person_id"),
        quiet=(pl.col("messages") == 0).cast(pl.Int64).rolling_sum(rules.drifting_quiet_weeks, min_samples=1)
        .over("person_id"),
        peak=pl.col("level_n").rolling_max(rules.drifting_lookback_weeks, min_samples=1).over("person_id"),
        age=((pl.col("week") - pl.col("arrived")).dt.total_days() // 7),
    )
    # Where the member stands that week, by replies drawn over the window, among the members who
    # interacted with anyone over it: members long gone would make the bar depend on how many
    # people ever came by (a growing community's top 5 % of everyone is its top 15 % of the active).
    active = pl.col("partners") > 0
    eligible = pl.col("level_n") >= rank[rules.ambassador_level]
    frame = frame.with_columns(active_members=active.sum().over("week").cast(pl.Int64),
                               peers_median=pl.when(active & eligible).then(pl.col("drew")).median().over("week"))
    others = pl.col("active_members") - 1
    drew_rank = pl.when(others > 0).then((pl.when(active).then(pl.col("drew")).rank("max").over("week") - 1)
                                         / others).otherwise(1.0)  # alone: the most answered
    stands_out = (pl.col("drew") >= rules.drew_active_share * pl.col("active_members")) \
        | (pl.col("drew") >= rules.drew_over_median * pl.col("peers_median"))
    animates = active & (drew_rank >= rules.drew_replies_rank) & eligible \
        & (pl.col("drew") >= max(1, rules.drew_replies_min)) & stands_out
    return frame.with_columns(animates=animates.fill_null(False)).with_columns(
        animating_weeks=pl.col("animates").cast(pl.Int64).rolling_sum(w, min_samples=1).over("person_id"))


def _ambassadors(frame: pl.DataFrame, rules: Flags) -> pl.DataFrame:
    # Someone silent long enough to be drifting animates no one now, whatever their past weeks.
    return frame.filter(pl.col("animates") & (pl.col("animating_weeks") >= rules.consistent_weeks)
                        & (pl.col("quiet") < rules.drifting_quiet_weeks)).select(
        "person_id", "week", flag=pl.lit("ambassador"),
        evidence=pl.format("level {}; among the {}% of active members whom most others replied to ({} repliers, "
                           "counted week by week, of {} active members; the median {} or above drew {}) in {} of "
                           "the last {} weeks; {} interactions with others over those weeks",
                           "level", pl.lit(round((1 - rules.drew_replies_rank) * 100)),
                           pl.col("drew").cast(pl.Int64), "active_members", pl.lit(rules.ambassador_level),
                           pl.col("peers_median").round(1), "animating_weeks", pl.lit(rules.window_weeks),
                           pl.col("partners").cast(pl.Int64)))


def _promising(frame: pl.DataFrame, rules: Flags) -> pl.DataFrame:
    rank = {name: i for i, name in enumerate(LEVELS)}
    # Those who were there from the start of the data are not newcomers, whatever their age.
    founding = pl.col("arrived") <= pl.col("start_week") + pl.duration(weeks=4)
    return frame.filter((pl.col("age") < rules.new_weeks) & ~founding
                        & (pl.col("level_n") >= rank[rules.promising_level])).select(
        "person_id", "week", flag=pl.lit("new_promising"),
        evidence=pl.format("arrived {} ({} weeks ago), already {}", "arrived", "age", "level"))


def _drifting(frame: pl.DataFrame, rules: Flags) -> pl.DataFrame:
    rank = {name: i for i, name in enumerate(LEVELS)}
    return frame.filter((pl.col("quiet") >= rules.drifting_quiet_weeks)
                        & (pl.col("peak") >= rank[rules.drifting_level])
                        & (pl.col("age") >= rules.drifting_quiet_weeks)).select(
        "person_id", "week", flag=pl.lit("drifting"),
        evidence=pl.format("no message for {} weeks, after reaching {} in the last {} weeks",
                           pl.lit(rules.drifting_quiet_weeks),
                           pl.col("peak").replace_strict(dict(enumerate(LEVELS)), return_dtype=pl.String),
                           pl.lit(rules.drifting_lookback_weeks)))


def explain(row: dict, scoring: Scoring = Scoring()) -> dict[str, float]:
    """A stored member_scores row's reputation, part by part (weight × part)."""
    return {p: scoring.weights.get(p, 0.0) * row[p] for p in PARTS}


def refresh_scores(con, config: HubConfig | None = None, plans: dict[str, Plan] | None = None) -> int:
    """Recompute member_scores and member_flags of every community whose persons are resolved,
    with each community's rules from the configuration: all weeks, or from the week its plan
    (hub/incremental.py) starts at; member_scores rows in all."""
    from warehouse import scores

    config = config or HubConfig()
    tables, flagged = {}, {}
    for community, timezone in scores.communities_with_persons(con).items():
        plan = (plans or {}).get(community) or Plan.whole(community)
        if plan.changed:
            tables[community], flagged[community] = _community_scores(con, config, community, timezone,
                                                                      plan.from_week)
    return scores.replace_scores(con, tables, flagged)


def _community_scores(con, config: HubConfig, community: str, timezone: str, since):
    """((from, scores), (from, flags)) of one community; from the week `since` when given, the
    scores recomputed from as far back as the flags look (their windows need those weeks)."""
    from hub.stages import promoters
    from warehouse import scores

    rules = config.rules(community)
    f = rules.flags
    # An ambassador week counts animating weeks over a window, each summing replies over a window
    # before it: twice the window back (less the week both share).
    start = since and since - dt.timedelta(weeks=max(2 * f.window_weeks - 1, f.drifting_lookback_weeks,
                                                     f.drifting_quiet_weeks, f.new_weeks))
    named = promoters(con, config, community)
    parts, repliers = map(pl.from_arrow, scores.weekly_parts_and_repliers(con, community, timezone, named, start))
    carry = pl.from_arrow(scores.stored_scores(con, community, start - dt.timedelta(weeks=1))) if start else None
    scored = score(parts.drop("arrived", "start_week"), rules.scoring, carry)
    found = flags(parts, scored, f, frozenset(named), repliers)
    if since:
        found = found.filter(pl.col("week") >= since)
    return ((start, scored.with_columns(community=pl.lit(community)).to_arrow()),
            (since, found.with_columns(community=pl.lit(community)).to_arrow()))
