"""The DuckDB warehouse file: where it is, how to open it, and its versioned schema."""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa

from warehouse.lake import absolute, for_lake, is_lake, open_lake, retried, retried_on_conflict, shut_off

T = TypeVar("T")
DEFAULT_PATH = Path("data") / "hub.duckdb"
DEFAULT_WAIT_SECONDS = 30.0
_MAX_PAUSE_SECONDS = 1.0


class WarehouseMissing(Exception):
    """No warehouse where one was expected, or a file there that is no DuckDB warehouse."""


class WarehouseBusy(Exception):
    """Another process held the warehouse file for longer than the wait (`waited`, seconds)."""

    def __init__(self, message: str, waited: float = 0.0) -> None:
        super().__init__(message)
        self.waited = waited
        self.retries = 0  # how many times the work may be tried again (a Dagster step: pipelines/resources.py)


def default_path() -> Path | str:
    """`$HUB_DB`, else the `warehouse` of the configuration ($HUB_CONFIG, else ./hub.yaml), else
    `./data/hub.duckdb`. A file's path, or a DuckLake catalog (`ducklake:…`, warehouse/lake.py)."""
    if os.environ.get("HUB_DB"):
        return as_target(os.environ["HUB_DB"])
    from hub.config import load_config  # here: hub.config imports (through the rules) this module

    return load_config(os.environ.get("HUB_CONFIG") or None).warehouse_target() or DEFAULT_PATH


def data_path_of(target: object) -> str | None:
    """Where a new DuckLake warehouse puts its Parquet files: $HUB_LAKE_DATA_PATH, else the
    `data_path` of the configuration that named the lake (a DuckLake made earlier keeps its own)."""
    if os.environ.get("HUB_LAKE_DATA_PATH"):
        return absolute(os.environ["HUB_LAKE_DATA_PATH"])
    if getattr(target, "data_path", None):
        return target.data_path
    from hub.config import load_config

    configured = load_config(os.environ.get("HUB_CONFIG") or None).warehouse_target()
    return getattr(configured, "data_path", None) if configured == str(target) else None


def as_target(text: str | Path) -> Path | str:
    """A file's path, or a DuckLake catalog (kept as given: a `Lake` keeps its data path)."""
    if is_lake(text):
        return text if isinstance(text, str) else str(text)
    return Path(text)


def default_wait() -> float:
    """`$HUB_DB_WAIT`, else 30: seconds to wait for another process to let go of the warehouse."""
    value = os.environ.get("HUB_DB_WAIT", "").strip()
    if not value:
        return DEFAULT_WAIT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds < math.inf:  # float() takes "nan" and "inf" too: neither is a wait
        from hub.config import ConfigError  # here: hub.config imports (through the rules) this module

        raise ConfigError(f"HUB_DB_WAIT is a number of seconds (0 or more), not {value!r}")
    return seconds


