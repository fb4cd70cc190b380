"""The warehouse on DuckLake (catalog in a real PostgreSQL, data as Parquet in a folder) holds
exactly what the embedded DuckDB file holds, after the same pipeline on the same exports; and the
`hub` commands reach it through the configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from servers import postgres_bin, postgres_server

from hub.demo import run_pipeline, write_samples
from pipelines.resources import HubSettings
from warehouse.lake import for_lake, open_lake

# Stamped with the time of the run: the only columns the two warehouses may differ in.
RUN_TIMES = {"applied_at", "ingested_at", "landed_at", "quarantined_at", "updated_at", "at"}

pytestmark = pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL's server is not installed "
                                "(apt-get install postgresql; .ci/run installs it)")


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> HubSettings:
    work = tmp_path_factory.mktemp("samples")
    config = write_samples(work / "demo")
    return HubSettings(config_path=str(config), inbox=str(work / "demo" / "inbox"), raw_store=str(work / "raw"))


@pytest.fixture(scope="module")
def catalog():
    with postgres_server() as dsn:
        yield f"ducklake:postgres:{dsn}"


@pytest.fixture(scope="module")
def both(samples, catalog, tmp_path_factory):
    """The same pipeline on the same exports, into a DuckDB file and into DuckLake."""
    folder = tmp_path_factory.mktemp("warehouses")
    file = folder / "hub.duckdb"
    run_pipeline(file, samples)
    os.environ["HUB_LAKE_DATA_PATH"] = str(folder / "lake")
    try:
        run_pipeline(catalog, samples)
    finally:
        del os.environ["HUB_LAKE_DATA_PATH"]
    return file, catalog, folder / "lake"


def _tables(con, database: str) -> dict[str, list[str]]:
    rows = con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = ? "
                       "ORDER BY table_name, column_index", [database]).fetchall()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def test_every_table_on_ducklake_equals_the_embedded_files(both):
    file, catalog, data = both
    con = open_lake(catalog, read_only=True)
    con.execute(f"ATTACH '{file}' AS embedded (READ_ONLY)")
    embedded, lake = _tables(con, "embedded"), _tables(con, "hub")
    assert embedded == lake
    differing, rows = {}, {}
    for table, columns in embedded.items():
        kept = ", ".join(f'"{c}"::VARCHAR' for c in columns if c not in RUN_TIMES)
        only = con.execute(f"""SELECT (SELECT count(*) FROM (SELECT {kept} FROM embedded."{table}"
                                                             EXCEPT ALL SELECT {kept} FROM hub."{table}")),
                                      (SELECT count(*) FROM (SELECT {kept} FROM hub."{table}"
                                                             EXCEPT ALL SELECT {kept} FROM embedded."{table}")),
                                      (SELECT count(*) FROM hub."{table}")""").fetchone()
        rows[table] = only[2]
        if only[:2] != (0, 0):
            differing[table] = only[:2]
    assert differing == {}
    # Not an equality of empty tables: the whole graph ran, on every platform.
    assert rows["messages"] > 15_000 and rows["reactions"] > 3_000 and rows["member_scores"] > 1_000
    assert rows["community_stages"] > 0 and rows["persons"] > 200 and rows["interactions"] > 10_000
    assert con.execute("SELECT count(DISTINCT platform) FROM hub.messages").fetchone()[0] == 5
    # The data is Parquet in the data path; the catalog (PostgreSQL) holds no rows of it.
    assert list(data.rglob("*.parquet"))


def test_hub_commands_take_the_ducklake_from_the_configuration(both, samples, tmp_path):
    _, catalog, _ = both
    config = tmp_path / "hub.yaml"
    config.write_text(Path(samples.config_path).read_text() + f"warehouse:\n  catalog: \"{catalog}\"\n")
    env = {k: v for k, v in os.environ.items() if k != "HUB_DB"} | {"HUB_CONFIG": str(config)}
    hub = str(Path(sys.executable).with_name("hub"))

    def run(*args: str) -> str:
        done = subprocess.run([hub, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    counted = json.loads(run("query", "--format", "json", "SELECT platform, count(*) AS n FROM messages GROUP BY 1 ORDER BY 1"))
    assert [r["platform"] for r in counted] == ["discord", "facebook", "slack", "telegram", "whatsapp"]
    assert "riverside-makers" in run("communities")
    page = tmp_path / "report.html"
    run("report", "--config", str(config), "--out", str(page))
    assert "Riverside Makers" in page.read_text()
    # SQL someone typed only reads: not even into the lake's own folder, which its connection reaches.
    _, _, data = both
    for sql, refused in [(f"COPY messages TO '{data / 'out.csv'}'", "COPY"),
                         (f"SELECT * FROM read_csv('{tmp_path / 'hub.yaml'}')", "file system operations are disabled")]:
        done = subprocess.run([hub, "query", sql], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        assert done.returncode == 2 and refused in done.stderr, done.stderr
    assert not (data / "out.csv").exists()


def test_a_lake_that_cannot_be_opened_says_so_without_its_password(tmp_path):
    from servers import free_port

    hub = str(Path(sys.executable).with_name("hub"))
    lake = f"ducklake:postgres:dbname=hub host=127.0.0.1 port={free_port()} user=hub password=s3cret-pw"
    done = subprocess.run([hub, "communities", "--db", lake], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: the DuckLake warehouse ducklake:postgres:") and "server runs" in done.stderr
    assert "s3cret" not in done.stderr + done.stdout


def test_a_migration_runs_on_ducklake_without_what_it_lacks():
    sql = """CREATE TYPE message_kind AS ENUM ('message', 'system');
             CREATE TABLE t (id VARCHAR PRIMARY KEY, kind message_kind NOT NULL);
             CREATE TABLE u (a VARCHAR, b VARCHAR, PRIMARY KEY (a, b));"""
    con = duckdb.connect()
    con.execute(for_lake(sql))
    assert con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 't'").fetchall() == \
        [("id", "VARCHAR"), ("kind", "VARCHAR")]
    assert con.execute("SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'").fetchone() == (0,)
