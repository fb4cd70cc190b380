"""Concurrency: one warehouse file, several writers at once. DuckDB lets one process write a file;
the others wait for it (bounded by HUB_DB_WAIT, or the Dagster resource's own wait), or give up
with one clear line, and nothing is corrupted. And the inbox sensor with 1,000 files landing at
once, and with a file still being written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner
from warehouses import differences, finish, run_hub, start_hub

from hub.cli import BUSY_EXIT, app
from hub.simulate import simulate, whatsapp
from pipelines.exports.assets import core_tables, export_files, raw_export_file
from pipelines.exports.checks import no_orphan_authors, timestamps_within_export_range, unique_message_ids
from pipelines.exports.sensors import RUNS_PER_TICK, InboxCursor, export_inbox_sensor
from pipelines.resources import HubSettings, WarehouseResource
from warehouse import checks
from warehouse.db import WarehouseBusy, connect

pytestmark = pytest.mark.slow
runner = CliRunner()
BUSY = "is in use by another process"


@pytest.fixture(autouse=True)
def no_configuration(tmp_path: Path, monkeypatch) -> None:
    """In-process commands and runs read no hub.yaml of the developer's."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HUB_CONFIG", raising=False)
    monkeypatch.delenv("HUB_DB_WAIT", raising=False)


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    """Three WhatsApp chats of ~10,000 messages: each holds the warehouse for a second or so."""
    folder = tmp_path_factory.mktemp("exports")
    return {name: whatsapp.write_export(simulate(members=60, days=200, seed=seed, messages=8_000,
                                                 name=name.title()), folder / name)
            for seed, name in enumerate(("alpha", "beta", "gamma"), 21)}


def ingest_in_process(db: Path, export: Path, community: str) -> None:
    result = runner.invoke(app, ["ingest", str(export), "--db", str(db), "--community", community])
    assert result.exit_code == 0, result.output


def materialize(db: Path, export: Path, raw_store: Path, wait: float = 120,
                busy_retries: int = 0) -> dg.ExecuteInProcessResult:
    """A Dagster run of the export's partition (landing, loading, the checks), as the sensor starts one."""
    instance = dg.DagsterInstance.ephemeral()
    key = str(export.resolve())
    instance.add_dynamic_partitions(export_files.name, [key])
    resources = {"duckdb": WarehouseResource(database=str(db), wait_seconds=wait, busy_retries=busy_retries,
                                             connection_config={"preserve_insertion_order": False}),
                 "hub": HubSettings(raw_store=str(raw_store))}
    return dg.materialize([raw_export_file, core_tables, unique_message_ids, no_orphan_authors,
                           timestamps_within_export_range], partition_key=key, instance=instance,
                          resources=resources, raise_on_error=False)


HOLD = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "reader")
print("held", flush=True)
sys.stdin.read()  # until the test closes it
"""


@contextmanager
def held(db: Path, *, by: str = "writer", for_seconds: float | None = None) -> Iterator[subprocess.Popen]:
    """Another process holds the warehouse (as a writer, or a reader like `hub report`) until the
    block ends, or for `for_seconds`."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db), by], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    release = threading.Timer(for_seconds, holder.stdin.close) if for_seconds else None
    if release:
        release.start()
    try:
        yield holder
    finally:
        if release:
            release.cancel()
        if not holder.stdin.closed:
            holder.stdin.close()
        holder.wait(timeout=30)


def test_two_ingests_and_a_dagster_run_at_once_end_as_a_sequential_run(exports: dict[str, Path],
                                                                      tmp_path: Path) -> None:
    together, one_by_one = tmp_path / "together" / "hub.duckdb", tmp_path / "one-by-one" / "hub.duckdb"
    together.parent.mkdir()
    one_by_one.parent.mkdir()
    raw_store = tmp_path / "raw"
    with held(together, for_seconds=3):  # taken when all three start: each has to wait its turn
        ingests = [start_hub(together, "ingest", str(exports[name]), "--community", name, HUB_DB_WAIT="120")
                   for name in ("alpha", "beta")]
        run = materialize(together, exports["gamma"], raw_store)
    for process in ingests:
        code, printed = finish(process)
        assert code == 0, printed
    assert run.success
    assert all(check.passed for check in run.get_asset_check_evaluations())

    ingest_in_process(one_by_one, exports["alpha"], "alpha")
    ingest_in_process(one_by_one, exports["beta"], "beta")
    assert materialize(one_by_one, exports["gamma"], raw_store).success
    assert differences(together, one_by_one) == {}
    with connect(together, read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT community) FROM messages").fetchone() == (3,)
        assert checks.unique_message_ids(con)[0] and checks.no_orphan_authors(con)[0]


