"""Idempotent loading of canonical batches into the core tables.

One source file is one transaction: either everything it brings is in the warehouse, or (on any
error, including an interrupt) nothing is. Loading the same or an overlapping export again adds
nothing twice: messages, membership events and reactions are keyed by their ids and new rows are
inserted by anti-join; accounts, channels and the source row are upserted; the source's quarantine
rows are replaced.

Connectors guarantee that ids are unique within one source; the loader makes them unique across
sources.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from hub.model import Batch
from warehouse import forget
from warehouse.db import bulk_insert_in_order, in_turn, on_lake, rollback, take_turn
from warehouse.lake import forget_history, retried_on_conflict


@dataclass(frozen=True)
class SourceFile:
    platform: str
    community: str
    path: str
    sha256: str
    bytes: int
    channel_id: str | None = None
    community_name: str | None = None  # upserted into communities with the load, if given
    community_timezone: str = "UTC"
    options: dict = field(default_factory=dict)
    live: bool = False  # an API sync: loaded in many small loads whose counts add up
    pseudonym_check: str | None = None  # the key's fingerprint when names were pseudonymised (hub/pseudonyms.py)
    # Its messages come with all their reactions (a Slack or Discord export, a Telegram JSON export,
    # Slack's API): a message read again without a reaction it had has lost it. As its reader says.
    reactions_whole: bool = False

    @property
    def source_id(self) -> str:
        key = "\x1f".join([self.platform, self.community, self.channel_id or "", self.sha256])
        return hashlib.sha256(key.encode()).hexdigest()[:20]


@dataclass
class LoadResult:
    source_id: str
    records: int = 0
    new: int = 0
    quarantined: int = 0
    accounts_new: int = 0
    events_new: int = 0
    reactions: int = 0
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None
    forgotten: forget.Forgotten | None = None  # people `hub forget` erased, whom this load brought back
    seen_channels: set[str] = field(default_factory=set, repr=False)
    known_channels: set[str] = field(default_factory=set, repr=False)  # had messages before this load
    older: list[str] = field(default_factory=list, repr=False)  # messages this load holds an older text of

    @property
    def duplicate(self) -> int:
        return self.records - self.new


# Message-sized streams of a file are staged as Parquet while the connector reads, then merged in
# one transaction. DuckDB keeps a transaction's appended rows in memory until it commits, so
# appending a big export batch by batch grew memory with the file; an INSERT … SELECT from
# Parquet stays near DuckDB's memory limit, runs on every core once reading is done, and a
# failure while reading never opens a transaction at all.
ROW_GROUP = 122_880  # rows of a DuckDB row group
STAGED = ("messages", "membership_events", "reactions", "mentions", "links", "quarantine")
# Merge order: reactions, mentions and links follow the messages they belong to.
_ORDER = ("channels", "accounts", "messages", "membership_events", "reactions", "mentions", "links",
          "message_edits", "reaction_changes", "reaction_totals", "quarantine", "sync_state")


def load(con: duckdb.DuckDBPyConnection, source: SourceFile, batches: Iterable[Batch]) -> LoadResult:
    """Load one source's batches in one transaction; the warehouse is unchanged if anything fails.

    A live sync's small units are loaded as they come, in order; a file's batches are staged first."""
    # On DuckLake another writer's commit may refuse the load's: it is then done again whole, from
    # the staged files (or the kept units of a live sync, which are small).
    if source.live:
        units = list(batches)
        return _forgotten_for_good(con, retried_on_conflict(
            lambda: _transaction(con, source, lambda r: _load_each(con, source, units, r))))
    with _Stage() as stage:
        for batch in batches:
            stage.add(batch)
        stage.close()
        with bulk_insert_in_order(con):
            return _forgotten_for_good(con, retried_on_conflict(
                lambda: _transaction(con, source, lambda r: _merge(con, source, stage, r))))


def _forgotten_for_good(con: duckdb.DuckDBPyConnection, result: LoadResult) -> LoadResult:
    """A load that forgot someone again left their rows, as loaded, in DuckLake's files: gone too."""
    if result.forgotten is not None and on_lake(con):
        retried_on_conflict(lambda: forget_history(con))
    return result


