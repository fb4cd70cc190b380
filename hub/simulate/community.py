"""One community on several platforms: the same people, each present on one or more of them.

`community()` simulates the people once (roles, propensities, the stage trajectory: see
`hub.simulate`); each member is on one platform, a share `shared` on two, the promoter on all.
Each conversation happens on one platform among those its starter uses, and only members there
answer or react. `CrossPlatform.view(platform)` is that platform's part as a `Simulation` for the
per-platform writers, and `write_exports()` writes them all.

Identity is planted too. A member on two platforms keeps one name everywhere, and is linked by:
- `email`: their Slack profile carries it;
- `phone`: their Slack profile carries it, and WhatsApp shows them by that number (an unsaved contact);
- `name_only`: nothing but the full name (their Slack username differs from their Discord one), so
  a match can only be a suggestion.
Two different people, each on one platform, go by the same bare first name ("Sam"): never one
person. `truth()` says all of it, with which exports carry each piece of evidence.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from hub.simulate import Simulation, Trajectory, _community, _history
from hub.simulate import discord, facebook, slack, telegram, whatsapp

PLATFORMS = ("slack", "telegram", "discord", "whatsapp", "facebook")
# The exports that carry each kind of evidence (a Slack profile; WhatsApp's numbers for unsaved contacts).
CARRIES = {"email": ("slack",), "phone": ("slack", "whatsapp"), "name_only": PLATFORMS}
_EVIDENCE = {"email": 0.35, "phone": 0.25, "name_only": 0.4}
_DOMAINS = ["example.org", "mail.example.com", "example.net"]
_PHONES = [("+33 6", 8), ("+44 7700", 6), ("+49 151", 8), ("+34 6", 8)]  # (prefix, digits after it)
# The simulation's emoji as each platform's reactions.
_SLACK_EMOJI = {"🙂": "slightly_smiling_face", "👍": "+1", "🎉": "tada", "🔥": "fire", "🙏": "pray", "😂": "joy",
                "❤️": "heart", "👋": "wave"}
_TELEGRAM_EMOJI = {"🙂": "😁", "👍": "👍", "🎉": "🎉", "🔥": "🔥", "🙏": "🙏", "😂": "🤣", "❤️": "❤", "👋": "👏"}
_MESSENGER_EMOJI = {"🙂": "😆", "👍": "👍", "🎉": "🎉", "🔥": "🔥", "🙏": "👍", "😂": "😆", "❤️": "❤", "👋": "👍"}


@dataclass
class CrossPlatform:
    sim: Simulation  # everyone and everything they wrote; SimMessage.platform says where
    platforms: tuple[str, ...]
    presence: dict[str, tuple[str, ...]]  # member -> the platforms they are on
    identity: dict[str, dict] = field(default_factory=dict)  # member on 2+ platforms -> evidence, email, phone
    shown: dict[tuple[str, str], str] = field(default_factory=dict)  # (member, platform) -> name shown, if not theirs
    first_name_only: list[tuple[str, tuple[str, str], tuple[str, str]]] = field(default_factory=list)

    def name_on(self, member: str, platform: str) -> str:
        return self.shown.get((member, platform), member)

    def owners(self) -> dict[tuple[str, str], str]:
        """(platform, name shown there) -> the member: whose account an account is, even for those
        shown by a bare first name ("Sam" on one platform is not "Sam" on another)."""
        return {(platform, self.name_on(m.name, platform)): m.name
                for m in self.sim.members for platform in self.presence[m.name]}

    def view(self, platform: str) -> Simulation:
        """The platform's part: its members (as named there) and the messages written there."""
        on = [m for m in self.sim.members if platform in self.presence[m.name]]
        names = {m.name: self.name_on(m.name, platform) for m in on}
        members = [m if names[m.name] == m.name else replace(m, name=names[m.name]) for m in on]
        out: list = []
        index: dict[int, int] = {}
        for i, m in enumerate(self.sim.messages):
            if m.kind == "system":
                kind, who, actor = m.event
                if kind != "created" and who not in names:
                    continue
                m = replace(m, event=(kind, names[who], names[actor] if actor else None))
            elif m.platform != platform:
                continue
            else:
                m = replace(m, author=names[m.author], reactions=[(names[w], e) for w, e in m.reactions],
                            reply_to=None if m.reply_to is None else index[m.reply_to])
            index[i] = len(out)
            out.append(m)
        s = self.sim
        return Simulation(s.name, s.seed, s.start, s.days, members, out, s.trajectory, s.away)

    def truth(self) -> dict:
        """What was planted, across platforms: stages per week, the promoter, ambassadors, who is
        where and by which evidence they can be recognised, and per platform the messages."""
        base = self.sim.truth()
        messages = Counter(m.platform for m in self.sim.messages if m.kind == "message")
        reactions = Counter()
        for m in self.sim.messages:
            reactions[m.platform] += len(m.reactions)
        shared = []
        for m in self.sim.members:
            if m.name in self.identity:
                ident = self.identity[m.name]
                where = self.presence[m.name]
                shared.append({"member": m.name, "role": m.role, "platforms": list(where),
                               "names": {p: self.name_on(m.name, p) for p in where}, **ident,
                               "carried_by": [p for p in where if p in CARRIES[ident["evidence"]]]})
        return {
            **{k: base[k] for k in ("community", "seed", "start", "days")},
            "platforms": list(self.platforms),
            **{k: base[k] for k in ("trajectory", "stages", "weeks", "promoter_away", "ambassadors")},
            "promoters": [base["promoter"]],
            "members": [{**row, "platforms": list(self.presence[row["name"]]),
                         "names": {p: self.name_on(row["name"], p) for p in self.presence[row["name"]]}}
                        for row in base["members"]],
            "shared": shared,
            "first_name_only": [{"name": name, "accounts": [{"member": a, "platform": pa},
                                                            {"member": b, "platform": pb}]}
                                for name, (a, pa), (b, pb) in self.first_name_only],
            "messages": {p: messages[p] for p in self.platforms},
            "reactions": {p: reactions[p] for p in self.platforms},
            "system": base["system"],
        }


