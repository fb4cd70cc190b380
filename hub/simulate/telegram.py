"""A simulated community as a Telegram supergroup: a Desktop export (`result.json`) or a Bot API stream.

`chat()` writes the Desktop 5.x single-chat shape: ids 1, 2, 3… in time order, `from_id` "user<id>",
`text` as a string or a list of strings and entities, `text_entities`, replies, photos, stickers,
voice messages, edits, forwards from outside the group, link and mention entities, service
messages for joins, adds, leaves, the group's creation, a title change and pins, and reactions
whose `recent` list names at most three reactors while `count` is the total. `truth()` counts what
an ingest must find in it. `updates()` turns the same chat into what a bot administrator receives
(`message`, `message_reaction`, `message_reaction_count`, `chat_member`), keeping the ids: export
chat 1700000001 is Bot API chat -1001700000001, "user1003" is user 1003, message ids are the same.
`write_large_export()` streams a benchmark export of any size from a cycled simulation.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.simulate import _EMOJI, _TOPICS, Simulation, simulate

FILE_NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"
_CUSTOM_EMOJI = ["5368324170671202286", "5445284980978621387", "5420315771991497307"]
_FORWARD_CHANNELS = ["Hackaday", "Make: Magazine", "Adafruit Industries", "Open Hardware Weekly"]
_FORWARD_PEOPLE = ["Marta Kowalski", "Jonas Weber", "Aiko Suzuki", "Pierre Lefèvre"]
_PHOTO_SIZES = [(1280, 960), (960, 1280), (1280, 720), (1024, 768), (1280, 853)]
_CAPTIONS = ["From today's session", "Before and after", "Finished! {e}", "What do you think?", "{t} {e}"]
# Reactions Telegram allows (the Bot API's ReactionTypeEmoji list): not every emoji is one.
_REACTIONS = ["👍", "❤", "🔥", "🎉", "🙏", "😁", "👏", "🤣", "👀", "💯"]
_TOKEN = re.compile(r"(https?://\S+|@\w+)")
_BOT_ENTITY = {"link": "url", "mention_name": "text_mention"}  # export type -> Bot API type


def chat(sim: Simulation, *, seed: int | None = None, chat_id: int = 1700000001, tz: str = "UTC") -> dict:
    """The simulation as a Telegram Desktop (5.x) export of one private supergroup. The simulation's
    wall-clock times are read in `tz`: `date` is local, `date_unixtime` the epoch. Member i is user 1000+i."""
    rng = random.Random(sim.seed if seed is None else seed)
    zone = ZoneInfo(tz)
    uid = {m.name: 1000 + i for i, m in enumerate(sim.members)}
    promoter = sim.promoter.name
    drafts: list[tuple[int, int, dict]] = []  # (epoch, sequence, message with refs still as sim indices)
    joined_at: dict[str, int] = {}
    active_on: dict[dt.date, list[str]] = {}
    joined_on: dict[dt.date, list[str]] = {}
    for p in sim.members:
        joined_on.setdefault(p.joined, []).append(p.name)
    of_sim: dict[int, dict] = {}  # sim index -> its export message

    def add(epoch: int, message: dict) -> dict:
        drafts.append((epoch, len(drafts), message))
        return message

    def service(epoch: int, actor: str, action: str, **fields) -> dict:
        return add(epoch, {"id": 0, "type": "service", "date": _local(epoch, zone), "date_unixtime": str(epoch),
                           "actor": actor, "actor_id": f"user{uid[actor]}", "action": action, **fields,
                           "text": "", "text_entities": []})

    for index, m in enumerate(sim.messages):
        t = _epoch(m.at, zone)
        if m.kind == "system":
            kind, who, actor = m.event
            if kind == "created":
                service(t, who, "create_group", title=f"{sim.name} group", members=[who])
                service(t + 3600, who, "edit_group_title", title=sim.name)
            elif kind == "join":
                joined_at[who] = t
                service(t, who, "join_group_by_link", inviter="Group")
            elif kind == "add":
                joined_at[who] = t
                service(t, actor, "invite_members", members=[who])
            elif kind in ("leave", "remove"):
                service(t, actor or who, "remove_members", members=[who])
            continue
        message = add(t, {"id": 0, "type": "message", "date": _local(t, zone), "date_unixtime": str(t)})
        of_sim[index] = message
        forwarded = m.reply_to is None and not m.media and rng.random() < 0.02
        if not forwarded and not m.media and rng.random() < 0.06:
            edited = t + rng.randint(30, 1800)
            message.update(edited=_local(edited, zone), edited_unixtime=str(edited))
        message.update({"from": m.author, "from_id": f"user{uid[m.author]}"})
        text, target = m.text, None
        if forwarded:
            source = rng.choice(_FORWARD_CHANNELS + _FORWARD_PEOPLE)
            topic = rng.choice(_TOPICS)
            message["forwarded_from"] = source
            link = f"https://example.com/blog/{rng.randint(1, 999)}"
            text = f"{topic[0].upper()}{topic[1:]}: what we learned this year {link}"
        if m.reply_to is not None:
            message["reply_to_message_id"] = ("sim", m.reply_to)
            target = sim.messages[m.reply_to].author
        if m.media:
            text = _media(rng, message)
        parts = _parts(text, target, uid)
        message["text"] = "" if not parts else parts[0] if len(parts) == 1 and isinstance(parts[0], str) else parts
        message["text_entities"] = [{"type": "plain", "text": p} if isinstance(p, str) else p for p in parts]
        if m.author == promoter and m.text.startswith("Reminder:") and rng.random() < 0.5:
            service(t + rng.randint(60, 900), promoter, "pin_message", message_id=("sim", index))
        if rng.random() < 0.28:
            day = m.at.date()
            if day not in active_on:
                active_on[day] = [p.name for p in sim.members if p.active_on(day)]
            end = _epoch(dt.datetime.combine(day, dt.time(23, 59, 59)), zone)
            # Not the author, nor anyone whose join comes later that day.
            late = {m.author, *(n for n in joined_on.get(day, ()) if joined_at.get(n, -1) > t)}
            reactions = _reactions(rng, active_on[day], late, t, max(0, min(6 * 3600, end - t)), uid, zone)
            if reactions:
                message["reactions"] = reactions
    drafts.sort(key=lambda d: (d[0], d[1]))
    for number, (_, _, message) in enumerate(drafts, 1):
        message["id"] = number
    for _, _, message in drafts:  # references to sim indices become message ids
        for key in ("reply_to_message_id", "message_id"):
            if isinstance(message.get(key), tuple):
                message[key] = of_sim[message[key][1]]["id"]
    return {"name": sim.name, "type": "private_supergroup", "id": chat_id, "messages": [d[2] for d in drafts]}


def _epoch(at: dt.datetime, zone: ZoneInfo) -> int:
    return int(at.replace(tzinfo=zone).timestamp())


def _local(epoch: int, zone: ZoneInfo | dt.tzinfo) -> str:
    return dt.datetime.fromtimestamp(epoch, zone).replace(tzinfo=None).isoformat()


def _media(rng: random.Random, message: dict) -> str:
    """Add a photo, sticker or voice message to `message`; return its caption (often empty)."""
    r = rng.random()
    if r < 0.65:
        width, height = rng.choice(_PHOTO_SIZES)
        message.update(photo=FILE_NOT_INCLUDED, width=width, height=height)
        if rng.random() < 0.35:
            return rng.choice(_CAPTIONS).format(e=rng.choice(_EMOJI), t=rng.choice(_TOPICS).capitalize())
    elif r < 0.85:
        message.update(file=FILE_NOT_INCLUDED, thumbnail=FILE_NOT_INCLUDED, media_type="sticker",
                       sticker_emoji=rng.choice(_EMOJI), width=512, height=512)
    else:
        message.update(file=FILE_NOT_INCLUDED, media_type="voice_message", mime_type="audio/ogg",
                       duration_seconds=rng.randint(2, 90))
    return ""


def _parts(text: str, target: str | None, uid: dict[str, int]) -> list:
    """Text as Telegram's list of plain strings and entity dicts: links, and "@First" addressed to
    the replied-to author as a mention of their username, or a mention_name when they have none."""
    parts: list = []
    for i, token in enumerate(_TOKEN.split(text)):
        entity = None
        if i % 2 and token.startswith("http"):
            entity = {"type": "link", "text": token}
        elif i % 2 and target and token[1:] == target.split(" ")[0]:
            handle = username(target, uid[target])
            entity = ({"type": "mention", "text": f"@{handle}"} if handle else
                      {"type": "mention_name", "text": target, "user_id": uid[target]})
        if entity:
            parts.append(entity)
        elif token:
            if parts and isinstance(parts[-1], str):
                parts[-1] += token
            else:
                parts.append(token)
    return parts


def username(name: str, user_id: int) -> str | None:
    """The member's public @username, or None (phone contacts and every third member have none)."""
    if name.startswith("+") or user_id % 3 == 0:
        return None
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    handle = "_".join(re.sub(r"[^a-z0-9]", "", w) for w in ascii_name.split())
    return handle if len(handle) >= 5 else f"{handle}_{user_id}"