def _transaction(con: duckdb.DuckDBPyConnection, source: SourceFile, work) -> LoadResult:
    result = LoadResult(source.source_id)
    con.execute("BEGIN TRANSACTION")
    try:
        take_turn(con)
        _same_pseudonyms(con, source)
        if source.community_name is not None:
            upsert_community(con, source.community, source.community_name, source.community_timezone)
        if not source.live:  # a file's quarantine is replaced; a live source's only grows
            con.execute("DELETE FROM quarantine WHERE source_id = ?", [source.source_id])
        work(result)
        _upsert_source(con, source, result)
        _forget_again(con, source, result)  # after the source's row: its raw copy is found through it
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return result


class PseudonymMismatch(Exception):
    """A load would mix pseudonymised and plain names in one community, or two keys."""


def _same_pseudonyms(con: duckdb.DuckDBPyConnection, source: SourceFile) -> None:
    """A community's names are all pseudonymised with one key, or none is: mixed, nobody could be
    matched across loads. The first load of a community decides."""
    row = con.execute("""SELECT c.pseudonym_check, EXISTS (SELECT 1 FROM sources s WHERE s.community = c.community)
                         FROM communities c WHERE c.community = ?""", [source.community]).fetchone()
    if row is not None and row[1] and row[0] != source.pseudonym_check:
        was = "with another key" if row[0] and source.pseudonym_check else \
            "pseudonymised" if row[0] else "without pseudonymising"
        now = "pseudonymise it with the key of its earlier loads ($HUB_PSEUDONYM_KEY)" if row[0] else \
            "load it without pseudonymising"
        raise PseudonymMismatch(f"community {source.community!r} was loaded {was}: {now}, or load it into "
                                "another community (--community)")
    con.execute("""MERGE INTO communities c
                   USING (SELECT ? AS community, ? AS name, ? AS timezone, ? AS pseudonym_check) e
                   ON c.community = e.community
                   WHEN MATCHED THEN UPDATE SET pseudonym_check = e.pseudonym_check
                   WHEN NOT MATCHED THEN INSERT BY NAME""",
                [source.community, source.community_name or source.community, source.community_timezone,
                 source.pseudonym_check])


def _forget_again(con: duckdb.DuckDBPyConnection, source: SourceFile, result: LoadResult) -> None:
    """An old export can hold people forgotten since: they are forgotten again before the commit."""
    result.forgotten = forget.reapply(con, source.community)
    if result.forgotten is not None:
        result.new -= result.forgotten.duplicates


def _load_each(con: duckdb.DuckDBPyConnection, source: SourceFile, batches: Iterable[Batch],
               result: LoadResult) -> None:
    for batch in batches:
        con.register("rows", batch.table)
        try:
            _LOADERS[batch.stream](con, source, batch.table.num_rows, result)
        finally:
            con.unregister("rows")


def _merge(con: duckdb.DuckDBPyConnection, source: SourceFile, stage: "_Stage", result: LoadResult) -> None:
    for stream in _ORDER:
        if stream in stage.files:
            path = str(stage.files[stream]).replace("'", "''")
            con.execute(f"CREATE OR REPLACE TEMP VIEW rows AS SELECT * FROM read_parquet('{path}')")
            try:
                _LOADERS[stream](con, source, stage.rows[stream], result)
            finally:
                con.execute("DROP VIEW rows")
        _load_each(con, source, stage.small.get(stream, []), result)