def community(members: int = 120, days: int = 365, seed: int = 1, trajectory: Trajectory = None,
              platforms: tuple[str, ...] = ("slack", "telegram"), shared: float = 0.4, *, name: str = "Makers",
              start: dt.date = dt.date(2024, 1, 8)) -> CrossPlatform:
    """A community of `members` over `days` on `platforms`: a share `shared` of members (the
    promoter aside, who is on all) on two of them, the others on one."""
    platforms = tuple(dict.fromkeys(platforms))
    if not platforms or any(p not in PLATFORMS for p in platforms):
        raise ValueError(f"platforms must be some of {', '.join(PLATFORMS)}, not {platforms!r}")
    rng = random.Random(seed)
    sim = _community(rng, members, days, seed, name=name, start=start, trajectory=trajectory, numbers=False)
    plan = random.Random(f"{seed}:platforms")  # where people are: apart from what they do
    others = [m for m in sim.members if m.role != "promoter"]
    two = {m.name for m in plan.sample(others, round(shared * len(others)))} if len(platforms) > 1 else set()
    presence = {}
    for m in sim.members:
        if m.role == "promoter":
            presence[m.name] = platforms
        elif m.name in two:
            presence[m.name] = tuple(sorted(plan.sample(platforms, 2), key=platforms.index))
        else:
            presence[m.name] = (plan.choice(platforms),)
    cp = CrossPlatform(sim, platforms, presence)
    phones: set[str] = set()
    for m in sim.members:
        if len(presence[m.name]) > 1:
            cp.identity[m.name] = ident = _evidence(plan, m.name, presence[m.name], phones)
            if "phone" in ident and "whatsapp" in presence[m.name]:
                cp.shown[(m.name, "whatsapp")] = ident["phone"]  # an unsaved contact: WhatsApp shows the number
    _first_name_pair(cp)
    _history(sim, rng, 1.0, presence)
    return cp


