"""`make demo`: a simulated community on every platform the hub reads (WhatsApp, Slack, Telegram, Discord,
Facebook), through
the whole pipeline.

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
  - slug: riverside-makers
    name: Riverside Makers
    timezone: Europe/London
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

# (chat name, seed, members, days, export variant): the community's WhatsApp chats.
DEMO_CHATS = [
    ("Riverside Makers", 7, 70, 240, "android_en_gb"),
    ("Riverside Makers - Repair Café", 8, 30, 200, "ios_en_gb"),
]
# (workspace name, seed, members, days): its Slack workspace, exported as a folder.
DEMO_SLACK = ("Riverside Makers", 9, 45, 180)
# (group name, seed, members, days): its Telegram supergroup, as the folder Telegram Desktop writes.
DEMO_TELEGRAM = ("Riverside Makers", 10, 40, 150)
# (guild name, seed, members, days): the Discord server some moved to, as DiscordChatExporter writes it.
DEMO_DISCORD = ("Riverside Makers", 11, 35, 120)
# (group name, seed, members, days): where the community began, a Facebook group, as the Graph API
# feed an older tool saved, and its Messenger group chat from "Download Your Information".
DEMO_FACEBOOK = ("Riverside Makers", 12, 50, 200)


def write_samples(workdir: Path) -> Path:
    """Generate the demo's exports and its hub.yaml under `workdir`; returns the config path."""
    from hub.simulate import simulate
    from hub.simulate import slack
    from hub.simulate import discord, facebook, telegram
    from hub.simulate.whatsapp import write_export

    if workdir.exists():
        shutil.rmtree(workdir)
    promoter = None
    for name, seed, members, days, variant in DEMO_CHATS:
        sim = simulate(members=members, days=days, seed=seed, name=name)
        promoter = promoter or sim.promoter.name
        write_export(sim, workdir / "inbox" / "whatsapp", variant)
    name, seed, members, days = DEMO_SLACK
    sim = simulate(members=members, days=days, seed=seed, name=name)
    slack.write_export(slack.workspace(sim), workdir / "inbox" / "slack" / "Riverside Makers Slack export")
    name, seed, members, days = DEMO_TELEGRAM
    sim = simulate(members=members, days=days, seed=seed, name=name)
    folder = workdir / "inbox" / "telegram" / "ChatExport_Riverside_Makers"
    folder.mkdir(parents=True)
    telegram.write_export(telegram.chat(sim, tz="Europe/London"), folder / "result.json")
    name, seed, members, days = DEMO_DISCORD
    sim = simulate(members=members, days=days, seed=seed, name=name)
    (workdir / "inbox" / "discord").mkdir(parents=True)
    discord.write_export(discord.channel(sim, guild=name, tz="Europe/London"), workdir / "inbox" / "discord")
    name, seed, members, days = DEMO_FACEBOOK
    sim = simulate(members=members, days=days, seed=seed, name=name)
    facebook.write_feed(facebook.group_feed(sim, per_page=500, tz="Europe/London"), workdir / "inbox" / "facebook" / "group feed")
    facebook.write_messenger(facebook.messenger_thread(sim, seed=seed + 1, tz="Europe/London"),
                             workdir / "inbox" / "facebook" / "riversidemakers_8fa3k2")
    config = workdir / "hub.yaml"
    config.write_text(DEMO_CONFIG.format(promoter=promoter))
    return config


def run_demo(db: Path, workdir: Path, console: Console) -> None:
    import dagster as dg

    from hub.report import print_report
    from pipelines.exports.assets import core_tables, export_files, raw_export_file
    from pipelines.exports.checks import no_orphan_authors, timestamps_within_export_range, unique_message_ids
    from pipelines.exports.sensors import export_inbox_sensor
    from pipelines.marts.assets import member_weekly_activity
    from pipelines.people.assets import build as people_assets
    from pipelines.resources import HubSettings, warehouse_resource
    from warehouse.db import connect

    config = write_samples(workdir)
    for stale in (db, Path(f"{db}.wal")):
        stale.unlink(missing_ok=True)
    settings = HubSettings(config_path=str(config), inbox=str(workdir / "inbox"), raw_store=str(workdir / "raw"))
    resources = {"duckdb": warehouse_resource(db), "hub": settings}
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    instance = dg.DagsterInstance.ephemeral()

    console.print(f"[cyan]demo[/cyan] sample exports in {workdir / 'inbox'}, warehouse {db}")
    sensed = export_inbox_sensor(dg.build_sensor_context(instance=instance, resources={"hub": settings}))
    for request in sensed.dynamic_partitions_requests:
        instance.add_dynamic_partitions(export_files.name, list(request.partition_keys))
    for run in sensed.run_requests:
        result = dg.materialize([raw_export_file, core_tables, unique_message_ids, no_orphan_authors,
                                 timestamps_within_export_range], partition_key=run.partition_key,
                                instance=instance, resources=resources, run_config=quiet)
        core = next(m for m in result.get_asset_materialization_events() if m.asset_key == core_tables.key)
        meta = core.materialization.metadata
        failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
        console.print(f"[cyan]demo[/cyan] {Path(run.partition_key).name}: {meta['new'].value:,} messages loaded, "
                      f"{meta['quarantined'].value} quarantined, checks {'FAILED: ' + ', '.join(failed) if failed else 'passed'}")
    dg.materialize([member_weekly_activity, *people_assets([core_tables])], instance=instance, resources=resources,
                   run_config=quiet)
    console.print()
    with connect(db, read_only=True) as con:
        print_report(con, console)
        page = _html_report(con, config, db.with_suffix(".html"))
    console.print(f"\n[bold]The report:[/bold] {page.resolve()} (one file, opens offline in any browser)",
                  soft_wrap=True)
    console.print(f"Explore it: [bold]hub query --db {db} \"SELECT * FROM member_weekly_activity LIMIT 10\"[/bold]"
                  "  ·  the pipeline in the Dagster UI: [bold]make dev[/bold]")


def _html_report(con, config_path: Path, out: Path) -> Path:
    from hub.config import load_config
    from hub.html_report import write_html_report
    from hub.stages import promoters

    settings = load_config(config_path)
    slug = settings.communities[0].slug
    return write_html_report(con, slug, out, weights=settings.rules(slug).scoring.weights,
                             promoters=promoters(con, settings, slug))
