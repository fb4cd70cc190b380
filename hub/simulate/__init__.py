"""A community simulator with known ground truth.

`simulate()` makes a community of N members over a period: one promoter, ambassadors,
contributors, occasional members and lurkers, who join over time and sometimes drift away, and a
stage trajectory (by default from 1, the promoter posts and members watch, to 4, members talk to
each other and the promoter steps back; or `stalled`, `mature`, `declining`, or any breakpoints).

What is planted is behaviour, member by member: roles (which change: contributors become
ambassadors, ambassadors step back), each member's propensity to talk and to react (which warms up
after joining and fades before leaving), the weeks the promoter is away, and per stage how
conversations start and who answers whom. What the hub measures (shares, density, retention…)
follows from that behaviour and is never computed here. Conversations have a starter and replies,
so the interaction graph is known too. Same seed, same community. Writers in this package turn a
simulation into a platform's export; `hub.simulate.community` spreads one community over several.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

ROLES = ("promoter", "ambassador", "contributor", "occasional", "lurker")
# Share of members per role (the promoter is one person).
_ROLE_SHARE = {"ambassador": 0.05, "contributor": 0.17, "occasional": 0.33}
# Stage boundaries of the default ("growing") trajectory as fractions of the period.
_STAGE_AT = (0.0, 0.15, 0.40, 0.70, 1.0)
# Named trajectories: (fraction of the period, stage from then on). Changes fall on Mondays.
TRAJECTORIES: dict[str, tuple[tuple[float, int], ...]] = {
    "growing": ((0.0, 1), (0.15, 2), (0.40, 3), (0.70, 4)),
    "stalled": ((0.0, 1),),
    "mature": ((0.0, 4),),
    "declining": ((0.0, 4), (0.30, 3), (0.60, 2), (0.85, 1)),
}
Trajectory = str | Sequence[tuple[float, int]] | None
# Who starts conversations, by stage (relative weight per member of the role, times their propensity).
_STARTS = {
    1: {"promoter": 150, "ambassador": 1, "contributor": 0.15, "occasional": 0.01},
    2: {"promoter": 60, "ambassador": 3, "contributor": 0.6, "occasional": 0.05},
    3: {"promoter": 40, "ambassador": 5, "contributor": 1.5, "occasional": 0.15},
    4: {"promoter": 20, "ambassador": 6, "contributor": 2.0, "occasional": 0.3},
}
# Who replies, by stage (relative weight per member of the role, times their propensity).
_REPLIES = {
    1: {"promoter": 12, "ambassador": 1.5, "contributor": 0.3, "occasional": 0.05},
    2: {"promoter": 12, "ambassador": 4, "contributor": 1.0, "occasional": 0.1},
    3: {"promoter": 8, "ambassador": 5, "contributor": 2.0, "occasional": 0.3},
    4: {"promoter": 4, "ambassador": 5, "contributor": 2.5, "occasional": 0.5},
}
_REPLIES_PER_CONVERSATION = {1: 1.0, 2: 2.0, 3: 3.5, 4: 5.0}
# Ambassadors animate others: what they start draws this many times the replies, and a reply that
# picks among the latest messages picks theirs this many times as readily (newcomers, twice that).
_AMBASSADOR_DRAW = 3.0
_CONVERSATIONS_PER_MEMBER_DAY = {1: 0.05, 2: 0.06, 3: 0.08, 4: 0.10}
# Conversations a day the promoter starts of their own accord, however few are there to read them.
_PROMOTER_PACE = {1: 0.6, 2: 0.4, 3: 0.2, 4: 0.1}
# How often a reply answers the conversation's starter rather than one of the latest messages.
_REPLY_TO_STARTER = {1: 0.9, 2: 0.7, 3: 0.5, 4: 0.3}
# Chance that the promoter is away (writes, reacts and adds no one) for a whole week, by stage.
_PROMOTER_AWAY = {1: 0.0, 2: 0.0, 3: 0.15, 4: 0.45}
# Chance per week that a contributor becomes an ambassador, and that an ambassador steps back.
_RENEWAL = {1: (0.0, 0.03), 2: (0.15, 0.03), 3: (0.3, 0.05), 4: (0.3, 0.10)}
# Chance of reacting to a message on the platform, per member of the role (times their reactivity);
# however large the community, a message draws about _MOST_REACTIONS at most.
_MOST_REACTIONS = 4.0
_REACTS = {"promoter": 0.06, "ambassador": 0.05, "contributor": 0.015, "occasional": 0.004, "lurker": 0.0015}
# Chance that a member leaves at some point, times how the community is doing then, by stage.
_LEAVES = 0.15
_LEAVES_STAGE = {1: 1.5, 2: 1.2, 3: 0.9, 4: 0.6}
_LEAVES_ROLE = {"ambassador": 0.5}
# Chance that a newcomer who only watches or drops by finds it is not for them and leaves within
# weeks, by the stage when they join.
_NOT_FOR_ME = {1: 0.12, 2: 0.08, 3: 0.05, 4: 0.03}
# Share of members already there when the period starts, by the first stage (a mature community
# did not begin with the export).
_ESTABLISHED = {1: 0.0, 2: 0.1, 3: 0.35, 4: 0.55}
_WARM_UP_DAYS = 21  # newcomers talk less at first

_FIRST = ["Alice", "Bruno", "Chiara", "Dmitri", "Emma", "Farid", "Grace", "Hiro", "Inès", "Jamal", "Kofi", "Lena",
          "Mateo", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Uma", "Victor", "Wen", "Ximena",
          "Yusuf", "Zoë", "Amara", "Björn", "Camille", "Diego", "Eszter", "Fatima", "Gustavo", "Hana", "Ivan",
          "Jun", "Katarzyna", "Luis", "Mei", "Noah", "Olga", "Pablo", "Rania", "Sofia", "Tomás", "Valentina"]
_LAST = ["Martin", "Rossi", "Ivanova", "Haddad", "Tanaka", "Okafor", "García", "Nowak", "Müller", "Silva", "Chen",
         "Kaur", "Dubois", "Andersson", "Yilmaz", "Costa", "Kim", "Novák", "Papadopoulos", "Mensah", "O'Brien"]
_TOPICS = ["3D printing", "the laser cutter", "soldering", "the next meetup", "Arduino", "woodworking",
           "the grant application", "kids' workshop", "CNC feeds", "the repair café", "PCB design", "the newsletter"]
_EMOJI = ["🙂", "👍", "🎉", "🔥", "🙏", "😂", "❤️", "👋"]


@dataclass
class Member:
    name: str
    role: str  # the role they start with
    joined: dt.date
    left: dt.date | None = None
    activity: float = 1.0  # how much they talk, relative to others of their role
    reactivity: float = 1.0  # how readily they react, relative to others of their role
    warm_up: int = 0  # days after joining during which they talk less
    changes: list[tuple[dt.date, str]] = field(default_factory=list)  # (from day, new role), in order

    def active_on(self, day: dt.date) -> bool:
        return self.joined <= day and (self.left is None or day < self.left)

    def role_on(self, day: dt.date) -> str:
        role = self.role
        for since, new in self.changes:
            if since > day:
                break
            role = new
        return role

    def propensity(self, day: dt.date) -> float:
        """How much they talk that day: their activity, less while new and while drifting away."""
        p = self.activity
        since = (day - self.joined).days
        if since < self.warm_up:
            p *= 0.3 + 0.7 * since / self.warm_up
        if self.left is not None and (until := (self.left - day).days) < 28:
            p *= max(0.1, until / 28)
        return p


@dataclass
class SimMessage:
    at: dt.datetime  # local wall-clock time, as a phone shows it
    author: str | None  # None for system lines
    text: str
    kind: str = "message"  # message | system
    media: bool = False
    conversation: int | None = None
    reply_to: int | None = None  # index into Simulation.messages
    event: tuple[str, str, str | None] | None = None  # (join|leave|add|remove, member, actor)
    reactions: list[tuple[str, str]] = field(default_factory=list)  # (member, emoji): who reacted, with what
    platform: str | None = None  # where it was written, in a community on several platforms


@dataclass
class Simulation:
    name: str
    seed: int
    start: dt.date
    days: int
    members: list[Member]
    messages: list[SimMessage] = field(default_factory=list)
    trajectory: tuple[tuple[float, int], ...] = TRAJECTORIES["growing"]
    away: set[dt.date] = field(default_factory=set)  # Mondays of the weeks the promoter is away
    _schedule: list[tuple[dt.date, int]] | None = field(default=None, repr=False, compare=False)

    @property
    def promoter(self) -> Member:
        return next(m for m in self.members if m.role == "promoter")

    @property
    def end(self) -> dt.date:
        """The first day after the period."""
        return self.start + dt.timedelta(days=self.days)

    def schedule(self) -> list[tuple[dt.date, int]]:
        """(first day, stage) of each stage of the planted trajectory, in order."""
        if self._schedule is None:
            self._schedule = _schedule(self.trajectory, self.start, self.days)
        return self._schedule

    def stage_on(self, day: dt.date) -> int:
        schedule = self.schedule()
        stage = schedule[0][1]
        for since, n in schedule[1:]:
            if since > day:
                break
            stage = n
        return stage

    def weeks(self) -> list[tuple[dt.date, int]]:
        """(Monday, planted stage) of every week the period touches; a week split by a change (in
        periods too short for changes to fall on Mondays) has the stage of most of its days."""
        out = []
        monday = monday_of(self.start)
        while monday < self.end:
            days = [monday + dt.timedelta(days=i) for i in range(7)]
            stages = [self.stage_on(d) for d in days if self.start <= d < self.end]
            out.append((monday, max(set(stages), key=lambda s: (stages.count(s), stages.index(s)))))
            monday += dt.timedelta(days=7)
        return out

    def stages(self) -> list[dict]:
        schedule = self.schedule()
        ends = [since for since, _ in schedule[1:]] + [self.end]
        return [{"stage": n, "from": since.isoformat(), "to": (until - dt.timedelta(days=1)).isoformat()}
                for (since, n), until in zip(schedule, ends)]

    def ambassadors(self) -> list[dict]:
        """Everyone who was an ambassador, and when: `since` None for those who were from the start
        (of their membership), `week` the Monday of the week they became one, `until` when they
        stepped back."""
        out = []
        for m in self.members:
            role, since = m.role, None
            spans = []
            for day, new in m.changes:
                if new == "ambassador" and role != "ambassador":
                    since = day
                elif role == "ambassador" and new != "ambassador":
                    spans.append((since, day))
                role = new
            if role == "ambassador":
                spans.append((since, None))
            for since, until in spans:
                out.append({"name": m.name, "since": since and since.isoformat(),
                            "week": since and monday_of(since).isoformat(), "until": until and until.isoformat()})
        return out

    def truth(self) -> dict:
        """The ground truth later stages of the hub are scored against: what was planted."""
        return {
            "community": self.name, "seed": self.seed, "start": self.start.isoformat(), "days": self.days,
            "members": [{"name": m.name, "role": m.role, "joined": m.joined.isoformat(),
                         "left": m.left.isoformat() if m.left else None,
                         **({"became": [{"role": r, "from": d.isoformat()} for d, r in m.changes]}
                            if m.changes else {})} for m in self.members],
            "trajectory": [list(p) for p in self.trajectory],
            "stages": self.stages(),
            "weeks": [{"week": w.isoformat(), "stage": s} for w, s in self.weeks()],
            "promoter": self.promoter.name,
            "promoter_away": sorted(w.isoformat() for w in self.away),
            "ambassadors": self.ambassadors(),
            "messages": sum(1 for m in self.messages if m.kind == "message"),
            "system": sum(1 for m in self.messages if m.kind == "system"),
            "reactions": sum(len(m.reactions) for m in self.messages),
        }


def stage_at(fraction: float) -> int:
    """The stage of the default trajectory at this fraction of the period (before Monday snapping)."""
    for n in range(1, 5):
        if fraction < _STAGE_AT[n]:
            return n
    return 4


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def trajectory_points(trajectory: Trajectory) -> tuple[tuple[float, int], ...]:
    """A trajectory's (fraction, stage) breakpoints, checked: a name or a list of them."""
    if trajectory is None:
        trajectory = "growing"
    if isinstance(trajectory, str):
        if trajectory not in TRAJECTORIES:
            raise ValueError(f"unknown trajectory {trajectory!r}: known are {', '.join(TRAJECTORIES)}")
        return TRAJECTORIES[trajectory]
    points = sorted((float(f), int(s)) for f, s in trajectory)
    if not points:
        raise ValueError("a trajectory needs at least one (fraction, stage) breakpoint")
    for f, s in points:
        if not 0 <= f < 1 or s not in (1, 2, 3, 4):
            raise ValueError(f"bad breakpoint ({f}, {s}): the fraction is in [0, 1), the stage 1 to 4")
    if points[0][0] > 0:
        points.insert(0, (0.0, points[0][1]))
    return tuple(points)


