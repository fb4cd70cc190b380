"""Which stage a community is in, week by week, read from indicators stored beside it.

1 *lack of commitment*: the promoter posts, members watch. 2 *movement*: members start to take
part, mostly answering the promoter. 3 *mobilisation*: members start conversations themselves.
4 *consolidation*: members talk to each other densely, and the community carries on when the
promoter is silent.

What the promoter's shares mean depends on the community: one promoter among 60 members writes a
larger share than among 300 at the same stage, and a community on its way down still has the
habits of its better days. So the stage is not read afresh each week: it is followed. Each week
has a *reading*, the highest stage whose conditions hold over the last `window_weeks` weeks (the
rules go down from stage 4, as `stage_of`). The community's first weeks take their reading. After
that the stage moves, mostly one step at a time, when
- a *change* shows in one week: the promoters' messages per member message fall to half what
  they were over the weeks before (or rise by two thirds, in that week or over it and the one
  before), beyond chance, while members write more (fewer) messages, and that week's reading
  allows the new stage (up two steps when that week reads two higher and most weeks before it
  read one higher: the step before was too gradual to be seen); or
- the *level* has left it behind: in most of the last weeks the reading cleared the next stage
  with room to spare (or missed the current one by far): the slow changes no single week shows.
Thresholds are `StageRules` (hub/rules.py), set per community in hub.yaml; `reason` says which
of these put the stage where it is, with the indicators behind it.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import polars as pl

from hub.config import HubConfig
from hub.identity import normalise_phone
from hub.rules import StageRules
from warehouse.changes import Plan
from warehouse.stages import HISTORY_WEEKS


def stage_of(rules: StageRules = StageRules()) -> tuple[pl.Expr, pl.Expr]:
    """(stage, reason) expressions of the *reading* over the indicator columns: the highest stage
    whose conditions hold, without following the stage from week to week."""
    starts = pl.col("promoter_start_share").fill_null(0.0)
    share = pl.col("promoter_message_share").fill_null(0.0)
    contributing = pl.col("contributing_share").fill_null(0.0)
    reciprocity = pl.col("reciprocity").fill_null(0.0)
    silent = pl.col("promoter_silent_weeks")
    # NULL: the promoters wrote nothing (their share, 0, already clears stage 4's bar) or all.
    prominence = pl.col("promoter_prominence").fill_null(math.inf)
    two, three, four = _conditions(share, starts, contributing, silent, prominence, rules)
    stage = pl.when(four).then(4).when(three).then(3).when(two).then(2).otherwise(1)
    return stage.cast(pl.Int32), _reading_reason(stage, share, starts, contributing, reciprocity, silent)


def _prominence_words(lead: str = " and") -> pl.Expr:
    """`lead` and what the promoters wrote, as times an active member's; nothing when unknown (no
    count of active members)."""
    prominence, share = pl.col("promoter_prominence"), pl.col("promoter_message_share")
    return (pl.when(share.is_null()).then(pl.lit(f"{lead} wrote nothing"))
            .when(share >= 1).then(pl.lit(f"{lead} wrote every message"))
            .when(prominence.is_null()).then(pl.lit(""))
            .otherwise(pl.lit(f"{lead} wrote ") + prominence.round(1).cast(pl.String)
                       + pl.lit(" times what an active member wrote")))


def _pct(e: pl.Expr) -> pl.Expr:
    return (e * 100).round(0).cast(pl.Int64).cast(pl.String) + pl.lit("%")


def _reading_reason(stage: pl.Expr, share: pl.Expr, starts: pl.Expr, contributing: pl.Expr, reciprocity: pl.Expr,
                    silent: pl.Expr) -> pl.Expr:
    """What a reading of `stage` rests on, in words (over rows with the stored indicator columns)."""
    return (
        pl.when(stage == 4).then(pl.lit("members start ") + _pct(1 - starts) + pl.lit(" of conversations, ")
                                 + _pct(reciprocity) + pl.lit(" of member links go both ways, the promoter was silent ")
                                 + silent.cast(pl.String) + pl.lit(" of 4 weeks") + _prominence_words())
        .when(stage == 3).then(pl.lit("members start ") + _pct(1 - starts) + pl.lit(" of conversations and ")
                               + _pct(contributing) + pl.lit(" of active members reply to others")
                               + _prominence_words("; the promoter"))
        .when(stage == 2).then(pl.lit("the promoter writes ") + _pct(share) + pl.lit(" of messages; ")
                               + _pct(contributing) + pl.lit(" of active members reply to others"))
        .otherwise(pl.lit("the promoter writes ") + _pct(share) + pl.lit(" of messages and starts ") + _pct(starts)
                   + pl.lit(" of conversations; ") + _pct(contributing) + pl.lit(" of members reply to others")))


# -- following the stage week by week -------------------------------------------------------------

def _shift(threshold: float, factor: float) -> float:
    """The share whose odds are `factor` times those of `threshold` (0 and 1 stay)."""
    if threshold <= 0 or threshold >= 1:
        return threshold
    odds = threshold / (1 - threshold) * factor
    return odds / (1 + odds)


def _conditions(share, starts, contributing, silent, prominence, rules: StageRules, factor: float = 1.0) -> tuple:
    """Whether stage 2, 3 and 4's conditions hold, over numpy arrays or Polars expressions alike,
    with every threshold `factor` times looser (as odds, and as a ratio for the prominence; below
    1, stricter), and one silent week fewer (more) asked for consolidation.

    A promoter who writes only a few times what an active member writes is one voice among many,
    whatever share of the conversations they open: in simulated communities of 60 to 90 members
    they open 11 to 34 % of them at stage 4, in those of 200 to 300, 3 to 8 %. The prominence,
    nearly the same at a stage in either, stands in for the share of starts at stages 3 and 4."""
    looser, stricter = (lambda t: _shift(t, factor)), (lambda t: _shift(t, 1 / factor))
    two = (share <= looser(rules.movement_max_promoter_messages)) \
        | (contributing >= stricter(rules.movement_min_contributing))
    three = two & ((starts <= looser(rules.mobilisation_max_promoter_starts))
                   | (prominence <= rules.mobilisation_max_promoter_prominence * factor)) \
        & (contributing >= stricter(rules.mobilisation_min_contributing))
    silent_weeks = rules.consolidation_min_silent_weeks + (0 if factor == 1 else -1 if factor > 1 else 1)
    steps_back = three & (starts <= looser(rules.consolidation_max_promoter_starts)) \
        & ((silent >= silent_weeks) | (share <= looser(rules.consolidation_max_promoter_messages)))
    four = three & (contributing >= stricter(rules.consolidation_min_contributing)) \
        & (steps_back | (prominence <= rules.consolidation_max_promoter_prominence * factor))
    return two, three, four


def readings(share: np.ndarray, starts: np.ndarray, contributing: np.ndarray, silent: np.ndarray,
             prominence: np.ndarray, rules: StageRules, factor: float = 1.0) -> np.ndarray:
    """The reading of each week (`_conditions` with `factor`). NaN shares (no message, or the
    promoters silent all the window) count as 0; a NaN prominence is below no bar, as in `stage_of`
    (the promoters' share of 0 clears stage 4's)."""
    share, starts, contributing = (np.nan_to_num(a, nan=0.0) for a in (share, starts, contributing))
    two, three, four = _conditions(share, starts, contributing, silent, prominence, rules, factor)
    return 1 + two.astype(np.int32) + three + four


@dataclass(frozen=True)
class Weeks:
    """One scope's weeks, every calendar week from its first to its last (zeros where it had no
    message): each week's own counts."""
    weeks: list[dt.date]
    messages: np.ndarray
    promoter_messages: np.ndarray
    starts: np.ndarray
    promoter_starts: np.ndarray
    silent: np.ndarray  # 1 when the promoters wrote nothing while members wrote
    counted: np.ndarray  # members counted for contributing (on platforms recording replies)
    contributing: np.ndarray  # of them, those who replied to or mentioned another member
    active: np.ndarray | None = None  # members who wrote over the four weeks ending with the week

    def window(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The promoters' share of messages and of conversation starts over the last `n` weeks,
        leaving out weeks they were silent (NaN when none is left), and the share of members who
        replied to others (its weekly values averaged over the weeks that had members; NaN when
        none)."""
        kept = 1 - self.silent

        def total(a: np.ndarray) -> np.ndarray:
            return np.convolve(a, np.ones(n))[:len(a)]

        with np.errstate(invalid="ignore", divide="ignore"):
            share = total(self.promoter_messages * kept) / total(self.messages * kept)
            starts = total(self.promoter_starts * kept) / total(self.starts * kept)
            had = (self.counted > 0).astype(float)
            weekly = np.where(had > 0, self.contributing / np.maximum(self.counted, 1), 0.0)
            contributing = total(weekly) / total(had)
        return share, starts, contributing

    def silent_weeks(self) -> np.ndarray:
        return np.convolve(self.silent, np.ones(4))[:len(self.silent)]

    def prominence(self, share: np.ndarray) -> np.ndarray:
        """How many times an active member's messages the promoters wrote, from their share over
        the window (NaN where the share is; infinite, so never low enough, without a count of
        active members)."""
        if self.active is None:
            return np.full(len(share), np.inf)
        with np.errstate(invalid="ignore", divide="ignore"):
            # Alone, or among no counted member: beyond any bar.
            return np.where((share >= 1) | (self.active <= 0), np.inf, share / (1 - share) * self.active)


@dataclass
class Followed:
    stage: np.ndarray
    since: np.ndarray  # index of the week the stage was last set
    how: list[str]  # per week: "reading", "change", "level", or "" when the stage was kept
    step: np.ndarray  # +1 or -1 where a change or the level moved the stage that week
    ratio_before: np.ndarray  # promoters' messages per member message over the weeks before (median)
    members_before: np.ndarray  # members' messages a week over those weeks (median)
    anchored: np.ndarray  # whether a change has been seen by then
    measured_weeks: np.ndarray  # where a change moved the stage: over that week (1), or it and the one before (2)


def follow(w: Weeks, rules: StageRules, start: int = 0, first: int = 0,
           state: tuple[int, int, bool] | None = None) -> Followed:
    """Follow the stage over the weeks from index `start` on (the weeks before are history: read,
    never decided again). `first` is the index of the scope's first week (negative when before the
    weeks given); `state` the (stage, index of the week it was set, whether a change was seen yet)
    of the week before `start`."""
    n = len(w.weeks)
    share, starts, contributing = w.window(rules.window_weeks)
    silent4, prominence = w.silent_weeks(), w.prominence(share)
    # A window without a single message reads nothing (0): quiet weeks keep the stage as it is.
    heard = np.convolve(w.messages, np.ones(rules.window_weeks))[:n] > 0

    def read(factor: float = 1.0) -> np.ndarray:
        return np.where(heard, readings(share, starts, contributing, silent4, prominence, rules, factor), 0)

    reading, clear_above, far_below = read(), read(1 / rules.level_margin), read(rules.level_margin)
    allows_up, allows_down = read(rules.change_margin), read(1 / rules.change_margin)
    members = w.messages - w.promoter_messages
    wrote = (w.silent == 0) & (w.messages > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio, error = _log_ratio(w.promoter_messages, members)
        ratio = np.where(wrote, ratio, np.nan)
    volume = np.log(members + 1)
    up, down = math.log(rules.change_factor_up), math.log(rules.change_factor_down)
    more = math.log(rules.change_member_factor)

    out = Followed(np.zeros(n, np.int32), np.zeros(n, np.int64), [""] * n, np.zeros(n, np.int32), np.full(n, np.nan),
                   np.full(n, np.nan), np.zeros(n, bool), np.ones(n, np.int32))
    stage, since, anchored = state if state else (0, start, False)

    def behind(t: int, stage: int, base: int) -> bool:
        """Whether most of the weeks before `t` (since `base`) read beyond `stage`."""
        lo = max(base, t - rules.level_window_weeks, 0)
        return (reading[lo:t] > stage).sum() >= rules.level_weeks

    for t in range(start, n):
        before, how = stage, ""
        # What a change is measured against: the weeks after the week a change or the level last
        # set the stage (that week straddles the change: half old, it held the baseline up and made
        # the weeks still settling after a rise look like the next one); before any change, all
        # weeks (readings flip back and forth, and are no baseline).
        base = since if anchored else first
        settled = since + 1 if anchored else first
        back = [i for i in range(max(settled, t - HISTORY_WEEKS, 0), t) if wrote[i]][-rules.change_baseline_weeks:]
        if len(back) >= 2:
            out.ratio_before[t] = math.exp(float(np.median(ratio[back])))
            out.members_before[t] = math.exp(float(np.median(volume[back]))) - 1
        if not anchored:  # until a change is seen: the reading most of the last weeks give
            recent = [int(r) for r in reading[max(first, t - rules.first_weeks + 1, 0):t + 1] if r]
            usual = max(set(recent), key=lambda r: (recent.count(r), -recent[::-1].index(r))) if recent else stage
        if t - first >= rules.first_weeks and t - base >= rules.change_min_weeks and wrote[t] and len(back) >= 2:
            moved = ratio[t] - float(np.median(ratio[back]))
            grew = volume[t] - float(np.median(volume[back]))
            sure = abs(moved) >= rules.change_certainty * error[t]
            # Up one step, or two when that week already reads beyond the next stage and most of
            # the weeks before read the next: a rise missed earlier (too gradual to show) would
            # otherwise keep the stage a step behind. (That week's reading alone was not enough:
            # growing communities jumped from 2 to 4 at their step to 3.)
            # Down only one: a community's habits outlast its decline, so its readings run ahead
            # of a fall (two steps down at once were wrong when tried).
            if sure and stage < 4 and moved <= -up and grew >= more and allows_up[t] > stage:
                step = 2 if reading[t] > stage + 1 and behind(t, stage, base) else 1
                stage, how, anchored = stage + step, "change", True
            elif sure and stage > 1 and moved >= down and grew <= -more and allows_down[t] < stage:
                stage, how, anchored = stage - 1, "change", True
            elif stage > 1 and allows_down[t] < stage \
                    and (two := _two_weeks_down(w, ratio, volume, wrote, back, t, rules.change_certainty)) \
                    and two.moved >= down and two.grew <= -more:
                stage, how, anchored = stage - 1, "change", True
                out.measured_weeks[t] = 2
                out.ratio_before[t], out.members_before[t] = two.ratio_before, two.members_before
        if how or not heard[t]:
            # (A week whose window holds no message reads nothing and keeps the stage: without this,
            # the readings of weeks before the silence, leaving the last weeks one by one, moved it,
            # and so could the level of weeks before it.)
            pass
        elif not anchored:
            if usual != stage:
                stage, how = usual, "reading"
        elif t - first >= rules.first_weeks:
            lo = max(since + 1, t - rules.level_window_weeks + 1)
            if (clear_above[lo:t + 1] > stage).sum() >= rules.level_weeks:
                stage, how = stage + 1, "level"
            elif ((far_below[lo:t + 1] < stage) & (far_below[lo:t + 1] > 0)).sum() >= rules.level_weeks:
                stage, how = stage - 1, "level"
        if how:
            out.step[t] = stage - before if before else 0
            since = t
        out.stage[t], out.since[t], out.how[t] = stage, since, how
        out.anchored[t] = anchored
    return out


def _log_ratio(promoter, members):
    """The promoters' log messages per member message, and its standard error (beyond chance: this
    many times it), from counts or arrays of them."""
    return np.log((promoter + 0.5) / (members + 0.5)), np.sqrt(1 / (promoter + 0.5) + 1 / (members + 0.5))


class TwoWeeks(NamedTuple):
    moved: float  # how far the promoters' log messages per member message rose
    grew: float  # how far members' log messages a week moved
    ratio_before: float  # the promoters' messages per member message over the weeks before
    members_before: float  # members' messages a week over those weeks


def _two_weeks_down(w: Weeks, ratio: np.ndarray, volume: np.ndarray, wrote: np.ndarray, back: list[int], t: int,
                    certainty: float) -> TwoWeeks | None:
    """A fall spread over week `t` and the one before, beyond chance over both together, against
    the weeks before both; or None. A decline spreads out: in a small community a step down from
    4 to 3 showed in no single week beyond chance (1.6 to 1.9 times the ratio on 40 promoter
    messages). Falls only: rises read so were false changes in stalled communities, whose promoter
    comes and goes."""
    earlier = [i for i in back if i != t - 1]
    if t < 1 or not wrote[t - 1] or len(earlier) < 2:
        return None
    promoter = w.promoter_messages[t - 1] + w.promoter_messages[t]
    members = w.messages[t - 1] + w.messages[t] - promoter
    ratio_before, volume_before = float(np.median(ratio[earlier])), float(np.median(volume[earlier]))
    both, error = _log_ratio(promoter, members)
    if both - ratio_before < certainty * error:
        return None
    return TwoWeeks(float(both - ratio_before), math.log(members / 2 + 1) - volume_before, math.exp(ratio_before),
                    math.exp(volume_before) - 1)


# -- the community_stages rows ----------------------------------------------------------------------

_OWN = ("week_messages", "week_promoter_messages", "week_starts", "week_promoter_starts", "week_silent",
        "week_counted", "week_contributing")


def _weeks(rows: pl.DataFrame, origin: dt.date | None = None) -> tuple[Weeks, np.ndarray]:
    """A scope's rows (sorted by week) as every calendar week from its first row (or from Monday
    `origin`, when earlier), and the index of each row."""
    first = min(rows["week"][0], origin) if origin else rows["week"][0]
    at = np.array([(w - first).days // 7 for w in rows["week"]])
    n = int(at[-1]) + 1

    def column(name: str) -> np.ndarray:
        a = np.zeros(n)
        a[at] = rows[name].fill_null(0).to_numpy()
        return a

    m, pm, s, ps, silent, counted, contributing = (column(c) for c in _OWN)
    weeks = [first + dt.timedelta(weeks=i) for i in range(n)]
    return Weeks(weeks, m, pm, s, ps, silent, counted, contributing, _carried(column("active_members"), at)), at


def _carried(active: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Active members in every week: a quiet week (no row) keeps the count of the week before for
    the three weeks that count still covers, so that a window reaching back over it is not read
    as having no members (a prominence of 0, the promoters' share over none)."""
    out = active.copy()
    last = np.full(len(active), -1)
    last[at] = at
    last = np.maximum.accumulate(last)
    quiet = (last >= 0) & (np.arange(len(active)) - last <= 3)
    out[quiet] = active[last[quiet]]
    return out


