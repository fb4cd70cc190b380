"""A Telegram Desktop export (one chat's `result.json`, a whole account's, or the HTML pages), read
into canonical batches; memory stays bounded whatever the file's size.

Input: `result.json` (a chat: `{name, type, id, messages}`; an account: `{chats: {list: [...]},
left_chats: {list: [...]}}`), a Telethon-style list of messages, `messages*.html`, or a folder or
zip holding one of them (the folder Telegram Desktop writes).

A big `result.json` is streamed. Telegram Desktop always writes it pretty-printed, one message
object per block at a fixed indentation; a JSON string cannot hold a raw newline, so the text
`\\n<indent>},` only ever ends a message. Blocks of a few MB of messages are cut there and parsed
by Polars, in two threads, a few blocks ahead at most. A file laid out otherwise is streamed by
ijson (slower, same result). Small files are simply parsed whole.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import ijson
import orjson
import polars as pl

from connectors.files import (ExportTree, UnreadableExport, object_runs, pretty_array_blocks, quarantine_batch,
                              quarantine_record, readable_name, refused_records, require_export, split_objects)
from connectors.frames import SeenIds, detached
from connectors.telegram import html
from connectors.telegram.messages import (PLATFORM, RAW, Chat, Frames, People, batches_of, channel_batch, derive_ids,
                                          derived_id, frame_of, frames)
from hub.model import Batch

SMALL_FILE = 32 << 20  # parsed whole; bigger files are streamed
# Messages made into frames at once: per message, 16 MB cost a sixth less than 8 MB (each block's
# queries have a fixed cost), 32 MB no less than 16.
BLOCK_BYTES = 16 << 20
# ...but parsed PARSE_BYTES at a time: Polars' JSON parse holds several times its text while it
# runs, its frame far less than the text. (A 1M-message export: a whole 16 MB block parsed at once
# took 250 MB more at the peak than 8 MB blocks; parsed 4 MB at a time, no more, and no slower.)
PARSE_BYTES = 4 << 20
_MESSAGES = re.compile(rb'"messages"\s*:\s*\[')
_OBJECT_START = re.compile(rb"(?:^|\n)[ \t]*\{")
_CHAT_LIST = re.compile(rb'"list"\s*:\s*\[')
_META = {key: re.compile(rb'"' + key.encode() + rb'"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+|null)')
         for key in ("name", "type", "id")}
_HTML_PAGE = re.compile(r"(?:^|/)messages(\d*)\.html$")
# A forward whose sender shows no name is written with a null sender, which Polars cannot tell from
# no sender at all: made "hidden" (as `messages.normalise` does) before the block is parsed. A JSON
# string cannot hold this text: its quotes would be escaped.
_NULL_SENDER = re.compile(rb'("(?:forwarded_from|saved_from)"\s*:\s*)null\b')
SetAside = Callable[[int, str, object], None]  # a message left out: its number, why, itself
MAX_DEPTH = 64  # levels of JSON nesting read from a stream: an account export has a dozen at most
_COMPLETE = re.compile(rb"[}\]]\s*$")  # a JSON document's last character
_EXPORT_AGAIN = "export the chat again from Telegram Desktop (Export chat history, JSON)"


@dataclass
class Options:
    community: str = "default"
    channel: str | None = None  # names a chat whose export has no name (old tools' files)
    tz: str = "UTC"  # exports without `date_unixtime` give the exporter's wall-clock time


@dataclass
class Summary:
    messages: int = 0
    service: int = 0
    quarantined: int = 0
    chats: int = 0
    layout: str = ""  # whole | pretty | ijson | html


def sniff(path: Path) -> bool:
    """A Telegram Desktop export, judged from the start of the file (or the file inside a folder or zip)."""
    try:
        with _opened(path) as (name, stream):
            head = stream.read(65536)
    except (UnreadableExport, OSError, KeyError):
        return False
    if name.endswith(".html"):
        return html.looks_like_html_export(head)
    return looks_like_telegram(head)


def looks_like_telegram(head: bytes) -> bool:
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        return b'"message.id"' in head and b'"sender_id"' in head
    if not head.startswith(b"{"):
        return False
    return (b'"messages"' in head and (b'"date_unixtime"' in head or b'"from_id"' in head
                                        or re.search(rb'"type"\s*:\s*"(message|service)"', head) is not None)) \
        or b'"personal_information"' in head or re.search(rb'"chats"\s*:\s*\{', head) is not None


def _is_html(path: Path) -> bool:
    """Whether the export is Telegram Desktop's HTML pages, as `ExportReader._chats` tells."""
    if path.is_file() and path.suffix.lower() != ".zip":
        return path.name.endswith(".html")
    with ExportTree(path) as tree:
        names = tree.names()
    return not any(n.rsplit("/", 1)[-1] == "result.json" for n in names) and any(_HTML_PAGE.search(n) for n in names)


