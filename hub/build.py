"""`hub build`: recompute every derived table by materializing the Dagster assets in-process, the
same code path as the UI and the automation sensor (not a second implementation of it)."""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path

import dagster as dg


class BuildError(Exception):
    """An asset refused to build, saying why (a decisions file that cannot be read, say)."""


def build_derived(db: Path | None, config: Path | None) -> dict[str, dict]:
    """Materialize the derived assets (marts, people) against the warehouse `db`; asset -> metadata."""
    from pipelines.definitions import DERIVED_GROUPS, build_definitions
    from pipelines.resources import HubSettings
    from warehouse.db import default_path

    settings = HubSettings(config_path=str(config) if config else os.environ.get("HUB_CONFIG"))
    # No step is tried again when the file is held: someone is waiting, and is told at once.
    defs = build_definitions(str(db or default_path()), settings, busy_retries=0)
    keys = [spec.key for spec in defs.resolve_all_asset_specs() if spec.group_name in DERIVED_GROUPS]
    assets = {defs.resolve_assets_def(key) for key in keys}  # they carry the resources they were built with
    # What fails is raised below, once: Dagster's own log of it would print it again, at length.
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    try:
        with _held(defs.resources["duckdb"]):
            result = dg.materialize(list(assets), instance=dg.DagsterInstance.ephemeral(), run_config=quiet,
                                    raise_on_error=True)
    except dg.Failure as e:  # a writer's failure is final (pipelines/resources.py): what caused it is the error
        cause = e.__cause__ if isinstance(e.__cause__, Exception) else e
        if isinstance(cause, dg.Failure):  # an asset's own word on what to mend
            raise BuildError(cause.description or str(cause)) from None
        raise cause from None
    return {event.asset_key.to_user_string(): {k: v.value for k, v in event.materialization.metadata.items()}
            for event in result.get_asset_materialization_events()}


def _held(resource):
    """The warehouse file kept open while the steps run. DuckDB keeps one database per file per
    process while any connection to it is open: each step's connection then shares it, and finds
    in memory the tables the step before read, instead of reading the file again; and the file is
    checkpointed mostly at the end, not after every step. (A DuckLake catalog has no such file.)
    It works because this connection and the steps' come from the same resource, with the same
    settings: DuckDB refuses a second connection to a file open with other settings."""
    from warehouse.lake import is_lake

    return nullcontext() if is_lake(resource.database) else resource.get_connection()