def _scope_stages(rows: pl.DataFrame, rules: StageRules, since: dt.date | None, stored: tuple | None) -> pl.DataFrame:
    """One scope's rows from `since` on, with the stage followed and what it rests on. From the
    stored row before `since` on, when there is one: quiet weeks after it (no row, but the stage
    may move in them) are followed again too."""
    first_week, stage, set_at, anchored, last = stored or (None, None, None, None, None)
    taken = since is not None and stage is not None and first_week is not None and first_week < since
    w, at = _weeks(rows, last + dt.timedelta(weeks=1) if taken else None)
    start, first, state = 0, 0, None
    if taken:
        start = (last + dt.timedelta(weeks=1) - w.weeks[0]).days // 7
        first = (first_week - w.weeks[0]).days // 7
        state = (stage, (set_at - w.weeks[0]).days // 7, bool(anchored))
    followed = follow(w, rules, start, first, state)
    share, starts, contributing = w.window(rules.window_weeks)
    members = w.messages - w.promoter_messages
    prominence = w.prominence(share)
    out = rows.with_columns(
        # NULL where the promoters wrote nothing, or everything, over the window
        promoter_prominence=pl.Series(np.where(np.isfinite(prominence), prominence, np.nan)[at]).fill_nan(None),
        stage=pl.Series(followed.stage[at], dtype=pl.Int32),
        moved_by=pl.Series([followed.how[i] or None for i in at], dtype=pl.String),
        _anchored=pl.Series(followed.anchored[at]),
        _before=pl.Series(followed.stage[at] - followed.step[at], dtype=pl.Int32),
        stage_since=pl.Series([w.weeks[0] + dt.timedelta(weeks=int(followed.since[i])) for i in at], dtype=pl.Date),
        promoter_message_share=pl.Series(share[at]).fill_nan(None),
        promoter_start_share=pl.Series(starts[at]).fill_nan(None),
        contributing_share=pl.Series(contributing[at]).fill_nan(None),
        promoter_messages_week=pl.Series(w.promoter_messages[at].astype(np.int64)),
        member_messages_week=pl.Series(members[at].astype(np.int64)),
        # What a change was measured on: that week, or it and the one before (a fall spread over two)
        _measured_weeks=pl.Series(followed.measured_weeks[at]),
        _measured_promoter=pl.Series(_over(w.promoter_messages, followed.measured_weeks)[at]),
        _measured_members=pl.Series(_over(members, followed.measured_weeks)[at]),
        promoter_ratio_before=pl.Series(followed.ratio_before[at]).fill_nan(None),
        member_messages_before=pl.Series(followed.members_before[at]).fill_nan(None),
    )
    if since is not None:
        out = out.filter(pl.col("week") >= since)
    return out.with_columns(reason=_reason(rules)).drop("_anchored", "_before", "_measured_weeks",
                                                        "_measured_promoter", "_measured_members", *_OWN)


def _over(counts: np.ndarray, weeks: np.ndarray) -> np.ndarray:
    """Each week's count summed with the week before's where `weeks` is 2."""
    return counts + np.where(weeks == 2, np.r_[0.0, counts[:-1]], 0.0)


def _reason(rules: StageRules) -> pl.Expr:
    """The sentence saying what put each week's stage where it is."""
    stage, before, how = pl.col("stage"), pl.col("_before"), pl.col("moved_by")
    words = _reading_reason(stage, pl.col("promoter_message_share").fill_null(0.0),
                            pl.col("promoter_start_share").fill_null(0.0), pl.col("contributing_share").fill_null(0.0),
                            pl.col("reciprocity").fill_null(0.0), pl.col("promoter_silent_weeks"))
    two = pl.col("_measured_weeks") == 2
    ratio = pl.col("_measured_promoter") / pl.max_horizontal(pl.col("_measured_members"), 1)
    step = pl.when(stage > before).then(pl.lit("up from ")).otherwise(pl.lit("down from ")) + before.cast(pl.String)
    change = (step + pl.when(two).then(pl.lit(": that week and the one before the promoter wrote "))
              .otherwise(pl.lit(": that week the promoter wrote ")) + ratio.round(2).cast(pl.String)
              + pl.lit(" messages per member message, against ") + pl.col("promoter_ratio_before").round(2).cast(pl.String)
              + pl.lit(" over the weeks before, and members wrote ")
              + (pl.col("_measured_members") / pl.col("_measured_weeks")).round(0).cast(pl.Int64).cast(pl.String)
              + pl.when(two).then(pl.lit(" messages a week, against ")).otherwise(pl.lit(" messages, against "))
              + pl.col("member_messages_before").round(0).cast(pl.Int64).cast(pl.String) + pl.lit(" a week; "))
    level = (step + pl.lit(f": in {rules.level_weeks} of the last {rules.level_window_weeks} weeks the indicators ")
             + pl.when(stage > before).then(pl.lit("cleared stage ") + stage.cast(pl.String) + pl.lit(" with room to spare; "))
             .otherwise(pl.lit("fell well short of stage ") + before.cast(pl.String) + pl.lit("; ")))
    usual = pl.lit(f"as most of the last {rules.first_weeks} weeks read (no clear change yet): ")
    # A kept stage rests on what set it: this week's figures are shown, not offered as the reason.
    kept = pl.lit("since the week of ") + pl.col("stage_since").dt.strftime("%Y-%m-%d") + pl.lit("; this week ")
    return (pl.when(how == "change").then(change)
            .when(how == "level").then(level)
            .when(~pl.col("_anchored")).then(usual)
            .otherwise(kept)) + words


def stages_of(frame: pl.DataFrame, rules: StageRules, since: dt.date | None = None,
              stored: dict[str, tuple] | None = None) -> pl.DataFrame:
    """community_stages rows from the indicator rows of warehouse.stages.indicators: every week, or
    the weeks from Monday `since` on, the weeks before read as history and the stage taken over
    from `stored` (scope -> first stored week; stage, stage_since and whether a change was seen,
    of its last stored week before `since`; that week)."""
    parts = []
    for (scope,), rows in frame.with_columns(scope=pl.col("platform").fill_null("*")).group_by("scope"):
        parts.append(_scope_stages(rows.sort("week").drop("scope"), rules, since, (stored or {}).get(scope)))
    if not parts:
        return frame.drop(*_OWN)
    return pl.concat(parts, how="diagonal_relaxed").sort("platform", "week", nulls_last=False)


def promoters(con, config: HubConfig, community: str) -> list[str]:
    """Person ids of the community's promoters: named in hub.yaml (by name, or platform and
    account), else the person who wrote most in the community's first four weeks. An entry that
    matches no account is logged as a warning (hub build prints it)."""
    from warehouse import persons as people, stages as sql

    configured = next((c for c in config.communities if c.slug == community), None)
    # (index in hub.yaml's list, promoter as stored): a warning below names the entry as written.
    wanted = list(enumerate(configured.promoters if configured else []))
    if wanted and (configured.pseudonymise or people.pseudonymised(con, community)):
        from hub.pseudonyms import as_stored

        # named in hub.yaml as they are, stored as pseudonyms
        wanted = [(i, stored) for i, p in wanted for stored in as_stored([p], configured.timezone)]
    found: set[str] = set()
    matched: set[int] = set()  # entries of hub.yaml's list that named someone
    names: dict[str, str] = {}
    # Every account is read only to match an entry against (20,000 rows for none, three times a build).
    candidates = sql.promoter_candidates(con, community) if wanted else []
    for person, person_name, native, phone, handle, account_name, platform in candidates:
        names[person] = person_name or account_name or person
        for i, p in wanted:
            if p.name and p.name.casefold() in {(person_name or "").casefold(), (account_name or "").casefold()}:
                found.add(person)
                matched.add(i)
            elif p.account and (p.platform is None or p.platform == platform) and (
                    p.account in (native, handle) or (phone and normalise_phone(p.account) == normalise_phone(phone))):
                found.add(person)
                matched.add(i)
    if not found and (busiest := sql.busiest_at_start(con, community)):
        found.add(busiest)
    # A promoter misspelt in hub.yaml would otherwise silently leave the stage and the flags to
    # whoever the fallback picks (or to the other promoters): say so, naming the entry as written.
    for i in sorted({i for i, _ in wanted} - matched):
        p = configured.promoters[i]
        said = repr(p.name) if p.name else f"{p.platform} account {p.account!r}"
        instead = (f"only the others ({', '.join(names.get(f, f) for f in sorted(found))})" if matched else
                   f"{names.get(min(found), min(found))} instead (who wrote most in the first four weeks)" if found
                   else "no one")
        _warn_once(f"{community}: promoter {said} in hub.yaml matches no account of the community: the stage and "
                   f"the flags take {instead}")
    return sorted(found)


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    """Log a warning once per process (the promoters are looked up by scores, stages and the digest alike)."""
    if message not in _warned:
        _warned.add(message)
        logging.getLogger(__name__).warning(message)


def refresh_stages(con, config: HubConfig, plans: dict[str, Plan] | None = None) -> int:
    """Recompute community_stages of every community whose persons are resolved, each with its
    rules from the configuration: all weeks, or from the week its plan (hub/incremental.py) starts
    at, following on from the stage stored for the week before."""
    from warehouse import scores, stages as sql

    tables = {}
    for community, timezone in scores.communities_with_persons(con).items():
        plan = (plans or {}).get(community) or Plan.whole(community)
        if not plan.changed:
            continue
        since, stored, history = plan.from_week, None, None
        if since:
            stored = {scope: rest for scope, *rest in sql.stored_stages(con, community, since)}
            if any(stage is not None and set_at is None for _, stage, set_at, _, _ in stored.values()):
                since, stored = None, None  # rows stored before stages were followed: all weeks again
        if since:
            # The history read starts before the week after each scope's last stored row: quiet
            # weeks between it and `since` have no row, and are followed again.
            history = min([since] + [last + dt.timedelta(weeks=1) for *_, last in stored.values() if last])
        frame = pl.from_arrow(sql.indicators(con, community, timezone, promoters(con, config, community), history))
        tables[community] = (since, stages_of(frame, config.rules(community).stages, since, stored).to_arrow())
    return sql.replace_stages(con, tables)
