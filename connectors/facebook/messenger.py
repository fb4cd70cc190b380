"""Messenger threads from "Download Your Information" JSON, and Instagram DMs (same schema).

Format: `messages/inbox/<thread>/message_1.json`, `message_2.json`, … (also under
`archived_threads/`, `filtered_threads/`, `message_requests/`): one thread paginated over several
files, `message_1` the newest, messages newest first in each file:
`{participants: [{name}], messages: [{sender_name, timestamp_ms, content, type, is_unsent,
reactions: [{reaction, actor}], photos|videos|audio_files|files|gifs: [{uri}], sticker: {uri},
share: {link, share_text}, users: [{name}], call_duration}], title, thread_path, thread_type}`.
Every string is mojibake (see `common`).

Mapping:
- **Channel** `thread:<folder>`, the folder being the last part of `thread_path` (the same in
  `inbox/` and `archived_threads/`), else the folder holding `message_N.json`, else
  `name:<title or file name>`. `thread_type` RegularGroup is a group and Regular a direct chat;
  without it, more than two participants make a group.
- **Messages.** `Generic` and `Share` (and no type) are messages; an unsent message
  (`is_unsent`) stays a message, with whatever text Facebook left. `Call`, `Subscribe`,
  `Unsubscribe` and any other type are `system` lines without an author.
- **Membership.** `Subscribe` lists who came in under `users`: the sender themselves joined,
  anyone else was added by the sender; `Unsubscribe` likewise gives leave or remove. Without
  `users`, the English sentences "X added Y to the group", "X removed Y from the group",
  "X left the group" and "X joined the group" are read; other languages stay system lines only.
- **Media.** photos, videos, audio_files, files, gifs, sticker and share set `has_media`;
  `share.link` goes to `links`.
- **Reactions.** One row per actor, the emoji as written (repaired).
- **Ids.** Messenger has none, so a message is `<thread>/m<digest>`, the digest being the first
  16 hex digits of the SHA-256 of thread, sender, timestamp_ms, text, media file names, sticker
  and link (joined by \\x1f), with `.2`, `.3` for identical messages within one file. Media are
  named without their folders, which changed between export years. The same thread exported
  twice, or `message_1` and `message_2` overlapping, gives the same ids and the first copy (the
  newer file) is kept. Limits: two identical messages split by a file boundary become one; a
  message whose text changes between exports gets a second id.

Reading: Polars reads each file whole (`pl.read_json` with the schema below) and every later
step is column-wise. A file Polars refuses (a value of the wrong type) or that has messages
without a sender or a time is read again with orjson, message by message, into the same frame:
the bad messages go to quarantine, the rest go through the same column-wise steps.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

import orjson
import polars as pl

from connectors.facebook.common import FIRST_SECOND, LAST_SECOND, Part, as_int, bad, listed, name_id
from connectors.mojibake import repair, repair_series

_BOM = b"\xef\xbb\xbf"
_MEDIA = ("photos", "videos", "audio_files", "files", "gifs")
_URI = pl.List(pl.Struct({"uri": pl.String}))
_REACTION = pl.Struct({"reaction": pl.String, "actor": pl.String})
# The fields of a message the hub reads; everything else is skipped.
MESSAGE = {"sender_name": pl.String, "timestamp_ms": pl.Int64, "content": pl.String, "type": pl.String,
           "is_unsent": pl.Boolean, "reactions": pl.List(_REACTION), **{key: _URI for key in _MEDIA},
           "sticker": pl.Struct({"uri": pl.String}), "share": pl.Struct({"link": pl.String}),
           "users": pl.List(pl.Struct({"name": pl.String}))}
_FILE = {"participants": pl.List(pl.Struct({"name": pl.String})), "messages": pl.List(pl.Struct(MESSAGE)),
         "title": pl.String, "thread_path": pl.String, "thread_type": pl.String}
_THREAD_KINDS = {"RegularGroup": "group", "Regular": "direct"}
_SENTENCES = {  # the English sentences of group changes, read when `users` is missing
    "Subscribe": [re.compile(r"^(?P<actor>.+?) added (?P<who>.+?) to the group\.?$"),
                  re.compile(r"^(?P<who>.+?) joined the group\b.*$")],
    "Unsubscribe": [re.compile(r"^(?P<actor>.+?) removed (?P<who>.+?) from the group\.?$"),
                    re.compile(r"^(?P<who>.+?) left the group\.?$")],
}
_LISTED = re.compile(r", and |, | and ")  # "Zoe added Ines, Tom and Bob to the group."
_FILE_NAME = r"([^/]*)$"


@dataclass
class ThreadFile:
    """One `message_N.json`: the thread's metadata, and its messages as a MESSAGE frame (when
    Polars could read them) or as parsed JSON (when they must be read one by one)."""

    name: str
    meta: dict  # title, thread_path, thread_type, participants (names), as written
    frame: pl.DataFrame | None
    messages: object = None


def parse_file(name: str, raw: bytes) -> ThreadFile:
    """A Messenger file; ValueError if it is not a JSON object (cut short, damaged)."""
    raw = raw.removeprefix(_BOM)
    try:
        whole = pl.read_json(io.BytesIO(raw), schema=_FILE)
    except Exception:  # a value of an unexpected type somewhere (or not JSON): read one by one
        whole = None
    if whole is not None and whole.height == 1:
        meta = whole.drop("messages").row(0, named=True)
        meta["participants"] = [p["name"] for p in meta["participants"] or () if p and p["name"]]
        frame = whole["messages"].explode().struct.unnest() if whole["messages"].list.len()[0] else \
            pl.DataFrame(schema=MESSAGE)
        if _complete(frame):
            return ThreadFile(name, meta, frame)
    data = orjson.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    meta = {key: data.get(key) if isinstance(data.get(key), str) else None
            for key in ("title", "thread_path", "thread_type")}
    meta["participants"] = [p["name"] for p in data.get("participants") or () if isinstance(p, dict)
                            and isinstance(p.get("name"), str) and p["name"]] \
        if isinstance(data.get("participants"), list) else []
    return ThreadFile(name, meta, None, data.get("messages"))


def _complete(frame: pl.DataFrame) -> bool:
    """Every message has a sender and a time (within the years 1 to 9999), every reaction its
    reaction and actor."""
    incomplete = pl.element().is_null() | (pl.element().struct.field("reaction").fill_null("") == "") \
        | (pl.element().struct.field("actor").fill_null("") == "")
    return not frame.select(
        ~pl.col("timestamp_ms").is_between(FIRST_SECOND * 1000, LAST_SECOND * 1000).fill_null(False)
        | (pl.col("sender_name").fill_null("") == "")
        | pl.col("reactions").list.eval(incomplete).list.any().fill_null(False)).to_series().any()


def thread_folder(thread_path: object) -> str | None:
    """The thread's folder name, from `thread_path` ("inbox/makers_2x9vq1")."""
    if not isinstance(thread_path, str) or not thread_path.strip("/"):
        return None
    return thread_path.strip("/").rsplit("/", 1)[-1]


