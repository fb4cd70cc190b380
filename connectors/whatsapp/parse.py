"""A WhatsApp chat export, read into canonical batches.

The file streams through in chunks of lines; each chunk is parsed column-wise with Polars (one
regex pass finds the message headers, continuation lines are folded into their message), so
nothing is done per message in Python. Locale work (date order, clocks, digits) runs on the
distinct date and time strings only (`header.py`).

Message ids. WhatsApp has none, so an id is derived from what the export shows and a later,
overlapping export of the same chat shows again: the chat, the local time as written, the author,
and the message's rank among that author's messages at that same time (so that two identical
messages sent in the same minute are two messages). The text is deliberately not part of it: a
message deleted or edited between two exports keeps its id.

The day/month order (and whether two-digit years are Buddhist-era) is inferred once per file
from all its dates and the locale of its 12 h clocks. The reader decides it from the first chunk
and checks it against the whole file at the end; in the rare file where the rest disagrees it
raises DateOrderChanged and the caller reads the file again with the final order.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa

from connectors.files import CHUNK_BYTES, LineChunk, UnreadableExport, read_line_chunks, refused_records
from connectors.links import links_in
from connectors.whatsapp import header as hdr
from connectors.whatsapp.phrases import (MEDIA, SYSTEM_TEXT, SYSTEM_TEXT_AFTER_NAME, YOU, clean_name, is_group_event,
                                         membership_events)
from connectors.whatsapp.source import ChatFile, chat_name_from, locate
from hub.config import check_timezone
from hub.identity import phone_of
from hub.model import Account, Batch, Channel, arrow_schema

PLATFORM = "whatsapp"
_LEADING_MARKS = "\u200e\u200f\ufeff"
# A candidate author before the first ":" longer than this is a sentence, not a name.
_MAX_NAME = 120
_ARROW = pl.CompatLevel.oldest()  # plain large_string columns, as the canonical schema has them
_IOS_MARK = ": \u200e"  # what iOS writes between a name and WhatsApp's own words
_WHATSAPP_WORDS = re.compile(f"{SYSTEM_TEXT}|{SYSTEM_TEXT_AFTER_NAME}")
_NO_QUARANTINE = pl.DataFrame(schema={"location": pl.String, "reason": pl.String, "raw": pl.String})
_SYSTEM_AUTHOR = (
    " changed the subject", " changed this group", " changed the group", " created group",
    " hat den Betreff", " cambió el asunto", " mudou o assunto", " ha cambiato l'oggetto",
    " a modifié le sujet", " a changé le sujet", " изменил(-а) тему", " изменил тему", " изменила тему",
    " hat die Gruppe „", ' hat die Gruppe "', " hast die Gruppe „", ' hast die Gruppe "',  # „Name: …“ erstellt
)


def _says_what_happened(text: str) -> bool:
    """WhatsApp's own words about the group. What stands before the first ":" of an Android line
    is no name when it says them (a group named "Reunión: martes" created, "добавил(-а)
    участников: Bo"), or when it runs over lines (a continuation line with a clock in it)."""
    return "\n" in text or any(p in text for p in _SYSTEM_AUTHOR) or is_group_event(text)


@dataclass
class Options:
    community: str = "default"
    channel: str | None = None  # overrides the chat name taken from the file name
    tz: str = "UTC"  # where the phone was: the export has no time zone
    date_order: str | None = None  # DMY, MDY or YMD; inferred when None
    # Where the file was found, when the path read is its copy in the raw store (in a folder named
    # by its hash): a lone `_chat.txt` is named by the folder it was found in.
    origin: Path | None = None


class DateOrderChanged(Exception):
    """The whole file reads better with another day/month order than its first chunk suggested."""

    def __init__(self, order: str) -> None:
        super().__init__(f"date order re-inferred as {order}")
        self.order = order


@dataclass
class Summary:
    lines: int = 0
    messages: int = 0
    quarantined: int = 0
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None
    date_order: str | None = None
    has_seconds: bool = False
    authors: set[str] = field(default_factory=set)
    group_events: int = 0


@dataclass
class _State:
    """What a file's chunks share: dates and times seen, counters, accounts, held-back lines."""

    order: str | None
    dates: dict[str, hdr.DateParts | None] = field(default_factory=dict)
    date_counts: dict[str, int] = field(default_factory=dict)
    times: dict[str, int | None] = field(default_factory=dict)
    occurrences: pl.DataFrame | None = None
    hints: Counter = field(default_factory=Counter)  # date orders the times' day periods suggest
    accounts: dict[str, list[dt.datetime]] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)
    held: LineChunk | None = None
    headers: int = 0  # message lines found, readable or not