def _reactions(rng: random.Random, pool: list[str], late: set[str], t: int, window: int, uid: dict[str, int],
               zone: ZoneInfo) -> list[dict]:
    n = min(len(pool) - len(late), rng.choice([1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 8, 11]))
    if n <= 0:
        return []
    draw = rng.sample(pool, min(len(pool), n + len(late)))  # enough to drop everyone in `late`
    reactors = [who for who in draw if who not in late][:n]
    kinds = rng.sample(_REACTIONS, min(n, rng.choices([1, 2, 3], [70, 25, 5])[0]))
    keys: list[tuple[str, str]] = [("emoji", e) for e in kinds]
    if rng.random() < 0.06:
        keys[-1] = ("custom_emoji", rng.choice(_CUSTOM_EMOJI))
    groups: dict[tuple[str, str], list[tuple[int, str]]] = {k: [] for k in keys}
    for i, who in enumerate(reactors):  # each reactor one reaction: distinct per (message, emoji)
        key = keys[i] if i < len(keys) else rng.choice(keys)
        groups[key].append((t + rng.randint(0, window), who))
    out = []
    for (kind, value), group in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        recent = [{"from": who, "from_id": f"user{uid[who]}", "date": _local(at, zone)}
                  for at, who in sorted(group, reverse=True)[:3]]
        field = {"emoji": value} if kind == "emoji" else {"document_id": value}
        out.append({"type": kind, "count": len(group), **field, "recent": recent})
    return out


