"""Crash safety: `hub ingest` killed with SIGKILL at any moment of a large load leaves a warehouse
that opens, passes the pipeline's checks and holds each file whole or not at all; running the same
command again ends with exactly what an uninterrupted run gives.

The kill points are seeded, and most are set by the load's progress rather than by the clock, so
that they fall inside the load on a fast machine and a busy one alike: while DuckDB writes a commit
to its write-ahead log, while a checkpoint copies the log into the database file, at a moment of
the load, and just before the end (the marts' refresh).

The live connectors' cursors are tested in tests/test_slack_live.py (a sync that dies halfway keeps
the checkpoint it reached, then ends as an uninterrupted one) and tests/test_telegram_live.py (a
crash before the commit stores nothing and confirms nothing to Telegram).
"""

from __future__ import annotations

import dataclasses
import random
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner
from warehouses import differences, finish, start_hub

from hub.cli import app
from hub.config import HubConfig
from hub.ingest import expand, ingest_file
from hub.simulate import simulate, slack, whatsapp
from warehouse import checks
from warehouse.db import connect

pytestmark = pytest.mark.slow
SEED = 20240808
# Tables whose rows name the file they came from, and that no later file takes rows from.
PER_FILE = ("messages", "mentions", "links", "membership_events", "quarantine")

# (seconds since the start, bytes of the database file, bytes of its write-ahead log) -> kill now?
KillPoint = Callable[[float, int, int], bool]


