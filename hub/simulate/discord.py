"""A simulated community as a Discord server channel, written as DiscordChatExporter (DCE) writes it.

`channel()` makes the DCE JSON export of one server text channel: snowflake ids in time order,
`Default` messages and `Reply`s (`reference.messageId`), `GuildMemberJoin` notices for joins
(Discord posts none for leaves), a welcome bot that greets newcomers with a mention, "@First"
addressed to the replied-to member as a mention, attachments and stickers, edits, a few forwards,
pins with their `ChannelPinnedMessage` notice, and reactions with their users and counts: some
counts exceed the users listed (reactors whose accounts are gone), some emoji are the server's own.
`truth()` counts what an ingest must find. `write_export()` writes the file as DCE does: indented by
two spaces, characters beyond the Basic Multilingual Plane escaped as UTF-16 surrogate pairs and the
others literal (🎉 is `\\uD83C\\uDF89`, ❤️ stays as it is), so both forms are in every export.
`write_parts()` splits it as `--partition N` does.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import unicodedata
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.simulate import _EMOJI, Simulation

DISCORD_EPOCH_MS = 1420070400000  # 2015-01-01, where snowflake time starts
BOT_NAME = "Maker Bot"
_EMOJI_CODES = {"🙂": "slight_smile", "👍": "thumbsup", "🎉": "tada", "🔥": "fire", "🙏": "pray",
                "😂": "joy", "❤️": "heart", "👋": "wave"}
_CUSTOM_EMOJI = [("1190000000000000001", "solder_blob"), ("1190000000000000002", "laser_go")]
_FILES = [("IMG_{n}.jpg", 2_400_000), ("workshop-{n}.png", 880_000), ("notes-{n}.pdf", 120_000)]
_STICKERS = [("749054660769218631", "Wave"), ("816087792291282944", "Party")]
_NOT_BMP = re.compile("[\U00010000-\U0010ffff]")
_URL = re.compile(r"https?://\S+")
PERSON_TYPES = ("Default", "Reply")


def channel(sim: Simulation, *, seed: int | None = None, guild: str = "Makers", channel_name: str = "general",
            tz: str = "UTC") -> dict:
    """The simulation as a DCE export of one server text channel. Wall-clock times are read in `tz`,
    which is also the offset the timestamps are written with (DCE writes the exporter's)."""
    rng = random.Random(sim.seed if seed is None else seed)
    zone = ZoneInfo(tz)
    start_ms = _ms(dt.datetime.combine(sim.start, dt.time(0)), zone)
    guild_id, category_id, channel_id = (str(_snowflake(start_ms - 86_400_000 * 400, n)) for n in (1, 2, 3))
    users = {m.name: _user(m.name, _snowflake(start_ms - 86_400_000 * 365 + 3_600_000 * i, i), i)
             for i, m in enumerate(sim.members)}
    bot = {**_user(BOT_NAME, _snowflake(start_ms - 86_400_000 * 300, 9), 99), "discriminator": "4821", "isBot": True}
    drafts: list[tuple[int, int, dict]] = []  # (epoch ms, sequence, message with references as sim indices)
    of_sim: dict[int, dict] = {}
    plain: list[int] = []  # sim indices of earlier messages that can be forwarded (text, not forwards)
    active: dict[dt.date, list[str]] = {}

    def add(ms: int, kind: str, author: dict, content: str, **fields) -> dict:
        message = {"id": "", "type": kind, "timestamp": ms, "timestampEdited": None, "callEndedTimestamp": None,
                   "isPinned": False, "content": content, "author": author, "attachments": [], "embeds": [],
                   "stickers": [], "reactions": [], "mentions": [], **fields}
        drafts.append((ms, len(drafts), message))
        return message

    for index, m in enumerate(sim.messages):
        ms = _ms(m.at, zone) + rng.randint(0, 999)
        if m.kind == "system":
            kind, who, _actor = m.event
            if kind in ("join", "add"):
                add(ms, "GuildMemberJoin", users[who], "Joined the server.")
                if rng.random() < 0.6:
                    first = who.split(" ")[0]
                    add(ms + rng.randint(1500, 4000), "Default", bot,
                        f"Welcome @{first}! Say hi and read the pinned rules {rng.choice(['👋', '🎉'])}",
                        mentions=[_mentioned(users[who])])
            continue
        author = users[m.author]
        content, target = m.text, None
        fields: dict = {}
        if m.reply_to is not None:
            target = sim.messages[m.reply_to].author
            fields["reference"] = {"type": "Default", "messageId": ("sim", m.reply_to), "channelId": channel_id,
                                   "guildId": guild_id}
            if target != m.author and f"@{target.split(' ')[0]}" in content:
                fields["mentions"] = [_mentioned(users[target])]
        message = add(ms, "Reply" if target else "Default", author, content, **fields)
        of_sim[index] = message
        if m.media:
            _media(rng, message)
        elif target is None and len(plain) > 5 and rng.random() < 0.015:
            forwarded = rng.choice(plain[-50:])
            original = of_sim[forwarded]
            message["content"] = ""
            message["reference"] = {"type": "Forward", "messageId": ("sim", forwarded),
                                    "channelId": channel_id, "guildId": guild_id}
            message["forwardedMessage"] = {"timestamp": original["timestamp"], "timestampEdited": None,
                                           "content": original["content"], "attachments": [], "embeds": [],
                                           "stickers": []}
        else:
            plain.append(index)
            if rng.random() < 0.05:
                message["timestampEdited"] = ms + rng.randint(30_000, 1_800_000)
        if author is users[sim.promoter.name] and content.startswith("Reminder:") and rng.random() < 0.5:
            message["isPinned"] = True
            add(ms + rng.randint(60_000, 900_000), "ChannelPinnedMessage", author, "Pinned a message.",
                reference={"type": "Default", "messageId": ("sim", index), "channelId": channel_id, "guildId": None})
        if rng.random() < 0.28:
            day = m.at.date()
            pool = active.setdefault(day, [p.name for p in sim.members if p.active_on(day)])
            message["reactions"] = _reactions(rng, [users[p] for p in pool if p != m.author])
    drafts.sort(key=lambda d: (d[0], d[1]))
    for sequence, (ms, _, message) in enumerate(drafts):
        message["id"] = str(_snowflake(ms, sequence))
    for ms, _, message in drafts:
        message["timestamp"] = _iso(ms, zone)
        if message["timestampEdited"] is not None:
            message["timestampEdited"] = _iso(message["timestampEdited"], zone)
        if "forwardedMessage" in message:
            message["forwardedMessage"]["timestamp"] = _iso(message["forwardedMessage"]["timestamp"], zone)
        if isinstance((ref := message.get("reference") or {}).get("messageId"), tuple):
            ref["messageId"] = of_sim[ref["messageId"][1]]["id"]
        message["inlineEmojis"] = []
    messages = [message for _, _, message in drafts]
    exported = _iso((drafts[-1][0] if drafts else start_ms) + 3_600_000, zone, digits=7)
    return {
        "guild": {"id": guild_id, "name": guild, "iconUrl": f"https://cdn.discordapp.com/icons/{guild_id}/a1b2.png"},
        "channel": {"id": channel_id, "type": "GuildTextChat", "categoryId": category_id, "category": "Text Channels",
                    "name": channel_name, "topic": f"Everything {sim.name}: say hi, ask, share"},
        "dateRange": {"after": None, "before": None},
        "exportedAt": exported,
        "messages": messages,
        "messageCount": len(messages),
    }


def _snowflake(ms: int, sequence: int) -> int:
    """A Discord id: milliseconds since 2015 in the high bits, a sequence number in the low 12."""
    return (ms - DISCORD_EPOCH_MS) << 22 | (sequence % 4096)


def _ms(at: dt.datetime, zone: ZoneInfo) -> int:
    return int(at.replace(tzinfo=zone).timestamp()) * 1000


def _iso(ms: int, zone: ZoneInfo, digits: int = 3) -> str:
    """As .NET writes a DateTimeOffset: fractional seconds without trailing zeros, then the offset."""
    at = dt.datetime.fromtimestamp(ms / 1000, zone)
    fraction = f"{ms % 1000:03d}".ljust(digits, "0").rstrip("0")
    offset = at.strftime("%z")
    return f"{at:%Y-%m-%dT%H:%M:%S}{'.' + fraction if fraction else ''}{offset[:3]}:{offset[3:]}"


def _user(name: str, user_id: int, n: int) -> dict:
    return {"id": str(user_id), "name": username(name, n), "discriminator": "0000", "nickname": name, "color": None,
            "isBot": False, "roles": [], "avatarUrl": f"https://cdn.discordapp.com/embed/avatars/{n % 6}.png"}


def _mentioned(user: dict) -> dict:
    return {k: user[k] for k in ("id", "name", "discriminator", "nickname", "color", "isBot", "roles", "avatarUrl")}


def username(name: str, n: int) -> str:
    """A Discord username for a display name: lower-case ASCII letters, digits and dots."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    handle = ".".join(w for w in (re.sub(r"[^a-z0-9]", "", w) for w in ascii_name.split()) if w)
    return f"{handle}.{n}" if len(handle) < 3 or not handle[0].isalpha() else handle


def _media(rng: random.Random, message: dict) -> None:
    if rng.random() < 0.8:
        name, size = rng.choice(_FILES)
        file_name = name.format(n=rng.randint(1000, 9999))
        message["attachments"] = [{"id": str(rng.getrandbits(60)), "url": f"media/{file_name}",
                                   "fileName": file_name, "fileSizeBytes": size + rng.randint(0, 9999)}]
    else:
        sticker_id, sticker = rng.choice(_STICKERS)
        message["stickers"] = [{"id": sticker_id, "name": sticker, "format": "Apng",
                                "sourceUrl": f"https://media.discordapp.net/stickers/{sticker_id}.png"}]


def _reactions(rng: random.Random, pool: list[dict]) -> list[dict]:
    n = min(len(pool), rng.choice([1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 8, 11]))
    if n <= 0:
        return []
    reactors = rng.sample(pool, n)
    kinds: list[tuple[str, str]] = [("", e) for e in rng.sample(_EMOJI, min(n, rng.choices([1, 2, 3], [70, 25, 5])[0]))]
    if rng.random() < 0.06:
        kinds[-1] = rng.choice(_CUSTOM_EMOJI)
    groups: dict[tuple[str, str], list[dict]] = {k: [] for k in kinds}
    for i, who in enumerate(reactors):  # each reactor one reaction: distinct per (message, emoji)
        groups[kinds[i] if i < len(kinds) else rng.choice(kinds)].append(who)
    out = []
    for (emoji_id, name), group in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        gone = rng.randint(1, 3) if rng.random() < 0.12 else 0  # reactors whose accounts were deleted
        image = (f"https://cdn.discordapp.com/emojis/{emoji_id}.png" if emoji_id else
                 "https://cdn.jsdelivr.net/gh/twitter/twemoji@latest/assets/svg/"
                 + "-".join(f"{ord(c):x}" for c in name if c != "\ufe0f") + ".svg")
        out.append({"emoji": {"id": emoji_id, "name": name, "code": _EMOJI_CODES.get(name, name),
                              "isAnimated": False, "imageUrl": image},
                    "count": len(group) + gone,
                    "users": [{k: v for k, v in who.items() if k != "roles"} for who in group]})
    return out


def truth(export: dict) -> dict:
    """What an ingest of the export must find. Reactions are keyed as the reader keys them: the emoji,
    or `custom:<id>` for a server's own."""
    c: Counter = Counter()
    emoji: Counter = Counter()
    authors, bots, times = set(), set(), []
    for m in export["messages"]:
        for r in m["reactions"]:
            key = f"custom:{r['emoji']['id']}" if r["emoji"]["id"] else r["emoji"]["name"]
            emoji[key] += r["count"]
        if m["type"] not in PERSON_TYPES:
            c["system"] += 1
            c["joins"] += m["type"] == "GuildMemberJoin"
            c["pins"] += m["type"] == "ChannelPinnedMessage"
            continue
        c["messages"] += 1
        times.append(dt.datetime.fromisoformat(m["timestamp"]))
        authors.add(m["author"]["id"])
        if m["author"]["isBot"]:
            bots.add(m["author"]["id"])
        forward = (m.get("reference") or {}).get("type") == "Forward"
        c["replies"] += m["type"] == "Reply"
        c["forwards"] += forward
        c["edited"] += m["timestampEdited"] is not None
        c["media"] += bool(m["attachments"] or m["embeds"] or m["stickers"])
        c["mentions"] += sum(u["id"] != m["author"]["id"] for u in m["mentions"])
        text = m["forwardedMessage"]["content"] if forward else m["content"]
        c["links"] += len(set(_URL.findall(text)))

    def iso(at: dt.datetime | None) -> str | None:
        return None if at is None else at.astimezone(dt.UTC).isoformat()

    return {"messages": c["messages"], "system": c["system"], "reactions": sum(emoji.values()),
            "reactions_by_emoji": dict(sorted(emoji.items())), "replies": c["replies"], "forwards": c["forwards"],
            "edited": c["edited"], "media": c["media"], "mentions": c["mentions"], "links": c["links"],
            "joins": c["joins"], "pins": c["pins"], "authors": len(authors), "bots": len(bots),
            "first": iso(min(times, default=None)), "last": iso(max(times, default=None))}


def dce_json(export: dict) -> str:
    """The export's text as DCE writes it (.NET's indented writer with relaxed escaping)."""
    text = json.dumps(export, indent=2, ensure_ascii=False)
    return _NOT_BMP.sub(lambda m: "".join(f"\\u{u:04X}" for u in _utf16(m.group())), text)


def _utf16(char: str) -> tuple[int, int]:
    code = ord(char) - 0x10000
    return 0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)


def file_name(export: dict, part: int = 1) -> str:
    """DCE's default file name: `Guild - Category - channel [id].json`, `[part N]` after the first part."""
    g, c = export["guild"], export["channel"]
    suffix = f" [part {part}]" if part > 1 else ""
    return f"{g['name']} - {c.get('category') or 'Text Channels'} - {c['name']} [{c['id']}]{suffix}.json"


def write_export(export: dict, path: Path | str) -> Path:
    """Write the export as DCE does; a folder gets a file of DCE's default name inside it."""
    path = Path(path)
    if path.is_dir():
        path = path / file_name(export)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dce_json(export), encoding="utf-8", newline="")
    return path


def write_parts(export: dict, folder: Path | str, messages_per_part: int) -> list[Path]:
    """Split the export as `--partition N` does: every part a whole export of its own messages."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    messages = export["messages"]
    paths = []
    for part, start in enumerate(range(0, max(1, len(messages)), messages_per_part), 1):
        chunk = messages[start:start + messages_per_part]
        paths.append(write_export({**export, "messages": chunk, "messageCount": len(chunk)},
                                  folder / file_name(export, part)))
    return paths
