"""Everything Dagster shows: `dagster dev -m pipelines.definitions` (or `make dev`)."""

from __future__ import annotations

import dagster as dg

from pipelines.exports.assets import core_tables, raw_export_file
from pipelines.exports.checks import no_orphan_authors, timestamps_within_export_range, unique_message_ids
from pipelines.exports.sensors import export_inbox_sensor, ingest_export_job
from pipelines.marts.assets import marts_automation, member_weekly_activity
from pipelines.resources import hub_settings, warehouse_resource

refresh_marts_job = dg.define_asset_job("refresh_marts", selection=dg.AssetSelection.assets(member_weekly_activity))


def build_definitions(database: str | None = None, settings=None) -> dg.Definitions:
    return dg.Definitions(
        assets=[raw_export_file, core_tables, member_weekly_activity],
        asset_checks=[unique_message_ids, no_orphan_authors, timestamps_within_export_range],
        jobs=[ingest_export_job, refresh_marts_job],
        sensors=[export_inbox_sensor, marts_automation],
        resources={"duckdb": warehouse_resource(database), "hub": settings or hub_settings()},
    )


defs = build_definitions()
