"""What the live sources' definitions share: one partition per configured source, one schedule each."""

import dagster as dg

from hub.config import Community, HubConfig, Source


def live_sources(config: HubConfig, platform: str) -> dict[str, tuple[Community, Source]]:
    """Partition key -> (community, source) for every source of `platform` with a token: the
    community's slug for its first such source in hub.yaml, `<slug>.<token variable>` for each
    further one (a slug holds no '.', so no key can be another community's; and adding a source
    renames no other's key, its partition's history and schedule)."""
    found: dict[str, tuple[Community, Source]] = {}
    for community in config.communities:
        live = [s for s in community.sources if s.platform == platform and s.token_env]
        for i, source in enumerate(live):
            key = community.slug if i == 0 else f"{community.slug}.{source.token_env.lower()}"
            if key in found:
                raise ValueError(f"community {community.slug!r} has two {platform} sources reading "
                                 f"${source.token_env}: one workspace or bot is synced once")
            found[key] = (community, source)
    return found


def schedule_for(job, name: str, key: str, cron: str, description: str) -> dg.ScheduleDefinition:
    @dg.schedule(name=f"{name}_{key.replace('-', '_').replace('.', '__')}", cron_schedule=cron, job=job,
                 default_status=dg.DefaultScheduleStatus.RUNNING, description=description)
    def _pull(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(partition_key=key, run_key=None)

    return _pull
