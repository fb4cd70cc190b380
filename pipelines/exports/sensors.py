"""The inbox: export files dropped into a watched folder are added as partitions and loaded.

A file is loaded once it is complete. Nothing tells a reader that a writer is done with a file, so
the sensor waits until it stops changing: it is requested when its size and modification time are
the ones the previous tick saw (ticks are 30 s apart), or when it was last modified a minute ago or
more (a file found on the first tick after a pause). An export that is a folder is always seen on
two ticks: unzip, `cp -a` and rsync give the files they copy their old times, so a folder half
copied looks a minute old. A flood of files is requested over several ticks, oldest first, so that
each tick stays short.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipelines.exports.assets import core_tables, export_files, raw_export_file
from pipelines.resources import HubSettings

SETTLED_AFTER_SECONDS = 60
RUNS_PER_TICK = 200

ingest_export_job = dg.define_asset_job(
    "ingest_export", selection=dg.AssetSelection.assets(raw_export_file, core_tables),
    description="Land one export file and load it into the core tables.",
)

Version = tuple[int, int]  # (size, newest mtime_ns) of an export


def inbox_files(folders: list[Path]) -> tuple[dict[str, Version], set[str]]:
    """Every export under the folders (files, and folders that are one export like a Slack
    export): path -> (size, newest mtime_ns), so a change anywhere in it counts; and which of them
    are folders."""
    from hub.ingest import expand  # here: the definitions load without the readers

    found: dict[str, Version] = {}
    trees: set[str] = set()
    for export in expand([f for f in folders if f.exists()]):
        try:
            stats = [p.stat() for p in export.rglob("*") if p.is_file()] if export.is_dir() else [export.stat()]
        except FileNotFoundError:  # moved away while we looked: the next tick sees where it went
            continue
        key = str(export.resolve())
        found[key] = (sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0))
        if export.is_dir():
            trees.add(key)
    return found, trees


def _nameable(files: dict[str, Version]) -> tuple[dict[str, Version], list[str]]:
    """The files whose path can be a partition key, and the others' paths as text (a name not in
    UTF-8 would fail the whole tick, every tick, in Dagster's storage)."""
    from connectors.files import readable_name

    bad = [p for p in files if not _utf8(p)]
    return {p: v for p, v in files.items() if p not in bad}, sorted(readable_name(p) for p in bad)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class InboxCursor:
    requested: dict[str, Version] = field(default_factory=dict)  # the version each run was asked for
    pending: dict[str, Version] = field(default_factory=dict)  # seen last tick, not requested yet
    unnamable: list[str] = field(default_factory=list)  # said once (names not in UTF-8, as shown)

    @classmethod
    def parse(cls, text: str | None) -> "InboxCursor":
        stored = json.loads(text) if text else {}
        if "requested" not in stored:  # before pending files were kept: every path was requested
            return cls(requested={p: tuple(v) for p, v in stored.items()})
        return cls({p: tuple(v) for p, v in stored["requested"].items()},
                   {p: tuple(v) for p, v in stored["pending"].items()}, stored.get("unnamable", []))

    def dumps(self) -> str:
        return json.dumps({"requested": self.requested, "pending": self.pending, "unnamable": self.unnamable},
                          sort_keys=True)


def plan_tick(cursor: InboxCursor, files: dict[str, Version], now_ns: int,
              trees: set[str] = frozenset()) -> tuple[list[str], InboxCursor]:
    """The files to request now (complete, and new or changed since their last run), oldest first
    and at most RUNS_PER_TICK, and the cursor for the next tick. `trees` are exports that are
    folders: the age of their files says nothing of whether all are there yet."""
    waiting = {p: v for p, v in files.items() if cursor.requested.get(p) != v}
    settled = [p for p, v in waiting.items()
               if cursor.pending.get(p) == v
               or p not in trees and now_ns - v[1] >= SETTLED_AFTER_SECONDS * 1_000_000_000]
    chosen = sorted(settled, key=lambda p: (files[p][1], p))[:RUNS_PER_TICK]
    requested = {p: v for p, v in cursor.requested.items() if p in files} | {p: files[p] for p in chosen}
    return chosen, InboxCursor(requested, {p: v for p, v in waiting.items() if requested.get(p) != v})


@dg.sensor(job=ingest_export_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Watches the inbox folders (data/inbox and each community's inbox in hub.yaml); "
                       "loads a file once it has stopped changing.")
def export_inbox_sensor(context: dg.SensorEvaluationContext, hub: HubSettings) -> dg.SensorResult:
    found, trees = inbox_files(hub.inboxes())
    files, unnamable = _nameable(found)
    before = InboxCursor.parse(context.cursor)
    for path in sorted(set(unnamable) - set(before.unnamable)):  # once, not every 30 s
        context.log.warning(f"{path}: its name is not UTF-8, which no partition key can hold: rename it to load it")
    chosen, cursor = plan_tick(before, files, time.time_ns(), trees)
    cursor.unnamable = unnamable
    known = set(context.instance.get_dynamic_partitions(export_files.name))
    new_keys = sorted(p for p in chosen if p not in known)
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=p, run_key=f"{p}:{files[p][0]}:{files[p][1]}") for p in chosen],
        dynamic_partitions_requests=[export_files.build_add_request(new_keys)] if new_keys else [],
        cursor=cursor.dumps(),
    )