def truth(chat_dict: dict) -> dict:
    """What an ingest of the export must find."""
    tally = _Tally()
    for m in chat_dict["messages"]:
        tally.add(m)
    return tally.result()


class _Tally:
    def __init__(self) -> None:
        self.c: Counter = Counter()
        self.emoji: Counter = Counter()
        self.authors: set[str] = set()
        self.first: int | None = None
        self.last: int | None = None

    def add(self, m: dict, shift: int = 0) -> None:
        c = self.c
        if m["type"] == "service":
            c["service"] += 1
            action = m.get("action")
            if action in ("join_group_by_link", "invite_members", "create_group"):  # a creator joins too
                c["joins"] += len(m.get("members", [None]))
            elif action == "remove_members":
                c["leaves"] += len(m["members"])
            return
        if m["type"] != "message":
            return
        c["messages"] += 1
        t = int(m["date_unixtime"]) + shift
        if self.first is None or t < self.first:
            self.first = t
        if self.last is None or t > self.last:
            self.last = t
        self.authors.add(m.get("from_id"))
        for key, name in (("forwarded_from", "forwards"), ("reply_to_message_id", "replies"), ("edited", "edited")):
            if key in m:
                c[name] += 1
        if "photo" in m or "media_type" in m:
            c["media"] += 1
        for r in m.get("reactions", ()):
            key = {"emoji": r.get("emoji"), "custom_emoji": f"custom:{r.get('document_id')}"}.get(r["type"], r["type"])
            self.emoji[key] += r["count"]
        for e in m.get("text_entities", ()):
            if e["type"] in ("mention", "mention_name"):
                c["mentions"] += 1
            elif e["type"] in ("link", "text_link"):
                c["links"] += 1

    def merge(self, other: _Tally, shift: int) -> None:
        """Add `other`'s counts, its dates moved by `shift` seconds."""
        self.c.update(other.c)
        self.emoji.update(other.emoji)
        self.authors |= other.authors
        if other.first is not None:
            self.first = other.first + shift if self.first is None else min(self.first, other.first + shift)
            self.last = other.last + shift if self.last is None else max(self.last, other.last + shift)

    def result(self) -> dict:
        c = self.c

        def iso(t: int | None) -> str | None:
            return None if t is None else dt.datetime.fromtimestamp(t, dt.UTC).isoformat()

        return {"messages": c["messages"], "service": c["service"], "reactions": sum(self.emoji.values()),
                "reactions_by_emoji": dict(sorted(self.emoji.items())), "forwards": c["forwards"],
                "replies": c["replies"], "edited": c["edited"], "media": c["media"], "mentions": c["mentions"],
                "links": c["links"], "joins": c["joins"], "leaves": c["leaves"], "authors": len(self.authors),
                "first": iso(self.first), "last": iso(self.last)}