def read_thread(files: list[ThreadFile], part: Part, *, folder: str | None, fallback: str,
                channel_option: str | None, first_position: int) -> int:
    """Add one thread (its files, newest first) to `part`; returns the next position."""
    meta = next((f.meta for f in files if f.meta.get("title") or f.meta.get("thread_path")), files[0].meta)
    name = (repair(meta["title"]) if meta.get("title") else None) or channel_option or fallback
    native = f"thread:{thread_folder(meta.get('thread_path')) or folder or name_id(name)}"
    participants = {repair(p) for f in files for p in f.meta["participants"]}
    senders: set[str] = set()
    position = first_position
    for f in files:
        frame = f.frame if f.frame is not None else _one_by_one(f, part)
        senders |= _add_frame(frame, native, position, part)
        position += frame.height
    for p in participants:
        part.people.add(name_id(p), p, None)
    kind = _THREAD_KINDS.get(meta.get("thread_type")) or ("group" if len(participants or senders) > 2 else "direct")
    part.channels[native] = (name, kind)
    return position


def _add_frame(m: pl.DataFrame, native: str, first: int, part: Part) -> set[str]:
    """One file's messages, column by column; returns the senders."""
    def file_names(column: pl.Expr) -> pl.Expr:
        return column.fill_null([]).list.eval(pl.element().struct.field("uri").fill_null("").str.extract(_FILE_NAME))

    kind = pl.col("type")
    m = m.with_columns(
        position=pl.int_range(m.height, dtype=pl.Int64) + first,
        sender_name=repair_series(m["sender_name"]), content=repair_series(m["content"]),
        link=repair_series(m["share"].struct.field("link")),
        media=repair_series(m.select(pl.concat_list([file_names(pl.col(k)) for k in _MEDIA]).list.join("\x1e"))
                            .to_series()),
        sticker=m["sticker"].struct.field("uri").str.extract(_FILE_NAME),
        system=kind.is_not_null() & ~kind.is_in(["Generic", "Share"]) & ~pl.col("is_unsent").fill_null(False),
        has_media=pl.any_horizontal([pl.col(k).list.len().fill_null(0) > 0 for k in _MEDIA]
                                    + [pl.col("sticker").is_not_null(), pl.col("share").is_not_null()]),
    )
    # What identifies a message (see the module docstring), hashed into its id.
    keys = m.select(pl.concat_str([pl.lit(native), "sender_name", pl.col("timestamp_ms").cast(pl.String),
                                   pl.col("content").fill_null(""), "media", pl.col("sticker").fill_null(""),
                                   pl.col("link").fill_null("")], separator="\x1f")).to_series().to_list()
    m = m.with_columns(digest=pl.Series([hashlib.sha256(k.encode()).hexdigest()[:16] for k in keys], dtype=pl.String))
    rank = pl.col("digest").cum_count().over("digest")
    m = m.with_columns(message_id=pl.lit(f"{native}/m") + pl.col("digest")
                       + pl.when(rank > 1).then(pl.lit(".") + rank.cast(pl.String)).otherwise(pl.lit("")))
    person = pl.lit("name:") + pl.col("sender_name")
    part.messages.extend(m.select(
        "message_id", channel_id=pl.lit(native), author=pl.when(~pl.col("system")).then(person),
        author_name=pl.when(~pl.col("system")).then("sender_name"), sent_ms="timestamp_ms",
        kind=pl.when("system").then(pl.lit("system")).otherwise(pl.lit("message")),
        text=pl.when("system").then(pl.coalesce("content", "type")).otherwise(pl.col("content").fill_null("")),
        reply_to_id=pl.lit(None, pl.String), thread_id=pl.lit(None, pl.String), has_media="has_media",
        edited_ms=pl.lit(None, pl.Int64), position="position"))
    reactions = m.select("position", "message_id", r="reactions").explode("r").drop_nulls("r").unnest("r")
    reactions = reactions.with_columns(actor=repair_series(reactions["actor"]),
                                       reaction=repair_series(reactions["reaction"]))
    part.reactions.extend(reactions.select("position", "message_id", reactor=pl.lit("name:") + pl.col("actor"),
                                           emoji="reaction"))
    part.links.extend(m.filter(pl.col("link").is_not_null()).select("position", "message_id", url="link"))
    part.people.extend(pl.concat([
        m.select(native=person, name="sender_name", at_ms="timestamp_ms"),
        reactions.select(native=pl.lit("name:") + pl.col("actor"), name="actor", at_ms=pl.lit(None, pl.Int64))]))
    for row in m.filter(kind.is_in(["Subscribe", "Unsubscribe"])).iter_rows(named=True):
        for k, (who, event, actor) in enumerate(_membership(row)):
            part.events.add(row["position"], f"{row['message_id']}#{k}", native, name_id(who), event,
                            row["timestamp_ms"], None if actor is None else name_id(actor), row["message_id"])
            part.people.add(name_id(who), who, None)
    return set(m["sender_name"].unique().to_list())


