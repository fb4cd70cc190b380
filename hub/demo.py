"""`make demo`: a simulated community on every platform the hub reads (WhatsApp, Slack, Telegram,
Discord, Facebook), through the whole pipeline.

The sample exports are generated (seeded, so always the same) into an inbox; the Dagster sensor
finds them, each file is landed and loaded with its checks, the marts are rebuilt, and the
cross-platform report is printed. Nothing leaves the machine.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rich.console import Console

DEMO_CONFIG = """\
# The demo community: written by `hub demo`.
communities:
  - slug: {slug}
    name: Riverside Makers
    timezone: UTC                  # the simulator writes every export in UTC
    promoters: ["{promoter}"]
    sources:
      - platform: whatsapp
        inbox: inbox/whatsapp
      - platform: slack
        inbox: inbox/slack
      - platform: telegram
        inbox: inbox/telegram
      - platform: discord
        inbox: inbox/discord
      - platform: facebook
        inbox: inbox/facebook
"""

# One community of 160 members over 35 weeks, growing from stage 1 to 4, on every platform: the
# same people (two in five on two platforms), each conversation on one of its starter's platforms.
DEMO_COMMUNITY = dict(name="Riverside Makers", seed=7, members=160, days=245, trajectory="growing")
# One more chat of the same community: its Repair Café sub-group on WhatsApp, exported from an iPhone.
DEMO_REPAIR_CAFE = ("Riverside Makers - Repair Café", 8, 30, 245, "ios_en_gb")


class NotADemo(Exception):
    """The demo would overwrite a folder or a warehouse it did not make."""


def write_samples(workdir: Path) -> Path:
    """Generate the demo's exports and its hub.yaml under `workdir`; returns the config path."""
    from hub.simulate import simulate
    from hub.simulate.community import PLATFORMS, community, write_exports
    from hub.simulate.whatsapp import write_export

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    config = workdir / "hub.yaml"  # first: it marks the folder as the demo's, should the run stop midway
    config.write_text(DEMO_CONFIG.format(slug=_SLUG, promoter="(being written)"))
    cp = community(platforms=PLATFORMS, **DEMO_COMMUNITY)
    write_exports(cp, workdir / "inbox")
    name, seed, members, days, variant = DEMO_REPAIR_CAFE
    write_export(simulate(members=members, days=days, seed=seed, name=name), workdir / "inbox" / "whatsapp", variant)
    config.write_text(DEMO_CONFIG.format(slug=_SLUG, promoter=cp.sim.promoter.name))
    return config


def run_demo(db: Path | str, workdir: Path, console: Console) -> None:
    from hub.report import print_report
    from pipelines.resources import HubSettings
    from warehouse.db import connect
    from warehouse.lake import is_lake, shown

    _refuse_what_is_not_the_demos(db, workdir)
    config = write_samples(workdir)
    if not is_lake(db):
        for stale in (Path(db), Path(f"{db}.wal")):
            stale.unlink(missing_ok=True)
    settings = HubSettings(config_path=str(config), inbox=str(workdir / "inbox"), raw_store=str(workdir / "raw"))
    console.print(f"[cyan]demo[/cyan] sample exports in {workdir / 'inbox'}, warehouse {shown(db)}")
    run_pipeline(db, settings, console)
    console.print()
    with connect(db, read_only=True) as con:
        print_report(con, console)
        page = _html_report(con, config, workdir.parent / "demo.html" if is_lake(db) else Path(db).with_suffix(".html"))
    console.print(f"\n[bold]The report:[/bold] {page.resolve()} (one file, opens offline in any browser)",
                  soft_wrap=True)
    example = "SELECT * FROM member_weekly_activity LIMIT 10"
    console.print(f"Explore it: [bold]hub query --db '{shown(db)}' \"{example}\"[/bold]"
                  "  ·  the pipeline in the Dagster UI: [bold]make dev[/bold]")


def _refuse_what_is_not_the_demos(db: Path | str, workdir: Path) -> None:
    """The demo starts afresh, removing its folder and warehouse: never someone's own."""
    from warehouse.db import communities_in
    from warehouse.lake import is_lake

    config = workdir / "hub.yaml"
    if workdir.exists() and any(workdir.iterdir()) and not (
            config.is_file() and config.read_text(errors="replace").startswith(DEMO_CONFIG.splitlines()[0])):
        raise NotADemo(f"{workdir} is not a folder an earlier demo made (its hub.yaml would say so), and the demo "
                       "empties its folder: pass another --workdir")
    if is_lake(db) or not Path(db).exists():
        return
    held = communities_in(db)
    if held is None or held - {_SLUG}:
        what = "is not a warehouse" if held is None else \
            f"holds communities other than the demo's ({', '.join(sorted(held - {_SLUG}))})"
        raise NotADemo(f"{db} {what}, and the demo starts its warehouse afresh: pass another --db")


_SLUG = "riverside-makers"


def run_pipeline(db: Path | str, settings, console: Console | None = None) -> None:
    """The inbox sensor, each file's raw and core assets with their checks, then the marts and every
    derived table: what Dagster runs, in-process, on a fresh ephemeral instance."""
    import dagster as dg

    from pipelines.exports.assets import core_tables, raw_export_file
    from pipelines.exports.checks import no_orphan_authors, timestamps_within_export_range, unique_message_ids
    from pipelines.marts.assets import member_weekly_activity
    from pipelines.people.assets import build as people_assets
    from pipelines.resources import warehouse_resource

    resources = {"duckdb": warehouse_resource(db), "hub": settings}
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    instance = dg.DagsterInstance.ephemeral()
    for key in sensed_files(instance, settings):
        result = dg.materialize([raw_export_file, core_tables, unique_message_ids, no_orphan_authors,
                                 timestamps_within_export_range], partition_key=key,
                                instance=instance, resources=resources, run_config=quiet)
        core = next(m for m in result.get_asset_materialization_events() if m.asset_key == core_tables.key)
        meta = core.materialization.metadata
        failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
        if console is not None:
            console.print(f"[cyan]demo[/cyan] {Path(key).name}: {meta['new'].value:,} messages loaded, "
                          f"{meta['quarantined'].value} quarantined, checks "
                          f"{'FAILED: ' + ', '.join(failed) if failed else 'passed'}")
    dg.materialize([member_weekly_activity, *people_assets([core_tables])], instance=instance, resources=resources,
                   run_config=quiet)


def sensed_files(instance, settings) -> list[str]:
    """The exports in the inbox, as the sensor requests them: added as partitions of `instance`;
    returns their partition keys. Two ticks: a file is requested once a tick finds it as the tick
    before did (still being written, it is not loaded), or at once when older than a minute."""
    import dagster as dg

    from pipelines.exports.assets import export_files
    from pipelines.exports.sensors import export_inbox_sensor

    first = export_inbox_sensor(dg.build_sensor_context(instance=instance, resources={"hub": settings}))
    sensed = export_inbox_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor,
                                                         resources={"hub": settings}))
    for request in (r for tick in (first, sensed) for r in tick.dynamic_partitions_requests):
        instance.add_dynamic_partitions(export_files.name, list(request.partition_keys))
    return [run.partition_key for tick in (first, sensed) for run in tick.run_requests]


def _html_report(con, config_path: Path, out: Path) -> Path:
    from hub.config import load_config
    from hub.html_report import write_report

    settings = load_config(config_path)
    return write_report(con, settings, settings.communities[0].slug, out)
