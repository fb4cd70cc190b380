"""The weekly digest, composed from the scores and posted to the community's Slack channel or
Telegram chat. Its schedule (Mondays, 09:00 in the community's time zone) starts stopped: posting to members is switched on by
a person, in the UI.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.resources import HubSettings, warehouse

EVERY_MONDAY = "0 9 * * 1"


def build(config, upstream) -> tuple[list, list, list]:
    """(assets, jobs, schedules) for communities with a digest; nothing when there is none."""
    slugs = sorted(c.slug for c in config.communities if c.digest is not None)
    if not slugs:
        return [], [], []

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(slugs), deps=upstream, group_name="reports",
              kinds={"slack", "telegram"},
              description="The weekly digest for members (whom others valued, who was welcomed, the member of "
                          "the month), posted where the community's digest: says.")
    def weekly_digest(context: dg.AssetExecutionContext, hub: HubSettings, duckdb: DuckDBResource) -> dg.MaterializeResult:
        from hub.digest import DigestError, compose, post  # here: the definitions load without the chat clients

        settings = hub.config()
        with warehouse(duckdb) as con:
            made = compose(con, settings, context.partition_key)
        try:
            where = post(settings.community(made.community), made)
        except DigestError as e:
            raise dg.Failure(description=str(e)) from None
        return dg.MaterializeResult(metadata={"week": dg.MetadataValue.text(f"{made.week}"),
                                              "posted to": dg.MetadataValue.text(where),
                                              "digest": dg.MetadataValue.md(made.text.replace("\n", "  \n"))})

    job = dg.define_asset_job("post_weekly_digest", selection=dg.AssetSelection.assets(weekly_digest))
    zones = {c.slug: c.timezone for c in config.communities}
    schedules = [_weekly(job, slug, zones[slug]) for slug in slugs]
    return [weekly_digest], [job], schedules


def _weekly(job, slug: str, timezone: str) -> dg.ScheduleDefinition:
    @dg.schedule(name=f"weekly_digest_{slug.replace('-', '_')}", cron_schedule=EVERY_MONDAY, job=job,
                 execution_timezone=timezone, default_status=dg.DefaultScheduleStatus.STOPPED,
                 description=f"Posts the weekly digest of {slug} every Monday at 09:00 (switch on to post).")
    def _post(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(partition_key=slug, run_key=None)

    return _post