def _schedule(points: Sequence[tuple[float, int]], start: dt.date, days: int) -> list[tuple[dt.date, int]]:
    """Breakpoints as days; moved to the nearest Monday when that keeps them apart and in the period."""
    end = start + dt.timedelta(days=days)
    exact = [(start + dt.timedelta(days=math.ceil(f * days)), s) for f, s in points]
    snapped = exact[:1] + [(_nearest_monday(d), s) for d, s in exact[1:]]
    dates = [d for d, _ in snapped]
    if all(a < b for a, b in zip(dates, dates[1:])) and dates[-1] < end:
        exact = snapped
    out: list[tuple[dt.date, int]] = []
    for d, s in exact:
        d = max(d, start)
        if out and d >= end:
            break
        if out and out[-1][0] == d:
            out.pop()
        if not out or out[-1][1] != s:
            out.append((d, s))
    return out


def _nearest_monday(day: dt.date) -> dt.date:
    return monday_of(day) if day.weekday() <= 3 else monday_of(day) + dt.timedelta(days=7)


def simulate(members: int = 60, days: int = 180, seed: int = 1, *, messages: int | None = None,
             name: str = "Makers", start: dt.date = dt.date(2024, 1, 8), trajectory: Trajectory = None) -> Simulation:
    """A community of `members` over `days`; with `messages`, activity is scaled to about that many.
    `trajectory` is the planted stage over time: "growing" (1→2→3→4, the default), "stalled" (1),
    "mature" (4), "declining" (4→3→2→1), or (fraction of the period, stage) breakpoints."""
    rng = random.Random(seed)
    sim = _community(rng, members, days, seed, name=name, start=start, trajectory=trajectory)
    _history(sim, rng, _scale(sim, messages))
    return sim