def connect(path: str | Path | None = None, *, read_only: bool = False,
            wait: float | None = None, existing: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse, migrated to the current schema unless read-only. A file
    warehouse is made if missing, unless read-only or `existing` (commands that need data in it).

    DuckDB lets one process write a file (or several read it): while another process holds it,
    this waits up to `wait` seconds (default `$HUB_DB_WAIT`), then raises WarehouseBusy."""
    path = as_target(path) if path else default_path()
    if is_lake(path):
        con = open_lake(path, data_path=data_path_of(path), read_only=read_only,
                        config={} if read_only else {"preserve_insertion_order": False})
        if not read_only:
            migrate(con)
        return con
    if read_only or existing:
        if not path.exists():
            raise WarehouseMissing(f"no warehouse at {path}: ingest something first (hub ingest FILE)")
    if read_only:
        return open_waiting(path, wait=wait, read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Insertion order is not a property of our tables (rows carry their order as data), and not
    # preserving it lets DuckDB load in parallel.
    con = open_waiting(path, wait=wait, config={"preserve_insertion_order": False})
    migrate(con)
    return con


def communities_in(path: str | Path) -> set[str] | None:
    """The communities a warehouse file records loads of; None for a file that is no hub warehouse
    (WarehouseBusy while another process holds it, as for any command)."""
    try:
        with connect(path, read_only=True) as con:
            return {c for (c,) in con.execute("SELECT DISTINCT community FROM sources").fetchall()}
    except (WarehouseMissing, duckdb.CatalogException):  # not DuckDB, or DuckDB without the hub's tables
        return None


def connect_for_queries(path: str | Path | None = None, *, wait: float | None = None) -> duckdb.DuckDBPyConnection:
    """A connection for SQL someone typed (`hub query`): read-only, and shut off from the file
    system (no COPY … TO, ATTACH, read_csv of other files, extensions), settings locked so the SQL
    cannot turn that back on. The warehouse's own tables are all it can see."""
    path = as_target(path) if path else default_path()
    if is_lake(path):  # the lake's Parquet files stay readable; `typed_query` lets only reads run
        return shut_off(open_lake(path, read_only=True))
    if not path.exists():
        raise WarehouseMissing(f"no warehouse at {path}: ingest something first (hub ingest FILE)")
    return open_waiting(path, wait=wait, read_only=True,
                        config={"enable_external_access": False, "lock_configuration": True})


class QueryRefused(Exception):
    pass


def typed_query(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyConnection:
    """Run SQL someone typed on a `connect_for_queries` connection.

    On DuckLake that connection must reach the lake's data folder and its catalog's server, so
    only SELECT runs (with WITH, DESCRIBE, SHOW, SUMMARIZE; not EXPLAIN, whose ANALYZE runs what it
    explains, nor COPY … TO into that folder), reading the warehouse's tables: of table functions
    only range, generate_series and unnest, no function of the PostgreSQL or DuckLake extensions
    (SQL on the catalog's server, files written), none that runs SQL from a string, and not the
    catalog's own tables."""
    if on_lake(con):
        statements = duckdb.extract_statements(sql)
        kinds = sorted({s.type.name for s in statements} - {"SELECT"})
        if kinds:
            raise QueryRefused("hub query only reads: SELECT (with WITH, DESCRIBE, SHOW, SUMMARIZE), "
                               f"not {', '.join(kinds)}")
        for statement in statements:
            _refuse_reaching_out(con, statement.query)
    return con.execute(sql)


_TABLE_FUNCTIONS = {"range", "generate_series", "unnest"}
_REFUSED_FUNCTIONS = ("postgres_", "ducklake_", "json_execute_serialized_sql", "query")


def _refuse_reaching_out(con: duckdb.DuckDBPyConnection, select: str) -> None:
    (text,) = con.execute("SELECT json_serialize_sql(?::VARCHAR)", [select]).fetchone()
    tree = json.loads(text)
    if tree.get("error"):
        raise QueryRefused(f"hub query could not check this statement ({tree.get('error_message')}): write a SELECT")
    for node in _nodes(tree):
        if node.get("type") == "TABLE_FUNCTION":
            name = str((node.get("function") or {}).get("function_name") or "").lower()
            if name not in _TABLE_FUNCTIONS:
                raise QueryRefused(f"hub query does not run {name}(): only the warehouse's tables are queried")
        name = str(node.get("function_name") or "").lower()
        if name.startswith(_REFUSED_FUNCTIONS):
            raise QueryRefused(f"hub query does not run {name}(): only the warehouse's tables are queried")
        if any(str(node.get(k) or "").lower().startswith("__ducklake_metadata") for k in ("catalog_name", "schema_name")):
            raise QueryRefused("hub query does not read DuckLake's catalog tables: query the warehouse's tables")


def _nodes(tree: object) -> Iterator[dict]:
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)


def open_waiting(path: str | Path, *, wait: float | None = None, read_only: bool = False, config: dict | None = None,
                 to_wait_longer: str = "set HUB_DB_WAIT to the seconds to wait") -> duckdb.DuckDBPyConnection:
    """duckdb.connect, retried with a growing pause while another process holds the file's lock,
    for up to `wait` seconds (default `$HUB_DB_WAIT`); then WarehouseBusy says who holds it, and
    what to do."""
    wait = default_wait() if wait is None else wait
    deadline = time.monotonic() + wait
    pause = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config={**STORAGE, **(config or {})})
        except duckdb.IOException as e:
            if _LOCK_HELD not in str(e):
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise WarehouseMissing(f"cannot open the warehouse {path}: {first} (is it a DuckDB file? "
                                       "--db names another)") from None
            left = deadline - time.monotonic()
            if left <= 0:
                raise WarehouseBusy(_busy_message(Path(path), str(e), wait, to_wait_longer), wait) from None
            time.sleep(min(pause, left))
            pause = min(pause * 2, _MAX_PAUSE_SECONDS)