@contextmanager
def _opened(path: Path) -> Iterator[tuple[str, BinaryIO]]:
    """The export's main file as a stream: the file itself, or `result.json` / `messages.html` inside."""
    if path.is_file() and path.suffix.lower() != ".zip":
        with open(path, "rb") as f:
            yield path.name, f
        return
    with ExportTree(path) as tree:
        name = next((n for n in tree.names() if n.rsplit("/", 1)[-1] == "result.json"), None) \
            or next((n for n in tree.names() if _HTML_PAGE.search(n)), None)
        if name is None:
            raise KeyError("no result.json or messages.html")
        with tree.open(name) as f:
            yield name, f


class ExportReader:
    platform = PLATFORM

    def __init__(self, path: str | Path, options: Options | None = None, *,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.path = Path(path)
        self.options = options or Options()
        require_export(self.path, sniff, "a Telegram Desktop export (no result.json with messages, "
                                   "no messages.html)", "export the chat from Telegram Desktop as JSON and pass "
                                   "result.json, or the folder it is in")
        self.channel_name = None  # an export may hold many chats
        self.channel_id = None
        self.summary = Summary()
        self._progress = progress
        self._quarantine: list[dict] = []
        self._people = People(self.options.community)
        self._events: list[pl.DataFrame] = []
        # Each message with all its reactions (warehouse.load.SourceFile); not an HTML export's,
        # which shows none.
        self.lists_all_reactions = not _is_html(self.path)

    # -- the batches -------------------------------------------------------------------------

    def batches(self) -> Iterator[Batch]:
        # By chat id, not by listing: an account export can list a chat in `chats` and again in
        # `left_chats`, and its messages there are the same messages.
        seen_in: dict[str, SeenIds] = {}
        for chat, parts in self._chats():
            self.summary.chats += 1
            yield channel_batch(self.options.community, [chat])
            seen = seen_in.setdefault(chat.native_id, SeenIds())
            for part in parts:
                yield from self._emit(chat, part, seen)
        events = self._people.resolve_events(pl.concat(self._events)) if self._events else None
        yield self._people.accounts()  # after the events: members only service messages name have one too
        if events is not None:
            yield Batch.conform("membership_events", events.to_arrow(compat_level=pl.CompatLevel.oldest()))
        if self._quarantine:
            self.summary.quarantined += len(self._quarantine)
            yield quarantine_batch(self._quarantine)

    def _emit(self, chat: Chat, f, seen: SeenIds) -> Iterator[Batch]:
        for position, message_id in f.bad.iter_rows():
            self._quarantine.append(quarantine_record(f"{chat.name} message #{position}",
                                                      "a message without a readable id or date", {"id": message_id}))
        ids = f.messages["message_id"]
        again = seen.repeated(ids, order=f.messages["number"])
        if again.any():  # ids given earlier in the file: these copies, and what hangs off them, are set aside
            for position, message_id in f.messages.filter(again).select("position", "message_id").iter_rows():
                self._quarantine.append(quarantine_record(
                    f"{chat.name} message #{position}", f"a second message with the id {message_id.rsplit('/', 1)[-1]}",
                    {"id": message_id}))
            f = _without(f, f.messages.filter(again)["message_id"])
        kinds = f.messages["kind"]
        self.summary.service += int((kinds == "system").sum())
        self.summary.messages += f.messages.height
        if not f.events.is_empty():
            self._events.append(detached(f.events))
        yield from batches_of(f, self._people)

    # -- reading the file's chats ------------------------------------------------------------------

    def _chats(self) -> Iterator[tuple[Chat, Iterator]]:
        if self.path.is_dir() or self.path.suffix.lower() == ".zip":
            with ExportTree(self.path) as tree:
                self._quarantine.extend(refused_records(tree.refused))
                pages = sorted((int(m.group(1) or 1), n) for n in tree.names() if (m := _HTML_PAGE.search(n)))
                if not any(n.rsplit("/", 1)[-1] == "result.json" for n in tree.names()) and pages:
                    yield from self._html_pages([(n, tree.read(n)) for _, n in pages])
                    return
        with _opened(self.path) as (name, stream):
            if name.endswith(".html"):
                yield from self._html_pages([(name, stream.read())])
                return
            size = self.path.stat().st_size if self.path.is_file() else None
            if size is not None and size <= SMALL_FILE and self.path.suffix.lower() != ".zip":
                self.summary.layout = "whole"
                yield from self._whole(stream.read())
            else:
                yield from self._streamed(stream)

    def _whole(self, raw: bytes) -> Iterator[tuple[Chat, Iterator]]:
        try:
            data = orjson.loads(raw.removeprefix(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError as e:
            if _MESSAGES.search(raw) and _pretty(raw):
                # Laid out as Telegram Desktop writes: read message by message as a big file is, so
                # that a damaged message is set aside and a cut file keeps what is whole.
                yield from self._streamed(io.BytesIO(raw))
                return
            raise UnreadableExport(self.path, f"not valid JSON ({e})", _EXPORT_AGAIN) from None
        for meta, messages in _chats_in(data, self._fallback_name()):
            chat = Chat.of(meta, self._fallback_name())
            yield chat, self._from_dicts(chat, messages)

    def _from_dicts(self, chat: Chat, messages: list) -> Iterator:
        aside = self._set_aside(chat)
        yield self._frames(self._framed(chat, list(enumerate(messages, 1)), aside), chat, 1, aside)

    def _set_aside(self, chat: Chat) -> SetAside:
        return lambda number, why, raw: self._quarantine.append(
            quarantine_record(f"{chat.name} message #{number}", why, raw))

    def _framed(self, chat: Chat, numbered: list[tuple[int, object]], set_aside: SetAside,
                derived: dict[str, int] | None = None) -> pl.DataFrame:
        """A RAW frame of (message number, parsed message) pairs. What is not an object, or has
        fields of shapes no export writes, is set aside with its number and why; the rest is kept."""
        messages, numbers = [], []
        for number, m in numbered:
            if isinstance(m, dict):
                messages.append(m)
                numbers.append(number)
            else:
                set_aside(number, "not a JSON object", m)
        derive_ids(messages, chat, derived)
        left_out: set[int] = set()

        def rejected(i: int, message: dict, why: str) -> None:
            left_out.add(i)
            set_aside(numbers[i], why, message)

        raw = frame_of(messages, rejected=rejected)
        # Positions are the messages' numbers, gaps included: quarantine locations must not shift.
        return raw.with_columns(position=pl.Series([n for i, n in enumerate(numbers) if i not in left_out],
                                                   dtype=pl.Int64))

    def _html_pages(self, pages: list[tuple[str, bytes]]) -> Iterator[tuple[Chat, Iterator]]:
        self.summary.layout = "html"
        read = []
        for name, page in pages:
            try:
                read.append(html.read_html(page))
            except ValueError as e:
                self._quarantine.append(quarantine_record(name, str(e), page[:4000]))
        meta = {"name": self.options.channel or next((p.get("name") for p in read if p.get("name")), None)}
        chat = Chat.of(meta, self._fallback_name())
        messages = [m for p in read for m in p["messages"]]
        previous: dict = {}
        for m in messages:  # the HTML gives service messages no time: they happened after the message before
            if m.get("date") is None and m.get("type") == "service" and previous:
                m["date"], m["date_unixtime"] = previous.get("date"), previous.get("date_unixtime")
            if m.get("date") is not None:  # (a message whose date is damaged lends none, and gets none)
                previous = m
        # ...or, before the first dated one (a group's export opens with its creation), before the next.
        following = next((m for m in messages if m.get("date") is not None), None)
        for m in messages:
            if m is following or following is None:
                break
            if m.get("date") is None and m.get("type") == "service":
                m["date"], m["date_unixtime"] = following.get("date"), following.get("date_unixtime")
        yield chat, self._from_dicts(chat, messages)

    def _streamed(self, stream: BinaryIO) -> Iterator[tuple[Chat, Iterator]]:
        head = stream.read(BLOCK_BYTES).removeprefix(b"\xef\xbb\xbf")  # ijson refuses a BOM
        # The layout shows in what follows the first "messages": [ ; a read that ends just there
        # must not decide it (the cut would send a Telegram Desktop file to ijson).
        while (found := _MESSAGES.search(head)) and not head[found.end():].strip() \
                and (more := stream.read(1 << 16)):
            head += more
        if b'"messages"' in head and not _pretty(head):
            self.summary.layout = "ijson"
            yield from self._ijson(_Prepend(head, stream))
            return
        self.summary.layout = "pretty"
        read = _Tail(_Prepend(head, stream))
        blocks = _pretty_blocks(read)
        chats = 0
        for meta, parts in _grouped(blocks):
            chats += 1
            chat = Chat.of(meta, self._fallback_name())
            yield chat, self._parsed_blocks(chat, parts)
        if not chats and not _COMPLETE.search(read.last):  # cut before any chat: what reading it whole says
            raise UnreadableExport(self.path, "the file ends before any chat's messages (cut short?)", _EXPORT_AGAIN)

    def _parsed_blocks(self, chat: Chat, parts: Iterator[bytes]) -> Iterator:
        """Blocks parsed into frames in two threads (Polars releases the GIL), a few blocks ahead.
        A block's messages are numbered from 0 while it is parsed, and on from the blocks before
        it once they are done (counting them beforehand cost a pass over the text)."""
        first = 1
        derived: dict[str, int] = {}  # digests of the ids derived so far (old tools' messages have none)
        prefix = f"{PLATFORM}:{self.options.community}:{chat.native_id}/"

        def numbered(block: _Block):
            nonlocal first
            for number, why, raw in block.set_aside:
                self._quarantine.append(quarantine_record(f"{chat.name} message #{first + number}", why, raw))
            f = replace(block.frames, messages=block.frames.messages.with_columns(pl.col("position") + first),
                        bad=block.frames.bad.with_columns(pl.col("position") + first))
            first += block.count
            # A derived id ranks its message among identical ones in the block: on in the chat.
            renamed = {}
            for digest, n in block.derived.items():
                before = derived.get(digest, 0)
                renamed |= {prefix + derived_id(digest, r): prefix + derived_id(digest, before + r)
                            for r in range(1, n + 1) if before}
                derived[digest] = before + n
            return _renamed(f, renamed) if renamed else f

        with ThreadPoolExecutor(max_workers=2) as pool:
            pending: deque = deque()
            for part in parts:
                pending.append(pool.submit(self._block, chat, part))
                if len(pending) > 1:
                    yield numbered(pending.popleft().result())
            while pending:
                yield numbered(pending.popleft().result())

    def _block(self, chat: Chat, block: tuple[bytes, bytes]) -> "_Block":
        part, indent = block
        set_aside: list[tuple[int, str, object]] = []
        derived: dict[str, int] = {}

        def aside(number: int, why: str, raw: object) -> None:
            set_aside.append((number, why, raw))

        try:
            if b'_from": null' in part and _NULL_SENDER.search(part):  # (rare: copied only then; `in` is 10x faster)
                part = _NULL_SENDER.sub(rb'\1"hidden"', part)
            raw = _read_raw(part, indent)
            # (Desktop writes an "unsupported" message without them too: set aside as undated, below.)
            if (raw["text_entities"].is_null() & (raw["type"] != "unsupported").fill_null(True)).any():
                raise ValueError("messages without text_entities: an older export, read one by one")
            count = raw.height
        except Exception:
            messages, count = self._one_by_one(part, indent, aside)
            raw = self._framed(chat, messages, aside, derived)
        return _Block(self._frames(raw, chat, 0, aside), count, set_aside, derived)

    def _one_by_one(self, part: bytes, indent: bytes, set_aside: SetAside) -> tuple[list[tuple[int, object]], int]:
        """The block's messages parsed one at a time, numbered from 0, and how many there were: a
        broken one is set aside, its neighbours kept."""
        unfinished = part.startswith(b"!")  # what the file held after its last whole message
        pieces = split_objects(part.removeprefix(b"!"), indent)
        messages = []
        for i, text in enumerate(pieces):
            try:
                if unfinished and i == len(pieces) - 1:
                    raise ValueError("the file ends inside a message (an unfinished export?)")
                messages.append((i, orjson.loads(text)))
            except ValueError as e:
                reason = f"not valid JSON: {e}" if isinstance(e, orjson.JSONDecodeError) else str(e)
                set_aside(i, reason, text[:4000].decode("utf-8", "backslashreplace"))
        return messages, len(pieces)

    def _frames(self, raw: pl.DataFrame, chat: Chat, first: int, set_aside: SetAside):
        """Canonical frames of a stretch of a chat's messages. An id given twice in it (a damaged or
        doubled export) would make two rows of one message: the second copy is set aside. (Ids
        given in an earlier stretch are set aside in order, by `_emit`.)"""
        if "position" not in raw.columns:
            raw = raw.with_columns(position=pl.int_range(raw.height, dtype=pl.Int64) + first)
        again = raw["id"].is_not_null() & ~raw["id"].is_first_distinct()
        if again.any():
            for position, message_id in raw.filter(again).select("position", "id").iter_rows():
                set_aside(position, f"a second message with the id {message_id}", {"id": message_id})
            raw = raw.filter(~again)
        return frames(raw, chat, self.options.community, self.options.tz, first)

    def _ijson(self, stream: BinaryIO) -> Iterator[tuple[Chat, Iterator]]:
        """Any layout, one message at a time: for files Telegram Desktop did not lay out itself."""
        events = _events(stream, self.path)
        meta: dict = {}
        for prefix, event, value in events:
            if prefix.endswith("messages") and event == "start_array":
                chat = Chat.of(meta, self._fallback_name())
                meta = {}
                yield chat, self._ijson_messages(chat, events, prefix + ".item")
            elif event in ("string", "number") and prefix.rsplit(".", 1)[-1] in ("name", "type", "id") \
                    and "messages" not in prefix:
                meta[prefix.rsplit(".", 1)[-1]] = value

    def _ijson_messages(self, chat: Chat, events, item_prefix: str) -> Iterator:
        batch, first = [], 1  # parsed messages, and the number of the first
        aside, derived = self._set_aside(chat), {}  # (read in order: derived ids rank on across batches)
        builder, depth = None, 0
        for prefix, event, value in events:
            if builder is None:
                if event == "end_array" and prefix == item_prefix[:-5]:
                    break
                builder, depth = ijson.ObjectBuilder(), 0
            builder.event(event, value)
            depth += event in ("start_map", "start_array")
            depth -= event in ("end_map", "end_array")
            if depth == 0:
                batch.append(builder.value)
                builder = None
                if len(batch) >= 50_000:
                    raw = self._framed(chat, list(enumerate(batch, first)), aside, derived)
                    yield self._frames(raw, chat, first, aside)
                    first += len(batch)
                    batch = []
        if batch:
            yield self._frames(self._framed(chat, list(enumerate(batch, first)), aside, derived), chat, first, aside)

    def _fallback_name(self) -> str:
        return self.options.channel or readable_name(self.path.stem)


def _events(stream: BinaryIO, path: Path) -> Iterator[tuple[str, str, object]]:
    """`ijson.parse`'s (prefix, event, value), for a document nested at most MAX_DEPTH levels deep;
    UnreadableExport for one nested deeper or not valid JSON.

    Not `ijson.parse` itself: it holds the prefix of every open level, each as long as the path to
    it, so the memory grows with the square of the depth (100,000 nested `[`, 200 KB, would take
    some 25 GB). Here the depth is bounded before any prefix is built.
    """
    levels: list[tuple[str, bool]] = []  # prefix of each open container, and whether it is an array
    prefix = ""  # of the next value
    try:
        for event, value in ijson.basic_parse(stream, use_float=True):
            if event in ("end_map", "end_array"):
                yield levels.pop()[0], event, None
                if levels and levels[-1][1]:
                    prefix = _item(levels[-1][0])
            elif event == "map_key":
                yield levels[-1][0], event, value
                prefix = f"{levels[-1][0]}.{value}" if levels[-1][0] else value
            else:
                if event in ("start_map", "start_array"):
                    if len(levels) >= MAX_DEPTH:
                        raise UnreadableExport(path, f"JSON nested more than {MAX_DEPTH} levels deep, which no "
                                                     "Telegram export is", _EXPORT_AGAIN)
                    levels.append((prefix, event == "start_array"))
                yield prefix, event, value
                if event == "start_array":
                    prefix = _item(prefix)
    except ijson.JSONError as e:
        problem = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UnreadableExport(path, f"not valid JSON ({problem})", _EXPORT_AGAIN) from None


def _item(prefix: str) -> str:
    return f"{prefix}.item" if prefix else "item"


def _chats_in(data: object, fallback: str) -> Iterator[tuple[dict, list]]:
    """(chat metadata, messages) of each chat in a parsed export, whatever its shape."""
    if isinstance(data, list):  # Telethon-style dump: [{"message.id", "sender_id", "date", ...}]
        yield {"name": fallback}, [_from_telethon(m) if isinstance(m, dict) else m for m in data]
        return
    if not isinstance(data, dict):
        return
    if isinstance(data.get("messages"), list):
        yield data, data["messages"]
    for key in ("chats", "left_chats"):
        chats = data[key].get("list") if isinstance(data.get(key), dict) else None
        for chat in chats if isinstance(chats, list) else []:
            if isinstance(chat, dict) and isinstance(chat.get("messages"), list):
                yield chat, chat["messages"]


def _from_telethon(m: dict) -> dict:
    sender = m.get("sender_id")
    # Telethon's ids are integers, channels' negative; anything else names no one.
    sender = str(sender) if isinstance(sender, (int, str)) and not isinstance(sender, bool) else ""
    peer = None if not re.fullmatch(r"-?\d+", sender) else (
        f"channel{sender.removeprefix('-100').lstrip('-')}" if sender.startswith("-") else f"user{sender}")
    date = m.get("date")
    unix = None
    if isinstance(date, str):
        try:
            unix = str(int(dt.datetime.fromisoformat(date).timestamp()))
        except (ValueError, OverflowError):  # not a date, or one at the ends of the calendar
            pass
    return {"id": m.get("message.id"), "type": "message", "date": date, "date_unixtime": unix, "from_id": peer,
            "text": m.get("text"), "reply_to_message_id": m.get("reply_to_id") if m.get("is_reply") else None}


def _pretty(head: bytes) -> bool:
    """Laid out as Telegram Desktop does: the first message starts on a line of its own."""
    found = _MESSAGES.search(head)
    return found is None or re.match(rb"[ \t]*(\]|\r?\n[ \t]*[{\]])", head[found.end():]) is not None


def _pretty_blocks(stream: BinaryIO) -> Iterator[tuple[str, object]]:
    """("chat", metadata) then ("block", bytes of whole messages) for each messages array.

    A block is the text of consecutive message objects, commas included, without the brackets.
    A final block starting with "!" is what followed the last whole message of an unfinished file.
    """
    buf, done = b"", False

    def more() -> None:
        nonlocal buf, done
        data = stream.read(BLOCK_BYTES)
        done = not data
        buf += data

    outside, account = b"", False
    while True:
        found = _MESSAGES.search(buf)
        if found is None:
            if done:
                return
            keep = max(0, len(buf) - 64)  # "messages": [ may straddle two reads
            outside, buf = (outside + buf[:keep])[-(1 << 20):], buf[keep:]
            more()
            continue
        before = outside + buf[:found.start()]
        # Chats in a list (an account export): the next chat's messages may follow in the same read.
        account = account or _CHAT_LIST.search(before) is not None
        yield "chat", _chat_meta(before)
        outside, buf = b"", buf[found.end():]
        while not done and len(buf.lstrip()) == 0:
            more()
        rest = buf.lstrip(b" \t\r\n")
        if rest.startswith(b"]"):
            buf = rest[1:]
            continue
        newline = buf.rfind(b"\n", 0, len(buf) - len(rest))
        indent = buf[newline + 1:len(buf) - len(rest)]
        blocks = pretty_array_blocks(rest, stream, indent, BLOCK_BYTES, boundary=b'"messages"' if account else None)
        while True:
            try:
                yield "block", (next(blocks), indent)
            except StopIteration as stop:
                buf, finished = stop.value
                break
        if not finished:
            if buf.strip():
                yield "block", (b"!" + buf, indent)
            return


def _grouped(blocks: Iterator[tuple[str, object]]) -> Iterator[tuple[dict, Iterator[bytes]]]:
    """The flat ("chat" | "block") sequence as (metadata, blocks of that chat)."""
    pending: list = []

    def chat_blocks() -> Iterator[bytes]:
        for kind, value in blocks:
            if kind == "chat":
                pending.append(value)
                return
            yield value

    meta = None
    for kind, value in blocks:
        if kind == "chat":
            meta = value
            break
    while meta is not None:
        parts = chat_blocks()
        yield meta, parts
        for _ in parts:  # a consumer that stopped early: skip to the next chat
            pass
        meta = pending.pop() if pending else None


def _chat_meta(outside: bytes) -> dict:
    """name, type and id of the chat whose messages start after `outside` (written before them)."""
    starts = list(_OBJECT_START.finditer(outside))
    own = outside[starts[-1].end():] if starts else outside
    meta = {}
    for key, pattern in _META.items():
        found = list(pattern.finditer(own))
        if found:
            try:
                meta[key] = orjson.loads(found[-1].group(1))
            except orjson.JSONDecodeError:  # a damaged value (a bad escape): the chat goes without it
                pass
    return meta


def _without(f, message_ids: pl.Series):
    """The frames without these messages and what hangs off them (reactions, mentions, links, events)."""
    keep = ~pl.col("message_id").is_in(message_ids.implode())
    return replace(f, messages=f.messages.filter(keep), reactions=f.reactions.filter(keep),
                   mentions=f.mentions.filter(keep), links=f.links.filter(keep), events=f.events.filter(keep))


def _read_raw(part: bytes | bytearray, indent: bytes) -> pl.DataFrame:
    """A block's messages as one RAW frame, parsed PARSE_BYTES or so at a time."""
    # (One copy of each run's text, not two: join takes the view.)
    frames = [pl.read_json(b"".join((b"[", run, b"]")), schema=RAW) for run in object_runs(part, indent, PARSE_BYTES)]
    return frames[0] if len(frames) == 1 else pl.concat(frames)


@dataclass
class _Block:
    """A block's frames, its messages numbered from 0; how many messages it held, set-aside ones
    included; and what was set aside (number, why, the message)."""

    frames: Frames
    count: int
    set_aside: list[tuple[int, str, object]]
    derived: dict[str, int]  # digest -> messages given an id derived from it, ranked from 1 in the block


def _renamed(f: Frames, ids: dict[str, str]) -> Frames:
    """The frames with these message ids changed, wherever a message id is."""
    def change(column: str) -> pl.Expr:
        return pl.col(column).replace(ids)

    events = f.events.with_columns(event_id=change("message_id") + pl.col("event_id").str.extract(r"(#\d+)$"),
                                   message_id=change("message_id"))
    return replace(f, messages=f.messages.with_columns(change("message_id")),
                   reactions=f.reactions.with_columns(change("message_id")),
                   mentions=f.mentions.with_columns(change("message_id")),
                   links=f.links.with_columns(change("message_id")), events=events)


class _Tail:
    """A stream that remembers the last bytes read from it (whether a document ended whole)."""

    def __init__(self, stream) -> None:
        self.stream, self.last = stream, b""

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        if data:
            self.last = (self.last + data[-64:])[-64:]  # (not a copy of the whole read)
        return data

    def readinto(self, b) -> int:
        got = self.stream.readinto(b)
        if got:
            self.last = (self.last + bytes(b[max(0, got - 64):got]))[-64:]
        return got


class _Prepend(io.RawIOBase):
    """A stream with some bytes already read put back in front."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self.head, self.stream = head, stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.head:
            data, self.head = (self.head, b"") if size < 0 or size >= len(self.head) else \
                (self.head[:size], self.head[size:])
            return data
        return self.stream.read(size)

    def readinto(self, b) -> int:
        if not self.head:
            return self.stream.readinto(b)
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)
