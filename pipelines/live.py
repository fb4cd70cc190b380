"""What the live sources' definitions share: one partition per configured source, one schedule each."""

import dagster as dg

from hub.config import Community, HubConfig, Source


def live_sources(config: HubConfig, platform: str) -> dict[str, tuple[Community, Source]]:
    """Partition key -> (community, source) for every source of `platform` with a token."""
    found: dict[str, tuple[Community, Source]] = {}
    for community in config.communities:
        live = [s for s in community.sources if s.platform == platform and s.token_env]
        for i, source in enumerate(live):
            found[community.slug if len(live) == 1 else f"{community.slug}-{i + 1}"] = (community, source)
    return found


def schedule_for(job, name: str, key: str, cron: str, description: str) -> dg.ScheduleDefinition:
    @dg.schedule(name=f"{name}_{key.replace('-', '_')}", cron_schedule=cron, job=job,
                 default_status=dg.DefaultScheduleStatus.RUNNING, description=description)
    def _pull(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(partition_key=key, run_key=None)

    return _pull
