"""A DiscordChatExporter (DCE) JSON export of one channel, read into canonical batches; memory stays
bounded whatever the file's size.

Input: the `.json` file DCE writes for a server channel, a thread, a voice channel's chat, a DM or a
group DM (`--format Json`): `{guild: {id, name, iconUrl}, channel: {id, type, categoryId, category,
name, topic}, dateRange, exportedAt, messages: [...], messageCount}`. With `--partition`, DCE splits
a channel into `name [id].json`, `name [id] [part 2].json`, ...: each file is an export of its own,
and since ids are Discord's the parts land in one channel. A folder of DCE files is a folder of
exports (one per channel), so it is not a folder export.

Streaming: DCE writes with .NET's indented JSON writer, two spaces a level, so every message object
starts and ends at the same indentation. A JSON string cannot hold a raw newline, so
`\\n<indent>},` only ever ends a message. Blocks of about `BLOCK_BYTES` of messages are cut there
and parsed by Polars with an explicit schema (`messages.RAW`). A block Polars refuses is read
message by message: a broken message goes to quarantine, its neighbours load. A file that ends
inside the array (an interrupted export) loads up to its last whole message and says where it
ends. A file laid out otherwise (minified by another tool) is parsed whole.

Text: DCE escapes characters beyond the Basic Multilingual Plane as UTF-16 surrogate pairs
(`\\uD83D\\uDCAF`) and writes the others literally (`❤️`); the JSON parser joins the pairs, so both
are the same emoji. A lone surrogate escape (half a character) would come out of Polars as NUL: it
becomes U+FFFD before parsing and is counted in the summary.

`messageCount` is not trusted: DCE can write a count that disagrees with the array. Only the array
counts; the summary keeps both.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson
import polars as pl

from connectors.discord.messages import PLATFORM, RAW, Conversation, People, batches_of, edit_time_unread, frames
from connectors.files import (CHUNK_BYTES, UnreadableExport, pretty_array_blocks, quarantine_batch, quarantine_record,
                              split_objects)
from connectors.frames import SeenIds, detached
from hub.model import Batch

BLOCK_BYTES = CHUNK_BYTES  # messages parsed at once: ~5,000 DCE messages
_BOM = b"\xef\xbb\xbf"
_MESSAGES = re.compile(rb'"messages"\s*:\s*\[')
_GUILD = re.compile(rb'"guild"\s*:\s*\{')
_FIRST_KEY_GUILD = re.compile(rb'\{\s*"guild"\s*:\s*\{')
_CHANNEL = re.compile(rb'"channel"\s*:\s*\{')
_CHANNEL_TYPE = re.compile(rb'"type"\s*:\s*"(?:Guild|Direct)[A-Za-z]*"')
_MESSAGE_COUNT = re.compile(rb'"messageCount"\s*:\s*(\d+)')
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")  # half of a UTF-16 pair, escaped
_ADVICE = "export the channel again with DiscordChatExporter (--format Json) and pass the .json file"


@dataclass
class Options:
    community: str = "default"
    channel: str | None = None  # replaces the channel's name
    tz: str = "UTC"  # not used: DCE times carry their offset


@dataclass
class Summary:
    messages: int = 0  # read, system messages included
    system: int = 0
    quarantined: int = 0
    entries: int = 0  # objects in the messages array, quarantined ones included
    message_count: int | None = None  # what the file's `messageCount` says (not trusted)
    repaired_surrogates: int = 0
    unfinished: bool = False  # the file ends inside its messages array
    layout: str = ""  # pretty | whole

    @property
    def count_disagrees(self) -> bool:
        return self.message_count is not None and self.message_count != self.entries


def looks_like_dce(head: bytes) -> bool:
    """The start of a DCE JSON export: an object whose first key is `guild` (as DCE writes it, so that a
    file cut short is still recognised and reported), or with a `guild` and a Discord `channel`."""
    head = head.lstrip(_BOM + b" \t\r\n")
    if _FIRST_KEY_GUILD.match(head):
        return True
    return (head.startswith(b"{") and _GUILD.search(head) is not None and _CHANNEL.search(head) is not None
            and (_CHANNEL_TYPE.search(head) is not None or _MESSAGES.search(head) is not None))


def sniff(path: Path) -> bool:
    """A DCE JSON export, judged from the start of the file (DCE writes no zips or folders)."""
    if not path.is_file():
        return False
    try:
        with open(path, "rb") as f:
            return looks_like_dce(f.read(65536))
    except OSError:
        return False


@dataclass
class _Block:
    """Consecutive message objects of the array: their JSON text, commas between them included."""

    text: bytes
    first: int  # position (1-based) of its first message in the array
    count: int
    pieces: Callable[[], list[bytes]]  # the objects one by one, for a block Polars refuses


class ExportReader:
    platform = PLATFORM
    lists_all_reactions = True  # each message with all its reactions (warehouse.load.SourceFile)

    def __init__(self, path: str | Path, options: Options | None = None, *,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.path = Path(path)
        self.options = options or Options()
        if not self.path.is_file():
            raise UnreadableExport(self.path, "no such file", "check the path")
        if not sniff(self.path):
            raise UnreadableExport(self.path, "not a DiscordChatExporter JSON export (no guild, channel and "
                                   "messages)", _ADVICE)
        self.summary = Summary()
        self._progress = progress
        self._whole: dict | None = None  # the parsed document, when the layout is not DCE's
        with open(self.path, "rb") as f:
            header, _ = self._open(f)
        self.conversation = Conversation.of(header, self.options.channel)
        self.channel_name = self.conversation.name
        self.channel_id = f"{PLATFORM}:{self.options.community}:{self.conversation.native_id}"
        self._quarantine: list[dict] = []
        self._people = People(self.options.community)
        self._events: list[pl.DataFrame] = []
        self._ids = SeenIds()

    # -- the batches ------------------------------------------------------------------------------

    def batches(self) -> Iterator[Batch]:
        yield self.conversation.batch(self.options.community)
        with open(self.path, "rb") as f:
            _, blocks = self._open(f)
            size = self.path.stat().st_size
            for block in blocks:
                yield from self._emit(block)
                if self._progress:
                    self._progress(min(f.tell(), size), size)
        if (accounts := self._people.accounts()) is not None:
            yield accounts
        if self._events:
            events = pl.concat(self._events)
            yield Batch.conform("membership_events", events.to_arrow(compat_level=pl.CompatLevel.oldest()))
        if self._quarantine:
            self.summary.quarantined += len(self._quarantine)
            yield quarantine_batch(self._quarantine)

    def _emit(self, block: _Block) -> Iterator[Batch]:
        self.summary.entries += block.count
        raw = self._parsed(block)
        again = self._ids.repeated(raw["id"], order=raw["id"].cast(pl.UInt64, strict=False))
        for row in raw.filter(again).iter_rows(named=True):  # (the copy whole: it may differ from the first)
            self._bad(row.pop("position"), f"a second message with id {row['id']} in this file", row)
        raw = raw.filter(~again)
        unread = raw.filter(pl.col("timestampEdited").is_not_null() & edit_time_unread())
        for position, edited in unread.select("position", "timestampEdited").iter_rows():
            self._bad(position, f"an edit time that cannot be read ({edited[:40]!r}): the message is kept "
                                "without it", {"timestampEdited": edited})
        f = frames(raw, self.conversation, self.options.community)
        for position, message_id in f.bad.iter_rows():
            row = raw.filter(pl.col("position") == position).drop("position").row(0, named=True)
            self._bad(position, f"a message without {'an id' if message_id is None else 'a readable timestamp'}",
                      row)
        self.summary.messages += f.messages.height
        self.summary.system += int((f.messages["kind"] == "system").sum())
        self._people.add(f.people)
        if not f.events.is_empty():
            self._events.append(detached(f.events))
        yield from batches_of(f)

    def _parsed(self, block: _Block) -> pl.DataFrame:
        """The block's messages in the RAW schema, with their position; a block Polars refuses is read
        message by message, and the messages that cannot be read are set aside."""
        text = self._repaired(block.text)
        try:
            raw = pl.read_json(io.BytesIO(b"".join((b"[", text, b"]"))), schema=RAW)  # (one copy of the block, not two)
            if raw.height != block.count:
                raise ValueError("the block was not cut between messages")
            return raw.with_columns(position=pl.int_range(raw.height, dtype=pl.Int64) + block.first)
        except (pl.exceptions.PolarsError, ValueError):
            pass
        good, positions = [], []
        for i, piece in enumerate(block.pieces()):
            position = block.first + i
            piece = repair_lone_surrogates(piece)[0]  # counted with the block
            try:
                if not isinstance(orjson.loads(piece), dict):
                    raise ValueError("not a JSON object")
                good.append(pl.read_json(io.BytesIO(b"[" + piece + b"]"), schema=RAW))
                positions.append(position)
            except orjson.JSONDecodeError as e:
                self._bad(position, f"not valid JSON: {e}", piece)
            except (pl.exceptions.PolarsError, ValueError) as e:
                self._bad(position, f"a message of an unexpected shape: {str(e).splitlines()[0]}", piece)
        raw = pl.concat(good) if good else pl.DataFrame(schema=RAW)
        return raw.with_columns(position=pl.Series(positions, dtype=pl.Int64))

    def _repaired(self, text: bytes) -> bytes:
        text, repaired = repair_lone_surrogates(text)
        self.summary.repaired_surrogates += repaired
        return text

    def _bad(self, position: int, reason: str, raw: object) -> None:
        self._quarantine.append(quarantine_record(f"message #{position}", reason, raw))

    # -- reading the file -------------------------------------------------------------------------

    def _open(self, stream: BinaryIO) -> tuple[dict, Iterator[_Block]]:
        """The export's header (everything but the messages) and its messages in blocks."""
        buf, eof = b"", False
        while not eof and ((found := _MESSAGES.search(buf)) is None or not buf[found.end():].strip()):
            data = stream.read(BLOCK_BYTES)  # up to the messages array, and into it
            eof = not data
            buf += data
        header = _header(buf[:found.start()]) if found is not None else None
        rest = buf[found.end():] if found is not None else b""
        indent = re.match(rb"[ \t]*\r?\n([ \t]*)\{", rest) if rest.lstrip(b" \t\r\n") else None
        complete = found is not None and (indent is not None or rest.lstrip(b" \t\r\n").startswith(b"]"))
        if header is None or not complete:
            return self._parsed_whole(buf + stream.read())
        self.summary.layout = "pretty"
        if indent is None:  # an empty array
            self._tail(rest.lstrip(b" \t\r\n")[1:])
            return header, iter(())
        return header, self._pretty_blocks(rest[indent.end() - 1:], stream, indent.group(1))

    def _parsed_whole(self, raw: bytes) -> tuple[dict, Iterator[_Block]]:
        """A document DCE did not lay out (or a damaged one): parsed at once."""
        self.summary.layout = "whole"
        if self._whole is None:
            try:
                data = orjson.loads(self._repaired(raw.removeprefix(_BOM)))
            except orjson.JSONDecodeError as e:
                problem = "the file ends before its messages" if _MESSAGES.search(raw) is None else "not valid JSON"
                raise UnreadableExport(self.path, f"{problem} ({e}): a damaged or unfinished export", _ADVICE) from None
            if not isinstance(data, dict) or not isinstance(data.get("messages"), list) \
                    or not isinstance(data.get("channel"), dict) or data["channel"].get("id") is None:
                raise UnreadableExport(self.path, "a JSON file without a channel and its messages", _ADVICE)
            self._whole = data
        data = self._whole
        messages = data["messages"]
        if isinstance(data.get("messageCount"), int):
            self.summary.message_count = data["messageCount"]
        header = {k: v for k, v in data.items() if k != "messages"}
        block = _Block(orjson.dumps(messages)[1:-1], 1, len(messages), lambda: [orjson.dumps(m) for m in messages])
        return header, iter([block] if messages else [])

    def _pretty_blocks(self, buf: bytes, stream: BinaryIO, indent: bytes) -> Iterator[_Block]:
        """Blocks cut after whole messages, `buf` starting at the first message's `{`."""
        first, blocks = 1, pretty_array_blocks(buf, stream, indent, BLOCK_BYTES)
        while True:
            try:
                text = next(blocks)
            except StopIteration as stop:
                rest, finished = stop.value
                break
            count = text.count(b"\n" + indent + b"},") + 1
            yield _Block(text, first, count, lambda text=text: split_objects(text, indent))
            first += count
        if finished:
            self._tail(rest + stream.read(1 << 20))
        else:
            yield from self._unfinished(rest.strip(), first)

    def _unfinished(self, rest: bytes, position: int) -> Iterator[_Block]:
        """What follows the last separator of a file that ends inside its messages array."""
        self.summary.unfinished = True
        if rest:
            try:
                orjson.loads(self._repaired(rest))
            except orjson.JSONDecodeError:
                self.summary.entries += 1
                self._bad(position, "the file ends inside this message: an unfinished or cut export", rest)
                return
            yield _Block(rest, position, 1, lambda: [rest])
            position += 1
        self._quarantine.append({"location": f"after message #{position - 1}", "raw": None,
                                 "reason": "the file ends before its messages array closes: an unfinished or "
                                           "cut export, the messages after this one are missing"})

    def _tail(self, tail: bytes) -> None:
        if found := _MESSAGE_COUNT.search(tail):
            self.summary.message_count = int(found.group(1))


