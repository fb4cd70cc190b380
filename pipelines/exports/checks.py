"""Checks on what an export file brought into the core tables."""

import warnings

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.exports.assets import core_tables, export_files
from pipelines.resources import warehouse
from warehouse import checks

# Partitioned checks are a preview feature in Dagster 1.13; we rely on it so that each file's
# checks belong to that file's partition. Say so once here rather than on every import.
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=dg.PreviewWarning)


def _result(passed_and_details: tuple[bool, dict]) -> dg.AssetCheckResult:
    passed, details = passed_and_details
    return dg.AssetCheckResult(passed=passed, metadata=details)


@dg.asset_check(asset=core_tables, partitions_def=export_files, blocking=True,
                description="No two messages share an id, across every file loaded so far.")
def unique_message_ids(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse(duckdb) as con:
        return _result(checks.unique_message_ids(con))


@dg.asset_check(asset=core_tables, partitions_def=export_files,
                description="Every message author is a row of the accounts table.")
def no_orphan_authors(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse(duckdb) as con:
        return _result(checks.no_orphan_authors(con))


@dg.asset_check(asset=core_tables, partitions_def=export_files,
                description="The file's messages lie within the range it spans, not before the platform "
                            "existed nor in the future.")
def timestamps_within_export_range(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse(duckdb) as con:
        return _result(checks.timestamps_within_export_range(con, context.partition_key))
