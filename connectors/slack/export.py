"""A Slack workspace export (a folder, or the `.zip` Slack sends), read into canonical batches.

Layout: `users.json` (and `org_users.json` on Enterprise Grid), `channels.json` (public),
`groups.json` (private), `dms.json` and `mpims.json` (direct and group messages, in exports made
with those rights), and one folder per conversation holding a `YYYY-MM-DD.json` list of messages
per day. Folders are named after the channel (or its id, for direct messages). A thread's replies
are in the day files of their own dates; they point to their parent by `thread_ts`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import orjson
import polars as pl

from connectors.files import (ExportTree, UnreadableExport, quarantine_batch, quarantine_record, refused_records,
                              require_export)
from connectors.frames import SeenIds, detached
from connectors.slack.messages import (PLATFORM, RAW, MessageFrames, Names, batches_of, channel_kind,
                                       channel_record, channels_batch, read_messages, seen_times)
from hub.model import Batch

_DAY_FILE = re.compile(r"^([^/]+)/(\d{4}-\d{2}-\d{2})\.json$")
# A message's time as Slack writes it ("1700000000.000100"); 12 digits of seconds keep microseconds in 64 bits.
_TS = r"^\d{1,12}(\.\d+)?$"
_METADATA = {"channels.json": "channel", "groups.json": "channel", "dms.json": "direct", "mpims.json": "group"}
# Messages gathered before they are handed to the warehouse: bounds memory on big exports.
BATCH_MESSAGES = 200_000


@dataclass
class Options:
    community: str = "default"
    channel: str | None = None  # not used: an export holds many channels
    tz: str = "UTC"  # not used: Slack times are UTC


@dataclass
class Summary:
    messages: int = 0
    quarantined: int = 0
    channels: int = 0
    day_files: int = 0


def looks_like_slack(path: Path) -> bool:
    """A folder or zip with Slack's metadata files, or with channel folders of day files."""
    try:
        with ExportTree(path) as tree:
            names = tree.names()
    except (UnreadableExport, OSError):
        return False
    has_metadata = "users.json" in names or "channels.json" in names
    day_files = sum(1 for n in names if _DAY_FILE.match(n))
    return (has_metadata and day_files > 0) or (has_metadata and len(names) <= 6) or day_files >= 3


def sniff(path: Path) -> bool:
    return (path.is_dir() or path.suffix.lower() == ".zip") and looks_like_slack(path)


