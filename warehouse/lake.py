"""DuckLake: the warehouse as Parquet files in a shared folder or an S3 bucket, with its catalog in
PostgreSQL, so that processes on many machines write and read one warehouse.

A DuckLake warehouse is named by DuckLake's own string, where a file's path would go:

    ducklake:postgres:dbname=hub host=10.0.0.5 user=hub     (libpq's keywords; password: $PGPASSWORD)
    ducklake:/shared/hub/catalog.ducklake                   (a DuckDB file as catalog: one machine)

The Parquet files go to `data_path` (a folder, or s3://bucket/prefix/), given when the warehouse is
made; DuckLake keeps it in the catalog, so later connections need only the catalog.

The SQL is the same as for the embedded file. DuckLake has no PRIMARY KEY and no ENUM: a migration
is run without them (`for_lake`), and uniqueness rests, as it already does for the message-sized
tables, on the loaders (anti-joins, MERGE) and the pipeline's asset checks.

DuckDB cannot download extensions here, and must not need to: ducklake, postgres_scanner and httpfs
come from their PyPI wheels (duckdb-extension-*, pinned with duckdb) and are installed from those
files into an extension directory, their signatures checked as for any extension."""

from __future__ import annotations

import importlib.util
import os
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import duckdb

T = TypeVar("T")
PREFIX = "ducklake:"
ALIAS = "hub"
EXTENSIONS = {"ducklake": "duckdb_extension_ducklake", "postgres_scanner": "duckdb_extension_postgres_scanner",
              "httpfs": "duckdb_extension_httpfs"}


class Lake(str):
    """A DuckLake catalog, as given, that also carries where a new lake puts its files (the
    configuration's `data_path`)."""

    data_path: str | None

    def __new__(cls, catalog: str, data_path: str | None = None) -> "Lake":
        lake = super().__new__(cls, catalog)
        lake.data_path = data_path
        return lake


def absolute(data_path: str, base: Path | None = None) -> str:
    """A local data path made absolute (relative to `base`, else the working folder): DuckLake keeps
    it as given, and every process on every machine must find the same folder. URLs are kept."""
    if not data_path or "://" in data_path:
        return data_path
    path = Path(data_path).expanduser()
    return os.path.abspath(base / path if base and not path.is_absolute() else path) + "/"


class LakeError(Exception):
    """A DuckLake warehouse that cannot be opened: what is wrong, and what to do."""


def is_lake(target: object) -> bool:
    return str(target).startswith(PREFIX)


def extension_directory() -> Path:
    """`$HUB_DUCKDB_EXTENSIONS`, else a folder of the Python environment the hub runs in."""
    return Path(os.environ.get("HUB_DUCKDB_EXTENSIONS") or Path(sys.prefix) / "share" / "duckdb" / "extensions")


