"""Benchmark: a full recompute of the derived tables (`hub build`) over a simulated community of
20,000 members and 1,000,000 messages, and the time of each step.

    .venv/bin/python bench/scoring.py [--members N] [--messages N]

Target (issue 6): a full recompute in <= 10 s; adding one day of messages recomputes only what
changed. Measured here: the last day is held back, the warehouse built whole, the day put back
(as an ingest of the next export would), and built again; that second build recomputes from the
day's week (or the week of what it answers) on.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from whatsapp import run, start_afresh  # noqa: E402  (same measuring of a separate process)


def warehouse(members: int, messages: int) -> Path:
    """A warehouse holding the simulated community (made once, kept under bench/out)."""
    folder = ROOT / "bench" / "out" / f"scoring-{members}-{messages}"
    db = folder / "hub.duckdb"
    if db.exists():
        return db
    from hub.simulate import simulate
    from hub.simulate import telegram

    folder.mkdir(parents=True, exist_ok=True)
    print(f"simulating {members:,} members and {messages:,} messages (once)...", flush=True)
    sim = simulate(members=members, days=365, seed=7, messages=messages, name="Bench")
    export = telegram.write_export(telegram.chat(sim), folder / "result.json")
    hub = str(Path(sys.executable).with_name("hub"))
    run([hub, "ingest", str(export), "--db", str(db)])
    export.unlink()
    start_afresh()


def steps(db: Path) -> list[tuple[str, float]]:
    """Seconds of each derived step, run in this process on a copy of the warehouse."""
    from hub.config import HubConfig
    from hub.persons import refresh_persons
    from hub.scoring import refresh_scores
    from hub.stages import refresh_stages
    from warehouse import health, interactions, marts
    from warehouse.db import connect

    timings = []
    with connect(db) as con:
        for name, step in [("member_weekly_activity", lambda: marts.refresh(con)),
                           ("persons", lambda: refresh_persons(con, HubConfig())),
                           ("interactions", lambda: interactions.refresh(con)),
                           ("community_health", lambda: health.refresh(con)),
                           ("member_scores, member_flags", lambda: refresh_scores(con)),
                           ("community_stages", lambda: refresh_stages(con, HubConfig()))]:
            started = time.perf_counter()
            step()
            timings.append((name, time.perf_counter() - started))
    return timings


# The inputs of the derived tables, and how to find the last day's rows of each.
_HELD = {"messages": "sent_at >= $cut",
         "reactions": "message_id IN (SELECT message_id FROM messages WHERE sent_at >= $cut)",
         "mentions": "message_id IN (SELECT message_id FROM messages WHERE sent_at >= $cut)",
         "links": "message_id IN (SELECT message_id FROM messages WHERE sent_at >= $cut)",
         "membership_events": '"at" >= $cut'}


def hold_back_last_day(db: Path) -> int:
    """Move the last day's rows out of the input tables (into held_*); messages held back."""
    from warehouse.db import connect

    with connect(db) as con:
        (cut,) = con.execute("SELECT max(sent_at) - INTERVAL 1 DAY FROM messages").fetchone()
        for table in reversed(list(_HELD)):  # messages last: the others find their rows through them
            con.execute(f"CREATE TABLE held_{table} AS SELECT * FROM {table} WHERE {_HELD[table]}", {"cut": cut})
            con.execute(f"DELETE FROM {table} WHERE {_HELD[table]}", {"cut": cut})
        return con.execute("SELECT count(*) FROM held_messages").fetchone()[0]


def put_back(db: Path) -> None:
    from warehouse.db import connect

    with connect(db) as con:
        for table in _HELD:
            con.execute(f"INSERT INTO {table} SELECT * FROM held_{table}")
            con.execute(f"DROP TABLE held_{table}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args()
    source = warehouse(args.members, args.messages)
    hub = str(Path(sys.executable).with_name("hub"))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "hub.duckdb"
        shutil.copy(source, db)
        held = hold_back_last_day(db)
        wall, peak, _ = run([hub, "build", "--db", str(db)])
        print(f"hub build, whole (through Dagster): {wall:.2f} s, peak RSS {peak:,} MB")
        put_back(db)
        again, again_peak, output = run([hub, "build", "--db", str(db)])
        recomputed = next((line for line in output.splitlines() if ": " in line and "week" in line), "?")
        print(f"hub build after one more day ({held:,} messages): {again:.2f} s, peak RSS {again_peak:,} MB "
              f"(recomputed {recomputed.split(': ', 1)[-1].strip()})")
        for name, seconds in steps(db):
            print(f"  {name:<28} {seconds:6.2f} s")
    verdict = "met" if wall <= 10 else "NOT met"
    print(f"target: full recompute <= 10 s: {verdict}; one more day: {again:.2f} s, from its week on")


if __name__ == "__main__":
    main()
