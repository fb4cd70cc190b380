"""A community simulator with known ground truth.

`simulate()` makes a community of N members over a period: one promoter, ambassadors,
contributors, occasional members and lurkers, who join over time and sometimes drift away, and a
stage trajectory from 1 (the promoter posts, members watch) to 4 (members talk to each other, the
promoter steps back). Conversations have a starter and replies, so the interaction graph is known
too. Same seed, same community. Writers in this package turn a simulation into a platform's export.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from dataclasses import dataclass, field

ROLES = ("promoter", "ambassador", "contributor", "occasional", "lurker")
# Share of members per role (the promoter is one person).
_ROLE_SHARE = {"ambassador": 0.05, "contributor": 0.17, "occasional": 0.33}
# Stage boundaries as fractions of the period: stage n runs from _STAGE_AT[n-1] to _STAGE_AT[n].
_STAGE_AT = (0.0, 0.15, 0.40, 0.70, 1.0)
# Who starts conversations, by stage (relative weight per member of the role).
_STARTS = {
    1: {"promoter": 60, "ambassador": 1, "contributor": 0.2, "occasional": 0.02},
    2: {"promoter": 30, "ambassador": 3, "contributor": 0.6, "occasional": 0.05},
    3: {"promoter": 8, "ambassador": 5, "contributor": 1.5, "occasional": 0.15},
    4: {"promoter": 3, "ambassador": 6, "contributor": 2.0, "occasional": 0.25},
}
# Who replies, by stage (relative weight per member of the role).
_REPLIES = {
    1: {"promoter": 10, "ambassador": 2, "contributor": 0.3, "occasional": 0.05},
    2: {"promoter": 8, "ambassador": 4, "contributor": 1.0, "occasional": 0.1},
    3: {"promoter": 3, "ambassador": 5, "contributor": 2.0, "occasional": 0.3},
    4: {"promoter": 1, "ambassador": 5, "contributor": 2.5, "occasional": 0.4},
}
_REPLIES_PER_CONVERSATION = {1: 0.6, 2: 2.0, 3: 3.5, 4: 5.0}
_CONVERSATIONS_PER_MEMBER_DAY = {1: 0.05, 2: 0.06, 3: 0.08, 4: 0.10}

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
    role: str
    joined: dt.date
    left: dt.date | None = None

    def active_on(self, day: dt.date) -> bool:
        return self.joined <= day and (self.left is None or day < self.left)


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


@dataclass
class Simulation:
    name: str
    seed: int
    start: dt.date
    days: int
    members: list[Member]
    messages: list[SimMessage] = field(default_factory=list)

    @property
    def promoter(self) -> Member:
        return next(m for m in self.members if m.role == "promoter")

    def stage_on(self, day: dt.date) -> int:
        return stage_at((day - self.start).days / self.days)

    def stages(self) -> list[dict]:
        spans = []
        for n in range(1, 5):
            first = self.start + dt.timedelta(days=math.ceil(_STAGE_AT[n - 1] * self.days))
            last = self.start + dt.timedelta(days=math.ceil(_STAGE_AT[n] * self.days) - 1)
            spans.append({"stage": n, "from": first.isoformat(), "to": last.isoformat()})
        return spans

    def truth(self) -> dict:
        """The ground truth later stages of the hub are scored against."""
        return {
            "community": self.name, "seed": self.seed, "start": self.start.isoformat(), "days": self.days,
            "members": [{"name": m.name, "role": m.role, "joined": m.joined.isoformat(),
                         "left": m.left.isoformat() if m.left else None} for m in self.members],
            "stages": self.stages(),
            "messages": sum(1 for m in self.messages if m.kind == "message"),
            "system": sum(1 for m in self.messages if m.kind == "system"),
        }


def stage_at(fraction: float) -> int:
    for n in range(1, 5):
        if fraction < _STAGE_AT[n]:
            return n
    return 4


def simulate(members: int = 60, days: int = 180, seed: int = 1, *, messages: int | None = None,
             name: str = "Makers", start: dt.date = dt.date(2024, 1, 8)) -> Simulation:
    """A community of `members` over `days`; with `messages`, activity is scaled to about that many."""
    rng = random.Random(seed)
    sim = Simulation(name=name, seed=seed, start=start, days=days, members=_members(rng, members, start, days))
    scale = 1.0
    if messages:
        expected = _expected_messages(sim)
        scale = messages / expected if expected else 1.0
    _history(sim, rng, scale)
    return sim


def _members(rng: random.Random, n: int, start: dt.date, days: int) -> list[Member]:
    names = _names(rng, n)
    roles = ["promoter"] + [r for r, share in _ROLE_SHARE.items() for _ in range(max(1, round(share * n)))]
    roles = (roles + ["lurker"] * n)[:n]
    people = []
    for i, (name, role) in enumerate(zip(names, roles)):
        if role in ("promoter", "ambassador") and i < 1 + max(1, n // 40):
            joined = start  # founders
        else:
            joined = start + dt.timedelta(days=int(days * 0.8 * rng.random() ** 1.5))
        left = None
        if role != "promoter" and rng.random() < 0.12:
            left = joined + dt.timedelta(days=rng.randint(14, max(15, days)))
            left = left if left < start + dt.timedelta(days=days) else None
        people.append(Member(name, role, joined, left))
    return people


def _names(rng: random.Random, n: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        if len(names) >= 5 and rng.random() < 0.04:  # some unknown contacts show as numbers
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
        total += active * _CONVERSATIONS_PER_MEMBER_DAY[stage] * (1 + _REPLIES_PER_CONVERSATION[stage])
    return total


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _history(sim: Simulation, rng: random.Random, scale: float) -> None:
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
        if day in changes:
            active = [m for m in sim.members if m.active_on(day)]
            _membership_changes(sim, rng, day, changes[day], out)
        talkers = [m for m in active if m.role != "lurker"]
        if not talkers:
            continue
        starters = _weights(talkers, _STARTS[stage])
        repliers = _weights(talkers, _REPLIES[stage])
        day_messages: list[SimMessage] = []
        for _ in range(_poisson(rng, len(active) * _CONVERSATIONS_PER_MEMBER_DAY[stage] * scale)):
            conversation += 1
            day_messages.extend(_conversation(rng, day, stage, conversation, talkers, starters, repliers))
        # Conversations interleave within a day; messages keep their conversation's order.
        day_messages.sort(key=lambda m: m.at)
        base = len(out)
        index_of = {id(m): base + i for i, m in enumerate(day_messages)}
        for m in day_messages:
            if isinstance(m.reply_to, SimMessage):
                m.reply_to = index_of[id(m.reply_to)]
        out.extend(day_messages)


def _weights(people: list[Member], by_role: dict[str, float]) -> list[float]:
    """Cumulative weights, so that each draw is a bisection rather than a pass over everyone."""
    return list(itertools.accumulate(by_role.get(m.role, 0.0) for m in people))


def _conversation(rng, day, stage, conversation, talkers, starters, repliers) -> list[SimMessage]:
    hour = min(23, max(7, round(rng.gauss(15, 3.5))))
    at = dt.datetime.combine(day, dt.time(hour, rng.randint(0, 59), rng.randint(0, 59)))
    starter = rng.choices(talkers, cum_weights=starters)[0]
    first = SimMessage(at, starter.name, _text(rng, "start"), conversation=conversation)
    _maybe_media(rng, first)
    thread = [first]
    for _ in range(_poisson(rng, _REPLIES_PER_CONVERSATION[stage])):
        at = at + dt.timedelta(seconds=rng.randint(20, 900))
        if at.date() != day:
            break
        who = rng.choices(talkers, cum_weights=repliers)[0]
        target = rng.choice(thread[-3:])
        reply = SimMessage(at, who.name, _text(rng, "reply", target.author), conversation=conversation,
                           reply_to=target)  # resolved to an index by _history
        _maybe_media(rng, reply)
        thread.append(reply)
    return thread


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
                        out: list[SimMessage]) -> None:
    promoter = sim.promoter
    for m in members:
        if m.role == "promoter":
            continue
        if m.joined == day and day != sim.start:
            at = dt.datetime.combine(day, dt.time(8, rng.randint(0, 59)))
            if rng.random() < 0.5:
                out.append(SimMessage(at, None, "", "system", event=("add", m.name, promoter.name)))
            else:
                out.append(SimMessage(at, None, "", "system", event=("join", m.name, None)))
        elif m.joined == day == sim.start:
            at = dt.datetime.combine(day, dt.time(9, 1))
            out.append(SimMessage(at, None, "", "system", event=("add", m.name, promoter.name)))
        if m.left == day:
            at = dt.datetime.combine(day, dt.time(7, rng.randint(0, 59)))
            out.append(SimMessage(at, None, "", "system", event=("leave", m.name, None)))