@pytest.mark.parametrize("read_only", [False, True], ids=["writer", "reader"])
def test_connect_waits_while_another_process_writes(tmp_path: Path, read_only: bool) -> None:
    db = tmp_path / "hub.duckdb"
    connect(db).close()
    with held(db, for_seconds=1.5):
        started = time.monotonic()
        with connect(db, read_only=read_only, wait=30) as con:
            waited = time.monotonic() - started
            assert con.execute("SELECT count(*) FROM messages").fetchone() == (0,)
    assert 1.0 <= waited < 20


def test_a_writer_waits_for_a_reader(tmp_path: Path) -> None:
    db = tmp_path / "hub.duckdb"
    connect(db).close()
    with held(db, by="reader", for_seconds=1.5):
        with connect(db, read_only=True, wait=0):  # readers share the file
            pass
        started = time.monotonic()
        connect(db, wait=30).close()
        assert time.monotonic() - started >= 1.0


def test_held_past_the_wait_the_command_says_so_in_one_line_and_changes_nothing(
        exports: dict[str, Path], tmp_path: Path) -> None:
    db = tmp_path / "hub.duckdb"
    ingest_in_process(db, exports["alpha"], "alpha")
    before = shutil.copy(db, tmp_path / "before.duckdb")
    with held(db) as holder:
        started = time.monotonic()
        code, printed = run_hub(db, "ingest", str(exports["beta"]), HUB_DB_WAIT="1")
        assert code == BUSY_EXIT and time.monotonic() - started >= 1
        assert printed.strip().count("\n") == 0, printed
        assert f"the warehouse {db} {BUSY} " in printed and f"PID {holder.pid}" in printed
        assert "HUB_DB_WAIT" in printed and "Traceback" not in printed

        code, printed = run_hub(db, "query", "SELECT count(*) FROM messages", HUB_DB_WAIT="0.5")
        assert code == BUSY_EXIT and BUSY in printed and printed.strip().count("\n") == 0

        run = materialize(db, exports["gamma"], tmp_path / "raw", wait=0.5)
        assert not run.success
        (failure,) = [e for e in run.all_events if e.is_step_failure]
        busy = failure.step_failure_data.error.cause  # what the run's page shows under the step's failure
        assert busy.cls_name == WarehouseBusy.__name__ and BUSY in busy.message and "wait_seconds" in busy.message
    assert differences(db, before) == {}
    ingest_in_process(db, exports["beta"], "beta")  # let go of, it takes writes again


def test_a_dagster_run_that_found_the_warehouse_busy_tries_again_and_loads(exports: dict[str, Path],
                                                                          tmp_path: Path) -> None:
    """A `hub ingest` holds the file past the run's wait: the step is tried again after as long (the
    sensor never asks twice for a file it asked for), and loads once the file is let go."""
    db = tmp_path / "hub.duckdb"
    ingest_in_process(db, exports["alpha"], "alpha")
    with held(db, for_seconds=2.5):
        run = materialize(db, exports["gamma"], tmp_path / "raw", wait=0.5, busy_retries=3)  # (the UI's definitions')
    assert run.success
    retried = [e for e in run.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert 1 <= len(retried) <= 3
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_files").fetchone() == (1,)
        assert con.execute("SELECT count(DISTINCT source_id) FROM messages").fetchone() == (2,)


def test_hub_build_finding_the_warehouse_held_says_so_in_one_line(exports: dict[str, Path], tmp_path: Path,
                                                                  monkeypatch) -> None:
    """Someone is waiting for `hub build`: no step is tried again, the one line and exit 75 come at once."""
    import pipelines.definitions

    db = tmp_path / "hub.duckdb"
    ingest_in_process(db, exports["alpha"], "alpha")
    given = pipelines.definitions.warehouse_resource
    monkeypatch.setattr(pipelines.definitions, "warehouse_resource",
                        lambda database, **kw: given(database, **kw).model_copy(update={"wait_seconds": 0.5}))
    with held(db) as holder:
        started = time.monotonic()
        result = runner.invoke(app, ["build", "--db", str(db)])
        assert result.exit_code == BUSY_EXIT and time.monotonic() - started < 60, result.output
    said = " ".join(result.output.split())
    assert f"{BUSY} (" in said and f"PID {holder.pid}" in said and "Traceback" not in said


def test_a_wait_that_is_not_a_number_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "hub.duckdb"
    connect(db).close()
    result = runner.invoke(app, ["query", "SELECT 1", "--db", str(db)], env={"HUB_DB_WAIT": "a minute"})
    assert result.exit_code == 2
    assert "HUB_DB_WAIT is a number of seconds (0 or more), not 'a minute'" in result.output


# The inbox sensor.

def tick(instance: dg.DagsterInstance, settings: HubSettings, cursor: str | None) -> dg.SensorResult:
    """One evaluation of the sensor; its new partitions are added, as the daemon does."""
    result = export_inbox_sensor(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                         resources={"hub": settings}))
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(export_files.name, list(request.partition_keys))
    return result