def _evidence(rng: random.Random, name: str, where: tuple[str, ...], phones: set[str]) -> dict:
    carriers = {k: len(set(CARRIES[k]) & set(where)) for k in _EVIDENCE}
    kinds = [k for k in _EVIDENCE if carriers[k]]
    # Evidence both exports carry (a phone on Slack and WhatsApp) is likelier: such people exist.
    weights = [_EVIDENCE[k] * (3 if k != "name_only" and carriers[k] > 1 else 1) for k in kinds]
    kind = rng.choices(kinds, weights=weights)[0]
    if kind == "email":
        return {"evidence": kind, "email": f"{_ascii(name, '.')}@{rng.choice(_DOMAINS)}"}
    if kind == "phone":
        while True:
            prefix, digits = rng.choice(_PHONES)
            number = "".join(str(rng.randint(0, 9)) for _ in range(digits))
            step = 2 if digits == 8 else 3
            phone = f"{prefix} {' '.join(number[i:i + step] for i in range(0, digits, step))}"
            if phone not in phones:
                phones.add(phone)
                return {"evidence": kind, "phone": phone}
    return {"evidence": kind}


def _first_name_pair(cp: CrossPlatform) -> None:
    """Two people, each on one platform (two different ones), who share a first name and show only
    that: the same bare name on two platforms, yet two persons."""
    singles: dict[str, list] = defaultdict(list)
    order = {"contributor": 0, "ambassador": 1, "occasional": 2, "lurker": 3}
    for m in cp.sim.members:
        if m.role != "promoter" and len(cp.presence[m.name]) == 1:
            singles[m.name.split(" ")[0]].append(m)
    for first in sorted(singles):
        people = sorted(singles[first], key=lambda m: (order[m.role], m.name))
        for i, a in enumerate(people):
            for b in people[i + 1:]:
                (pa,), (pb,) = cp.presence[a.name], cp.presence[b.name]
                if pa != pb and a.name.split(" ")[1] != b.name.split(" ")[1]:
                    cp.shown[(a.name, pa)] = cp.shown[(b.name, pb)] = first
                    cp.first_name_only.append((first, (a.name, pa), (b.name, pb)))
                    return