def _community(rng: random.Random, n: int, days: int, seed: int, *, name: str, start: dt.date,
               trajectory: Trajectory, numbers: bool = True) -> Simulation:
    """The people and their plans (roles and their changes, propensities, the promoter's absences);
    no messages yet. `numbers`: some members are known only by a phone number."""
    sim = Simulation(name=name, seed=seed, start=start, days=days, members=[],
                     trajectory=trajectory_points(trajectory))
    sim.members = _members(rng, n, sim, numbers)
    sim.away = _away(rng, sim)
    _renewal(rng, sim)
    return sim


def _scale(sim: Simulation, messages: int | None) -> float:
    if not messages:
        return 1.0
    expected = _expected_messages(sim)
    return messages / expected if expected else 1.0


def _members(rng: random.Random, n: int, sim: Simulation, numbers: bool = True) -> list[Member]:
    start, days = sim.start, sim.days
    names = _names(rng, n, numbers)
    roles = ["promoter"] + [r for r, share in _ROLE_SHARE.items() for _ in range(max(1, round(share * n)))]
    roles = (roles + ["lurker"] * n)[:n]
    established = _ESTABLISHED[sim.stage_on(start)]
    # A community that starts at stage 1 has no one who animates others yet: its would-be
    # ambassadors start as contributors (renewal may make them ambassadors once it moves).
    no_core = sim.stage_on(start) == 1
    people = []
    for i, (name, planned) in enumerate(zip(names, roles)):
        role = "contributor" if no_core and planned == "ambassador" else planned
        promoter = role == "promoter"
        activity = 1.0 if promoter else rng.lognormvariate(0, 0.6)
        reactivity = rng.lognormvariate(0, 0.5)
        warm_up = 0
        if planned in ("promoter", "ambassador") and i < 1 + max(1, n // 40):
            joined = start  # founders
        elif rng.random() < established:
            joined = start  # members before the period began
        else:
            joined = start + dt.timedelta(days=int(days * 0.8 * rng.random() ** 1.5))
            warm_up = _WARM_UP_DAYS
        left = None if promoter else _leaving(rng, sim, role, joined)
        people.append(Member(name, role, joined, left, activity, reactivity, warm_up))
    return people


def _leaving(rng: random.Random, sim: Simulation, role: str, joined: dt.date) -> dt.date | None:
    """The day they leave, or None: more likely while the community is in an early stage."""
    if joined > sim.start and role in ("occasional", "lurker") and rng.random() < _NOT_FOR_ME[sim.stage_on(joined)]:
        day = joined + dt.timedelta(days=rng.randint(14, 35))
        return day if day < sim.end else None
    day = joined + dt.timedelta(days=rng.randint(14, max(15, sim.days)))
    if day >= sim.end:
        return None
    chance = _LEAVES * _LEAVES_STAGE[sim.stage_on(day)] * _LEAVES_ROLE.get(role, 1.0)
    return day if rng.random() < chance else None


def _away(rng: random.Random, sim: Simulation) -> set[dt.date]:
    """The weeks the promoter is away (never the first)."""
    return {monday for monday, stage in sim.weeks()[1:] if rng.random() < _PROMOTER_AWAY[stage]}


def _renewal(rng: random.Random, sim: Simulation) -> None:
    """Ambassadors renew week by week: a contributor who has been around becomes one, an ambassador
    steps back to contributing; how often depends on the stage."""
    target = max(1, round(_ROLE_SHARE["ambassador"] * len(sim.members)))
    for monday, stage in sim.weeks()[4:]:
        promote, step_down = _RENEWAL[stage]
        current = [m for m in sim.members if m.active_on(monday) and m.role_on(monday) == "ambassador"]
        if current and rng.random() < step_down:
            rng.choice(current).changes.append((monday, "contributor"))
        if len(current) < 2 * target and rng.random() < promote:
            soon = monday + dt.timedelta(days=56)
            candidates = [m for m in sim.members if m.active_on(monday) and m.role_on(monday) == "contributor"
                          and (monday - m.joined).days >= 28 and (m.left is None or m.left > soon)
                          and not (m.changes and m.changes[-1][0] == monday)]
            if candidates:
                chosen = rng.choices(candidates, weights=[m.activity for m in candidates])[0]
                chosen.changes.append((monday, "ambassador"))


def _names(rng: random.Random, n: int, numbers: bool = True) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        if numbers and len(names) >= 5 and rng.random() < 0.04:  # some unknown contacts show as numbers
            name = f"+{rng.choice([33, 44, 49, 34, 39, 1])} {rng.randint(600, 799)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        else:
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
            if name in seen:
                name = f"{name} {len(names)}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _expected_messages(sim: Simulation) -> float:
    total = 0.0
    for d in range(sim.days):
        day = sim.start + dt.timedelta(days=d)
        stage = sim.stage_on(day)
        active = sum(1 for m in sim.members if m.active_on(day))
        conversations = active * _CONVERSATIONS_PER_MEMBER_DAY[stage] + _PROMOTER_PACE[stage]
        total += conversations * (1 + _REPLIES_PER_CONVERSATION[stage])
    return total


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class _Day:
    """Who may do what on one day: cumulative weights, so each draw is a bisection. Per platform
    (`None` when the community is on one), the members present there."""

    def __init__(self, day: dt.date, stage: int, active: list[Member], away: bool,
                 presence: dict[str, tuple[str, ...]] | None) -> None:
        self.day, self.stage = day, stage
        self.ambassadors: set[str] = set()
        self.newcomers: set[str] = set()
        people = []
        for m in active:
            role = m.role_on(day)
            if role == "ambassador":
                self.ambassadors.add(m.name)
            if m.warm_up and (day - m.joined).days < 2 * m.warm_up:
                self.newcomers.add(m.name)
            talk = 0.0 if (away and role == "promoter") else m.propensity(day)
            people.append((m, role, talk))
        talkers = [(m, role, talk) for m, role, talk in people if role != "lurker" and talk > 0]
        self.talkers = [m for m, _, _ in talkers]
        self.starts = list(itertools.accumulate(_STARTS[stage].get(r, 0.0) * t for _, r, t in talkers))
        groups = sorted({p for ps in presence.values() for p in ps}) if presence else [None]
        self.repliers: dict[str | None, tuple[list[Member], list[float]]] = {}
        self.reactors: dict[str | None, tuple[list[Member], list[float]]] = {}
        for g in groups:
            here = [(m, r, t) for m, r, t in talkers if g is None or g in presence[m.name]]
            self.repliers[g] = ([m for m, _, _ in here],
                                list(itertools.accumulate(_REPLIES[stage].get(r, 0.0) * t for _, r, t in here)))
            # Reactions: everyone who joined before today, lurkers too, as they warm up or fade.
            seen = [(m, r, t) for m, r, t in people if m.joined < day and (g is None or g in presence[m.name])]
            self.reactors[g] = ([m for m, _, _ in seen],
                                list(itertools.accumulate(_REACTS[r] * m.reactivity * t / m.activity
                                                          for m, r, t in seen)))


def _history(sim: Simulation, rng: random.Random, scale: float,
             presence: dict[str, tuple[str, ...]] | None = None) -> None:
    """Day by day: membership changes, then conversations. With `presence` (member -> platforms),
    each conversation happens on one of its starter's platforms, among the members there."""
    out = sim.messages
    promoter = sim.promoter
    begin = dt.datetime.combine(sim.start, dt.time(9, 0))
    out.append(SimMessage(begin, None, "", "system", event=("created", promoter.name, None)))
    conversation = 0
    changes: dict[dt.date, list[Member]] = {}
    for m in sim.members:
        changes.setdefault(m.joined, []).append(m)
        if m.left:
            changes.setdefault(m.left, []).append(m)
    active: list[Member] = []
    for d in range(sim.days):
        day = sim.start + dt.timedelta(days=d)
        stage = sim.stage_on(day)
        away = monday_of(day) in sim.away
        if day in changes:
            active = [m for m in sim.members if m.active_on(day)]
            _membership_changes(sim, rng, day, changes[day], out, away)
        today = _Day(day, stage, active, away, presence)
        if not today.starts or today.starts[-1] <= 0:
            continue
        day_messages: list[SimMessage] = []
        n = _poisson(rng, len(active) * _CONVERSATIONS_PER_MEMBER_DAY[stage] * scale)
        own = 0 if away else _poisson(rng, _PROMOTER_PACE[stage] * scale)
        for i in range(n + own):
            conversation += 1
            day_messages.extend(_conversation(rng, today, conversation, presence, promoter if i >= n else None))
        # Conversations interleave within a day; messages keep their conversation's order.
        day_messages.sort(key=lambda m: m.at)
        base = len(out)
        index_of = {id(m): base + i for i, m in enumerate(day_messages)}
        for m in day_messages:
            if isinstance(m.reply_to, SimMessage):
                m.reply_to = index_of[id(m.reply_to)]
        out.extend(day_messages)


def _conversation(rng: random.Random, today: _Day, conversation: int,
                  presence: dict[str, tuple[str, ...]] | None, starter: Member | None = None) -> list[SimMessage]:
    day, stage = today.day, today.stage
    hour = min(23, max(7, round(rng.gauss(15, 3.5))))
    at = dt.datetime.combine(day, dt.time(hour, rng.randint(0, 59), rng.randint(0, 59)))
    starter = starter or rng.choices(today.talkers, cum_weights=today.starts)[0]
    platform = rng.choice(presence[starter.name]) if presence else None
    repliers, weights = today.repliers[platform]
    first = SimMessage(at, starter.name, _text(rng, "start"), conversation=conversation, platform=platform)
    _maybe_media(rng, first)
    _react(rng, first, *today.reactors[platform])
    thread = [first]
    draw = _AMBASSADOR_DRAW if starter.name in today.ambassadors else 1.0
    for _ in range(_poisson(rng, _REPLIES_PER_CONVERSATION[stage] * draw)):
        at = at + dt.timedelta(seconds=rng.randint(20, 900))
        if at.date() != day or not weights or weights[-1] <= 0:
            break
        who = rng.choices(repliers, cum_weights=weights)[0]
        target = _target(rng, thread, who.name, today)
        kind = "reply"
        if target is None:  # nothing here is someone else's: another replier, or a follow-up of one's own
            other = rng.choices(repliers, cum_weights=weights)[0]
            target = _target(rng, thread, other.name, today)
            if target is not None:
                who = other
            elif rng.random() < 0.5:
                kind, target = "follow-up", next(m for m in reversed(thread) if m.author == who.name)
            else:
                continue
        reply = SimMessage(at, who.name, _text(rng, kind, target.author), conversation=conversation,
                           reply_to=target, platform=platform)  # resolved to an index by _history
        _maybe_media(rng, reply)
        _react(rng, reply, *today.reactors[platform])
        thread.append(reply)
    return thread


def _target(rng: random.Random, thread: list[SimMessage], who: str, today: _Day) -> SimMessage | None:
    """What a reply answers: the starter's message, or one of the latest (an ambassador's more
    readily, by newcomers most); never the replier's own."""
    if thread[0].author != who and rng.random() < _REPLY_TO_STARTER[today.stage]:
        return thread[0]
    options = [m for m in thread[-3:] if m.author != who]
    if not options:
        return None
    pull = _AMBASSADOR_DRAW * (2 if who in today.newcomers else 1)
    return rng.choices(options, weights=[pull if m.author in today.ambassadors else 1.0 for m in options])[0]


def _react(rng: random.Random, message: SimMessage, reactors: list[Member], weights: list[float]) -> None:
    """Members react as they are inclined to; a message draws a few reactions however large the
    community (most never see it), so the expected count saturates at _MOST_REACTIONS."""
    if not weights or weights[-1] <= 0:
        return
    k = _poisson(rng, _MOST_REACTIONS * (1 - math.exp(-weights[-1] / _MOST_REACTIONS)))
    if not k:
        return
    seen = {message.author}
    for who, emoji in zip(rng.choices(reactors, cum_weights=weights, k=k), rng.choices(_EMOJI, k=k)):
        if who.name not in seen:
            seen.add(who.name)
            message.reactions.append((who.name, emoji))


def _maybe_media(rng: random.Random, message: SimMessage) -> None:
    if rng.random() < 0.04:
        message.media, message.text = True, ""


def _text(rng: random.Random, kind: str, to: str | None = None) -> str:
    topic = rng.choice(_TOPICS)
    if kind == "start":
        text = rng.choice([
            f"Does anyone know how to get started with {topic}?",
            f"Reminder: {topic} this Saturday, who's in?",
            f"I wrote up some notes on {topic}: https://example.org/notes/{rng.randint(1, 999)}",
            f"Question about {topic}: what settings do you use?",
            f"Photos from {topic} yesterday {rng.choice(_EMOJI)}",
        ])
    elif kind == "follow-up":
        text = rng.choice([
            f"Update: {topic} moved to Sunday",
            "Edit: fixed the link",
            f"Forgot to say: bring anything you have for {topic}",
            f"Still looking for help with {topic}!",
        ])
    else:
        first = (to or "").split(" ")[0]
        text = rng.choice([
            f"Thanks {first}! {rng.choice(_EMOJI)}",
            f"I had the same problem with {topic}, try lowering the speed.",
            f"Count me in {rng.choice(_EMOJI)}",
            f"@{first} good question, I think it depends on {topic}.",
            "+1",
            f"Here's what worked for me with {topic}",
        ])
    if rng.random() < 0.03:
        text += f"\nstep {rng.randint(1, 5)}: check {rng.choice(_TOPICS)}\nstep {rng.randint(6, 9)}: done"
    return text


def _membership_changes(sim: Simulation, rng: random.Random, day: dt.date, members: list[Member],
                        out: list[SimMessage], away: bool = False) -> None:
    promoter = sim.promoter
    for m in members:
        if m.role == "promoter":
            continue
        if m.joined == day and day != sim.start:
            at = dt.datetime.combine(day, dt.time(8, rng.randint(0, 59)))
            if rng.random() < 0.5 and not away:  # an away promoter adds no one
                out.append(SimMessage(at, None, "", "system", event=("add", m.name, promoter.name)))
            else:
                out.append(SimMessage(at, None, "", "system", event=("join", m.name, None)))
        elif m.joined == day == sim.start:
            at = dt.datetime.combine(day, dt.time(9, 1))
            out.append(SimMessage(at, None, "", "system", event=("add", m.name, promoter.name)))
        if m.left == day:
            at = dt.datetime.combine(day, dt.time(7, rng.randint(0, 59)))
            out.append(SimMessage(at, None, "", "system", event=("leave", m.name, None)))
