"""Each configured Slack workspace, pulled incrementally on a schedule."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from hub.config import Community, HubConfig, Source
from pipelines.live import live_sources, schedule_for
from pipelines.resources import HubSettings, warehouse, writer_asset

SYNC_EVERY = "*/15 * * * *"


def workspaces(config: HubConfig) -> dict[str, tuple[Community, Source]]:
    """Partition key -> (community, source) for every Slack source with a token."""
    return live_sources(config, "slack")


def build(config: HubConfig) -> tuple[list, list, list]:
    """(assets, jobs, schedules) for the configured workspaces; nothing when there is none."""
    found = workspaces(config)
    if not found:
        return [], [], []
    partitions = dg.StaticPartitionsDefinition(sorted(found))

    @writer_asset(partitions_def=partitions, group_name="core", kinds={"slack", "duckdb"},
                  description="What is new in the Slack workspace: messages, threads, reactions, users, channels.")
    def slack_workspace(context: dg.AssetExecutionContext, hub: HubSettings, duckdb: DuckDBResource) -> dg.MaterializeResult:
        from hub.sync import SyncError, sync_slack  # here: the definitions load without the Slack client

        community, source = workspaces(hub.config())[context.partition_key]
        with warehouse(duckdb) as con:
            try:
                report = sync_slack(con, community, source)
            except SyncError as e:
                raise dg.Failure(description=str(e)) from None
        return dg.MaterializeResult(metadata={
            "new messages": dg.MetadataValue.int(report.messages_new),
            "channels": dg.MetadataValue.int(report.channels),
            "skipped channels": ", ".join(f"{k} ({v})" for k, v in report.skipped.items()) or "none",
            "threads re-read": dg.MetadataValue.int(report.threads_reread),
            "rate limited": dg.MetadataValue.int(report.rate_limited),
            "dagster/row_count": dg.MetadataValue.int(report.messages_new),
        })

    job = dg.define_asset_job("sync_slack", selection=dg.AssetSelection.assets(slack_workspace))
    schedules = [schedule_for(job, "sync_slack", key, SYNC_EVERY,
                              f"Pulls what is new in the Slack workspace of {key} every 15 minutes.")
                 for key in sorted(found)]
    return [slack_workspace], [job], schedules