class _Stage:
    """Parquet files of a source's big streams (one per stream), and its small batches in memory.

    In a temp folder named after the process: one killed mid-load (SIGKILL runs no cleanup) leaves
    its folder behind, and the next stage, of any process, removes it."""

    def __init__(self) -> None:
        _remove_orphan_stages()
        self.folder = Path(tempfile.mkdtemp(prefix=f"{_STAGE_PREFIX}{os.getpid()}-"))
        self.files: dict[str, Path] = {}
        self.rows: dict[str, int] = {}
        self.small: dict[str, list[Batch]] = {}
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._pending: dict[str, list[pa.Table]] = {}  # rows not written yet, fewer than a row group
        self._pending_rows: dict[str, int] = {}

    def add(self, batch: Batch) -> None:
        if batch.stream not in STAGED:
            self.small.setdefault(batch.stream, []).append(batch)
            return
        stream = batch.stream
        if stream not in self._writers:
            self.files[stream] = self.folder / f"{stream}.parquet"
            # Uncompressed, plain and without statistics: the file lives for seconds, DuckDB reads it
            # back once, whole, and writing it this way costs a third of the defaults' time.
            self._writers[stream] = pq.ParquetWriter(self.files[stream], batch.table.schema, compression="none",
                                                     use_dictionary=False, write_statistics=False)
            self.rows[stream], self._pending[stream], self._pending_rows[stream] = 0, [], 0
        self._pending[stream].append(batch.table)
        self._pending_rows[stream] += batch.table.num_rows
        self.rows[stream] += batch.table.num_rows
        if self._pending_rows[stream] >= ROW_GROUP:
            self._write(stream, final=False)

    def _write(self, stream: str, *, final: bool) -> None:
        """Pending rows written in groups of DuckDB's row-group size: DuckDB inserts a file of such
        groups a third faster than one of the connectors' smaller batches (it need not regroup them)."""
        if not self._pending[stream]:
            return
        pending = pa.concat_tables(self._pending[stream])
        whole = pending.num_rows if final else pending.num_rows - pending.num_rows % ROW_GROUP
        self._writers[stream].write_table(pending.slice(0, whole), row_group_size=ROW_GROUP)
        self._pending[stream] = [pending.slice(whole)] if whole < pending.num_rows else []
        self._pending_rows[stream] = pending.num_rows - whole

    def close(self) -> None:
        for stream, writer in self._writers.items():
            self._write(stream, final=True)
            writer.close()
        self._writers.clear()

    def __enter__(self) -> "_Stage":
        return self

    def __exit__(self, kind, *exc) -> None:
        try:
            if kind is None:
                self.close()
        finally:  # a failed load's rows are not written out: its error is the one that is told
            for writer in self._writers.values():
                try:
                    writer.close()
                except Exception:  # the file is removed below, and the error told is the load's own
                    pass
            self._writers.clear()
            shutil.rmtree(self.folder, ignore_errors=True)


_STAGE_PREFIX = "hub-stage-"