def _ascii(name: str, sep: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return sep.join(w for w in (re.sub(r"[^a-z0-9]", "", w) for w in plain.split()) if w)


# -- exports ----------------------------------------------------------------------------------------------

def export(cp: CrossPlatform, platform: str):
    """The platform's export in memory, with the planted reactions and identities: a Slack
    workspace, a Telegram chat, a DiscordChatExporter channel, a Messenger thread, or for WhatsApp
    the view itself (its writer renders it)."""
    view = cp.view(platform)
    if platform == "slack":
        return _slack(cp, view)
    if platform == "telegram":
        return _telegram(view)
    if platform == "discord":
        return _discord(view)
    if platform == "facebook":
        return _messenger(view)
    return view


def write_exports(cp: CrossPlatform, folder: Path | str, *, whatsapp_variant: str = "android_en_gb") -> list[Path]:
    """Write each platform's export under `folder/<platform>/`; returns what to ingest, one per platform."""
    folder = Path(folder)
    slug = re.sub(r"[^A-Za-z0-9]+", "_", cp.sim.name).strip("_") or "chat"
    paths = []
    for platform in cp.platforms:
        data = export(cp, platform)
        if platform == "slack":
            paths.append(slack.write_export(data, folder / "slack" / f"{cp.sim.name} Slack export"))
        elif platform == "telegram":
            paths.append(telegram.write_export(data, folder / "telegram" / f"ChatExport_{slug}" / "result.json"))
        elif platform == "discord":
            (folder / "discord").mkdir(parents=True, exist_ok=True)
            paths.append(discord.write_export(data, folder / "discord"))
        elif platform == "whatsapp":
            paths.append(whatsapp.write_export(data, folder / "whatsapp", whatsapp_variant))
        else:
            thread = folder / "facebook" / facebook._folder(cp.sim)
            facebook.write_messenger(data, thread)
            paths.append(thread)
    return paths


def _human(view: Simulation) -> list:
    return [m for m in view.messages if m.kind == "message"]


def _slack(cp: CrossPlatform, view: Simulation) -> dict:
    ws = slack.workspace(view)
    on = [m for m in cp.sim.members if "slack" in cp.presence[m.name]]
    user_of = {}
    for user, person in zip(ws["users"], on):
        user_of[cp.name_on(person.name, "slack")] = user["id"]
        ident = cp.identity.get(person.name, {})
        if "email" in ident:
            user["profile"]["email"] = ident["email"]
        if "phone" in ident:
            user["profile"]["phone"] = "+" + re.sub(r"\D", "", ident["phone"])
        renamed = cp.name_on(person.name, "slack") != person.name
        if ident.get("evidence") == "name_only" or renamed:  # a username of their own, not their Discord one
            words = _ascii(person.name, " ").split()
            user["name"] = words[0][0] + "".join(words[1:])
    (channel,) = ws["channels"]
    entries = ws["messages"][channel["id"]]
    listed = [m for m in view.messages if m.kind == "message" or m.event[0] in ("join", "add", "leave", "created")]
    assert len(listed) == len(entries)
    for m, entry in zip(listed, entries):
        if m.kind != "message":
            continue
        entry.pop("reactions", None)
        by_emoji: dict[str, list[str]] = defaultdict(list)
        for who, emoji in m.reactions:
            by_emoji[_SLACK_EMOJI.get(emoji, "+1")].append(user_of[who])
        if by_emoji:
            entry["reactions"] = [{"name": n, "users": u, "count": len(u)} for n, u in sorted(by_emoji.items())]
    return ws


def _telegram(view: Simulation) -> dict:
    chat = telegram.chat(view)
    rng = random.Random(f"{view.seed}:telegram-reactions")
    uid = {m.name: 1000 + i for i, m in enumerate(view.members)}
    entries = [e for e in chat["messages"] if e["type"] == "message"]
    human = _human(view)
    assert len(entries) == len(human)
    for m, entry in zip(human, entries):
        entry.pop("reactions", None)
        if not m.reactions:
            continue
        t = int(entry["date_unixtime"])
        end = int(dt.datetime.combine(m.at.date(), dt.time(23, 59, 59)).replace(tzinfo=dt.UTC).timestamp())
        window = max(0, min(6 * 3600, end - t))
        groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for who, emoji in m.reactions:
            groups[_TELEGRAM_EMOJI.get(emoji, "👍")].append((t + rng.randint(0, window), who))
        entry["reactions"] = [
            {"type": "emoji", "count": len(group), "emoji": emoji,
             "recent": [{"from": who, "from_id": f"user{uid[who]}",
                         "date": dt.datetime.fromtimestamp(at, dt.UTC).replace(tzinfo=None).isoformat()}
                        for at, who in sorted(group, reverse=True)[:3]]}
            for emoji, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
    return chat


def _discord(view: Simulation) -> dict:
    export = discord.channel(view, guild=view.name)
    users = {}
    for entry in export["messages"]:
        if not entry["author"]["isBot"]:
            users.setdefault(entry["author"]["nickname"], entry["author"])
    by_key: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for entry in export["messages"]:
        if entry["type"] in discord.PERSON_TYPES and not entry["author"]["isBot"]:
            at = int(dt.datetime.fromisoformat(entry["timestamp"]).timestamp())
            by_key[(at, entry["author"]["nickname"])].append(entry)
    for m in _human(view):
        entry = by_key[(int(m.at.replace(tzinfo=dt.UTC).timestamp()), m.author)].pop(0)
        groups: dict[str, list[dict]] = defaultdict(list)
        for who, emoji in m.reactions:
            groups[emoji].append({k: v for k, v in users[who].items() if k != "roles"})
        entry["reactions"] = [
            {"emoji": {"id": "", "name": emoji, "code": discord._EMOJI_CODES.get(emoji, emoji), "isAnimated": False,
                       "imageUrl": "https://cdn.jsdelivr.net/gh/twitter/twemoji@latest/assets/svg/"
                                   + "-".join(f"{ord(c):x}" for c in emoji if c != "\ufe0f") + ".svg"},
             "count": len(group), "users": group}
            for emoji, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
    return export


def _messenger(view: Simulation) -> dict:
    thread = facebook.messenger_thread(view)
    by_key: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for entry in thread["messages"]:  # newest first; a double-tapped copy follows its original
        if entry["type"] in ("Generic", "Share"):
            by_key[(entry["timestamp_ms"] // 1000, entry["sender_name"])].append(entry)
    for m in _human(view):
        entry = by_key[(int(m.at.replace(tzinfo=dt.UTC).timestamp()), m.author)].pop(0)
        entry.pop("reactions", None)
        if m.reactions and not entry.get("is_unsent"):
            entry["reactions"] = [{"reaction": _MESSENGER_EMOJI.get(e, "👍"), "actor": who} for who, e in m.reactions]
    return thread
