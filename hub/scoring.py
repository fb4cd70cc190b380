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
        rank=((pl.col("reputation").rank("max").over("week") - 1) / (pl.len().over("week") - 1).clip(1))
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


def explain(row: dict, scoring: Scoring = Scoring()) -> dict[str, float]:
    """A stored member_scores row's reputation, part by part (weight × part)."""
    return {p: scoring.weights.get(p, 0.0) * row[p] for p in PARTS}


def refresh_scores(con, scorings: dict[str, Scoring] | None = None) -> int:
    """Recompute member_scores of every community whose persons are resolved; rows in all."""
    from warehouse import scores

    tables = {}
    for community, timezone in scores.communities_with_persons(con).items():
        parts = pl.from_arrow(scores.weekly_parts(con, community, timezone))
        scored = score(parts, (scorings or {}).get(community, Scoring()))
        tables[community] = scored.with_columns(community=pl.lit(community)).to_arrow()
    return scores.replace_scores(con, tables)