def _header(head: bytes) -> dict | None:
    """The fields written before `"messages": [` (guild, channel, dateRange, exportedAt), if they
    name a channel."""
    try:
        header = orjson.loads(head.removeprefix(_BOM).rstrip().rstrip(b",") + b"}")
    except orjson.JSONDecodeError:
        return None
    channel = header.get("channel") if isinstance(header, dict) else None
    return header if isinstance(channel, dict) and channel.get("id") is not None else None


def repair_lone_surrogates(text: bytes) -> tuple[bytes, int]:
    """JSON text with every escaped lone surrogate (a high half not followed by a low one, or a low
    half alone) replaced by U+FFFD, and how many there were. Pairs are left to the parser."""
    halves = [(m.start(), m.group()[3] in b"89abAB") for m in _SURROGATE.finditer(text)]
    lone, i = [], 0
    while i < len(halves):
        start, high = halves[i]
        if high and i + 1 < len(halves) and halves[i + 1] == (start + 6, False):
            i += 2
            continue
        before = start
        while before and text[before - 1] == 0x5C:  # backslashes before it
            before -= 1
        if (start - before) % 2 == 0:  # after an odd number of backslashes it is text, not an escape
            lone.append(start)
        i += 1
    if not lone:
        return text, 0
    parts, previous = [], 0
    for start in lone:
        parts += [text[previous:start], b"\\uFFFD"]
        previous = start + 6
    return b"".join(parts + [text[previous:]]), len(lone)