def _remove_orphan_stages() -> None:
    """Remove the staging folders of processes that no longer run."""
    if os.name != "posix":  # where os.kill(pid, 0) only asks whether the process exists
        return
    for folder in Path(tempfile.gettempdir()).glob(f"{_STAGE_PREFIX}*-*"):
        pid = folder.name.removeprefix(_STAGE_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def _messages(con: duckdb.DuckDBPyConnection, source: SourceFile, rows: int, result: LoadResult) -> None:
    params = {"platform": source.platform, "community": source.community, "source_id": source.source_id}
    incoming = _named_by_accounts(con)
    channels = {c for (c,) in con.execute("SELECT DISTINCT channel_id FROM rows").fetchall()}
    for channel in channels - result.seen_channels:
        result.seen_channels.add(channel)
        if con.execute("SELECT 1 FROM messages WHERE channel_id = ? LIMIT 1", [channel]).fetchone():
            result.known_channels.add(channel)
    if channels & result.known_channels:
        # A message held already and edited since (a later export) takes its new text, and loses
        # what hung off the old one (links, mentions): the new text's come with this load.
        edited = [i for (i,) in con.execute(
            """UPDATE messages m SET text = b.text, edited_at = b.edited_at FROM rows b
               WHERE m.message_id = b.message_id AND b.edited_at IS NOT NULL
                 AND (m.edited_at IS NULL OR m.edited_at < b.edited_at)
               RETURNING m.message_id""").fetchall()]
        for table in ("links", "mentions") if edited else ():  # (the new text's come with their streams)
            con.execute(f"DELETE FROM {table} WHERE message_id IN (SELECT unnest($ids::VARCHAR[]))", {"ids": edited})
        result.older += [i for (i,) in con.execute(
            """SELECT b.message_id FROM rows b JOIN messages m ON m.message_id = b.message_id
               WHERE m.edited_at > coalesce(b.edited_at, '-infinity'::TIMESTAMPTZ)""").fetchall()]
        if source.reactions_whole:
            _reactions_taken_back(con, source, channels & result.known_channels)
        # The channel had messages before this load: keep only ids it does not have yet.
        (new,) = con.execute(
            f"""INSERT INTO messages BY NAME
                SELECT b.*, $platform AS platform, $community AS community, $source_id AS source_id
                FROM ({incoming}) b ANTI JOIN (SELECT message_id FROM messages
                                               WHERE channel_id IN (SELECT DISTINCT channel_id FROM rows)) m
                  ON m.message_id = b.message_id""", params).fetchone()
    else:
        # A channel new to the warehouse: ids are unique within a source, so every row is new.
        (new,) = con.execute(
            f"""INSERT INTO messages BY NAME
                SELECT b.*, $platform AS platform, $community AS community, $source_id AS source_id
                FROM ({incoming}) b""", params).fetchone()
    span = con.execute("SELECT min(sent_at), max(sent_at) FROM rows").fetchone()
    result.records += rows
    result.new += new
    result.first_at = min(filter(None, [result.first_at, span[0]]), default=None)
    result.last_at = max(filter(None, [result.last_at, span[1]]), default=None)


def _reactions_taken_back(con: duckdb.DuckDBPyConnection, source: SourceFile, known: set[str]) -> None:
    """The messages a source listing all their reactions brings again lose the reactions they had:
    those it still has come with it (the reactions stream), the others were taken back. Only in the
    channels where it is at least as recent as the warehouse (a live read, or an export reaching as
    far): an older export's silence says nothing of reactions given since. (Before the messages
    are inserted, so that the warehouse's latest message is the one it had.)"""
    current = sorted(known) if source.live else [c for (c,) in con.execute(
        """SELECT b.channel_id FROM (SELECT channel_id, max(sent_at) AS latest FROM rows GROUP BY ALL) b
           WHERE list_contains($known, b.channel_id)
             AND b.latest >= (SELECT max(m.sent_at) FROM messages m WHERE m.channel_id = b.channel_id)""",
        {"known": sorted(known)}).fetchall()]
    if current:
        con.execute("DELETE FROM reactions WHERE message_id IN (SELECT message_id FROM rows "
                    "WHERE list_contains($current, channel_id))", {"current": current})


def _named_by_accounts(con: duckdb.DuckDBPyConnection) -> str:
    """The incoming messages, as a query. One whose reader had no name yet for its author (a Slack
    user the users file does not list, named by a later message) takes the account's: whatever the
    batches, one name. (Accounts are loaded before messages.)"""
    (unnamed,) = con.execute("SELECT count(*) FROM rows WHERE author_name IS NULL AND author_id IS NOT NULL "
                             "AND kind = 'message'").fetchone()
    if not unnamed:
        return "SELECT * FROM rows"
    return """SELECT r.* REPLACE (CASE WHEN r.kind = 'message' THEN coalesce(r.author_name, a.display_name)
                                       ELSE r.author_name END AS author_name)
              FROM rows r LEFT JOIN accounts a ON a.account_id = r.author_id"""


def _accounts(con: duckdb.DuckDBPyConnection, source: SourceFile, rows: int, result: LoadResult) -> None:
    (known,) = con.execute("SELECT count(*) FROM accounts WHERE account_id IN (SELECT account_id FROM rows)").fetchone()
    con.execute(
        """MERGE INTO accounts a USING rows e ON a.account_id = e.account_id
           WHEN MATCHED AND (
                 e.display_name IS DISTINCT FROM a.display_name AND e.display_name IS NOT NULL
              OR e.handle IS DISTINCT FROM a.handle AND e.handle IS NOT NULL
              OR e.email IS DISTINCT FROM a.email AND e.email IS NOT NULL
              OR e.phone IS DISTINCT FROM a.phone AND e.phone IS NOT NULL
              OR e.is_bot AND NOT a.is_bot
              OR e.first_seen_at < a.first_seen_at OR a.first_seen_at IS NULL AND e.first_seen_at IS NOT NULL
              OR e.last_seen_at > a.last_seen_at OR a.last_seen_at IS NULL AND e.last_seen_at IS NOT NULL)
           THEN UPDATE SET
             display_name  = coalesce(e.display_name, a.display_name),
             handle        = coalesce(e.handle, a.handle),
             email         = coalesce(e.email, a.email),
             phone         = coalesce(e.phone, a.phone),
             is_bot        = e.is_bot OR a.is_bot,
             first_seen_at = least(a.first_seen_at, e.first_seen_at),
             last_seen_at  = greatest(a.last_seen_at, e.last_seen_at)
           WHEN NOT MATCHED THEN INSERT BY NAME"""
    )
    result.accounts_new += rows - known


def _channels(con: duckdb.DuckDBPyConnection, source: SourceFile, rows: int, result: LoadResult) -> None:
    con.execute(
        """MERGE INTO channels c USING rows e ON c.channel_id = e.channel_id
           WHEN MATCHED AND (e.name IS DISTINCT FROM c.name OR e.kind IS DISTINCT FROM c.kind)
             THEN UPDATE SET name = e.name, kind = e.kind
           WHEN NOT MATCHED THEN INSERT BY NAME"""
    )


def _membership(con: duckdb.DuckDBPyConnection, source: SourceFile, rows: int, result: LoadResult) -> None:
    # One change of membership can reach the hub twice (a Telegram service message and a chat_member
    # update; an export and a live sync): the same person entering or leaving the same channel
    # within a minute is one event.
    (new,) = con.execute(
        """INSERT INTO membership_events BY NAME
           SELECT b.*, $platform AS platform, $community AS community, $source_id AS source_id
           FROM rows b ANTI JOIN membership_events e
             ON e.event_id = b.event_id
             OR (e.channel_id = b.channel_id AND e.account_id = b.account_id
                 AND (e.event IN ('join', 'add')) = (b.event IN ('join', 'add'))
                 AND e."at" BETWEEN b."at" - INTERVAL 1 MINUTE AND b."at" + INTERVAL 1 MINUTE)""",
        {"platform": source.platform, "community": source.community, "source_id": source.source_id},
    ).fetchone()
    result.events_new += new


def _reactions(con: duckdb.DuckDBPyConnection, source: SourceFile, rows: int, result: LoadResult) -> None:
    # A source lists all the reactions a message has at the time it was read: it replaces what an
    # earlier source said of that message, so counts that grew are not added twice. (When every
    # channel of this load is new to the warehouse there is nothing earlier to replace.)
    if result.known_channels:
        con.execute("DELETE FROM reactions WHERE message_id IN (SELECT DISTINCT message_id FROM rows)")
    con.execute(
        """INSERT INTO reactions BY NAME SELECT b.*, $platform AS platform, $source_id AS source_id FROM rows b""",
        {"platform": source.platform, "source_id": source.source_id},
    )
    result.reactions += rows


def _mentions(con: duckdb.DuckDBPyConnection, source: SourceFile, rows: int, result: LoadResult) -> None:
    params = {"platform": source.platform, "source_id": source.source_id}
    if _all_new(result):
        con.execute("INSERT INTO mentions BY NAME SELECT b.*, $platform AS platform, $source_id AS source_id "
                    "FROM rows b", params)
        return
    con.execute(
        """INSERT INTO mentions BY NAME
           SELECT b.*, $platform AS platform, $source_id AS source_id
           FROM rows b ANTI JOIN mentions m ON m.message_id = b.message_id AND m.account_id = b.account_id
           WHERE b.message_id NOT IN (SELECT unnest($older::VARCHAR[]))""",
        params | {"older": result.older},
    )


def _all_new(result: LoadResult) -> bool:
    """Every channel this load has brought messages of is new to the warehouse: what hangs off
    those messages (mentions, links) cannot be there yet, and connectors never repeat it."""
    return bool(result.seen_channels) and not result.known_channels


def _links(con: duckdb.DuckDBPyConnection, source: SourceFile, rows: int, result: LoadResult) -> None:
    params = {"platform": source.platform, "source_id": source.source_id}
    if _all_new(result):
        con.execute("INSERT INTO links BY NAME SELECT b.*, $platform AS platform, $source_id AS source_id "
                    "FROM rows b", params)
        return
    con.execute(
        """INSERT INTO links BY NAME
           SELECT DISTINCT b.message_id, b.url, $platform AS platform, $source_id AS source_id
           FROM rows b ANTI JOIN links l ON l.message_id = b.message_id AND l.url = b.url
           WHERE b.message_id NOT IN (SELECT unnest($older::VARCHAR[]))""",
        params | {"older": result.older},
    )


def _reaction_changes(con: duckdb.DuckDBPyConnection, source: SourceFile, rows: int, result: LoadResult) -> None:
    """Apply one account's reaction changes: its rows follow its new set. Taking back a reaction
    the warehouse only knew anonymously (an export lists some reactors only) lowers the anonymous count."""
    params = {"platform": source.platform, "source_id": source.source_id}
    con.execute(
        """UPDATE reactions r SET count = r.count - g.n
           FROM (SELECT message_id, emoji, count(*) AS n FROM rows b
                 WHERE b.was AND NOT b.now AND NOT EXISTS (
                   SELECT 1 FROM reactions k WHERE k.message_id = b.message_id AND k.emoji = b.emoji
                                              AND k.reactor_id = b.reactor_id)
                 GROUP BY ALL) g
           WHERE r.message_id = g.message_id AND r.emoji = g.emoji AND r.reactor_id IS NULL""")
    con.execute("DELETE FROM reactions WHERE reactor_id IS NULL AND count <= 0 "
                "AND message_id IN (SELECT message_id FROM rows)")
    con.execute(
        """DELETE FROM reactions r USING rows b
           WHERE r.message_id = b.message_id AND r.reactor_id = b.reactor_id AND r.emoji = b.emoji AND NOT b.now""")
    con.execute(
        """INSERT INTO reactions BY NAME
           SELECT b.message_id, b.reactor_id, b.emoji, b.at AS reacted_at, 1 AS count,
                  $platform AS platform, $source_id AS source_id
           FROM rows b ANTI JOIN reactions r
             ON r.message_id = b.message_id AND r.reactor_id = b.reactor_id AND r.emoji = b.emoji
           WHERE b.now""", params)
    result.reactions += rows


def _reaction_totals(con: duckdb.DuckDBPyConnection, source: SourceFile, rows: int, result: LoadResult) -> None:
    """A message's anonymous totals replace its anonymous rows (less what named rows account for)."""
    con.execute("DELETE FROM reactions WHERE reactor_id IS NULL AND message_id IN (SELECT message_id FROM rows)")
    con.execute(
        """INSERT INTO reactions BY NAME
           SELECT b.message_id, NULL AS reactor_id, b.emoji, b.at AS reacted_at,
                  b.total - coalesce(n.named, 0) AS count, $platform AS platform, $source_id AS source_id
           FROM rows b LEFT JOIN (SELECT message_id, emoji, count(*) AS named FROM reactions
                                  WHERE reactor_id IS NOT NULL AND message_id IN (SELECT message_id FROM rows)
                                  GROUP BY ALL) n
             ON n.message_id = b.message_id AND n.emoji = b.emoji
           WHERE b.total - coalesce(n.named, 0) > 0""",
        {"platform": source.platform, "source_id": source.source_id})
    result.reactions += rows


def _message_edits(con: duckdb.DuckDBPyConnection, source: SourceFile, rows: int, result: LoadResult) -> None:
    con.execute(
        """UPDATE messages m SET text = b.text, edited_at = b.edited_at
           FROM rows b
           WHERE m.message_id = b.message_id AND (m.edited_at IS NULL OR m.edited_at < b.edited_at)""")


def _sync_state(con: duckdb.DuckDBPyConnection, source: SourceFile, rows: int, result: LoadResult) -> None:
    con.execute(
        """MERGE INTO sync_state s USING (SELECT $source_id AS source_id, key, value FROM rows) e
             ON s.source_id = e.source_id AND s.key = e.key
           WHEN MATCHED THEN UPDATE SET value = e.value, updated_at = now()
           WHEN NOT MATCHED THEN INSERT (source_id, key, value) VALUES (e.source_id, e.key, e.value)""",
        {"source_id": source.source_id})


def _quarantine(con: duckdb.DuckDBPyConnection, source: SourceFile, rows: int, result: LoadResult) -> None:
    con.execute("INSERT INTO quarantine BY NAME SELECT b.*, $source_id AS source_id FROM rows b",
                {"source_id": source.source_id})
    result.quarantined += rows


def _upsert_source(con: duckdb.DuckDBPyConnection, source: SourceFile, result: LoadResult) -> None:
    if source.live:
        _add_to_live_source(con, source, result)
        return
    con.execute(
        """MERGE INTO sources s
           USING (SELECT $id AS source_id, $platform AS platform, $community AS community, $channel_id AS channel_id,
                         $path AS path, $sha256 AS sha256, $bytes AS bytes, now() AS ingested_at,
                         $records AS records, $quarantined AS quarantined, $first_at::TIMESTAMPTZ AS first_at,
                         $last_at::TIMESTAMPTZ AS last_at, $options AS options) e
           ON s.source_id = e.source_id
           WHEN MATCHED THEN UPDATE SET
             path = e.path, records = e.records, quarantined = e.quarantined,
             first_at = e.first_at, last_at = e.last_at, options = e.options
           WHEN NOT MATCHED THEN INSERT BY NAME""",
        {"id": source.source_id, "platform": source.platform, "community": source.community,
         "channel_id": source.channel_id, "path": source.path, "sha256": source.sha256, "bytes": source.bytes,
         "records": result.records, "quarantined": result.quarantined, "first_at": result.first_at,
         "last_at": result.last_at, "options": json.dumps(source.options, sort_keys=True)},
    )


def _add_to_live_source(con: duckdb.DuckDBPyConnection, source: SourceFile, result: LoadResult) -> None:
    """A live source's row counts what all its syncs brought; a sync that brought nothing leaves it."""
    if not (result.new or result.quarantined) and source_loaded(con, source) is not None:
        return
    con.execute(
        """MERGE INTO sources s
           USING (SELECT $id AS source_id, $platform AS platform, $community AS community, NULL AS channel_id,
                         $path AS path, $sha256 AS sha256, 0 AS bytes, now() AS ingested_at, $records AS records,
                         $quarantined AS quarantined, $first_at::TIMESTAMPTZ AS first_at,
                         $last_at::TIMESTAMPTZ AS last_at, $options AS options) e
           ON s.source_id = e.source_id
           WHEN MATCHED THEN UPDATE SET
             records = s.records + e.records, quarantined = s.quarantined + e.quarantined,
             first_at = least(s.first_at, e.first_at), last_at = greatest(s.last_at, e.last_at)
           WHEN NOT MATCHED THEN INSERT BY NAME""",
        {"id": source.source_id, "platform": source.platform, "community": source.community, "path": source.path,
         "sha256": source.sha256, "records": result.new, "quarantined": result.quarantined,
         "first_at": result.first_at, "last_at": result.last_at,
         "options": json.dumps(source.options, sort_keys=True)},
    )


def upsert_community(con: duckdb.DuckDBPyConnection, slug: str, name: str, timezone: str) -> None:
    con.execute(
        """MERGE INTO communities c USING (SELECT ? AS community, ? AS name, ? AS timezone) e
             ON c.community = e.community
           WHEN MATCHED AND (e.name IS DISTINCT FROM c.name OR e.timezone IS DISTINCT FROM c.timezone)
             THEN UPDATE SET name = e.name, timezone = e.timezone
           WHEN NOT MATCHED THEN INSERT BY NAME""",
        [slug, name, timezone],
    )


def source_loaded(con: duckdb.DuckDBPyConnection, source: SourceFile) -> tuple[int, int] | None:
    """(records, quarantined) if this exact file was already loaded to this destination, else None."""
    return con.execute("SELECT records, quarantined FROM sources WHERE source_id = ?", [source.source_id]).fetchone()


def loaded_zone(con: duckdb.DuckDBPyConnection, source: SourceFile) -> str | None:
    """The time zone this exact file was read in when it was loaded, if it was."""
    row = con.execute("SELECT json_extract_string(options, '$.tz') FROM sources WHERE source_id = ?",
                      [source.source_id]).fetchone()
    return row[0] if row else None


_LOADERS = {
    "messages": _messages,
    "accounts": _accounts,
    "channels": _channels,
    "membership_events": _membership,
    "reactions": _reactions,
    "mentions": _mentions,
    "links": _links,
    "reaction_changes": _reaction_changes,
    "reaction_totals": _reaction_totals,
    "message_edits": _message_edits,
    "quarantine": _quarantine,
    "sync_state": _sync_state,
}


def record_raw_file(con: duckdb.DuckDBPyConnection, path: str, sha256: str, size: int, platform: str,
                    stored_as: str) -> bool:
    """Register a landed export file in the raw layer (the latest content found at that path wins).

    False if a file with these bytes held someone `hub forget` erased: no copy of it may be kept,
    so the row points at `path` itself, and the caller deletes the copy it made. One transaction:
    a forget committed between the look and the write must not be undone."""

    def record() -> bool:
        (erased,) = con.execute("SELECT max(erased_at) FROM raw_files WHERE sha256 = ?", [sha256]).fetchone()
        con.execute(
            """MERGE INTO raw_files r
               USING (SELECT ? AS path, ? AS sha256, ? AS bytes, ? AS platform, ? AS stored_as,
                             now() AS landed_at, ?::TIMESTAMPTZ AS erased_at) e
               ON r.path = e.path
               WHEN MATCHED THEN UPDATE SET sha256 = e.sha256, bytes = e.bytes, platform = e.platform,
                 stored_as = e.stored_as, landed_at = e.landed_at, erased_at = e.erased_at
               WHEN NOT MATCHED THEN INSERT BY NAME""",
            [path, sha256, size, platform, path if erased else stored_as, erased])
        return erased is None

    return in_turn(con, record)


def raw_file(con: duckdb.DuckDBPyConnection, path: str) -> tuple[str, str, str] | None:
    """(sha256, platform, stored_as) of the file last landed from `path`."""
    return con.execute("SELECT sha256, platform, stored_as FROM raw_files WHERE path = ?", [path]).fetchone()