def write_export(chat_dict: dict, path: Path | str, *, indent: int = 1) -> Path:
    """Write `result.json` as Telegram Desktop does (a folder gets `result.json` inside it)."""
    path = Path(path)
    if path.is_dir():
        path = path / "result.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(json.dumps(chat_dict, indent=indent, ensure_ascii=False))
    return path


def write_large_export(path: Path | str, messages: int, *, seed: int = 1) -> dict:
    """Stream a single-chat export of exactly `messages` entries (messages and service messages)
    to `path`, laid out byte for byte as `write_export` would. A simulated quarter (up to 20,000
    entries) is rendered once into templates and cycled with shifted dates and fresh ids; memory
    stays small. Returns `truth()` of what was written."""
    path = Path(path)
    base_size = min(max(messages, 500), 20_000)
    sim = simulate(members=max(60, base_size // 50), days=91, seed=seed, messages=base_size)
    base = chat(sim, seed=seed)
    period = sim.days * 86400  # 13 weeks: weekdays stay put
    templates = [_template(m) for m in base["messages"]]
    head = json.dumps({k: v for k, v in base.items() if k != "messages"}, indent=1, ensure_ascii=False)
    # The group is created and named once: later cycles skip those two, so their ids are renumbered.
    once = [m["type"] == "service" and m["action"] in ("create_group", "edit_group_title") for m, _, _ in templates]
    later_rank, rank = [0] * (len(templates) + 1), 0
    for base_id, skip in enumerate(once, 1):
        rank += not skip
        later_rank[base_id] = rank
    dates: dict[int, str] = {}
    tally, whole = _Tally(), {}  # whole: the tally of a complete first / later cycle, made once
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="", buffering=1 << 20) as f:
        f.write(head[:-2] + ',\n "messages": [')
        written, cycle = 0, 0
        while written < messages:
            shift, shift_days = cycle * period, cycle * sim.days
            start = 0 if cycle == 0 else len(templates) + (cycle - 1) * rank
            ids = None if cycle == 0 else later_rank
            chosen = templates if cycle == 0 else [t for t, skip in zip(templates, once) if not skip]
            chosen = chosen[:messages - written]
            for _, literals, fields in chosen:
                parts, slot = literals.copy(), 1
                for kind, value, suffix in fields:
                    if kind == 0:  # a message id
                        parts[slot] = str(value if ids is None else start + ids[value])
                    elif kind == 1:  # epoch seconds
                        parts[slot] = str(value + shift)
                    else:  # a local ISO date: day number and "THH:MM:SS"
                        day = dates.get(value + shift_days) or dates.setdefault(
                            value + shift_days, (_EPOCH + dt.timedelta(days=value + shift_days)).date().isoformat())
                        parts[slot] = day + suffix
                    slot += 2
                f.write(",\n  " if written else "\n  ")
                f.write("".join(parts))
                written += 1
            key = (cycle == 0, len(chosen))
            if key not in whole:
                whole[key] = part = _Tally()
                for message, _, _ in chosen:
                    part.add(message)
            tally.merge(whole[key], shift)
            cycle += 1
        f.write("\n ]\n}" if written else "]\n}")
    return tally.result()


_EPOCH = dt.datetime(1970, 1, 1)
_MARK = re.compile('"\ue000(\\d+)\ue001"')


def _template(message: dict) -> tuple[dict, list[str], list[tuple[int, int, str]]]:
    """The message's JSON at nesting depth 2 cut at its ids and dates: literal pieces with empty
    slots between them, and per slot (kind, value, suffix): 0 an id, 1 epoch seconds, 2 a date as
    (day number, "THH:MM:SS"). Base dates are UTC (the base chat is made with tz="UTC")."""
    fields: list[tuple[int, int, str]] = []

    def mark(kind: int, value: int, suffix: str = "") -> str:
        fields.append((kind, value, suffix))
        return f"\ue000{len(fields) - 1}\ue001"

    def iso(text: str) -> str:
        seconds = int((dt.datetime.fromisoformat(text) - _EPOCH).total_seconds())
        return mark(2, seconds // 86400, text[10:])

    m = dict(message)
    for key in ("id", "reply_to_message_id", "message_id"):
        if key in m:
            m[key] = mark(0, m[key])
    for iso_key, unix_key in (("date", "date_unixtime"), ("edited", "edited_unixtime")):
        if iso_key in m:
            m[iso_key], m[unix_key] = iso(m[iso_key]), mark(1, int(m[unix_key]))
    if "reactions" in m:
        m["reactions"] = [{**r, "recent": [{**p, "date": iso(p["date"])} for p in r["recent"]]}
                          for r in m["reactions"]]
    pieces = _MARK.split(json.dumps(m, indent=1, ensure_ascii=False).replace("\n", "\n  "))
    ordered = [fields[int(n)] for n in pieces[1::2]]
    for slot, (kind, _, _) in enumerate(ordered):  # dates and epoch strings keep their quotes
        if kind:
            pieces[2 * slot] += '"'
            pieces[2 * slot + 2] = '"' + pieces[2 * slot + 2]
    pieces[1::2] = [""] * len(ordered)
    return message, pieces, ordered


def updates(chat_dict: dict, *, first_update_id: int = 1, message_ids: Iterable[int] | None = None,
            chat_type: str = "supergroup") -> list[dict]:
    """The chat as the Bot API update stream a bot administrator of the group receives, in time order.

    Every export message (and service message) is a `message` update; reactions named in `recent`
    are `message_reaction` updates, one per reactor; when a count is more than the reactors the
    export names, one `message_reaction_count` update per message carries the whole count as
    `total_count` (the Bot API's meaning: the total, named reactors included). Joins, adds, leaves and removals are also `chat_member` updates. With `message_ids`, only
    updates about those messages."""
    wanted = None if message_ids is None else set(message_ids)
    chat_id = chat_dict["id"]
    bot_chat = {"id": int(f"-100{chat_id}") if chat_type in ("supergroup", "channel") else -chat_id,
                "type": chat_type, "title": chat_dict["name"]}
    ids: dict[str, int] = {}
    for m in chat_dict["messages"]:
        for name_key, id_key in (("from", "from_id"), ("actor", "actor_id")):
            if isinstance(m.get(id_key), str) and m[id_key].startswith("user"):
                ids.setdefault(m[name_key], int(m[id_key][4:]))
        for r in m.get("reactions", ()):
            for p in r["recent"]:
                ids.setdefault(p["from"], int(p["from_id"][4:]))

    def user(name: str) -> dict:
        # Members known only by name (added, never acting) get a stable id from their name.
        user_id = ids.get(name) or 5_000_000 + zlib.crc32(name.encode()) % 1_000_000
        first, _, last = name.partition(" ") if not name.startswith("+") else (name, "", "")
        u = {"id": user_id, "is_bot": False, "first_name": first}
        if last:
            u["last_name"] = last
        if handle := username(name, user_id):
            u["username"] = handle
        return u

    by_id = {m["id"]: m for m in chat_dict["messages"]}
    creator = next((m["actor"] for m in chat_dict["messages"] if m.get("action") == "create_group"), None)

    def minimal(m: dict) -> dict:
        out = {"message_id": m["id"], "from": user(m.get("from") or m.get("actor")), "chat": bot_chat,
               "date": int(m["date_unixtime"])}
        text, _ = _bot_text(m, user)
        if text and "photo" not in m:
            out["text"] = text
        return out

    events: list[tuple[int, int, str, dict]] = []  # (date, sequence, kind, payload)

    def emit(date: int, kind: str, payload: dict) -> None:
        events.append((date, len(events), kind, payload))

    for m in chat_dict["messages"]:
        if wanted is not None and m["id"] not in wanted:
            continue
        date = int(m["date_unixtime"])
        if m["type"] == "service":
            _service_updates(m, date, bot_chat, user, creator, chat_type, emit)
            if m.get("action") == "pin_message" and m.get("message_id") in by_id:
                events[-1][3]["pinned_message"] = minimal(by_id[m["message_id"]])
            continue
        emit(date, "message", _bot_message(m, date, bot_chat, user, by_id, minimal))
        offset = int((dt.datetime.fromisoformat(m["date"]) - _EPOCH).total_seconds()) - date  # local - UTC
        latest, anonymous = date, []
        for r in m.get("reactions", ()):
            kind = ({"type": "emoji", "emoji": r["emoji"]} if r["type"] == "emoji" else
                    {"type": "custom_emoji", "custom_emoji_id": r["document_id"]})
            for p in r["recent"]:
                at = int((dt.datetime.fromisoformat(p["date"]) - _EPOCH).total_seconds()) - offset
                latest = max(latest, at)
                emit(at, "message_reaction", {"chat": bot_chat, "message_id": m["id"], "user": user(p["from"]),
                                              "date": at, "old_reaction": [], "new_reaction": [kind]})
            if r["count"] > len(r["recent"]):
                anonymous.append({"type": kind, "total_count": r["count"]})
        if anonymous:
            emit(latest, "message_reaction_count",
                 {"chat": bot_chat, "message_id": m["id"], "date": latest, "reactions": anonymous})
    events.sort(key=lambda e: (e[0], e[1]))
    return [{"update_id": first_update_id + i, kind: payload} for i, (_, _, kind, payload) in enumerate(events)]


def _bot_text(m: dict, user) -> tuple[str, list[dict]]:
    """The message text and its Bot API entities (offsets in UTF-16 code units)."""
    text, entities, at = "", [], 0
    for e in m.get("text_entities", ()):
        length = len(e["text"].encode("utf-16-le")) // 2
        if e["type"] != "plain":
            entity = {"type": _BOT_ENTITY.get(e["type"], e["type"]), "offset": at, "length": length}
            if e["type"] == "mention_name":
                entity["user"] = {**user(e["text"]), "id": e["user_id"]}
            entities.append(entity)
        text += e["text"]
        at += length
    return text, entities


def _bot_message(m: dict, date: int, bot_chat: dict, user, by_id: dict, minimal) -> dict:
    out = {"message_id": m["id"], "from": user(m["from"]), "chat": bot_chat, "date": date}
    if "forwarded_from" in m:
        source = m["forwarded_from"]
        out["forward_origin"] = (
            {"type": "channel", "chat": {"id": -1000000000000 - zlib.crc32(source.encode()), "type": "channel",
                                         "title": source}, "message_id": zlib.crc32(source.encode()) % 5000 + m["id"],
             "date": date - 86400} if source in _FORWARD_CHANNELS else
            {"type": "hidden_user", "sender_user_name": source, "date": date - 86400})
    if m.get("reply_to_message_id") in by_id:
        out["reply_to_message"] = minimal(by_id[m["reply_to_message_id"]])
    if "edited_unixtime" in m:
        out["edit_date"] = int(m["edited_unixtime"])
    text, entities = _bot_text(m, user)
    file = f"{m['id']:07d}"
    if "photo" in m:
        w, h = m["width"], m["height"]
        out["photo"] = [{"file_id": f"AgACAgQAAx0C{file}s", "file_unique_id": f"AQAD{file}s",
                         "width": 90 * w // max(w, h), "height": 90 * h // max(w, h), "file_size": 1400},
                        {"file_id": f"AgACAgQAAx0C{file}x", "file_unique_id": f"AQAD{file}x", "width": w,
                         "height": h, "file_size": w * h // 8}]
        if text:
            out["caption"] = text
            if entities:
                out["caption_entities"] = entities
        return out
    if m.get("media_type") == "sticker":
        out["sticker"] = {"file_id": f"CAACAgIAAx0C{file}", "file_unique_id": f"AgAD{file}", "type": "regular",
                          "width": m["width"], "height": m["height"], "is_animated": False, "is_video": False,
                          "emoji": m.get("sticker_emoji")}
    elif m.get("media_type") == "voice_message":
        out["voice"] = {"file_id": f"AwACAgQAAx0C{file}", "file_unique_id": f"AgAD{file}v",
                        "duration": m.get("duration_seconds", 1), "mime_type": m.get("mime_type", "audio/ogg")}
    if text:
        out["text"] = text
        if entities:
            out["entities"] = entities
    return out


def _service_updates(m: dict, date: int, bot_chat: dict, user, creator: str | None, chat_type: str, emit) -> None:
    action, actor = m.get("action"), user(m["actor"])
    message = {"message_id": m["id"], "from": actor, "chat": bot_chat, "date": date}
    members = [user(name) for name in m.get("members", [])]

    def member_update(who: dict, old: str, new: str, **extra) -> None:
        emit(date, "chat_member", {"chat": bot_chat, "from": actor, "date": date,
                                   "old_chat_member": {"status": old, "user": who},
                                   "new_chat_member": {"status": new, "user": who,
                                                       **({"until_date": 0} if new == "kicked" else {})},
                                   **extra})

    if action == "join_group_by_link":
        emit(date, "message", {**message, "new_chat_members": [actor]})
        link = ({"invite_link": {"invite_link": "https://t.me/+AbCdEfGhIjK2", "creator": user(creator),
                                 "creates_join_request": False, "is_primary": True, "is_revoked": False}}
                if creator else {})
        member_update(actor, "left", "member", **link)
    elif action == "invite_members":
        emit(date, "message", {**message, "new_chat_members": members})
        for who in members:
            member_update(who, "left", "member")
    elif action == "remove_members":
        emit(date, "message", {**message, **({"left_chat_member": members[0]} if members else {})})
        for who in members:
            member_update(who, "member", "left" if who["id"] == actor["id"] else "kicked")
    elif action == "create_group":
        emit(date, "message", {**message, ("supergroup_chat_created" if chat_type == "supergroup"
                                           else "group_chat_created"): True})
    elif action == "edit_group_title":
        emit(date, "message", {**message, "new_chat_title": m["title"]})
    else:  # pin_message (pinned_message is filled in by the caller) and anything else
        emit(date, "message", message)
