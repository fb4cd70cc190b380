"""Everything Dagster shows: `dagster dev -m pipelines.definitions` (or `make dev`)."""

from __future__ import annotations

import os

import dagster as dg

from pipelines.digest import assets as digest
from pipelines.exports.assets import core_tables, raw_export_file
from pipelines.exports.checks import no_orphan_authors, timestamps_within_export_range, unique_message_ids
from pipelines.exports.sensors import export_inbox_sensor, ingest_export_job
from pipelines.marts import assets as marts
from pipelines.people import assets as people
from pipelines.reports import assets as reports
from pipelines.resources import BUSY_RETRIES, hub_settings, warehouse_resource
from pipelines.slack import assets as slack
from pipelines.telegram import assets as telegram


DERIVED_GROUPS = ("marts", "people")  # what `hub build` and the refresh_marts job recompute


def build_definitions(database: str | None = None, settings=None, *, busy_retries: int = BUSY_RETRIES) -> dg.Definitions:
    """The definitions on this warehouse. `busy_retries`: how many times a step that found the file
    held (past the resource's wait) is tried again; `hub build`, run by someone waiting, says so at once."""
    settings = settings or hub_settings()
    slack_assets, slack_jobs, slack_schedules = slack.build(settings.config())
    telegram_assets, telegram_jobs, telegram_schedules = telegram.build(settings.config())
    live_assets = [*slack_assets, *telegram_assets]
    people_assets = people.build([core_tables, *live_assets])
    scores = next(a for a in people_assets if a.key == dg.AssetKey("member_scores"))
    digest_assets, digest_jobs, digest_schedules = digest.build(settings.config(), [scores])
    community_reports = reports.build([a for a in people_assets if a.key.path[-1] in ("community_stages", "community_health")])
    member_weekly_activity, marts_automation = marts.build([core_tables, *live_assets],
                                                           [*people_assets, community_reports])
    refresh_marts_job = dg.define_asset_job("refresh_marts", selection=dg.AssetSelection.groups(*DERIVED_GROUPS))
    return dg.Definitions(
        assets=[raw_export_file, core_tables, member_weekly_activity, *people_assets, *live_assets, *digest_assets,
                community_reports],
        asset_checks=[unique_message_ids, no_orphan_authors, timestamps_within_export_range],
        jobs=[ingest_export_job, refresh_marts_job, *slack_jobs, *telegram_jobs, *digest_jobs],
        schedules=[*slack_schedules, *telegram_schedules, *digest_schedules],
        sensors=[export_inbox_sensor, marts_automation],
        resources={"duckdb": warehouse_resource(database, busy_retries=busy_retries), "hub": settings},
        executor=executor(),
    )


def executor() -> dg.ExecutorDefinition | None:
    """Where steps run: in the run's own processes (Dagster's default), or, when $HUB_CELERY_BROKER
    names a broker, on Celery workers on any machine (deploy/README.md). The URLs are read from the
    environment when a run starts, so none is written into a run's configuration."""
    if not os.environ.get("HUB_CELERY_BROKER"):
        return None
    from dagster_celery import celery_executor

    backend = "HUB_CELERY_BACKEND" if os.environ.get("HUB_CELERY_BACKEND") else "HUB_CELERY_BROKER"
    return celery_executor.configured({"broker": {"env": "HUB_CELERY_BROKER"}, "backend": {"env": backend}},
                                      name="celery")


defs = build_definitions()
