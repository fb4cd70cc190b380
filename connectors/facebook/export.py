"""A Facebook export read into canonical batches: `sniff`, `Options`, `ExportReader`.

Input, told apart by content (the first 64 KB of each JSON file), not by file name:
- a Messenger thread file (`message_1.json`; an Instagram DM export has the same schema and is
  read the same way, as `facebook`), or a thread's folder of `message_N.json` files;
- a member's group activity file (`your_posts_in_groups.json`, …);
- a Graph API group feed page (`{"data": [...], "paging": ...}`) or a list of pages;
- a folder or zip holding any of these: a thread folder, a whole "Download Your Information"
  dump (every thread in it and the member's group activity), several members' dumps of one
  group side by side, or saved feed pages. The other files of a dump (profile, ads, photos …) are
  not chat data and are passed over; `profile_information.json` only names the dump's member.

A zip is read in place, never extracted, and nothing is ever written. An entry that is not a
plain file (a name leading out of the archive `../x`, `/x`, `C:x`; a link; a device) is not read at
all: it goes to quarantine with the reason (`files.refusal`).

Bad input: a file given on its own that is not valid JSON (cut short, damaged) raises
`UnreadableExport`; inside a folder or zip it goes to quarantine and the other files load. A
record that cannot be read goes to quarantine with its file and JSON path.

The three readers (`messenger`, `activity`, `feed`) fill a `common.Part` each, column by column;
the mapping and the id scheme of each kind are described in its module.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import polars as pl

from connectors.facebook import activity, feed, messenger
from connectors.facebook.common import PLATFORM, Part, accounts_batch, bad
from connectors.files import (ExportTree, UnreadableExport, quarantine_batch, readable_name, refused_records,
                              require_export, unsafe_name)
from connectors.frames import detached
from connectors.mojibake import Repairer
from hub.model import Batch

HEAD = 65536
_BOM = b"\xef\xbb\xbf"
_ACTIVITY = re.compile(rb'^\{\s*"(group_posts|group_comments|groups_joined|reactions)(_v2)?"\s*:')
_FEED = re.compile(rb'^(\[\s*)?\{\s*"data"\s*:\s*\[')
_MESSAGE_FILE = re.compile(r"(?:^|/)message_(\d+)\.json$")
_DIGEST = re.compile(r"[0-9a-f]{64}")  # the raw store's folder of a copy (hub/landing.py)
_PROFILE = "profile_information.json"
_SNIFF_FILES = 200  # JSON files of a folder or zip looked at before deciding it is not Facebook's


@dataclass
class Options:
    community: str = "default"
    # Names a thread without a title, a feed's group, or the group of DYI posts whose title names none.
    channel: str | None = None
    tz: str = "UTC"  # unused: every Facebook time is absolute (epoch, or ISO with its offset)
    # Where the file was found, when the path read is its copy in the raw store (in a folder named
    # by its hash): a lone message_N.json is of the thread whose folder it was found in.
    origin: Path | None = None


@dataclass
class Summary:
    messages: int = 0
    system: int = 0
    reactions: int = 0
    quarantined: int = 0
    channels: int = 0
    threads: int = 0
    activity_files: int = 0
    feed_files: int = 0
    reactions_outside_groups: int = 0  # DYI reactions to things that are not in a group of the dump
    other_files: int = 0  # JSON files of a dump that hold no chat data


def kind_of(head: bytes) -> str | None:
    """messenger | activity | feed, from the start of a JSON file; None if it is none of them."""
    head = head.removeprefix(_BOM).lstrip()
    if _ACTIVITY.match(head):
        return "activity"
    if head.startswith(b"{") and ((b'"sender_name"' in head and b'"timestamp_ms"' in head) or b'"thread_path"' in head
                                  or (b'"participants"' in head and b'"is_still_participant"' in head)):
        return "messenger"
    if _FEED.match(head) and b'"created_time"' in head:
        return "feed"
    return None


def _is_tree(path: Path) -> bool:
    return path.is_dir() or zipfile.is_zipfile(path)


def sniff(path: Path) -> bool:
    """A Facebook export: a JSON file of one of the three kinds, or a folder or zip holding one."""
    try:
        if not _is_tree(path):
            with open(path, "rb") as f:
                return kind_of(f.read(HEAD)) is not None
        with ExportTree(path) as tree:
            for name in _json_names(tree, tree.refused)[:_SNIFF_FILES]:
                with tree.open(name) as f:
                    if kind_of(f.read(HEAD)):
                        return True
    except (UnreadableExport, OSError):
        return False
    return False


FEED_BYTES = 32 << 20  # feed pages read together: Polars reads many small pages faster at once


def _by_size(names: list[str], size_of: Callable[[str], int], limit: int) -> Iterator[list[str]]:
    """The names in order, in groups of at most `limit` bytes (a bigger file alone)."""
    group, size = [], 0
    for name in names:
        if group and size + size_of(name) > limit:
            yield group
            group, size = [], 0
        group.append(name)
        size += size_of(name)
    if group:
        yield group


def _thread_key(name: str) -> str:
    """The files of one thread share their folder's name (in `inbox/`, `archived_threads/`, or in
    several members' dumps side by side); a Messenger file of another name is a thread of its own."""
    if _MESSAGE_FILE.search(name):
        return name.rsplit("/", 2)[-2] if "/" in name else ""
    return name


