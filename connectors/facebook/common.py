"""What the Facebook readers share: mojibake repair, ids, and rows gathered into canonical batches.

**Mojibake.** "Download Your Information" JSON writes each string as the bytes of its UTF-8
encoding, every byte escaped as a code point `\\u00XX`: "é" arrives as "Ã©". Every kind of
Facebook file goes through the same repair (`connectors/mojibake.py`; Graph API pages are proper
UTF-8 and pass unchanged).

**Ids.** Readers work with native ids (`thread:<folder>`, `group:<id>`, `group:name:<name>`,
`name:<name>`, a Graph user id); `Part.batches` puts `facebook:<community>:` in front of all of
them, so everything is scoped by community. Derived ids are the first 16 hex digits of a SHA-256
of what identifies the record, with `.2`, `.3` … for identical records (`ranked`).

**Accounts.** "Download Your Information" files give people's names, never ids, so such an
account is a name within a community: `facebook:<community>:name:<name>` (as WhatsApp's are). The
same name in two threads or groups of one community is one account; two people of the same name
are one account too, until identity resolution splits or joins them. Graph API pages give user
ids: those accounts are `facebook:<community>:<user id>`, named by `from.name`. A Graph account and
a DYI account of the same person are therefore two accounts.

**Reactions** are stored as emoji. Facebook's reaction types (Graph API `type`, DYI `reaction`)
become the emoji Messenger itself writes for them (`REACTION_EMOJI`), so that a 👍 counts the same
whatever the dump; a type not in the table is kept as written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import orjson
import polars as pl

from connectors.files import quarantine_record
from connectors.mojibake import repair
from hub.model import Batch, Channel

PLATFORM = "facebook"
_ARROW = pl.CompatLevel.oldest()
REACTION_EMOJI = {"LIKE": "👍", "LOVE": "❤", "HAHA": "😆", "WOW": "😮", "SAD": "😢", "ANGRY": "😠",
                  "ANGER": "😠", "CARE": "🥰", "THANKFUL": "🌸", "PRIDE": "🏳️‍🌈"}
_UTC = pl.Datetime("us", "UTC")


def emoji_of(reaction: str) -> str:
    return REACTION_EMOJI.get(reaction.upper(), reaction) if reaction.isascii() else reaction


def digest(*parts: object) -> str:
    return hashlib.sha256(orjson.dumps(parts)).hexdigest()[:16]


def ranked(keys: list[str]) -> list[str]:
    """Each key, with `.2`, `.3` … on its second, third … occurrence."""
    seen: dict[str, int] = {}
    out = []
    for key in keys:
        n = seen[key] = seen.get(key, 0) + 1
        out.append(key if n == 1 else f"{key}.{n}")
    return out


def name_id(name: str) -> str:
    """The native id of a person Facebook names but gives no id to (DYI files)."""
    return f"name:{name}"


# The years 1 to 9999, in epoch seconds: what Python's datetime, Polars and DuckDB all hold. A time
# outside would overflow on its way to microseconds, or fail the load.
FIRST_SECOND, LAST_SECOND = -62135596800, 253402300799


def as_int(value: object, *, ms: bool = False) -> int:
    """A timestamp field in seconds (`ms`: milliseconds): ints and digit strings within the years
    1 to 9999; anything else is a bad record."""
    if isinstance(value, bool) or value is None:
        raise ValueError("no timestamp")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 30:
        number = int(value)
    else:
        raise ValueError(f"unreadable timestamp {str(value)[:40]!r}")
    scale = 1000 if ms else 1
    if not FIRST_SECOND * scale <= number <= LAST_SECOND * scale:
        raise ValueError(f"a timestamp outside the years 1 to 9999: {str(number)[:40]}")
    return number


def listed(value: object, where: str) -> list:
    """A field that must be a list (absent is empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where} is a {type(value).__name__}, not a list")
    return value


def bad(location: str, reason: str, raw: object) -> dict:
    """A quarantine record; the strings of a parsed record are repaired like everything else."""
    if not isinstance(raw, str):
        try:
            raw = _repaired(raw)
        except RecursionError:  # nested deeper than Python goes
            raw = "(a value nested too deep to show)"
    return quarantine_record(location, reason, raw)


def _repaired(value: object) -> object:
    if isinstance(value, str):
        return repair(value)
    if isinstance(value, list):
        return [_repaired(v) for v in value]
    if isinstance(value, dict):
        return {k: _repaired(v) for k, v in value.items()}
    return value


class Rows:
    """Rows of one stream, gathered column by column, or added as whole frames."""

    def __init__(self, schema: dict[str, pl.DataType]) -> None:
        self.schema = schema
        self.cols: dict[str, list] = {name: [] for name in schema}
        self.frames: list[pl.DataFrame] = []

    def add(self, *values: object) -> None:
        for column, value in zip(self.cols.values(), values, strict=True):
            column.append(value)

    def extend(self, frame: pl.DataFrame) -> None:
        """Rows already in a frame (its columns in this stream's order, cast to its types)."""
        self.frames.append(frame.select([pl.col(c).cast(t) for c, t in self.schema.items()]))

    def frame(self) -> pl.DataFrame:
        return pl.concat([*self.frames, pl.DataFrame(self.cols, schema=self.schema)])

    def __len__(self) -> int:
        return len(next(iter(self.cols.values()))) + sum(f.height for f in self.frames)


_S, _I, _B = pl.String, pl.Int64, pl.Boolean


