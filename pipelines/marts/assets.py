"""The marts: derived tables promoters query, rebuilt from the core tables."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.exports.assets import core_tables
from pipelines.metadata import md_table
from pipelines.resources import warehouse, writer_asset
from warehouse import marts, reports


def build(loads: list, derived: list = ()) -> tuple[dg.AssetsDefinition, dg.AutomationConditionSensorDefinition]:
    """The weekly mart, rebuilt after any of `loads` (the assets that load core tables), and the
    sensor that rebuilds it and the other `derived` assets once loads settle."""

    @writer_asset(
        deps=loads, group_name="marts", kinds={"duckdb"},
        # Rebuilt once loads settle; a file that failed to load must not hold the marts back forever.
        automation_condition=dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing()),
        description="Messages per member per community per week, per platform (weeks in the community's time zone).",
    )
    def member_weekly_activity(duckdb: DuckDBResource) -> dg.MaterializeResult:
        with warehouse(duckdb) as con:
            counts = marts.refresh(con)
            top = reports.latest_weekly_leaders(con, 10)
        return dg.MaterializeResult(metadata={
            "dagster/row_count": dg.MetadataValue.int(counts["member_weekly_activity"]),
            "communities rebuilt": dg.MetadataValue.int(counts["rebuilt"]),  # the others had not changed
            "latest weeks, most active": md_table(["community", "platform", "week", "member", "messages"], top),
        })

    automation = dg.AutomationConditionSensorDefinition(
        "marts_automation", target=dg.AssetSelection.assets(member_weekly_activity, *derived),
        default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=30,
        description="Rebuilds the marts and the people assets after exports or live sources have been loaded.",
    )
    return member_weekly_activity, automation


member_weekly_activity, marts_automation = build([core_tables])