def _membership(row: dict) -> list[tuple[str, str, str | None]]:
    """(member, join|add|leave|remove, actor) of a Subscribe or Unsubscribe line."""
    kind, sender = row["type"], row["sender_name"]
    came = kind == "Subscribe"
    who = [repair(u["name"]) for u in row["users"] or () if u and u["name"]]
    if not who:
        found = next(filter(None, (p.match(row["content"] or "") for p in _SENTENCES[kind])), None)
        who = [sender if w in ("You", "you") else w for w in _LISTED.split(found["who"]) if w] if found else []
    return [(w, ("join" if came else "leave"), None) if w == sender else
            (w, ("add" if came else "remove"), sender) for w in who]


def _one_by_one(f: ThreadFile, part: Part) -> pl.DataFrame:
    """The messages of a file Polars could not read whole: the bad ones quarantined, the rest a MESSAGE frame."""
    rows = []
    try:
        messages = listed(f.messages, "messages")
    except ValueError as e:
        part.quarantine.append(bad(f"{f.name}: messages", str(e), f.messages))
        messages = []
    for i, m in enumerate(messages):
        where = f"{f.name}: messages[{i}]"
        try:
            rows.append(_normalised(m, where, part))
        except (ValueError, TypeError, AttributeError) as e:
            part.quarantine.append(bad(where, str(e), m))
    return pl.DataFrame(rows, schema=MESSAGE)


def _normalised(m: object, where: str, part: Part) -> dict:
    """A message as a MESSAGE row; ValueError says what is wrong with it. Bad reactions are
    quarantined on their own (the message is kept)."""
    if not isinstance(m, dict):
        raise ValueError("not a JSON object")
    out = {"timestamp_ms": as_int(m.get("timestamp_ms"), ms=True), "sender_name": _string(m.get("sender_name"))}
    if not out["sender_name"]:
        raise ValueError("no sender_name")
    out.update(content=_string(m.get("content")), type=_string(m.get("type")), is_unsent=bool(m.get("is_unsent")))
    for key in _MEDIA:
        out[key] = [{"uri": _string(x.get("uri"))} for x in listed(m.get(key), key) if isinstance(x, dict)]
    for key, field in (("sticker", "uri"), ("share", "link")):
        value = m.get(key)
        if value is not None and not isinstance(value, dict):
            raise ValueError(f"{key} is a {type(value).__name__}, not an object")
        out[key] = None if value is None else {field: _string(value.get(field))}
    out["reactions"] = []
    for j, r in enumerate(listed(m.get("reactions"), "reactions")):
        if isinstance(r, dict) and isinstance(r.get("reaction"), str) and r["reaction"] \
                and isinstance(r.get("actor"), str) and r["actor"]:
            out["reactions"].append({"reaction": r["reaction"], "actor": r["actor"]})
        else:
            part.quarantine.append(bad(f"{where}.reactions[{j}]", "a reaction without its reaction or actor", r))
    users = listed(m.get("users"), "users")
    names = [u.get("name") if isinstance(u, dict) else u for u in users]  # (a name alone: some tools')
    out["users"] = [{"name": n} for n in names if isinstance(n, str) and n]
    if len(out["users"]) < len(users):
        part.quarantine.append(bad(f"{where}.users", "members without a name: the others are kept", users))
    return out


def _string(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"a {type(value).__name__} where text was expected")
