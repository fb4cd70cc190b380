"""Resources: where the warehouse, the configuration, the inbox and the raw store are."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from hub.config import HubConfig, load_config
from warehouse.db import WarehouseBusy, data_path_of, default_path, migrate, open_waiting
from warehouse.lake import is_conflict, is_lake, open_lake


T = TypeVar("T")


class HubSettings(dg.ConfigurableResource):
    """The hub's files. Defaults follow the CLI: `$HUB_CONFIG` or ./hub.yaml, ./data/…"""

    config_path: str | None = None
    inbox: str = "data/inbox"
    raw_store: str = "data/raw"
    reports: str = "data/reports"

    def config(self) -> HubConfig:
        return load_config(self.config_path)

    def inboxes(self) -> list[Path]:
        """The default inbox and every inbox (or configured path) of every community."""
        config = self.config()
        found = [Path(self.inbox)]
        for community in config.communities:
            for source in community.sources:
                where = source.inbox or source.path
                if where is not None:
                    found.append(config.resolve(where))
        return found


def hub_settings() -> HubSettings:
    return HubSettings(config_path=os.environ.get("HUB_CONFIG"),
                       inbox=os.environ.get("HUB_INBOX", "data/inbox"),
                       raw_store=os.environ.get("HUB_RAW_STORE", "data/raw"),
                       reports=os.environ.get("HUB_REPORTS", "data/reports"))


class WarehouseResource(DuckDBResource):
    """DuckDBResource that, while another process (`hub ingest`, a second Dagster) holds the file,
    waits as the CLI does, and then fails with the CLI's clear WarehouseBusy instead of DuckDB's
    lock error. A run in the background can wait longer than someone at a terminal."""

    wait_seconds: float = 120.0
    busy_retries: int = 0  # times a step that found the file held is tried again (conflicts_retried)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if is_lake(self.database):  # many writers: no file lock to wait for
            con = open_lake(self.database, data_path=data_path_of(self.database),
                            config={"custom_user_agent": "dagster", **self.connection_config})
        else:
            try:
                con = open_waiting(self.database, wait=self.wait_seconds,
                                   config={"custom_user_agent": "dagster", **self.connection_config},
                                   to_wait_longer="raise wait_seconds of the duckdb resource")
            except WarehouseBusy as e:
                e.retries = self.busy_retries
                raise
        try:
            yield con
        finally:
            con.close()


def warehouse_resource(database: str | Path | None = None, *, busy_retries: int = 0) -> WarehouseResource:
    # One file, one writer: assets that write are in the "duckdb" pool, limited to 1 in dagster.yaml;
    # the wait is for writers outside Dagster.
    return WarehouseResource(database=str(database or default_path()), busy_retries=busy_retries,
                             connection_config={"preserve_insertion_order": False})


# On DuckLake, writers on many machines commit to one warehouse, and a commit that conflicts with
# another's is refused: the step, run again, goes through. A file another process held past the
# wait (a long `hub ingest`) is tried again, BUSY_RETRIES times, each after as long a wait. Every
# other failure of a writer is final (`conflicts_retried` marks it so): a bad file does not get
# better on a second try.
BUSY_RETRIES = 3
WRITER_RETRY = dg.RetryPolicy(max_retries=6, delay=0.5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def writer_asset(**asset_args) -> Callable[[Callable[..., T]], dg.AssetsDefinition]:
    """@dg.asset for an asset that writes to the warehouse: in the `duckdb` pool (one writer at a
    time on a DuckDB file), retried by WRITER_RETRY when DuckLake refuses its commit, and final
    on any other failure."""
    return lambda compute: dg.asset(pool="duckdb", retry_policy=WRITER_RETRY, **asset_args)(conflicts_retried(compute))


def conflicts_retried(compute: Callable[..., T]) -> Callable[..., T]:
    """A writer asset's body whose failures are final, but DuckLake's refusal of a conflicting
    commit, which the asset's WRITER_RETRY retries."""

    @functools.wraps(compute)
    def body(*args, **kwargs) -> T:
        try:
            return compute(*args, **kwargs)
        except WarehouseBusy as e:
            if e.retries:  # the other process will let go, and the sensor would not ask again
                raise dg.RetryRequested(max_retries=e.retries, seconds_to_wait=max(1.0, e.waited)) from e
            raise dg.Failure(description=f"WarehouseBusy: {e}", allow_retries=False) from e
        except Exception as e:
            if is_conflict(e) or (isinstance(e, dg.Failure) and not e.allow_retries):
                raise
            description = e.description if isinstance(e, dg.Failure) else f"{type(e).__name__}: {e}"
            metadata = e.metadata if isinstance(e, dg.Failure) else None
            raise dg.Failure(description=description, metadata=metadata, allow_retries=False) from e

    return body


@contextmanager
def warehouse(resource: DuckDBResource) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse, migrated to the current schema."""
    if not is_lake(resource.database):
        Path(resource.database).parent.mkdir(parents=True, exist_ok=True)
    # get_connection() alone keeps the file (and its lock) open when the block raises: close it too.
    with resource.get_connection() as con, con:
        migrate(con)
        yield con