# A new warehouse file is written in the storage format of the DuckDB the hub pins (not the
# default, v1.0's, kept for older readers): its string compression writes text columns about a
# third faster and a third smaller. A file made earlier keeps its format.
STORAGE = {"storage_compatibility_version": "v1.5.0"}

# DuckDB 1.5: 'Could not set lock on file "…": Conflicting lock is held in /usr/bin/python3 (PID 2132)'
_LOCK_HELD = "Could not set lock on file"
_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


def _busy_message(path: Path, error: str, wait: float, to_wait_longer: str) -> str:
    holder = _HOLDER.search(error)
    by = f" ({holder[1]}, PID {holder[2]})" if holder else ""
    return (f"the warehouse {path} is in use by another process{by}, still after waiting {wait:g} s: "
            f"run this again once that process is done, or {to_wait_longer}")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped with the package, in order."""
    found = []
    for entry in resources.files("warehouse.migrations").iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations this database has not seen yet, each in its own transaction.

    Many processes on many machines may open a new DuckLake at once: one commits each migration,
    the others fail to, and find it done when they look again."""
    if not on_lake(con):
        return _migrate(con, lake=False)
    return retried(lambda: _migrate(con, lake=True), when=lambda e: True)


def _migrate(con: duckdb.DuckDBPyConnection, lake: bool) -> list[str]:
    table = """CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"""
    con.execute(for_lake(table) if lake else table)
    done = {v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in migrations():
        if version in done:
            continue
        con.execute("BEGIN")
        try:
            con.execute(for_lake(sql) if lake else sql)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
            con.execute("COMMIT")
        except BaseException:
            rollback(con)
            raise
        applied.append(name)
    return applied


def on_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's warehouse is a DuckLake (rather than a DuckDB file)."""
    (kind,) = con.execute("SELECT type FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return kind == "ducklake"


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]


@contextmanager
def bulk_insert_in_order(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Big INSERT … SELECTs from staged Parquet into a DuckDB file, with insertion order preserved:
    DuckDB then appends each Parquet row group as a row group of the table, where unordered it
    regroups the rows of its threads. Measured on 1 M Telegram messages on 2 cores: 1.6 s against
    2.7 s. (The connection's setting, unordered, is kept for everything else, and for DuckLake. The
    setting is the database's, not the cursor's: fine, as a file has one writer and the hub loads
    one file at a time.)"""
    if on_lake(con):
        yield
        return
    (before,) = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    con.execute("SET preserve_insertion_order = true")
    try:
        yield
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if before else 'false'}")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction: committed if the block ends, rolled back (and re-raised) if anything fails."""
    con.execute("BEGIN TRANSACTION")
    try:
        take_turn(con)
        yield con
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise


def in_turn(con: duckdb.DuckDBPyConnection, work: Callable[[], T]) -> T:
    """`work()` in one transaction, done again whole when another writer of a DuckLake commits first."""

    def once() -> T:
        with transaction(con):
            return work()

    return retried_on_conflict(once)


def take_turn(con: duckdb.DuckDBPyConnection) -> None:
    """In a write transaction: writers of one DuckLake take turns at commit (migration 0018). A
    DuckDB file has one writer at a time, and is left as it was."""
    if on_lake(con):
        con.execute("UPDATE write_turns SET turn = turn + 1")


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll the open transaction back. A COMMIT that failed (on DuckLake, a conflict with another
    writer's commit) has ended it already: the error that matters is the one being raised."""
    with suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    """Append an Arrow table's rows to a warehouse table, by column name."""
    # In batches of a row group: DuckDB reads one batch per thread, and one large batch (what
    # Polars hands over) inserted about twice as slowly.
    rows = pa.Table.from_batches(rows.to_batches(max_chunksize=122_880), rows.schema)
    con.register("new_rows", rows)
    try:
        con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM new_rows')
    finally:
        con.unregister("new_rows")


def only_platform(con: duckdb.DuckDBPyConnection, community: str) -> str | None:
    """The community's platform when all its messages, interactions and membership events are on one
    (its per-platform figures are then its all-platform ones), else None."""
    rows = con.execute("""SELECT DISTINCT platform FROM messages WHERE community = $c
                          UNION SELECT DISTINCT platform FROM interactions WHERE community = $c
                          UNION SELECT DISTINCT platform FROM membership_events WHERE community = $c""",
                       {"c": community}).fetchall()
    return rows[0][0] if len(rows) == 1 else None


# SQL, a CTE of the persons of the query's `pa` CTE numbered in the order of their ids: pairs of
# persons grouped, and rows sorted, on these numbers cost a fraction of what they cost on the ids'
# text, in the same order.
NUMBERED_PERSONS = """numbered AS (SELECT person_id, row_number() OVER (ORDER BY person_id)::INTEGER AS n
             FROM (SELECT DISTINCT person_id FROM pa))"""


def asks(text: str) -> str:
    """SQL: whether the text expression `text` asks a question, by a "?" outside any link: a URL's
    query string (`watch?v=…`) asks nothing, while a "?" ending the sentence after a link does
    (`did you read https://example.org/post?`: a link's last character is never a "?", as the
    readers take links, connectors/links.py). A CASE, so that only texts with both a "?" and a
    link pay for the regex."""
    return (f"CASE WHEN NOT contains({text}, '?') THEN false WHEN NOT contains({text}, '://') THEN true "
            f"ELSE contains(regexp_replace({text}, '{_LINK}', '', 'g'), '?') END")


# A link as the readers take them, for DuckDB's RE2: its `\s` is ASCII, so the no-break spaces
# are named; `|` ends Slack's `<https://…|label>`.
_LINK = r"(?i)https?://[^\s\x{00A0}\x{202F}<>|]*[^\s\x{00A0}\x{202F}<>|.,:;\"'')\]?!»…]"


@contextmanager
def local_weeks(con: duckdb.DuckDBPyConnection, community: str, timezone: str) -> Iterator[None]:
    """Within the block, the temp table `quarters` (q, week): the local week, in `timezone`, of each
    quarter hour q of the times of the community's messages and interactions.

    A time-zone conversion per row is the costliest step of the weekly SQL. Times in one quarter
    hour share their week unless a week starts, or the zone's offset changes, inside it: those
    quarters are left out, and their rows converted one by one. The week of a time t is then
        coalesce(z.week, date_trunc('week', timezone($timezone, t))::DATE)
    with LEFT JOIN quarters z ON z.q = epoch_us(t) // 900000000. A table, not a CTE: DuckDB then
    knows how few rows it has, and hashes it rather than the messages."""
    con.execute(_QUARTERS, {"community": community, "timezone": timezone})
    try:
        yield
    finally:
        with suppress(duckdb.Error):  # already gone if the block's transaction was rolled back
            con.execute("DROP TABLE IF EXISTS temp.quarters")


_QUARTERS = """
CREATE OR REPLACE TEMP TABLE quarters AS
SELECT q, date_trunc('week', timezone($timezone, s))::DATE AS week FROM (
    SELECT epoch_us(t) // 900000000 AS q, min(t) AS s, max(t) AS e FROM (
        SELECT sent_at AS t FROM messages WHERE community = $community
        UNION ALL SELECT "at" FROM interactions WHERE community = $community)
    GROUP BY q)
WHERE date_trunc('week', timezone($timezone, s)) = date_trunc('week', timezone($timezone, e))
  AND epoch_us(timezone($timezone, s)) - epoch_us(s) = epoch_us(timezone($timezone, e)) - epoch_us(e)
"""