@dataclass
class Part:
    """What one unit of an export (a thread, a member's group activity, a feed) holds, with native ids.

    `position` is the record's number in the source; rows that hang off a message carry its
    position, so that when a message appears twice (overlapping files) only the first copy and what
    hangs off it are kept.
    """

    channels: dict[str, tuple[str, str]] = field(default_factory=dict)  # native id -> (name, kind)
    messages: Rows = field(default_factory=lambda: Rows({
        "message_id": _S, "channel_id": _S, "author": _S, "author_name": _S, "sent_ms": _I, "kind": _S,
        "text": _S, "reply_to_id": _S, "thread_id": _S, "has_media": _B, "edited_ms": _I, "position": _I}))
    reactions: Rows = field(default_factory=lambda: Rows(
        {"position": _I, "message_id": _S, "reactor": _S, "emoji": _S}))
    links: Rows = field(default_factory=lambda: Rows({"position": _I, "message_id": _S, "url": _S}))
    mentions: Rows = field(default_factory=lambda: Rows({"position": _I, "message_id": _S, "account": _S}))
    events: Rows = field(default_factory=lambda: Rows({
        "position": _I, "event_id": _S, "channel_id": _S, "account": _S, "event": _S, "at_ms": _I,
        "actor": _S, "message_id": _S}))
    people: Rows = field(default_factory=lambda: Rows({"native": _S, "name": _S, "at_ms": _I}))
    quarantine: list[dict] = field(default_factory=list)

    def batches(self, community: str, seen: dict[str, pl.Series]) -> tuple[list[Batch], pl.DataFrame]:
        """The canonical batches (accounts aside) and the people seen: native, name, first, last.

        `seen` holds the message ids earlier parts of the source gave each channel (a thread can be
        split over places in a dump): they are not given again, and this part's are added."""
        p = f"{PLATFORM}:{community}:"
        out = []
        if self.channels:
            out.append(Batch.of("channels", [
                Channel(channel_id=p + native, platform=PLATFORM, community=community, name=name, kind=kind)
                for native, (name, kind) in self.channels.items()]))
        messages = self.messages.frame().unique("message_id", keep="first", maintain_order=True)
        earlier = [seen[c] for c in self.channels if c in seen]
        if earlier:
            messages = messages.filter(~pl.col("message_id").is_in(pl.concat(earlier).implode()))
        for (channel,), ids in messages.select("channel_id", "message_id").partition_by(
                "channel_id", as_dict=True).items():
            seen[channel] = pl.concat([seen[channel], ids["message_id"]]) if channel in seen else ids["message_id"]
        kept = messages["position"]

        def prefixed(column: str) -> pl.Expr:
            return pl.when(pl.col(column).is_not_null()).then(pl.lit(p) + pl.col(column))

        def ms(column: str) -> pl.Expr:
            return pl.from_epoch(column, time_unit="ms").dt.replace_time_zone("UTC").cast(_UTC)

        def own(rows: Rows) -> pl.DataFrame:  # rows of kept messages (or of no message)
            frame = rows.frame()
            return frame.filter(pl.col("position").is_null() | pl.col("position").is_in(kept.implode()))

        if messages.height:
            out.append(Batch.conform("messages", messages.select(
                message_id=prefixed("message_id"), channel_id=prefixed("channel_id"), author_id=prefixed("author"),
                author_name="author_name", sent_at=ms("sent_ms"), kind="kind", text="text",
                reply_to_id=prefixed("reply_to_id"), thread_id=prefixed("thread_id"), has_media="has_media",
                edited_at=ms("edited_ms"), position="position").to_arrow(compat_level=_ARROW)))
        reactions = own(self.reactions).unique(["message_id", "reactor", "emoji"], maintain_order=True)
        if reactions.height:
            out.append(Batch.conform("reactions", reactions.select(
                message_id=prefixed("message_id"), reactor_id=prefixed("reactor"), emoji="emoji",
                reacted_at=pl.lit(None, _UTC), count=pl.lit(1, _I)).to_arrow(compat_level=_ARROW)))
        for stream, rows, columns in (("links", self.links, {"url": pl.col("url")}),
                                      ("mentions", self.mentions, {"account_id": prefixed("account")})):
            frame = own(rows).select(message_id=prefixed("message_id"), **columns).unique(maintain_order=True)
            if frame.height:
                out.append(Batch.conform(stream, frame.to_arrow(compat_level=_ARROW)))
        events = own(self.events).unique("event_id", keep="first", maintain_order=True)
        if events.height:
            out.append(Batch.conform("membership_events", events.select(
                event_id=prefixed("event_id"), channel_id=prefixed("channel_id"), account_id=prefixed("account"),
                event="event", at=ms("at_ms"), actor_id=prefixed("actor"),
                message_id=prefixed("message_id")).to_arrow(compat_level=_ARROW)))
        people = self.people.frame().group_by("native").agg(
            name=pl.col("name").drop_nulls().last(), first=ms("at_ms").min(), last=ms("at_ms").max())
        return out, people


def accounts_batch(community: str, people: list[pl.DataFrame]) -> Batch | None:
    """One account per native id seen anywhere in the export."""
    if not people:
        return None
    merged = pl.concat(people).group_by("native").agg(
        name=pl.col("name").drop_nulls().last(), first=pl.col("first").min(), last=pl.col("last").max())
    if not merged.height:
        return None
    return Batch.conform("accounts", merged.sort("native").select(
        account_id=pl.lit(f"{PLATFORM}:{community}:") + pl.col("native"), platform=pl.lit(PLATFORM),
        community=pl.lit(community), native_id="native", display_name="name", is_bot=pl.lit(False),
        first_seen_at="first", last_seen_at="last").to_arrow(compat_level=_ARROW))