class ExportReader:
    """Reads one chat export; iterate `batches()`, then `summary` says what was in it."""

    platform = PLATFORM

    def __init__(self, path: str | Path, options: Options | None = None, *, chunk_bytes: int = CHUNK_BYTES,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.options = options or Options()
        check_timezone(self.options.tz)
        self.chat: ChatFile = locate(Path(path))
        found_as = self.options.origin if self.options.origin and self.chat.member is None else None
        self.channel_name = self.options.channel or (chat_name_from(found_as) if found_as else self.chat.chat_name)
        self.channel_id = f"{PLATFORM}:{self.options.community}:{self.channel_name}"
        self.summary = Summary()
        self._chunk_bytes = chunk_bytes
        self._progress = progress

    def account_id(self, name: str) -> str:
        return f"{PLATFORM}:{self.options.community}:{name}"

    def batches(self) -> Iterator[Batch]:
        if self.chat.refused:  # entries of the zip that were not read (a link, a path leading outside …)
            refused = pl.DataFrame(refused_records(self.chat.refused), schema=_NO_QUARANTINE.schema)
            self.summary.quarantined += refused.height
            yield Batch.conform("quarantine", refused.to_arrow(compat_level=_ARROW))
        state = _State(order=self.options.date_order)
        with self.chat.open() as stream:
            for chunk in read_line_chunks(stream, self._chunk_bytes):
                self.summary.lines += len(chunk.lines)
                yield from self._parse(_prepend(state.held, chunk), state, last=chunk.last)
                if self._progress:
                    self._progress(chunk.bytes_done, self.chat.size)
        if state.held is not None:
            yield from self._parse(state.held, state, last=True)
        if not state.headers:  # (the load is rolled back, as for any error)
            raise UnreadableExport(self.chat.path, "not a chat export this hub can read (no WhatsApp message lines)",
                                   "check that it is the .txt or .zip that WhatsApp's Export chat wrote")
        final = _reading(state)
        if self.options.date_order is None and state.order is not None and final != state.order:
            raise DateOrderChanged(final)
        self.summary.date_order = state.order
        yield from self._finish(state)

    # -- one chunk -------------------------------------------------------------------------

    def _parse(self, chunk: LineChunk, state: _State, *, last: bool) -> Iterator[Batch]:
        lines = chunk.lines.rename("line").to_frame().with_row_index("row")
        lines = _mark_starts(lines, chunk.bad)
        if not last:
            lines, state.held = _hold_back_last_message(lines, chunk)
            if lines.is_empty():
                return
        else:
            state.held = None
        lines = lines.with_columns(line_no=pl.col("row").cast(pl.Int64) + chunk.first_line,
                                   grp=pl.col("start").cast(pl.Int64).cum_sum() - 1)
        lines = lines.with_columns(owner=pl.when("owns").then("grp").forward_fill().fill_null(-1))
        state.headers += lines["owns"].sum()
        heads = _fold_continuations(lines)
        quarantine = [_orphans(lines)]
        # Filters copy every column, so they run only when something is to be set aside.
        if heads["bad"].any():
            quarantine.append(_bad_lines(heads.filter(pl.col("bad"))))
            heads = heads.filter(~pl.col("bad"))
        if not heads.is_empty():
            good, invalid = self._timestamps(heads.select("line_no", "last_line", "hdr", "body", "line", "extra"),
                                             state)
            quarantine.append(invalid)
            if not good.is_empty():
                messages = self._messages(good, state)
                yield Batch.conform("messages", messages.to_arrow(compat_level=_ARROW))
                links = links_in(messages)
                if not links.is_empty():
                    yield Batch.conform("links", links.to_arrow(compat_level=_ARROW))
        quarantined = [q for q in quarantine if not q.is_empty()]
        if quarantined:
            rows = pl.concat(quarantined)
            self.summary.quarantined += rows.height
            yield Batch.conform("quarantine", rows.to_arrow(compat_level=_ARROW))

    def _timestamps(self, heads: pl.DataFrame, state: _State) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Local and UTC times for each header; headers whose date or time cannot be a message's
        (it does not exist, or is after the export was made) are split off."""
        heads = heads.with_columns(
            date_s=pl.col("hdr").str.extract(hdr.DATE_IN_HEADER, 0),
            time_s=pl.col("hdr").str.replace(hdr.DATE_IN_HEADER, ""),
        )
        self._learn_times(heads["time_s"].unique(), state)
        self._learn_dates(heads, state)
        if state.order is None:
            state.order = _reading(state)
        dates = heads["date_s"].unique()
        day_map = pl.DataFrame({
            "date_s": dates,
            "day": [hdr.date_for(state.dates[s], state.order) if state.dates[s] else None for s in dates],
        }, schema={"date_s": pl.String, "day": pl.Date})
        time_map = pl.DataFrame({"time_s": heads["time_s"].unique()}).with_columns(
            sod=pl.col("time_s").replace_strict(state.times, return_dtype=pl.Int64))
        heads = heads.join(day_map, on="date_s", how="left").join(time_map, on="time_s", how="left")
        ok = pl.col("day").is_not_null() & pl.col("sod").is_not_null()
        invalid = []
        if not heads.select(ok.all()).item():
            invalid.append(_impossible_stamps(heads.filter(~ok), state))
            heads = heads.filter(ok)
        local = pl.col("day").cast(pl.Datetime("us")) + pl.duration(seconds=pl.col("sod"))
        heads = heads.with_columns(local_ts=local).with_columns(sent_at=_to_utc(self.options.tz))
        # A date is refused after tomorrow; this catches the hours of tomorrow that are still to come.
        future = pl.col("sent_at") > hdr.latest_instant()
        if heads.select(future.any()).item():
            invalid.append(heads.filter(future).select(
                location=_location(),
                reason=pl.format("a time after the export was made: '{}'", pl.col("hdr").str.strip_chars(" []-:,")),
                raw=_raw()))
            heads = heads.filter(~future)
        return heads.select("line_no", "body", "local_ts", "sent_at"), pl.concat([_NO_QUARANTINE, *invalid])

    def _learn_times(self, times: pl.Series, state: _State) -> None:
        for t in times:
            if t not in state.times:
                time = hdr.read_time(t)
                state.times[t] = None if time is None else time.seconds
                if time:
                    self.summary.has_seconds |= time.with_seconds
                    state.hints[time.order_hint] += 1

    @staticmethod
    def _learn_dates(heads: pl.DataFrame, state: _State) -> None:
        for s, n in heads.group_by("date_s", maintain_order=True).len().iter_rows():
            if s not in state.dates:
                state.dates[s] = hdr.split_date(s)
            state.date_counts[s] = state.date_counts.get(s, 0) + n

    def _messages(self, heads: pl.DataFrame, state: _State) -> pl.DataFrame:
        heads = _classified(heads)
        heads = self._with_ids(heads, state)
        self._collect_accounts(heads, state)
        self._collect_events(heads, state)
        self.summary.messages += heads.height
        first, last = heads["sent_at"].min(), heads["sent_at"].max()
        self.summary.first_at = min(filter(None, [self.summary.first_at, first]))
        self.summary.last_at = max(filter(None, [self.summary.last_at, last]))
        return heads.select(
            "message_id",
            channel_id=pl.lit(self.channel_id),
            author_id=pl.when(pl.col("author_name").is_not_null())
            .then(pl.lit(self.account_id("")) + pl.col("author_name")),
            author_name="author_name",
            sent_at="sent_at",
            kind="kind",
            text="text",
            reply_to_id=pl.lit(None, pl.String),
            thread_id=pl.lit(None, pl.String),
            has_media="has_media",
            edited_at=pl.lit(None, pl.Datetime("us", "UTC")),
            position="line_no",
        )

    def _with_ids(self, heads: pl.DataFrame, state: _State) -> pl.DataFrame:
        """message_id = chat / local time / author / rank among that author's messages at that time."""
        key = ["local_ts", "who"]
        heads = heads.with_columns(who=pl.col("author_name").fill_null(""))
        heads = heads.with_columns(key_hash=pl.struct(key).hash())
        # Ranks matter only where a key repeats (in this chunk, or in an earlier one): rank those rows
        # alone and leave the rest at 0. A windowed rank over every row costs ten times more.
        carried = state.occurrences
        prior = pl.repeat(None, heads.height, dtype=pl.Int64, eager=True) if carried is None else \
            heads.select("key_hash").join(carried, on="key_hash", how="left", maintain_order="left")["seen"]
        heads = heads.with_columns(prior=prior)
        rows = heads.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"), "key_hash", "prior") \
            .filter(pl.col("key_hash").is_duplicated() | pl.col("prior").is_not_null()) \
            .with_columns(occ=pl.int_range(pl.len()).over("key_hash") + pl.col("prior").fill_null(0))
        occ = pl.repeat(0, heads.height, dtype=pl.Int64, eager=True).alias("occ").scatter(rows["row"], rows["occ"])
        heads = heads.with_columns(occ).drop("prior")
        # Every key of the file is remembered, not only the last hour's: a minute can come back many
        # chunks later (lines out of order, two exports pasted together) and must rank on, or two
        # messages would get one id. 16 bytes a key.
        seen = heads.group_by("key_hash").agg(seen=pl.col("occ").max() + 1)  # earlier chunks counted in
        if carried is not None:
            again = rows.filter(pl.col("prior").is_not_null())["key_hash"].unique()  # counted anew in `seen`
            kept = carried.filter(~pl.col("key_hash").is_in(again.implode())) if again.len() else carried
            seen = pl.concat([kept, seen])
        state.occurrences = seen
        return heads.with_columns(message_id=pl.concat_str([
            pl.lit(self.channel_id + "/"), pl.col("local_ts").dt.epoch("s").cast(pl.String),
            pl.lit("/"), pl.col("who"), pl.lit("/"), pl.col("occ").cast(pl.String),
        ]))

    def _collect_accounts(self, heads: pl.DataFrame, state: _State) -> None:
        seen = heads.group_by("author_name").agg(first=pl.col("sent_at").min(), last=pl.col("sent_at").max()) \
            .drop_nulls("author_name")
        for name, first, last in seen.iter_rows():
            _see(state.accounts, name, first, last)

    def _collect_events(self, heads: pl.DataFrame, state: _State) -> None:
        system = heads.select("message_id", "said", "sent_at", "kind").filter(pl.col("kind") == "system")
        for message_id, said, at, _ in system.iter_rows():
            for i, e in enumerate(membership_events(said.split("\n", 1)[0])):
                self.summary.group_events += 1
                _see(state.accounts, e.account, at, at)
                if e.actor:
                    _see(state.accounts, e.actor, at, at)
                state.events.append({
                    "event_id": f"{message_id}#{i}", "channel_id": self.channel_id,
                    "account_id": self.account_id(e.account), "event": e.event, "at": at,
                    "actor_id": self.account_id(e.actor) if e.actor else None, "message_id": message_id,
                })

    # -- end of file -----------------------------------------------------------------------

    def _finish(self, state: _State) -> Iterator[Batch]:
        names = sorted(state.accounts)
        self.summary.authors = set(names) - {YOU}
        accounts = pa.Table.from_pylist([_account_row(self, n, *state.accounts[n]) for n in names],
                                        schema=arrow_schema(Account))
        yield Batch("accounts", accounts)
        if state.events:
            yield Batch.conform("membership_events", pa.Table.from_pylist(state.events))
        kind = "group" if self.summary.group_events or len(self.summary.authors) > 2 else "direct"
        yield Batch.of("channels", [Channel(channel_id=self.channel_id, platform=PLATFORM,
                                            community=self.options.community, name=self.channel_name, kind=kind)])


# -- column-wise steps ---------------------------------------------------------------------


def _classified(heads: pl.DataFrame) -> pl.DataFrame:
    """Each record's author (None for WhatsApp's own lines), text, kind, media flag, and what a group
    event in it reads (`said`)."""
    parts = pl.col("body").str.splitn(":", 2)
    heads = heads.with_columns(
        author_raw=pl.when(parts.struct.field("field_1").is_not_null()
                           & parts.struct.field("field_0").str.len_chars().is_between(1, _MAX_NAME))
        .then(parts.struct.field("field_0")),
        after_colon=parts.struct.field("field_1"),
    )
    authors = heads["author_raw"].drop_nulls().unique().to_list()
    names = {a: clean_name(a) for a in authors if not _says_what_happened(a)}
    author = pl.col("author_raw").replace_strict(names, default=None, return_dtype=pl.String)
    heads = heads.with_columns(author=author, told_by_whatsapp=_told_by_whatsapp(heads))
    told = pl.col("told_by_whatsapp").is_not_null()
    text = pl.when(told).then("told_by_whatsapp") \
        .when(pl.col("author").is_not_null()).then(pl.col("after_colon").str.strip_prefix(" ")) \
        .otherwise(pl.col("body"))
    heads = heads.with_columns(text=text)
    system = pl.col("author").is_null() | told | pl.col("text").str.contains(SYSTEM_TEXT) \
        | pl.col("text").str.contains(SYSTEM_TEXT_AFTER_NAME)
    return heads.lazy().with_columns(text=pl.col("text").str.strip_chars_start(_LEADING_MARKS)).with_columns(
        kind=pl.when(system).then(pl.lit("system")).otherwise(pl.lit("message")),
        author_name=pl.when(~system).then("author"),
        has_media=~system & pl.col("text").str.contains(MEDIA),
        said=pl.when(pl.col("author").is_null() & ~told).then("body").otherwise("text"),
    ).collect()


def _told_by_whatsapp(heads: pl.DataFrame) -> pl.Series:
    """WhatsApp's own words (group events, the encryption notice) that iOS writes as if the chat or
    the actor had said them, after a mark: `Makers: ‎Kim left`; null on other lines. The chat's
    name may hold ": " itself (`Meetup: 6pm: ‎Kim left`), so the mark, not the first colon, ends it."""
    told = pl.repeat(None, heads.height, dtype=pl.String, eager=True)
    rows = heads["body"].str.contains(_IOS_MARK, literal=True).arg_true()
    if rows.is_empty():  # (an Android export)
        return told
    parts = heads["body"].gather(rows).str.splitn(_IOS_MARK, 2).struct.unnest()
    said = parts.select(pl.when(pl.col("field_0").str.len_chars() <= _MAX_NAME).then("field_1")).to_series()
    # Not media (`<attached: Names added.pdf>`); the rest are few: each is looked at once.
    candidates = said.filter(said.is_not_null() & ~said.str.contains(MEDIA)).unique().to_list()
    words = [t for t in candidates if _says_what_happened(t.split("\n", 1)[0].lstrip(_LEADING_MARKS))
             or _WHATSAPP_WORDS.search(t)]
    return told.scatter(rows, pl.select(pl.when(said.is_in(words)).then(said)).to_series())


def _reading(state: _State) -> str:
    """How the file's dates read (see `header.infer_order`), from all its dates and times so far."""
    hints = Counter({order: n for order, n in state.hints.items() if order})
    return hdr.infer_order([(p, state.date_counts[s]) for s, p in state.dates.items() if p is not None],
                           hints.most_common(1)[0][0] if hints else None)


def _impossible_stamps(heads: pl.DataFrame, state: _State) -> pl.DataFrame:
    """Quarantine rows for headers whose date or time cannot exist, saying which and why."""
    why = {d: hdr.why_not_a_date(state.dates[d], state.order)
           for d in heads.filter(pl.col("day").is_null())["date_s"].unique().drop_nulls().to_list()}
    return heads.select(
        location=_location(),
        reason=pl.when(pl.col("day").is_null())
        .then(pl.format("{}: '{}' (read as {})", pl.col("date_s").replace_strict(why, default="date does not exist"),
                        pl.col("date_s"), pl.lit(state.order)))
        .otherwise(pl.format("time does not exist: '{}'", pl.col("time_s").str.strip_chars(" []-:,"))),
        raw=_raw(),
    )


def _prepend(held: LineChunk | None, chunk: LineChunk) -> LineChunk:
    if held is None:
        return chunk
    offset = len(held.lines)
    bad = dict(held.bad) | {i + offset: v for i, v in chunk.bad.items()}
    return LineChunk(held.first_line, pl.concat([held.lines, chunk.lines]), bad, chunk.bytes_done, chunk.last)


def _mark_starts(lines: pl.DataFrame, bad: dict[int, tuple[str, str]]) -> pl.DataFrame:
    """A line starts a record if it has a message header, or if it is unreadable (a record of its own)."""
    if bad:
        bad_rows = pl.DataFrame({"row": list(bad), "bad_reason": [r for r, _ in bad.values()],
                                 "bad_raw": [raw for _, raw in bad.values()]},
                                schema={"row": pl.UInt32, "bad_reason": pl.String, "bad_raw": pl.String})
        lines = lines.join(bad_rows, on="row", how="left")
    else:
        lines = lines.with_columns(bad_reason=pl.lit(None, pl.String), bad_raw=pl.lit(None, pl.String))
    # An unreadable line owns the lines after it only if it is a header: inside a message, the
    # lines after it still belong to that message.
    return lines.with_columns(
        hdr=pl.when(pl.col("bad_reason").is_null()).then(hdr.find_headers(lines["line"])),
        bad=pl.col("bad_reason").is_not_null(),
    ).with_columns(
        start=pl.col("hdr").is_not_null() | pl.col("bad"),
        owns=pl.col("hdr").is_not_null() | (pl.col("bad") & pl.col("bad_raw").str.contains("^" + hdr.HEADER)),
    )


def _hold_back_last_message(lines: pl.DataFrame, chunk: LineChunk) -> tuple[pl.DataFrame, LineChunk]:
    """Split off the chunk's last record: its continuation lines may be in the next chunk."""
    starts = lines["owns"].arg_true()
    cut = starts[-1] if len(starts) else 0
    held_lines = chunk.lines.slice(cut)
    held_bad = {i - cut: v for i, v in chunk.bad.items() if i >= cut}
    return lines.head(cut), LineChunk(chunk.first_line + cut, held_lines, held_bad, chunk.bytes_done)


def _fold_continuations(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per record: its first line, with the following non-header lines joined to it
    (`extra`, with blank lines at its end dropped) and the line number where it ends."""
    heads = lines.filter(pl.col("start")).select(
        "line_no", "grp", "line", "hdr", "bad", "bad_reason", "bad_raw",
        body=pl.col("line").str.strip_prefix(pl.col("hdr")),
    )
    more = lines.filter(~pl.col("start") & (pl.col("owner") >= 0))
    if more.is_empty():
        return heads.with_columns(extra=pl.lit(None, pl.String), last_line=pl.col("line_no"))
    more = more.group_by(grp="owner").agg(extra=pl.col("line").str.join("\n"), extra_last=pl.col("line_no").max()) \
        .with_columns(extra=pl.col("extra").str.strip_chars_end("\n")) \
        .with_columns(extra=pl.when(pl.col("extra") != "").then(pl.col("extra")))
    heads = heads.join(more, on="grp", how="left")
    return heads.with_columns(
        body=pl.concat_str(["body", "extra"], separator="\n", ignore_nulls=True),
        last_line=pl.coalesce("extra_last", "line_no"),
    ).drop("extra_last")


def _raw() -> pl.Expr:
    """The record as it was in the file: its first line and its continuation lines."""
    return pl.concat_str(["line", "extra"], separator="\n", ignore_nulls=True)


def _location() -> pl.Expr:
    return pl.when(pl.col("last_line") > pl.col("line_no")) \
        .then(pl.format("lines {}-{}", pl.col("line_no"), pl.col("last_line"))) \
        .otherwise(pl.format("line {}", pl.col("line_no")))


def _bad_lines(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.select(
        location=_location(),
        reason="bad_reason",
        raw=pl.concat_str([pl.col("bad_raw").fill_null(pl.col("line")), "extra"], separator="\n", ignore_nulls=True),
    )


def _orphans(lines: pl.DataFrame) -> pl.DataFrame:
    """Non-empty lines before the file's first message: nothing to attach them to."""
    rows = lines.filter(~pl.col("start") & (pl.col("owner") < 0) & (pl.col("line").str.strip_chars() != ""))
    return rows.select(location=pl.format("line {}", pl.col("line_no")),
                       reason=pl.lit("text before the first message"), raw="line")


def _to_utc(tz: str) -> pl.Expr:
    """Local wall-clock time to UTC. A time skipped by a DST change is read one hour later."""
    local = pl.col("local_ts")
    zoned = local.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    shifted = (local + pl.duration(hours=1)).dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    return zoned.fill_null(shifted).dt.convert_time_zone("UTC")


def _see(accounts: dict[str, list[dt.datetime]], name: str, first: dt.datetime, last: dt.datetime) -> None:
    if name in accounts:
        seen = accounts[name]
        seen[0], seen[1] = min(seen[0], first), max(seen[1], last)
    else:
        accounts[name] = [first, last]


def _account_row(reader: ExportReader, name: str, first: dt.datetime, last: dt.datetime) -> dict:
    return {
        "account_id": reader.account_id(name), "platform": PLATFORM, "community": reader.options.community,
        "native_id": name, "display_name": "You (who exported the chat)" if name == YOU else name,
        "handle": None, "email": None, "phone": phone_of(name), "is_bot": False,
        "first_seen_at": first, "last_seen_at": last,
    }
