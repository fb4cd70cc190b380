"""The tunable rules of reputation, flags and stages: one place, set per community in hub.yaml.

    communities:
      - slug: makers
        scoring: {half_life_weeks: 12, weights: {answers: 3}}   # unnamed weights keep their default
        flags: {window_weeks: 6}
        stages: {mobilisation_max_promoter_starts: 0.4}

Every field has a documented default (README, "Reputation, flags and stages"); a community that
sets none gets them all. Unknown keys are errors, so a typo never silently keeps a default.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from warehouse.scores import PARTS
from warehouse.stages import HISTORY_WEEKS  # weeks a stage's windows may look back (hub/stages.py)

LEVELS = ("observer", "participant", "contributor", "ambassador")
STAGES = {1: "lack of commitment", 2: "movement", 3: "mobilisation", 4: "consolidation"}
Level = Literal["observer", "participant", "contributor", "ambassador"]

DEFAULT_WEIGHTS = {"messages": 0.2, "conversations_started": 2.0, "answers": 2.0, "media_and_links": 0.3,
                   "welcomes": 1.0, "replies_received": 1.5, "reactions_received": 0.5, "reach": 1.0}


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scoring(_Rules):
    """Reputation: Σ weight × part, each part decayed with a half-life (hub/scoring.py)."""

    half_life_weeks: float = Field(8.0, ge=1)  # shorter would overflow the decay over years of weeks
    # A negative or non-finite weight would make reputations meaningless (NaN) or reward being ignored.
    weights: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = DEFAULT_WEIGHTS
    # Percent rank among the week's members needed to reach participant, contributor, ambassador.
    thresholds: tuple[float, float, float] = (0.5, 0.78, 0.95)
    hysteresis: float = Field(0.1, ge=0, lt=1)  # how far below a level's rank a member must fall to lose it

    @field_validator("thresholds")
    @classmethod
    def _increasing(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if not 0 <= value[0] < value[1] < value[2] <= 1:
            raise ValueError("thresholds are three increasing percent ranks in [0, 1]: participant, contributor, "
                             "ambassador")
        return value

    @field_validator("weights", mode="before")
    @classmethod
    def _known_parts(cls, value: dict) -> dict:
        if not isinstance(value, dict):
            raise ValueError(f"weights is a mapping of parts to numbers, e.g. {{answers: 3}}; the parts are "
                             f"{', '.join(PARTS)}")
        unknown = sorted(set(value) - set(PARTS))
        if unknown:
            raise ValueError(f"unknown parts {', '.join(unknown)}: the parts are {', '.join(PARTS)}")
        return {**DEFAULT_WEIGHTS, **value}


class Flags(_Rules):
    """When a member is flagged (weeks are counted back from the flagged week, itself included)."""

    # Ambassadors: at least `ambassador_level`, and among the active members (those who
    # interacted with anyone over the window) whom most distinct others replied to over the
    # window (percent rank, distinct repliers counted week by week), in at least
    # `consistent_weeks` of its weeks.
    window_weeks: int = Field(8, ge=1)
    consistent_weeks: int = Field(3, ge=1)
    ambassador_level: Level = "contributor"
    drew_replies_rank: float = Field(0.92, ge=0, le=1)
    drew_replies_min: int = Field(8, ge=1)  # …and at least this many over the window, however quiet the rest
    # …and many, for the community: as many as this share of its active members, or this many times
    # what the median active member at `ambassador_level` draws. In a large community the top few
    # percent hold more prolific contributors than ambassadors; these keep only those who stand out.
    drew_active_share: float = Field(0.4, ge=0)
    drew_over_median: float = Field(4.0, ge=0)
    new_weeks: int = Field(8, ge=1)  # new and promising: arrived this recently…
    promising_level: Level = "contributor"  # …and already at this level
    drifting_quiet_weeks: int = Field(3, ge=1)  # drifting: silent this long…
    drifting_level: Level = "contributor"  # …after having been at this level…
    drifting_lookback_weeks: int = Field(12, ge=1)  # …within this many weeks

    @model_validator(mode="after")
    def _consistent_within_window(self) -> "Flags":
        if self.consistent_weeks > self.window_weeks:
            raise ValueError(f"consistent_weeks ({self.consistent_weeks}) cannot exceed window_weeks "
                             f"({self.window_weeks}): no one could ever be flagged ambassador")
        return self


class StageRules(_Rules):
    """How the stage is read (hub/stages.py) from the indicators of community_stages. The defaults
    were searched on simulated communities of 60 to 300 members (README, "The community's stage").

    Shares are compared as odds (share / (1 - share)): with a margin of 2, a threshold of 20 %
    becomes one of about 11 % where it must be cleared with room, and one of about 33 % where it
    must be missed by far."""

    # The reading: the highest stage whose conditions hold over the last `window_weeks` weeks (the
    # promoters' shares over the weeks they wrote).
    window_weeks: int = Field(2, ge=1, le=4)
    # Stage 2, movement: the promoters no longer write most, or members reply to each other.
    movement_max_promoter_messages: float = Field(0.47, ge=0, le=1)
    movement_min_contributing: float = Field(0.63, ge=0, le=1)
    # Stage 3, mobilisation: conversations start without the promoters (they start at most
    # `mobilisation_max_promoter_starts` of them, or write at most
    # `mobilisation_max_promoter_prominence` times what an active member writes), and most members
    # take part.
    mobilisation_max_promoter_starts: float = Field(0.45, ge=0, le=1)
    mobilisation_max_promoter_prominence: float = Field(10.0, ge=0)
    mobilisation_min_contributing: float = Field(0.77, ge=0, le=1)
    # Stage 4, consolidation: stage 3's conditions hold, nearly every member takes part, and the
    # community carries on without the promoters: they wrote at most
    # `consolidation_max_promoter_prominence` times what an active member wrote, or started at most
    # `consolidation_max_promoter_starts` of the conversations and were silent
    # `consolidation_min_silent_weeks` of the last four weeks or wrote at most
    # `consolidation_max_promoter_messages` of the messages. (The prominence is their
    # messages per member message times the members who wrote over four weeks: one promoter among
    # 60 members writes a larger share, and starts more conversations, than among 300 at the same
    # stage, but about as many times a member's messages.)
    consolidation_max_promoter_starts: float = Field(0.35, ge=0, le=1)
    consolidation_min_contributing: float = Field(0.8, ge=0, le=1)
    consolidation_min_silent_weeks: int = Field(1, ge=0, le=4)
    consolidation_max_promoter_messages: float = Field(0.05, ge=0, le=1)
    consolidation_max_promoter_prominence: float = Field(8.0, ge=0)
    # A change: in one week the promoters' messages per member message fall to at most
    # 1 / `change_factor_up` (rise to at least `change_factor_down` times) what they were over the
    # last `change_baseline_weeks` weeks they wrote after the week a change or the level last set
    # the stage (before any change, of all the weeks before), beyond chance (`change_certainty`
    # standard errors; a rise, in that week or over it and the one before, against the weeks
    # before both), while members write at least `change_member_factor` times more (less); and
    # that week's reading, with thresholds `change_margin` times looser, allows the new stage. Once
    # a change or the level has set the stage, the baseline needs two weeks the promoters wrote
    # after that week: no change comes sooner than three weeks after it, whatever
    # `change_min_weeks`. The stage then moves one step (up two, when that week reads two stages
    # higher and `level_weeks` of the `level_window_weeks` before read one higher), and moves again
    # by a change only `change_min_weeks` weeks after a change or the level last moved it.
    change_factor_up: float = Field(2.0, ge=1)
    change_factor_down: float = Field(1.65, ge=1)
    change_member_factor: float = Field(1.15, ge=1)
    change_certainty: float = Field(3.5, ge=0)
    change_baseline_weeks: int = Field(8, ge=2, le=HISTORY_WEEKS)
    change_min_weeks: int = Field(4, ge=1, le=HISTORY_WEEKS)
    change_margin: float = Field(3.8, ge=1)
    # The level: the stage also moves one step when, in `level_weeks` of the last
    # `level_window_weeks` weeks since it was set, the reading clears the next stage with every
    # threshold `level_margin` times stricter (or misses its own with them that much looser): the
    # slow changes no single week shows.
    level_margin: float = Field(2.2, ge=1)
    level_weeks: int = Field(5, ge=1)
    level_window_weeks: int = Field(8, ge=1, le=HISTORY_WEEKS)
    # Until a first change is seen, the stage is what most of the last `first_weeks` weeks read
    # (weeks without a message read nothing); no change is looked for in a scope's first weeks.
    first_weeks: int = Field(4, ge=1, le=HISTORY_WEEKS)

    @model_validator(mode="after")
    def _reachable(self) -> "StageRules":
        if self.level_weeks > self.level_window_weeks:
            raise ValueError(f"level_weeks ({self.level_weeks}) cannot exceed level_window_weeks "
                             f"({self.level_window_weeks}): the level could never move the stage")
        return self


class Rules(_Rules):
    """A community's rules, as `scoring:`, `flags:` and `stages:` in its hub.yaml entry."""

    scoring: Scoring = Scoring()
    flags: Flags = Flags()
    stages: StageRules = StageRules()
