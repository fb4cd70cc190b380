"""`community_reports`: each community's HTML report, rewritten after its scores and stages, with
a link to the file in the asset's metadata."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.metadata import md_table
from pipelines.resources import HubSettings, warehouse


def build(upstream: list) -> dg.AssetsDefinition:
    @dg.asset(deps=upstream, group_name="reports", kinds={"html"},
              automation_condition=dg.AutomationCondition.eager(),
              description="Each community's report for promoters: one self-contained HTML page that works "
                          "offline (hub report --out), in the reports folder.")
    def community_reports(hub: HubSettings, duckdb: DuckDBResource) -> dg.MaterializeResult:
        from hub.html_report import write_report
        from warehouse.scores import communities_with_persons

        settings = hub.config()
        with warehouse(duckdb) as con:
            written = [(slug, write_report(con, settings, slug, Path(hub.reports) / f"{slug}.html").resolve())
                       for slug in communities_with_persons(con)]
        metadata = {"reports": md_table(["community", "file"], [(s, f"[{p.name}]({p.as_uri()})") for s, p in written])}
        if len(written) == 1:
            metadata["path"] = dg.MetadataValue.path(str(written[0][1]))
        return dg.MaterializeResult(metadata=metadata)

    return community_reports
