"""Each configured Slack workspace, pulled incrementally on a schedule."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from hub.config import Community, HubConfig, Source
from hub.sync import SyncError, sync_slack
from pipelines.resources import HubSettings, warehouse

SYNC_EVERY = "*/15 * * * *"


def workspaces(config: HubConfig) -> dict[str, tuple[Community, Source]]:
    """Partition key -> (community, source) for every Slack source with a token."""
    found: dict[str, tuple[Community, Source]] = {}
    for community in config.communities:
        live = [s for s in community.sources if s.platform == "slack" and s.token_env]
        for i, source in enumerate(live):
            found[community.slug if len(live) == 1 else f"{community.slug}-{i + 1}"] = (community, source)
    return found


def build(config: HubConfig) -> tuple[list, list, list]:
    """(assets, jobs, schedules) for the configured workspaces; nothing when there is none."""
    found = workspaces(config)
    if not found:
        return [], [], []
    partitions = dg.StaticPartitionsDefinition(sorted(found))

    @dg.asset(partitions_def=partitions, group_name="core", kinds={"slack", "duckdb"}, pool="duckdb",
              description="What is new in the Slack workspace: messages, threads, reactions, users, channels.")
    def slack_workspace(context: dg.AssetExecutionContext, hub: HubSettings, duckdb: DuckDBResource) -> dg.MaterializeResult:
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
    schedules = [_schedule(job, key) for key in sorted(found)]
    return [slack_workspace], [job], schedules


def _schedule(job, key: str) -> dg.ScheduleDefinition:
    @dg.schedule(name=f"sync_slack_{key.replace('-', '_')}", cron_schedule=SYNC_EVERY, job=job,
                 default_status=dg.DefaultScheduleStatus.RUNNING,
                 description=f"Pulls what is new in the Slack workspace of {key} every 15 minutes.")
    def _pull(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(partition_key=key, run_key=None)

    return _pull
