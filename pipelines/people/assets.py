"""Derived assets about people: who is one person across platforms, and who interacts with whom."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.metadata import md_table
from pipelines.resources import HubSettings, warehouse, writer_asset
from warehouse import health
from warehouse import scores as people_report
from warehouse import interactions as interaction_graph
from warehouse import views

def carry_out(con, step: str, refresh) -> int:
    """Run `step`'s refresh on the plan `persons` made for each community (warehouse/changes.py),
    and note it done; the plan is recorded as built once every step has. Rows in all."""
    from warehouse.changes import current_plan, record_built, step_done
    from warehouse.db import transaction

    plans = {c: current_plan(con, c) for c in people_report.communities_with_persons(con)}
    rows = refresh(plans)
    with transaction(con):
        for community in plans:
            step_done(con, community, step)
            record_built(con, community)
    return rows


# Recomputed once loads settle, like the marts; a file that failed to load must not hold them back.
_AFTER_LOADS = dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())


def build(loads: list) -> list[dg.AssetsDefinition]:
    """`persons` after any of `loads`, then `interactions`, then `community_health`."""

    @writer_asset(deps=loads, group_name="people", kinds={"duckdb"},
                  automation_condition=_AFTER_LOADS,
                  description="One person across platforms: accounts merged on the same e-mail, phone or handle, "
                              "and by reviewed decisions; likely matches proposed in identity_suggestions.")
    def persons(hub: HubSettings, duckdb: DuckDBResource) -> dg.MaterializeResult:
        from hub.config import ConfigError
        from hub.incremental import describe, plan_builds
        from hub.persons import refresh_persons

        with warehouse(duckdb) as con:
            try:
                done = refresh_persons(con, hub.config())
                plans = plan_builds(con, hub.config())
            except ConfigError as e:  # a decisions file that cannot be read: say which and where
                raise dg.Failure(description=str(e)) from None
        return dg.MaterializeResult(metadata={
            "recompute": md_table(["community", "what the derived tables recompute"],
                                  [(c, describe(plan)) for c, plan in sorted(plans.items())]),
            "dagster/row_count": dg.MetadataValue.int(sum(r.persons for r in done.values())),
            "by community": md_table(
                ["community", "accounts", "persons", "with several accounts", "suggestions", "kept apart"],
                [(r.community, r.accounts, r.persons, r.merged, r.suggestions, r.kept_apart) for r in done.values()]),
            "warnings": "\n".join(w for r in done.values() for w in r.warnings) or "none",
        })

    @writer_asset(deps=[persons], group_name="people", kinds={"duckdb"},
                  automation_condition=_AFTER_LOADS,
                  description="Replies, thread participation, reactions and mentions between persons, "
                              "across platforms.")
    def interactions(duckdb: DuckDBResource) -> dg.MaterializeResult:
        with warehouse(duckdb) as con:
            rows = carry_out(con, "interactions", lambda plans: interaction_graph.refresh(con, plans))
            by_kind = interaction_graph.summary(con)
        return dg.MaterializeResult(metadata={"dagster/row_count": dg.MetadataValue.int(rows),
                                              "by kind": md_table(
            ["community", "kind", "interactions", "pairs of persons"], by_kind)})

    @writer_asset(deps=[interactions], group_name="people", kinds={"duckdb"},
                  automation_condition=_AFTER_LOADS,
                  description="Week by week, per platform and overall: members, active members, contributors, "
                              "newcomers and how many became active, questions answered and how fast, "
                              "the 1-9-90 split.")
    def community_health(duckdb: DuckDBResource) -> dg.MaterializeResult:
        with warehouse(duckdb) as con:
            rows = carry_out(con, "community_health", lambda plans: health.refresh(con, plans))
            last = health.latest(con)
        return dg.MaterializeResult(metadata={"dagster/row_count": dg.MetadataValue.int(rows),
                                              "latest week, all platforms": md_table(
            ["community", "week", "members", "active", "contributors", "new", "questions", "answered"], last)})

    @writer_asset(deps=[interactions], group_name="people", kinds={"duckdb"},
                  automation_condition=_AFTER_LOADS,
                  description="Each member's reputation week by week: decayed contributions and recognition from "
                              "distinct others, each part stored beside the score; levels with hysteresis.")
    def member_scores(hub: HubSettings, duckdb: DuckDBResource) -> dg.MaterializeResult:
        from hub.scoring import refresh_scores

        with warehouse(duckdb) as con:
            rows = carry_out(con, "member_scores", lambda plans: refresh_scores(con, hub.config(), plans))
            levels = people_report.latest_levels(con)
            top = [(slug, name, level, round(reputation, 1), platforms, flags.replace("_", " "))
                   for slug in people_report.communities_with_persons(con)
                   for name, level, reputation, platforms, flags, _ in views.members(con, slug, 10, None)]
        return dg.MaterializeResult(metadata={"dagster/row_count": dg.MetadataValue.int(rows),
                                              "levels in the latest week": md_table(
            ["community", "level", "members"], levels),
                                              "top members in the latest week": md_table(
            ["community", "member", "level", "reputation", "platforms", "flags"], top)})

    @writer_asset(deps=[member_scores, community_health], group_name="people", kinds={"duckdb"},
                  automation_condition=_AFTER_LOADS,
                  description="The community's stage (1 lack of commitment … 4 consolidation) week by week, per "
                              "platform and overall, with every indicator it was read from and the reason.")
    def community_stages(hub: HubSettings, duckdb: DuckDBResource) -> dg.MaterializeResult:
        from hub.stages import refresh_stages

        with warehouse(duckdb) as con:
            rows = carry_out(con, "community_stages", lambda plans: refresh_stages(con, hub.config(), plans))
            latest = people_report.latest_stages(con)
        return dg.MaterializeResult(metadata={"dagster/row_count": dg.MetadataValue.int(rows),
                                              "latest week, all platforms": md_table(
            ["community", "week", "stage", "why"], latest)})

    return [persons, interactions, community_health, member_scores, community_stages]
