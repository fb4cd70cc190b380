"""Member reputation: explainable, decayed, with levels that do not flicker.

A member's reputation in a week is the weighted sum of named parts (`Scoring.weights`), each the
member's weekly count of one kind of contribution or recognition, decayed with a half-life: what
was done `half_life_weeks` ago counts half. The parts are stored beside the reputation in
`member_scores`, so any score can be rebuilt by hand: reputation = Σ weight × part.

Parts (see warehouse/scores.py): messages written; conversations started that others joined;
answers to someone else's question; media and links shared; welcomes (replies, reactions and
mentions to members in their first 30 days); and, per week, how many distinct others replied
to them, reacted to them, and interacted with them at all (reach). Recognition counts distinct
people, so one fan cannot inflate a score.

Levels: observer, participant, contributor, ambassador, by where the member's reputation stands
among the community's members that week (its percent rank, so that the levels mean the same in a
small group and a large one): by default participant from the median, contributor from the 78th
percentile, ambassador from the 95th (the shares of the 1–9–90 rule, roughly). A member climbs
as soon as they reach a level's rank and drops only `hysteresis` below it, so a quiet week does
not make them flicker between two levels. No reputation at all is always an observer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from warehouse.scores import PARTS

LEVELS = ("observer", "participant", "contributor", "ambassador")


@dataclass(frozen=True)
class Scoring:
    half_life_weeks: float = 8.0
    weights: dict[str, float] = field(default_factory=lambda: {
        "messages": 0.2, "conversations_started": 2.0, "answers": 2.0, "media_and_links": 0.3,
        "welcomes": 1.0, "replies_received": 1.5, "reactions_received": 0.5, "reach": 1.0})
    # Percent rank among the week's members needed to reach participant, contributor, ambassador.
    thresholds: tuple[float, float, float] = (0.5, 0.78, 0.95)
    hysteresis: float = 0.1  # how far below a level's rank a member must fall to lose it


def score(parts: pl.DataFrame, scoring: Scoring = Scoring()) -> pl.DataFrame:
    """From weekly raw parts (person_id, week, one column per part; every week since arrival,
    sorted by person and week) to decayed parts, reputation and level."""
    if parts.is_empty():
        return parts.with_columns(reputation=pl.lit(0.0), level=pl.lit("observer"))
    decay = 0.5 ** (1 / scoring.half_life_weeks)
    start = parts["week"].min()
    # S_t = x_t + d·S_(t-1) over weekly steps, as d^t · cumsum(x_k · d^-k): one pass, column-wise.
    t = ((pl.col("week") - pl.lit(start)).dt.total_days() // 7).cast(pl.Float64)
    decayed = parts.with_columns(_t=t).with_columns(
        [((pl.col(p) * pl.lit(decay) ** -pl.col("_t")).cum_sum().over("person_id") * pl.lit(decay) ** pl.col("_t"))
         .alias(p) for p in PARTS]).drop("_t")
    reputation = pl.sum_horizontal([pl.col(p) * scoring.weights.get(p, 0.0) for p in PARTS])
    scored = decayed.with_columns(reputation=reputation).with_columns(
        rank=((pl.col("reputation").rank("min").over("week") - 1) / (pl.len().over("week") - 1).clip(1))
        .fill_nan(0.0))
    levels = _levels(scored["person_id"].to_numpy(), scored["rank"].to_numpy(), scored["reputation"].to_numpy(),
                     scoring)
    scored = scored.drop("rank")
    return scored.with_columns(level=pl.Series(levels).replace_strict(dict(enumerate(LEVELS)),
                                                                      return_dtype=pl.String))


def _levels(people: np.ndarray, rank: np.ndarray, reputation: np.ndarray, scoring: Scoring) -> np.ndarray:
    """Level per row, rows sorted by person then week: up at a threshold, down `hysteresis` below it."""
    up = np.asarray(scoring.thresholds)
    down = up - scoring.hysteresis
    out = np.zeros(len(rank), dtype=np.int64)
    level, previous = 0, None
    for i, (person, value, points) in enumerate(zip(people, rank, reputation)):
        if person != previous:
            level, previous = 0, person
        if points <= 0:
            level = 0
        while level < 3 and points > 0 and value >= up[level]:
            level += 1
        while level > 0 and value < down[level - 1]:
            level -= 1
        out[i] = level
    return out


@dataclass(frozen=True)
class Flags:
    """When a member is flagged (weeks are counted back from the flagged week, itself included)."""

    window_weeks: int = 4  # ambassadors: consistently, over this many weeks…
    consistent_weeks: int = 3  # …in at least this many of them
    drew_replies_from: int = 2  # distinct others replying to them in such a week
    new_weeks: int = 8  # new and promising: arrived this recently…
    promising_level: str = "contributor"  # …and already at this level
    drifting_quiet_weeks: int = 3  # drifting: silent this long…
    drifting_level: str = "contributor"  # …after having been at this level…
    drifting_lookback_weeks: int = 12  # …within this many weeks


def flags(parts: pl.DataFrame, scored: pl.DataFrame, rules: Flags = Flags()) -> pl.DataFrame:
    """member_flags rows (person_id, week, flag, evidence) from the raw weekly parts and the scores."""
    if scored.is_empty():
        return pl.DataFrame(schema={"person_id": pl.String, "week": pl.Date, "flag": pl.String, "evidence": pl.String})
    rank = {name: i for i, name in enumerate(LEVELS)}
    w = rules.window_weeks
    frame = scored.select("person_id", "week", "level", "reputation").with_columns(
        level_n=pl.col("level").replace_strict(rank, return_dtype=pl.Int64),
        messages=parts["messages"], replies=parts["replies_received"], reach=parts["reach"],
        arrived=pl.col("week").min().over("person_id"),
    ).with_columns(
        drew=(pl.col("replies") >= rules.drew_replies_from).cast(pl.Int64).rolling_sum(w, min_samples=1)
        .over("person_id"),
        partners=pl.col("reach").rolling_sum(w, min_samples=1).over("person_id"),
        quiet=(pl.col("messages") == 0).cast(pl.Int64).rolling_sum(rules.drifting_quiet_weeks, min_samples=1)
        .over("person_id"),
        peak=pl.col("level_n").rolling_max(rules.drifting_lookback_weeks, min_samples=1).over("person_id"),
        age=((pl.col("week") - pl.col("arrived")).dt.total_days() // 7),
    )
    ambassador = frame.filter((pl.col("level") == "ambassador") & (pl.col("drew") >= rules.consistent_weeks)).select(
        "person_id", "week", flag=pl.lit("ambassador"),
        evidence=pl.format("level ambassador; drew replies from {}+ others in {} of the last {} weeks; "
                           "{} interactions with others over those weeks",
                           pl.lit(rules.drew_replies_from), "drew", pl.lit(w), pl.col("partners").cast(pl.Int64)))
    # Those who were there from the start of the data are not newcomers, whatever their age.
    founding = pl.col("arrived") <= pl.col("week").min() + pl.duration(weeks=4)
    promising = frame.filter((pl.col("age") < rules.new_weeks) & ~founding
                             & (pl.col("level_n") >= rank[rules.promising_level])).select(
        "person_id", "week", flag=pl.lit("new_promising"),
        evidence=pl.format("arrived {} ({} weeks ago), already {}", "arrived", "age", "level"))
    drifting = frame.filter((pl.col("quiet") >= rules.drifting_quiet_weeks)
                            & (pl.col("peak") >= rank[rules.drifting_level])
                            & (pl.col("age") >= rules.drifting_quiet_weeks)).select(
        "person_id", "week", flag=pl.lit("drifting"),
        evidence=pl.format("no message for {} weeks, after reaching {} in the last {} weeks",
                           pl.lit(rules.drifting_quiet_weeks),
                           pl.col("peak").replace_strict(dict(enumerate(LEVELS)), return_dtype=pl.String),
                           pl.lit(rules.drifting_lookback_weeks)))
    return pl.concat([ambassador, promising, drifting])


def explain(row: dict, scoring: Scoring = Scoring()) -> dict[str, float]:
    """A stored member_scores row's reputation, part by part (weight × part)."""
    return {p: scoring.weights.get(p, 0.0) * row[p] for p in PARTS}


def refresh_scores(con, scorings: dict[str, Scoring] | None = None) -> int:
    """Recompute member_scores and member_flags of every community whose persons are resolved;
    member_scores rows in all."""
    from warehouse import scores

    tables, flagged = {}, {}
    for community, timezone in scores.communities_with_persons(con).items():
        parts = pl.from_arrow(scores.weekly_parts(con, community, timezone))
        scored = score(parts, (scorings or {}).get(community, Scoring()))
        tables[community] = scored.with_columns(community=pl.lit(community)).to_arrow()
        flagged[community] = flags(parts, scored).with_columns(community=pl.lit(community)).to_arrow()
    return scores.replace_scores(con, tables, flagged)