def open_lake(target: str, *, data_path: str | None = None, read_only: bool = False,
              config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the DuckLake `target` attached as `hub` and in use."""
    data_path = data_path or absolute(os.environ.get("HUB_LAKE_DATA_PATH") or "") or None
    con = duckdb.connect(config={"extension_directory": str(extension_directory()),
                                 "autoinstall_known_extensions": False, **(config or {})})
    try:
        load_extensions(con)
        if any(os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL")):  # the lake may be in S3
            con.execute(_s3_secret())
        options = [f"DATA_PATH {_quoted(data_path)}"] if data_path else []
        options += ["READ_ONLY"] if read_only else []
        _attach(con, f"ATTACH {_quoted(target)} AS {ALIAS}" + (f" ({', '.join(options)})" if options else ""))
        con.execute(f"USE {ALIAS}")
    except duckdb.Error as e:
        con.close()
        raise LakeError(f"the DuckLake warehouse {shown(target)} could not be opened ({_first_line(e)}): "
                        "check the catalog's address and that its server runs, and give data_path "
                        "(or $HUB_LAKE_DATA_PATH) when the warehouse is new") from None
    return con


def _attach(con: duckdb.DuckDBPyConnection, attach: str) -> None:
    """ATTACH, again when processes raced to create the same new catalog and this one lost."""
    retried(lambda: con.execute(attach), when=lambda e: "Failed to initialize DuckLake" in str(e))


def retried(work: Callable[[], T], when: Callable[[duckdb.Error], bool], attempts: int = 8) -> T:
    """`work()`, done again after a short random pause (longer each time) while it fails with a
    DuckDB error for which `when` holds: what many machines racing for one lake run into."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except duckdb.Error as e:
            if not when(e) or attempt == attempts:
                raise
            time.sleep(random.uniform(0.1, 0.4) * attempt)
    raise AssertionError("unreachable")


def is_conflict(error: BaseException) -> bool:
    """Whether an error is DuckLake's refusal of a commit that conflicts with another writer's, or
    a read of a data file that `forget_history` on another machine just replaced: the same work,
    done again, goes through."""
    return isinstance(error, duckdb.Error) and any(m.search(str(error)) for m in _CONFLICTS)


_CONFLICTS = (re.compile("Transaction conflict"), re.compile(r'Cannot open file "[^"]*ducklake-[^"]*\.parquet"'))


def retried_on_conflict(work: Callable[[], T]) -> T:
    """`work()`, a whole transaction, done again while DuckLake refuses its commit for a conflict
    with another writer's (on a DuckDB file there are none)."""
    return retried(work, when=is_conflict)


def shut_off(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The connection shut off from the file system but for the lake's data path, settings locked."""
    (data_path,) = con.execute("SELECT data_path FROM ducklake_settings(?)", [ALIAS]).fetchone()
    con.execute(f"SET allowed_directories = [{_quoted(data_path)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def forget_history(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite every data file that has deleted rows without them, drop every snapshot but the
    current one, and delete the files only those read. On DuckLake an UPDATE or DELETE only adds a
    file of deletions: the old rows stay in their file, readable by time travel (`AT (VERSION =>
    …)`) and by reading the file. `hub forget`, and a load that forgets someone again, call this,
    so that what was erased is gone from the lake too. (A step on another machine that is reading
    a deleted file at that moment fails, and is run again.)"""
    con.execute(f"CALL ducklake_flush_inlined_data('{ALIAS}')")  # small writes live in the catalog's tables
    con.execute(f"CALL ducklake_rewrite_data_files('{ALIAS}', delete_threshold => 0)")
    con.execute(f"CALL ducklake_expire_snapshots('{ALIAS}', older_than => now())")
    con.execute(f"CALL ducklake_cleanup_old_files('{ALIAS}', cleanup_all => true)")


def load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """Install (once) and load the DuckLake extensions from their wheels' files."""
    installed = {name for (name,) in con.execute(
        "SELECT extension_name FROM duckdb_extensions() WHERE installed").fetchall()}
    for name, module in EXTENSIONS.items():
        if name not in installed:
            con.execute(f"INSTALL {_quoted(str(_wheel_file(name, module)))}")
        con.execute(f"LOAD {name}")


def _wheel_file(name: str, module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise LakeError(f"DuckDB's {name} extension is not installed: pip install "
                        f"'{module.replace('_', '-')}=={duckdb.__version__}' (make install does)")
    found = sorted(Path(spec.origin).parent.rglob(f"{name}.duckdb_extension"))
    if not found:
        raise LakeError(f"the package {module} holds no {name}.duckdb_extension: reinstall it")
    return found[0]


_MIGRATION_WITHOUT = [
    (re.compile(r"CREATE TYPE (\w+) AS ENUM \([^)]*\);", re.I), ""),
    (re.compile(r",\s*PRIMARY KEY\s*\([^)]*\)", re.I), ""),
    (re.compile(r"\s+PRIMARY KEY\b", re.I), ""),
]


def for_lake(sql: str) -> str:
    """A migration as DuckLake takes it: no PRIMARY KEY, and an ENUM's columns as VARCHAR."""
    enums = re.findall(r"CREATE TYPE (\w+) AS ENUM", sql, re.I)
    for pattern, replacement in _MIGRATION_WITHOUT:
        sql = pattern.sub(replacement, sql)
    for enum in enums:
        sql = re.sub(rf"\b{enum}\b", "VARCHAR", sql)
    return sql


def _s3_secret() -> str:
    """An S3 secret from the usual AWS variables; $AWS_ENDPOINT_URL points at another S3 (MinIO, moto)."""
    parts = {"KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", ""),
             "SECRET": os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
             "REGION": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"}
    if os.environ.get("AWS_SESSION_TOKEN"):
        parts["SESSION_TOKEN"] = os.environ["AWS_SESSION_TOKEN"]
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        url = urlsplit(endpoint)
        parts.update(ENDPOINT=url.netloc, URL_STYLE="path")
        use_ssl = url.scheme == "https"
    body = ", ".join(f"{k} {_quoted(v)}" for k, v in parts.items())
    ssl = f", USE_SSL {str(use_ssl).lower()}" if endpoint else ""
    return f"CREATE OR REPLACE SECRET hub_s3 (TYPE s3, {body}{ssl})"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def shown(target: str) -> str:
    """The target without a password, should one have been written into it (libpq's keyword
    form, quoted or not, or its URI form)."""
    target = re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1…", str(target), flags=re.I)
    return re.sub(r"(://[^:/@\s]*:)[^@\s]+@", r"\1…@", target)


def _first_line(error: Exception) -> str:
    return shown(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)
