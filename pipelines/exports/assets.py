"""One partition per export file: land it in the raw store, then load it into the core tables."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.resources import HubSettings, warehouse, writer_asset

# Readers and loaders are imported where they run: loading the definitions (every run, sensor tick
# and `hub build`) then skips them, a second or so of imports.

export_files = dg.DynamicPartitionsDefinition(name="export_files")


@writer_asset(
    partitions_def=export_files, group_name="raw", kinds={"file", "duckdb"},
    description="The export file, copied by content hash into the raw store and recorded in `raw_files`.",
)
def raw_export_file(context: dg.AssetExecutionContext, hub: HubSettings, duckdb: DuckDBResource) -> dg.MaterializeResult:
    from hub.landing import delete_raw_copies, land
    from warehouse.load import record_raw_file

    path = Path(context.partition_key)
    platform = _platform_of(path, hub)  # before anything is kept: a file no community takes changes nothing
    landed = land(path, Path(hub.raw_store))
    with warehouse(duckdb) as con:
        kept = record_raw_file(con, str(path), landed.sha256, landed.bytes, platform, str(landed.stored_as))
    if not kept:  # it holds someone forgotten: read it where it is, keep no copy
        context.log.info(f"{path} holds a person hub forget erased: no raw copy is kept")
        delete_raw_copies([str(landed.stored_as)])
    return dg.MaterializeResult(
        metadata={
            "platform": platform,
            "path": dg.MetadataValue.path(str(path)),
            "sha256": landed.sha256,
            "size (bytes)": dg.MetadataValue.int(landed.bytes),
            "stored as": dg.MetadataValue.path(str(landed.stored_as) if kept else "(not kept: see hub forget)"),
        },
        data_version=dg.DataVersion(landed.sha256),
    )


def _platform_of(path: Path, hub: HubSettings) -> str:
    """The file's platform, as `hub ingest --config` finds it: its configured source's, else from its
    content; a dg.Failure that says what to change, in hub.yaml or the inbox, when there is none or
    no community takes the file."""
    from connectors.files import UnreadableExport
    from hub.ingest import platform_of

    config = hub.config()
    configured = config.source_for(path)
    if configured is None and len(config.communities) > 1:
        raise dg.Failure(description=(
            f"{path}: several communities are configured and no source of hub.yaml holds this file: move it "
            f"into the inbox of its community ({', '.join(c.slug for c in config.communities)}), or name its "
            "folder as a source's inbox"))
    try:
        return platform_of(path, configured[1] if configured else None)
    except UnreadableExport as e:  # (the CLI's --platform is a source's `platform:` here)
        raise dg.Failure(description=str(e).replace("name it with --platform", "set its source's platform in hub.yaml")) \
            from None


@writer_asset(
    partitions_def=export_files, deps=[raw_export_file], group_name="core", kinds={"duckdb"},
    description="Messages, accounts, channels, membership events and quarantine read from the file.",
)
def core_tables(context: dg.AssetExecutionContext, hub: HubSettings, duckdb: DuckDBResource) -> dg.MaterializeResult:
    from hub.ingest import ingest_file
    from warehouse.load import raw_file

    origin = context.partition_key
    with warehouse(duckdb) as con:
        landed = raw_file(con, origin)
        if landed is None:
            raise dg.Failure(description=f"{origin} has not been landed: materialize raw_export_file first")
        sha256, platform, stored_as = landed
        report = ingest_file(con, Path(stored_as), origin=Path(origin), config=hub.config(), platform=platform,
                             force=True)
    if report.error:
        raise dg.Failure(description=report.error)
    if report.warning:
        context.log.warning(report.warning)
    r = report.result
    if r.forgotten is not None:
        context.log.info(f"{origin} held {len(r.forgotten.accounts)} account(s) hub forget erased: forgotten again, "
                         f"{r.forgotten.raw_deleted} raw copy(ies) deleted")
    if r.quarantined:
        context.log.warning(f"{r.quarantined} record(s) of {origin} quarantined: see the quarantine table")
    return dg.MaterializeResult(
        metadata={
            "community": report.community,
            "platform": report.platform,
            "channel": report.channel or "(every channel of the export)",
            "records": dg.MetadataValue.int(r.records),
            "new": dg.MetadataValue.int(r.new),
            "duplicate": dg.MetadataValue.int(r.duplicate),
            "quarantined": dg.MetadataValue.int(r.quarantined),
            "first message": str(r.first_at),
            "last message": str(r.last_at),
            "dagster/row_count": dg.MetadataValue.int(r.new),
        },
        data_version=dg.DataVersion(sha256),
    )