class ExportReader:
    platform = PLATFORM
    lists_all_reactions = True  # each message with all its reactions (warehouse.load.SourceFile)

    def __init__(self, path: str | Path, options: Options | None = None, *,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.path = Path(path)
        self.options = options or Options()
        require_export(self.path, looks_like_slack, "a Slack workspace export (no users.json, channels.json or "
                                   "channel folders of day files)", "pass the folder or the zip Slack exported")
        self.channel_name = None  # many channels
        self.channel_id = None
        self.summary = Summary()
        self._progress = progress
        self.warning = self._unlisted_warning()

    def _unlisted_warning(self) -> str | None:
        """Channel folders no conversations file lists are keyed by their names, not by Slack's ids:
        an export of the same workspace that lists them would load their messages a second time."""
        with ExportTree(self.path) as tree:
            listed = _by_folder(list(self._listed(tree, [])))
            folders = sorted({m[1] for n in tree.names() if (m := _DAY_FILE.match(n))} - set(listed))
        if not folders:
            return None
        shown = ", ".join(folders[:5]) + (f" and {len(folders) - 5} more" if len(folders) > 5 else "")
        return (f"{self.path}: no channels.json, groups.json, dms.json or mpims.json lists the folder(s) {shown}: "
                "their messages are keyed by folder name, not by channel id, and would be loaded again from a "
                "fuller export of the workspace; load the export Slack made, whole")

    def batches(self) -> Iterator[Batch]:
        community = self.options.community
        names = Names(community)
        quarantine: list[dict] = []
        seen: list[pl.DataFrame] = []
        with ExportTree(self.path) as tree:
            quarantine.extend(refused_records(tree.refused))
            for users_file in ("users.json", "org_users.json"):
                for user in self._objects(tree, users_file, quarantine):
                    names.add_user(user)
            listed = list(self._listed(tree, quarantine))
            conversations = _by_folder(listed)
            days = [(m[1], m[2], n) for n in tree.names() if (m := _DAY_FILE.match(n))]
            folders = sorted({folder for folder, _, _ in days})
            channels = {}
            for folder in folders:
                conversation = conversations.get(folder) or {"id": folder, "name": folder}
                channels[folder] = conversation
            records = [channel_record(community, c, kind) for c, kind in listed]
            known = {r["channel_id"] for r in records}
            records += [channel_record(community, c, channel_kind(c)) for c in channels.values()
                        if f"{PLATFORM}:{community}:{c['id']}" not in known]
            self.summary.channels = len(records)
            yield channels_batch(records)

            given = SeenIds()
            columns = MessageFrames(names, given)
            position = 1
            # Polars parses day files in two threads (it releases the GIL), a few files ahead at most.
            ordered = sorted(days)
            with ThreadPoolExecutor(max_workers=2) as pool:
                parsed = _ahead(pool, lambda day: self._day(tree, day[2], quarantine), ordered, window=8)
                for done, ((folder, _day, _name), messages) in enumerate(zip(ordered, parsed), 1):
                    self.summary.day_files += 1
                    columns.add(channels[folder]["id"], messages, position)
                    position += messages.height
                    if len(columns) >= BATCH_MESSAGES:
                        yield from self._flush(columns, seen)
                        columns = MessageFrames(names, given)
                    if self._progress:
                        self._progress(done, len(days))
            if len(columns):
                yield from self._flush(columns, seen)
        yield names.batch(seen_times(seen, names.account_id("")))
        if quarantine:
            self.summary.quarantined += len(quarantine)
            yield quarantine_batch(quarantine)

    @staticmethod
    def _day(tree: ExportTree, name: str, quarantine: list[dict]) -> pl.DataFrame:
        """A day file's messages; the file, or messages without a readable ts, are set aside if unreadable."""
        raw = tree.read(name)
        try:
            messages = read_messages(raw, lambda i, m, why: quarantine.append(
                quarantine_record(f"{name}[{i}]", why, m)))
        except ValueError as e:
            reason = f"not valid JSON: {e}" if isinstance(e, orjson.JSONDecodeError) else str(e)
            quarantine.append(quarantine_record(name, reason, raw))
            return pl.DataFrame(schema=RAW)
        unreadable = ~messages["ts"].str.contains(_TS).fill_null(False)
        if unreadable.any():
            try:
                items = orjson.loads(raw)
            except orjson.JSONDecodeError:  # Polars read what orjson refuses (a BOM…): show the ts alone
                items = None
            for index, ts in messages.filter(unreadable).select("index", "ts").iter_rows():
                reason = "a message without a ts" if ts is None else f"a ts that is not a Slack time: {ts[:40]!r}"
                quarantine.append(quarantine_record(f"{name}[{index}]", reason,
                                                    items[index] if items is not None else {"ts": ts}))
            messages = messages.filter(~unreadable)
        return messages.drop("index")

    def _flush(self, columns: MessageFrames, seen: list[pl.DataFrame]) -> Iterator[Batch]:
        frames = columns.frames()
        self.summary.messages += frames[0].height
        seen.append(detached(frames[0].select("author_id", "sent_at")))
        yield from batches_of(frames)

    def _listed(self, tree: ExportTree, quarantine: list[dict]) -> Iterator[tuple[dict, str]]:
        for file_name, kind in _METADATA.items():
            for conversation in self._objects(tree, file_name, quarantine):
                if file_name == "dms.json":
                    conversation = {**conversation, "is_im": True}
                yield conversation, kind

    def _objects(self, tree: ExportTree, name: str, quarantine: list[dict]) -> Iterator[dict]:
        """The objects with a text `id` of a users or conversations file; the other entries are set aside."""
        for i, entry in enumerate(self._json_list(tree, name, quarantine)):
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                yield entry
            else:
                quarantine.append(quarantine_record(f"{name}[{i}]", "an entry without an id", entry))

    @staticmethod
    def _json_list(tree: ExportTree, name: str, quarantine: list[dict]) -> list:
        if name not in tree:
            return []
        raw = tree.read(name)
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            quarantine.append(quarantine_record(name, f"not valid JSON: {e}", raw))
            return []
        if not isinstance(data, list):
            quarantine.append(quarantine_record(name, "expected a JSON list", data))
            return []
        return data


def _ahead(pool: ThreadPoolExecutor, work: Callable, items: list, window: int) -> Iterator:
    """`work(item)` for each item, in order, with at most `window` results waiting."""
    pending = [pool.submit(work, item) for item in items[:window]]
    for i in range(len(items)):
        result = pending.pop(0).result()
        if i + window < len(items):
            pending.append(pool.submit(work, items[i + window]))
        yield result


def _by_folder(listed: list[tuple[dict, str]]) -> dict[str, dict]:
    """Folder name -> conversation: folders are named by channel name, or by id for DMs."""
    by_folder = {}
    for conversation, _kind in listed:
        by_folder[conversation["id"]] = conversation
        if isinstance(conversation.get("name"), str) and conversation["name"]:
            by_folder[conversation["name"]] = conversation
    return by_folder