def _json_names(tree: ExportTree, skip: dict[str, str]) -> list[str]:
    """The JSON files of a tree that may be read, the likeliest first (Messenger, then groups)."""
    names = [n for n in tree.names() if n.lower().endswith(".json") and n not in skip and not unsafe_name(n)]
    return sorted(names, key=lambda n: (not _MESSAGE_FILE.search(n), "group" not in n, n))


class ExportReader:
    platform = PLATFORM

    def __init__(self, path: str | Path, options: Options | None = None, *,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.path = Path(path)
        self.options = options or Options()
        require_export(self.path, sniff, "a Facebook export (no Messenger message_N.json, group activity "
                                   "or Graph API feed page)", "pass message_1.json, the thread's folder, the "
                                   "Download Your Information zip or folder, or a saved feed page")
        self.channel_name = None  # an export may hold many threads and groups
        self.channel_id = None
        self.summary = Summary()
        self._progress = progress
        self._fix = Repairer()
        self._people: list[pl.DataFrame] = []
        self._quarantine: list[dict] = []
        self._position = 1
        self._read = 0  # bytes of the tree read so far
        self._seen: dict[str, pl.Series] = {}  # channel -> message ids given so far

    def batches(self) -> Iterator[Batch]:
        if _is_tree(self.path):
            with ExportTree(self.path) as tree:
                yield from self._tree(tree)
        else:
            yield from self._file()
        accounts = accounts_batch(self.options.community, self._people)
        if accounts is not None:
            yield accounts
        if self._quarantine:
            self.summary.quarantined = len(self._quarantine)
            yield quarantine_batch(self._quarantine)

    # -- one file ----------------------------------------------------------------------------

    def _file(self) -> Iterator[Batch]:
        raw = self.path.read_bytes()
        kind = kind_of(raw[:HEAD])
        name = self.path.name
        try:
            if kind == "messenger":
                # A thread without thread_path is its folder, as when the folder or the download is
                # given (a copy in the raw store: the folder it was found in, not its hash's).
                parent = (self.options.origin or self.path).parent.name
                folder = readable_name(parent) if _MESSAGE_FILE.search(name) and not _DIGEST.fullmatch(parent) else None
                batches = list(self._threads([(folder, [messenger.parse_file(name, raw)])],
                                             readable_name(parent if _MESSAGE_FILE.search(name) else self.path.stem)))
            elif kind == "activity":
                batches = list(self._activity([(name, orjson.loads(raw.removeprefix(_BOM)))], {}))
            else:
                batches = list(self._feed([(name, raw)], strict=True))
        except ValueError as e:
            raise UnreadableExport(self.path, f"not valid JSON ({e}): the file is cut short or damaged",
                                   "download it from Facebook again (Download Your Information, format JSON)") from None
        yield from batches
        self._done(len(raw), len(raw))

    # -- a folder or zip -------------------------------------------------------------------------

    def _tree(self, tree: ExportTree) -> Iterator[Batch]:
        total = tree.size()
        skip = tree.refused
        self._quarantine.extend(refused_records(skip))
        threads: dict[str, list[tuple[int, str]]] = {}
        activity_files, feed_files, profiles = [], [], {}
        for name in _json_names(tree, skip):
            if name.rsplit("/", 1)[-1] == _PROFILE:
                if (owner := self._profile(tree, name)) is not None:
                    profiles[activity.dump_root(name)] = owner
                continue
            with tree.open(name) as f:
                kind = kind_of(f.read(HEAD))
            if kind is None and _MESSAGE_FILE.search(name):
                # Named as a thread's file but not recognised (damaged, or its start is not what
                # Messenger writes): read as one, so that it is quarantined if unreadable, not passed over.
                kind = "messenger"
            if kind == "messenger":
                found = _MESSAGE_FILE.search(name)
                threads.setdefault(_thread_key(name), []).append((int(found.group(1)) if found else 1, name))
            elif kind == "activity":
                activity_files.append(name)
            elif kind == "feed":
                feed_files.append(name)
            else:
                self.summary.other_files += 1
        for key, files in sorted(threads.items()):
            parsed = [thread for _, name in sorted(files) if (thread := self._thread_file(tree, name)) is not None]
            if parsed:
                folder = (key or self._tree_name()).rsplit("/", 1)[-1].removesuffix(".json")
                yield from self._threads([(folder, parsed)], folder)
            self._done(self._read, total)
        if activity_files:
            yield from self._activity([(n, d) for n in activity_files if (d := self._load(tree, n)) is not None],
                                      profiles)
        for group in _by_size(feed_files, tree.size_of, FEED_BYTES):  # (memory bounded by the group, not the dump)
            yield from self._feed([(n, self._bytes(tree, n)) for n in group])
        self._done(total, total)

    def _tree_name(self) -> str:
        return readable_name(self.path.name if self.path.is_dir() else self.path.stem)

    def _bytes(self, tree: ExportTree, name: str) -> bytes:
        raw = tree.read(name)
        self._read += len(raw)
        return raw

    def _load(self, tree: ExportTree, name: str) -> object:
        """A member's parsed JSON, or None (quarantined) if it cannot be read."""
        raw = tree.read(name)
        self._read += len(raw)
        try:
            return orjson.loads(raw.removeprefix(_BOM))
        except orjson.JSONDecodeError as e:
            self._quarantine.append(bad(name, f"not valid JSON ({e}): the file is cut short or damaged",
                                        raw[:4000].decode("utf-8", "backslashreplace")))
            return None

    def _thread_file(self, tree: ExportTree, name: str) -> messenger.ThreadFile | None:
        raw = tree.read(name)
        self._read += len(raw)
        try:
            return messenger.parse_file(name, raw)
        except ValueError as e:
            self._quarantine.append(bad(name, f"not valid JSON ({e}): the file is cut short or damaged",
                                        raw[:4000].decode("utf-8", "backslashreplace")))
            return None

    def _profile(self, tree: ExportTree, name: str) -> str | None:
        try:
            data = orjson.loads(tree.read(name).removeprefix(_BOM))
            profile = data.get("profile_v2") or data.get("profile") or {}
            return self._fix(profile["name"]["full_name"]) or None
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
            return None

    # -- the three kinds -------------------------------------------------------------------------

    def _threads(self, threads: list[tuple[str | None, list[messenger.ThreadFile]]], fallback: str) -> Iterator[Batch]:
        """Each thread: (its folder, or None for a file given alone from the raw store; its files, newest first)."""
        for folder, files in threads:
            part = Part()
            self._position = messenger.read_thread(files, part, folder=folder, fallback=folder or fallback,
                                                   channel_option=self.options.channel,
                                                   first_position=self._position)
            self.summary.threads += 1
            yield from self._emit(part)

    def _activity(self, files: list[tuple[str, object]], profiles: dict[str, str]) -> Iterator[Batch]:
        readable = []
        for name, data in files:
            found = activity.entries(data)
            if found is None:
                self._quarantine.append(bad(name, "a group activity file without its list of entries", data))
                continue
            readable.append((name, *found))
        part = Part()
        self._position, outside = activity.read_activity(readable, profiles, part, self._fix,
                                                         channel_option=self.options.channel,
                                                         first_position=self._position)
        self.summary.activity_files += len(readable)
        self.summary.reactions_outside_groups += outside
        yield from self._emit(part)

    def _feed(self, pages: list[tuple[str, bytes]], strict: bool = False) -> Iterator[Batch]:
        part = Part()
        self._position = feed.read_feed(pages, part, channel_option=self.options.channel,
                                        fallback=self._tree_name() if _is_tree(self.path) else readable_name(self.path.stem),
                                        first_position=self._position, strict=strict)
        self.summary.feed_files += len(pages)
        yield from self._emit(part)

    def _emit(self, part: Part) -> Iterator[Batch]:
        batches, people = part.batches(self.options.community, self._seen)
        self._people.append(detached(people))
        self._quarantine.extend(part.quarantine)
        self.summary.channels += len(part.channels)
        for batch in batches:
            if batch.stream == "messages":
                self.summary.messages += len(batch)
                self.summary.system += batch.table["kind"].to_pylist().count("system")
            elif batch.stream == "reactions":
                self.summary.reactions += len(batch)
        yield from batches

    def _done(self, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress(done, total)