def test_a_thousand_files_at_once_are_all_requested_once_a_few_hundred_a_tick(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    files = {str((inbox / f"WhatsApp Chat with Group {n:04}.txt").resolve()) for n in range(1000)}
    for n, path in enumerate(sorted(files)):
        Path(path).write_text(f"27/03/2022, 21:{n % 60:02} - Ana: hello {n}\n")
    instance, settings = dg.DagsterInstance.ephemeral(), HubSettings(inbox=str(inbox))

    first = tick(instance, settings, None)
    assert first.run_requests == []  # just written: wait for a tick that finds them unchanged
    requested, cursor, ticks = [], first.cursor, 0
    while True:
        started = time.perf_counter()
        result = tick(instance, settings, cursor)
        assert time.perf_counter() - started < 5
        if not result.run_requests:
            break
        assert len(result.run_requests) <= RUNS_PER_TICK
        requested += result.run_requests
        cursor, ticks = result.cursor, ticks + 1
    assert ticks == 1000 // RUNS_PER_TICK
    keys = [r.partition_key for r in requested]
    assert len(keys) == len(set(keys)) == 1000 and set(keys) == files
    assert len({r.run_key for r in requested}) == 1000
    assert set(instance.get_dynamic_partitions(export_files.name)) == files


def test_a_file_still_being_written_is_requested_once_it_stops_changing(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    export = inbox / "WhatsApp Chat with Makers.txt"
    instance, settings = dg.DagsterInstance.ephemeral(), HubSettings(inbox=str(inbox))
    cursor = None
    for n in range(3):  # a slow copy: more of it at every tick
        with export.open("a") as f:
            f.write(f"27/03/2022, 21:4{n} - Ana: part {n}\n")
        result = tick(instance, settings, cursor)
        assert result.run_requests == [] and result.dynamic_partitions_requests == []
        cursor = result.cursor
    complete = tick(instance, settings, cursor)  # the same size and time as the tick before
    assert [r.partition_key for r in complete.run_requests] == [str(export.resolve())]
    assert instance.get_dynamic_partitions(export_files.name) == [str(export.resolve())]
    assert tick(instance, settings, complete.cursor).run_requests == []

    with export.open("a") as f:  # a newer export written over it: loaded again once complete
        f.write("28/03/2022, 09:00 - Ana: more\n")
    changed = tick(instance, settings, complete.cursor)
    assert changed.run_requests == []
    again = tick(instance, settings, changed.cursor)
    assert [r.partition_key for r in again.run_requests] == [str(export.resolve())]
    assert again.run_requests[0].run_key != complete.run_requests[0].run_key


def test_a_cursor_of_the_previous_sensor_requests_nothing_twice(tmp_path: Path) -> None:
    """The sensor's cursor used to be {path: [size, mtime]} of every file it had requested."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    export = inbox / "WhatsApp Chat with Makers.txt"
    export.write_text("27/03/2022, 21:41 - Ana: hi\n")
    stat = export.stat()
    old = json.dumps({str(export.resolve()): [stat.st_size, stat.st_mtime_ns]})
    assert InboxCursor.parse(old).requested == {str(export.resolve()): (stat.st_size, stat.st_mtime_ns)}
    assert tick(dg.DagsterInstance.ephemeral(), HubSettings(inbox=str(inbox)), old).run_requests == []
