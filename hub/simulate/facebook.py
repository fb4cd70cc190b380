"""A simulated community as Facebook dumps: a Messenger group thread, and a group feed saved from the
Graph API.

`messenger_thread()` is the "Download Your Information" shape of a group chat: `participants`, the
messages newest first with `sender_name` and `timestamp_ms`; photos, videos, gifs, stickers, voice
clips and files; links sent as `Share` messages; unsent messages; calls; `Subscribe` and
`Unsubscribe` lines for joins, adds, leaves and removals (most list the member under `users`, some
only say it in English, as older exports do); and Messenger reactions (`{reaction, actor}`, one per
person). Names and texts hold accents and emoji. `write_messenger()` splits it into
`message_1.json` (the newest), `message_2.json` … and writes every string as Facebook does: the
UTF-8 bytes as `\\u00XX` escapes.

`group_feed()` is the same community as Graph API pages of a group feed: conversation starters are
posts, replies are comments, and replies to comments are comment replies (the Graph API nests two
levels; deeper replies answer the comment their branch hangs from); `from` with user ids,
`message_tags` for "@Name", `link`, photo attachments, and typed reactions (LIKE, LOVE, …).
`write_feed()` writes the pages as JSON files. `truth()` counts what an ingest must find in either.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.simulate import _FIRST, _LAST, _TOPICS, Simulation

_MESSENGER_REACTIONS = ["👍", "👍", "👍", "❤", "❤", "😆", "😮", "😢", "😠", "🔥", "🎉"]
_GRAPH_REACTIONS = ["LIKE"] * 12 + ["LOVE"] * 4 + ["HAHA", "HAHA", "WOW", "CARE", "SAD", "ANGRY"]
_STICKER = "messages/stickers_used/39178562_1505197616293642_5411344281094848512_n.png"
_MEDIA = {"photos": "jpg", "videos": "mp4", "gifs": "gif", "audio_files": "mp4", "files": "pdf"}
_URL = re.compile(r"https?://\S+")
GROUP_ID = "2180931662141235"


def _names(sim: Simulation, rng: random.Random) -> dict[str, str]:
    """Each member's Facebook name (members the simulation knows by phone number get a real name)."""
    out, used = {}, {m.name for m in sim.members}
    for m in sim.members:
        name = m.name
        while name.startswith("+") or (name != m.name and name in used):
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        used.add(name)
        out[m.name] = name
    return out


def _ms(at: dt.datetime, zone: ZoneInfo, rng: random.Random) -> int:
    return int(at.replace(tzinfo=zone).timestamp()) * 1000 + rng.randint(0, 999)


def _reactors(rng: random.Random, sim: Simulation, author: str, day: dt.date, names: dict[str, str]) -> list[str]:
    pool = [m.name for m in sim.members if m.active_on(day) and m.name != author]
    n = min(len(pool), rng.choice([1, 1, 1, 2, 2, 3, 4, 6]))
    return [names[who] for who in rng.sample(pool, n)]


# -- Messenger -----------------------------------------------------------------------------------------

