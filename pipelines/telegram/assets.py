"""Each configured Telegram bot, polled for its pending updates on a schedule.

Telegram keeps unconfirmed updates for 24 hours only: the schedule polls every 5 minutes, so a
stopped daemon has a day to come back before anything is lost.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.live import live_sources, schedule_for
from pipelines.resources import HubSettings, warehouse, writer_asset

POLL_EVERY = "*/5 * * * *"


def build(config) -> tuple[list, list, list]:
    """(assets, jobs, schedules) for the configured bots; nothing when there is none."""
    found = live_sources(config, "telegram")
    if not found:
        return [], [], []
    partitions = dg.StaticPartitionsDefinition(sorted(found))

    @writer_asset(partitions_def=partitions, group_name="core", kinds={"telegram", "duckdb"},
                  description="What the Telegram bot received since the last poll: messages, edits, reaction "
                              "changes, members joining and leaving.")
    def telegram_bot(context: dg.AssetExecutionContext, hub: HubSettings, duckdb: DuckDBResource) -> dg.MaterializeResult:
        from hub.sync import SyncError, sync_telegram  # here: the definitions load without the Bot API client

        community, source = live_sources(hub.config(), "telegram")[context.partition_key]
        with warehouse(duckdb) as con:
            try:
                report = sync_telegram(con, community, source)
            except SyncError as e:
                raise dg.Failure(description=str(e)) from None
        return dg.MaterializeResult(metadata={
            "updates": dg.MetadataValue.int(report.updates),
            "new messages": dg.MetadataValue.int(report.messages_new),
            "reaction changes": dg.MetadataValue.int(report.reaction_changes),
            "chats": dg.MetadataValue.int(report.chats),
            "rate limited": dg.MetadataValue.int(report.rate_limited),
            "dagster/row_count": dg.MetadataValue.int(report.messages_new),
        })

    job = dg.define_asset_job("sync_telegram", selection=dg.AssetSelection.assets(telegram_bot))
    schedules = [schedule_for(job, "poll_telegram", key, POLL_EVERY,
                              f"Reads the pending updates of the Telegram bot of {key} every 5 minutes.")
                 for key in sorted(found)]
    return [telegram_bot], [job], schedules
