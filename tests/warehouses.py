"""Helpers of the crash and concurrency tests: run `hub` as a user does (its own process, HUB_DB),
and compare two warehouse files table by table."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

HUB = str(Path(sys.executable).with_name("hub"))
# When the hub did something, not what the data says: they differ between two runs of the same load.
HUB_CLOCK = {"ingested_at", "landed_at", "applied_at", "updated_at", "quarantined_at"}


def hub_env(db: Path, **extra: str) -> dict[str, str]:
    """The environment of a `hub` process on warehouse `db`, with no configuration file of ours."""
    env = {k: v for k, v in os.environ.items() if k not in ("HUB_CONFIG", "HUB_DB_WAIT")}
    return {**env, "HUB_DB": str(db), **extra}


def start_hub(db: Path, *args: str, **extra_env: str) -> subprocess.Popen:
    """`hub ARGS` on `db`, started in the warehouse's folder (so no ./hub.yaml is read); output to files."""
    out = tempfile.TemporaryFile()  # a file, not a pipe, so a process that prints a lot never blocks
    process = subprocess.Popen([HUB, *args], cwd=db.parent, env=hub_env(db, **extra_env),
                               stdout=out, stderr=subprocess.STDOUT)
    process.output = out  # read back, and closed, by finish()
    return process


def finish(process: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    """Wait for a process of start_hub: (exit code, what it printed)."""
    code = process.wait(timeout=timeout)
    process.output.seek(0)
    printed = process.output.read().decode(errors="replace")
    process.output.close()
    return code, printed


def run_hub(db: Path, *args: str, timeout: float = 120, **extra_env: str) -> tuple[int, str]:
    return finish(start_hub(db, *args, **extra_env), timeout)


def differences(a: Path, b: Path) -> dict[str, tuple[int, int]]:
    """Tables whose rows differ (as multisets, hub clock columns left out): table -> (rows only in
    a, rows only in b). Empty when the two warehouses hold the same data."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        names = {t for (t,) in con.execute(
            "SELECT DISTINCT table_name FROM information_schema.tables WHERE table_catalog IN ('a', 'b') "
            "AND table_schema = 'main'").fetchall()}
        found = {}
        for table in sorted(names):
            columns = ", ".join(f'"{c}"' for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'a' "
                "AND table_name = ? ORDER BY ordinal_position", [table]).fetchall() if c not in HUB_CLOCK)
            (only_a,) = con.execute(f'SELECT count(*) FROM (SELECT {columns} FROM a."{table}" '
                                    f'EXCEPT ALL SELECT {columns} FROM b."{table}")').fetchone()
            (only_b,) = con.execute(f'SELECT count(*) FROM (SELECT {columns} FROM b."{table}" '
                                    f'EXCEPT ALL SELECT {columns} FROM a."{table}")').fetchone()
            if only_a or only_b:
                found[table] = (only_a, only_b)
        return found
