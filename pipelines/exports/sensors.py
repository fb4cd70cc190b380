"""The inbox: export files dropped into a watched folder are added as partitions and loaded."""

import json
from pathlib import Path

import dagster as dg

from hub.ingest import expand
from pipelines.exports.assets import core_tables, export_files, raw_export_file
from pipelines.resources import HubSettings

ingest_export_job = dg.define_asset_job(
    "ingest_export", selection=dg.AssetSelection.assets(raw_export_file, core_tables),
    description="Land one export file and load it into the core tables.",
)


def inbox_files(folders: list[Path]) -> dict[str, tuple[int, int]]:
    """Every export under the folders (files, and folders that are one export like a Slack
    export): path -> (size, newest mtime_ns), so a change anywhere in it counts."""
    found: dict[str, tuple[int, int]] = {}
    for export in expand([f for f in folders if f.exists()]):
        stats = [p.stat() for p in export.rglob("*") if p.is_file()] if export.is_dir() else [export.stat()]
        found[str(export.resolve())] = (sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0))
    return found


@dg.sensor(job=ingest_export_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Watches the inbox folders (data/inbox and each community's inbox in hub.yaml).")
def export_inbox_sensor(context: dg.SensorEvaluationContext, hub: HubSettings) -> dg.SensorResult:
    seen: dict[str, list[int]] = json.loads(context.cursor) if context.cursor else {}
    now = inbox_files(hub.inboxes())
    changed = {p: v for p, v in now.items() if seen.get(p) != list(v)}
    known = set(context.instance.get_dynamic_partitions(export_files.name))
    new_keys = sorted(p for p in changed if p not in known)
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=p, run_key=f"{p}:{size}:{mtime}")
                      for p, (size, mtime) in sorted(changed.items())],
        dynamic_partitions_requests=[export_files.build_add_request(new_keys)] if new_keys else [],
        cursor=json.dumps({p: list(v) for p, v in now.items()}),
    )