def messenger_thread(sim: Simulation, *, seed: int | None = None, tz: str = "UTC") -> dict:
    """The simulation as a Messenger group thread (strings as they should read: `write_messenger`
    writes them the way Facebook does). The simulation's wall-clock times are read in `tz`."""
    rng = random.Random(sim.seed if seed is None else seed)
    zone = ZoneInfo(tz)
    names = _names(sim, rng)
    out: list[dict] = []
    for m in sim.messages:
        t = _ms(m.at, zone, rng)
        if m.kind == "system":
            kind, who, actor = m.event
            if kind == "created":
                continue
            if kind == "leave" and rng.random() < 0.25:
                kind, actor = "remove", sim.promoter.name
            member, by = names[who], names.get(actor) if actor else None
            came = kind in ("join", "add")
            sender = by if kind in ("add", "remove") else member
            content = {"join": f"{member} joined the group.", "add": f"{by} added {member} to the group.",
                       "leave": f"{member} left the group.", "remove": f"{by} removed {member} from the group."}[kind]
            line = {"sender_name": sender, "timestamp_ms": t, "content": content,
                    "type": "Subscribe" if came else "Unsubscribe"}
            if rng.random() < 0.7:  # older exports say it only in the sentence
                line["users"] = [{"name": member}]
            out.append(line)
            continue
        sender = names[m.author]
        message: dict = {"sender_name": sender, "timestamp_ms": t}
        if m.media:
            key = rng.choices(list(_MEDIA) + ["sticker"], [60, 10, 10, 8, 4, 8])[0]
            if key == "sticker":
                message["sticker"] = {"uri": _STICKER, "ai_stickers": []}
            else:
                message[key] = [{"uri": f"messages/inbox/{_folder(sim)}/{key}/{t}_{rng.randint(10**8, 10**9)}"
                                        f".{_MEDIA[key]}", "creation_timestamp": t // 1000}]
        elif rng.random() < 0.02:
            message["is_unsent"] = True
        else:
            message["content"] = m.text
            if link := _URL.search(m.text):
                message["share"] = {"link": link.group(0), "share_text": f"Notes on {rng.choice(_TOPICS)}"}
        message["type"] = "Share" if "share" in message else "Generic"
        if not message.get("is_unsent") and rng.random() < 0.25:
            message["reactions"] = [{"reaction": rng.choice(_MESSENGER_REACTIONS), "actor": who}
                                    for who in _reactors(rng, sim, m.author, m.at.date(), names)]
        message["is_geoblocked_for_viewer"] = False
        out.append(message)
        if m.text == "+1" and rng.random() < 0.3:  # sent twice by a double tap: same millisecond, same text
            out.append({k: v for k, v in message.items() if k != "reactions"})
        if rng.random() < 0.01:
            out.append({"sender_name": sender, "timestamp_ms": t + 60_000, "content": "The video call ended.",
                        "call_duration": rng.randint(30, 3600), "type": "Call", "is_geoblocked_for_viewer": False})
    out.sort(key=lambda x: -x["timestamp_ms"])  # newest first, as Facebook writes them
    current = [names[p.name] for p in sim.members if p.left is None]
    return {"participants": [{"name": n} for n in current], "messages": out, "title": sim.name,
            "is_still_participant": True, "thread_path": f"inbox/{_folder(sim)}", "magic_words": [],
            "image": {"uri": f"messages/inbox/{_folder(sim)}/photos/group_photo.jpg", "creation_timestamp": 0},
            "joinable_mode": {"mode": 1, "link": ""}, "thread_type": "RegularGroup"}


def _folder(sim: Simulation) -> str:
    return f"{re.sub(r'[^a-z0-9]', '', sim.name.lower())}_{sim.seed * 7919 % 10**10:010d}"


def mojibake(value: object) -> object:
    """Every string of a JSON value as Facebook writes it: the latin-1 view of its UTF-8 bytes."""
    if isinstance(value, str):
        return value.encode("utf-8").decode("latin-1")
    if isinstance(value, list):
        return [mojibake(v) for v in value]
    if isinstance(value, dict):
        return {k: mojibake(v) for k, v in value.items()}
    return value


def write_messenger(thread: dict, folder: Path | str, *, per_file: int = 10_000) -> list[Path]:
    """Write `message_1.json` (the newest `per_file` messages), `message_2.json` … into `folder`,
    as Facebook does: `json.dumps` with ASCII escapes of the mojibake strings, indented by 2. A file
    boundary never falls between two identical messages (the reader's ids could not tell them from
    an overlap of two files)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {k: v for k, v in thread.items() if k != "messages"}
    messages, pages, start = thread["messages"], [], 0
    while start < len(messages) or not pages:
        end = min(start + per_file, len(messages))
        while 0 < end < len(messages) and _same(messages[end], messages[end - 1]):
            end += 1
        pages.append(messages[start:end])
        start = end
    paths = []
    for n, page in enumerate(pages, 1):
        data = {"participants": meta["participants"], "messages": page,
                **{k: v for k, v in meta.items() if k != "participants"}}
        path = folder / f"message_{n}.json"
        path.write_text(json.dumps(mojibake(data), indent=2, ensure_ascii=True), encoding="ascii")
        paths.append(path)
    return paths


def _same(a: dict, b: dict) -> bool:
    return all(a.get(k) == b.get(k) for k in ("sender_name", "timestamp_ms", "content", "type"))


# -- Graph API group feed --------------------------------------------------------------------------------

def group_feed(sim: Simulation, *, seed: int | None = None, per_page: int = 25, tz: str = "UTC",
               group_id: str = GROUP_ID) -> list[dict]:
    """The simulation as Graph API pages of a group feed (posts newest first, `per_page` a page)."""
    rng = random.Random(sim.seed if seed is None else seed)
    zone = ZoneInfo(tz)
    names = _names(sim, rng)
    uid = {m.name: str(100000000000000 + 7 * i + 3) for i, m in enumerate(sim.members)}
    id_of = {names[name]: user_id for name, user_id in uid.items()}  # Facebook name -> user id
    items: dict[int, dict] = {}  # sim index -> post or comment
    parent_of: dict[int, int] = {}  # sim index -> the sim index of the post or comment it hangs under
    posts = []
    for index, m in enumerate(sim.messages):
        if m.kind == "system":
            continue
        at = dt.datetime.fromtimestamp(_ms(m.at, zone, rng) // 1000, dt.UTC)
        item = {"created_time": at.strftime("%Y-%m-%dT%H:%M:%S+0000"), "from": {"name": names[m.author],
                                                                              "id": uid[m.author]}}
        text = m.text
        if m.reply_to is not None and (target := sim.messages[m.reply_to].author):
            first = f"@{target.split(' ')[0]}"
            if first in text:  # "@Ana" is a tag of the replied-to member, with her full name
                start = text.index(first)
                text = text.replace(first, names[target], 1)
                item["message_tags"] = [{"id": uid[target], "name": names[target], "type": "user",
                                         "offset": len(text[:start].encode("utf-16-le")) // 2,
                                         "length": len(names[target].encode("utf-16-le")) // 2}]
        if text:
            item["message"] = text
        if m.media:
            photo = {"media": {"image": {"height": 720, "width": 960, "src": f"https://scontent.example/{index}.jpg"}},
                     "type": "photo", "url": f"https://www.facebook.com/photo.php?fbid={index}"}
            if m.reply_to is None:
                item["attachments"] = {"data": [photo]}
            else:
                item["attachment"] = photo
        if rng.random() < 0.35:
            reactors = _reactors(rng, sim, m.author, m.at.date(), names)
            item["reactions"] = {"data": [{"id": id_of[who], "name": who, "type": rng.choice(_GRAPH_REACTIONS)}
                                          for who in reactors],
                                 "paging": {"cursors": {"before": "QVFIUk", "after": "QVFIUl"}}}
        items[index] = item
        if m.reply_to is None:
            item["id"] = f"{group_id}_{10**15 + index}"
            if link := _URL.search(text):
                item["link"] = link.group(0)
            item["updated_time"] = item["created_time"]
            posts.append(item)
            continue
        target = m.reply_to
        while target in parent_of and parent_of[target] in parent_of:  # two levels: post, comment, reply
            target = parent_of[target]
        parent_of[index] = target
        root = target if target not in parent_of else parent_of[target]
        item["id"] = f"{10**15 + root}_{10**15 + index}"
        items[target].setdefault("comments", {"data": []})["data"].append(item)
        post = items[root]
        post["updated_time"] = max(post["updated_time"], item["created_time"])
    posts.sort(key=lambda p: p["created_time"], reverse=True)
    base = f"https://graph.facebook.com/v18.0/{group_id}/feed"
    pages = []
    for n in range(0, max(1, len(posts)), per_page):
        page = {"data": posts[n:n + per_page], "paging": {"previous": f"{base}?since={n}&__previous=1"}}
        if n + per_page < len(posts):
            page["paging"]["next"] = f"{base}?until={n + per_page}&__paging_token=enc_{n + per_page}"
        pages.append(page)
    return pages


def write_feed(pages: list[dict], folder: Path | str) -> list[Path]:
    """Write the pages as `feed_1.json`, `feed_2.json` … (as the Graph API sent them: ASCII escapes)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, page in enumerate(pages, 1):
        path = folder / f"feed_{n}.json"
        path.write_text(json.dumps(page, indent=2, ensure_ascii=True), encoding="ascii")
        paths.append(path)
    return paths


# -- ground truth ------------------------------------------------------------------------------------------

def truth(export: dict | list) -> dict:
    """What an ingest must find: a Messenger thread (dict) or feed pages (list)."""
    return _thread_truth(export) if isinstance(export, dict) else _feed_truth(export)


def _thread_truth(thread: dict) -> dict:
    messages = [m for m in thread["messages"] if m["type"] in ("Generic", "Share")]
    system = [m for m in thread["messages"] if m["type"] not in ("Generic", "Share")]
    emoji = Counter(r["reaction"] for m in messages for r in m.get("reactions", ()))
    events = Counter()
    for m in system:
        if m["type"] in ("Subscribe", "Unsubscribe"):
            member = re.sub(r"^.+ (added|removed) | (joined|left) the group\.$| (to|from) the group\.$", "",
                            m["content"])
            came = m["type"] == "Subscribe"
            events[("join" if came else "leave") if member == m["sender_name"] else ("add" if came else "remove")] += 1
    return {"messages": len(messages), "system": len(system), **_reactions(emoji),
            "authors": len({m["sender_name"] for m in messages}),
            "media": sum(any(k in m for k in (*_MEDIA, "sticker", "share")) for m in messages),
            "unsent": sum(bool(m.get("is_unsent")) for m in messages),
            "links": len({(m["timestamp_ms"], m["share"]["link"]) for m in messages if "share" in m}),
            "events": dict(sorted(events.items())), **_span([m["timestamp_ms"] / 1000 for m in messages])}


def _feed_truth(pages: list[dict]) -> dict:
    items, stack = [], [(p, None) for page in pages for p in page["data"]]
    while stack:
        item, parent = stack.pop()
        items.append((item, parent))
        stack.extend((c, item) for c in item.get("comments", {}).get("data", ()))
    types = Counter(r["type"] for item, _ in items for r in item.get("reactions", {}).get("data", ()))
    times = [dt.datetime.strptime(i["created_time"], "%Y-%m-%dT%H:%M:%S%z").timestamp() for i, _ in items]
    return {"messages": len(items), "posts": sum(p is None for _, p in items),
            "comments": sum(p is not None for _, p in items), **_reactions(types),
            "authors": len({i["from"]["id"] for i, _ in items}),
            "mentions": sum(len(i.get("message_tags", ())) for i, _ in items),
            "links": sum("link" in i for i, _ in items),
            "media": sum("attachments" in i or "attachment" in i for i, _ in items), **_span(times)}


def _reactions(by_kind: Counter) -> dict:
    return {"reactions": sum(by_kind.values()), "reactions_by_type": dict(sorted(by_kind.items()))}


def _span(seconds: list[float]) -> dict:
    def iso(t: float) -> str:
        return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="milliseconds")
    return {"first": iso(min(seconds)) if seconds else None, "last": iso(max(seconds)) if seconds else None}