@pytest.fixture(autouse=True)
def no_configuration(tmp_path: Path, monkeypatch) -> None:
    """In-process commands read no hub.yaml of the developer's (the subprocesses start in a temp folder)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HUB_CONFIG", raising=False)


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    """~75,000 messages in four exports: a WhatsApp chat, the same again under another name (a new
    channel, the same people), an early export of the chat that the later one overlaps, and a Slack
    export."""
    folder = tmp_path_factory.mktemp("exports")
    chat = simulate(members=150, days=365, seed=7, messages=24_000, name="Crash")
    whatsapp.write_export(dataclasses.replace(chat, messages=chat.messages[:len(chat.messages) // 2]),
                          folder / "early")
    later = whatsapp.write_export(chat, folder / "later")
    (folder / later.name.replace("Crash", "Crash 2")).write_bytes(later.read_bytes())
    team = simulate(members=40, days=120, seed=8, messages=5_000, name="Crash Slack")
    slack.write_export(slack.workspace(team), folder / "slack")
    return folder


@dataclasses.dataclass
class CleanRun:
    db: Path
    seconds: float = 0.0
    writing_from: float = 0.0  # when it created the warehouse: before, it only imports Python
    largest_log: int = 0  # bytes the write-ahead log reached (commits write it, checkpoints empty it)
    database_bytes: int = 0  # the file's final size (checkpoints grow it)

    def observe(self, seconds: float, database: int, log: int) -> bool:
        if database >= 0 and not self.writing_from:
            self.writing_from = seconds
        self.seconds, self.largest_log, self.database_bytes = seconds, max(self.largest_log, log), database
        return False  # never kill it


def size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


def ingest_again(db: Path, exports: Path) -> None:
    """The same command, run through (in this process: the same code, without the start-up time)."""
    result = CliRunner().invoke(app, ["ingest", str(exports), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output


def ingest(db: Path, exports: Path, kill_when: KillPoint) -> int | None:
    """Run `hub ingest` on the exports, watching the warehouse's files; SIGKILL it as soon as
    `kill_when` says. The process id if it was killed, None if it finished first."""
    log = db.with_name(db.name + ".wal")
    started = time.perf_counter()
    process = start_hub(db, "ingest", str(exports), "--json")
    while process.poll() is None:
        if kill_when(time.perf_counter() - started, size(db), size(log)):
            process.send_signal(signal.SIGKILL)
            finish(process)
            return process.pid
        time.sleep(0.005)
    code, printed = finish(process)
    assert code == 0, printed
    return None


def staging_folders(pid: int) -> list[Path]:
    """Where the loader of process `pid` staged the file it was loading (warehouse/load.py)."""
    return list(Path(tempfile.gettempdir()).glob(f"hub-stage-{pid}-*"))


@pytest.fixture(scope="module")
def clean(exports: Path, tmp_path_factory) -> CleanRun:
    run = CleanRun(tmp_path_factory.mktemp("clean") / "hub.duckdb")
    ingest(run.db, exports, run.observe)
    return run


def kill_points(clean: CleanRun, rng: random.Random) -> dict[str, KillPoint]:
    at, log, database = (rng.uniform(0.2, 0.9) for _ in range(3))
    moment = clean.writing_from + at * (clean.seconds - clean.writing_from)
    return {
        f"while DuckDB writes a commit to its log ({log:.0%} of the largest log)":
            lambda t, d, w: w >= log * clean.largest_log,
        f"while a checkpoint writes the database file ({database:.0%} of its final size)":
            lambda t, d, w: d >= database * clean.database_bytes,
        f"{moment:.2f} s into the load": lambda t, d, w: t >= moment,
        "just before the end": lambda t, d, w: t >= clean.seconds - 0.15,
    }


def assert_consistent(db: Path, clean: CleanRun, files: list[str]) -> None:
    """What a user finds after the crash: the warehouse opens (read-only, as `hub report` does),
    every row reads, the pipeline's checks pass, and each file is in whole (as in a clean run) or
    not at all, in the order the command loads them."""
    if not db.exists():
        return  # killed before it created the warehouse
    with connect(db, read_only=True, wait=0) as con:
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables "
                                    "WHERE table_schema = 'main'").fetchall():
            con.execute(f'SELECT sum(hash(t)) FROM "{table}" t').fetchone()  # reads every value
        loaded = [p for (p,) in con.execute("SELECT path FROM sources").fetchall()]
        assert sorted(loaded) == sorted(files[:len(loaded)]), "files are loaded in the order given"
        assert checks.unique_message_ids(con)[0] and checks.no_orphan_authors(con)[0]
        for path in loaded:
            assert checks.timestamps_within_export_range(con, path)[0], path
        committed = {s for (s,) in con.execute("SELECT source_id FROM sources").fetchall()}
        con.execute(f"ATTACH '{clean.db}' AS clean (READ_ONLY)")
        for table in PER_FILE:
            partial = dict(con.execute(f'SELECT source_id, count(*) FROM "{table}" GROUP BY 1').fetchall())
            whole = dict(con.execute(f'SELECT source_id, count(*) FROM clean."{table}" GROUP BY 1').fetchall())
            assert set(partial) <= committed, f"{table} holds rows of a file whose load did not commit"
            assert partial == {s: n for s, n in whole.items() if s in committed}, f"{table} holds a file in part"


def test_a_killed_ingest_leaves_a_consistent_warehouse_and_a_rerun_ends_as_a_clean_run(
        exports: Path, clean: CleanRun, tmp_path: Path) -> None:
    files = [str(p) for p in expand([exports])]
    left_behind = []
    for n, (when, kill_point) in enumerate(kill_points(clean, random.Random(SEED)).items()):
        db = tmp_path / f"killed-{n}" / "hub.duckdb"
        db.parent.mkdir()
        killed = ingest(db, exports, kill_point)
        left_behind += staging_folders(killed) if killed else []
        assert_consistent(db, clean, files)
        ingest_again(db, exports)
        assert differences(db, clean.db) == {}, f"killed {when}"
    # A load killed mid-way leaves its staging files; the next load, of any process, removes them.
    assert left_behind and not [folder for folder in left_behind if folder.exists()]


def test_a_crash_during_recovery_is_recovered_too(exports: Path, clean: CleanRun, tmp_path: Path) -> None:
    """Killed, then the rerun killed too (it may be replaying the first one's log), then run through."""
    files = [str(p) for p in expand([exports])]
    db = tmp_path / "hub.duckdb"
    points = kill_points(clean, random.Random(SEED + 1))
    for when in list(points)[1:3]:  # in a checkpoint, then in a later file
        ingest(db, exports, points[when])
        assert_consistent(db, clean, files)
    ingest_again(db, exports)
    assert differences(db, clean.db) == {}


def test_files_committed_but_marts_not_refreshed_are_refreshed_by_the_rerun(exports: Path, tmp_path: Path) -> None:
    """The window a kill just before the end hits: every file is loaded, the marts are not. The
    rerun finds every file already loaded and must still bring the marts up to date."""
    export = next((exports / "early").iterdir())
    db, clean_db = tmp_path / "crashed.duckdb", tmp_path / "clean.duckdb"
    with connect(db) as con:
        assert ingest_file(con, export, config=HubConfig()).error is None  # committed; refresh never ran
    ingest_again(db, export)
    ingest_again(clean_db, export)
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM member_weekly_activity").fetchone()[0] > 0
    assert differences(db, clean_db) == {}
