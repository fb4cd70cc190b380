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

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from warehouse.scores import PARTS

LEVELS = ("observer", "participant", "contributor", "ambassador")
Level = Literal["observer", "participant", "contributor", "ambassador"]

DEFAULT_WEIGHTS = {"messages": 0.2, "conversations_started": 2.0, "answers": 2.0, "media_and_links": 0.3,
                   "welcomes": 1.0, "replies_received": 1.5, "reactions_received": 0.5, "reach": 1.0}


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scoring(_Rules):
    """Reputation: Σ weight × part, each part decayed with a half-life (hub/scoring.py)."""

    half_life_weeks: float = Field(8.0, ge=1)  # shorter would overflow the decay over years of weeks
    weights: dict[str, float] = DEFAULT_WEIGHTS
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
    drew_replies_rank: float = Field(0.93, ge=0, le=1)
    drew_replies_min: int = Field(8, ge=1)  # …and at least this many over the window, however quiet the rest
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
    """Thresholds of the stages (hub/stages.py), over the indicators of community_stages. The
    defaults were searched on simulated communities of 60 to 300 members (README)."""

    # Stage 4: members start nearly every conversation, most take part, and the community carries
    # on without the promoter (a silent week, or the promoter writes almost nothing).
    consolidation_max_promoter_starts: float = Field(0.3, ge=0, le=1)
    consolidation_min_contributing: float = Field(0.92, ge=0, le=1)
    consolidation_min_silent_weeks: int = Field(3, ge=0, le=4)
    consolidation_max_promoter_messages: float = Field(0.11, ge=0, le=1)
    # Stage 3: conversations start without the promoter.
    mobilisation_max_promoter_starts: float = Field(0.4, ge=0, le=1)
    mobilisation_min_contributing: float = Field(0.52, ge=0, le=1)
    # Stage 2: members take part: they reply to each other, or the promoter no longer writes most.
    movement_max_promoter_messages: float = Field(0.5, ge=0, le=1)
    movement_min_contributing: float = Field(0.1, ge=0, le=1)


class Rules(_Rules):
    """A community's rules, as `scoring:`, `flags:` and `stages:` in its hub.yaml entry."""

    scoring: Scoring = Scoring()
    flags: Flags = Flags()
    stages: StageRules = StageRules()
