"""Benchmark: `hub ingest` of a simulated 1,000,000-message Slack export (folder layout, threads,
reactions), against the floor of DuckDB merely counting the same JSON files with read_json.

    make bench-slack                 # or: .venv/bin/python bench/slack.py [--messages N]

Target (issue 3): within 3x of that floor, peak RSS under 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from whatsapp import run, start_afresh  # noqa: E402  (same measuring of a separate process)


def export(messages: int) -> tuple[Path, int]:
    from hub.simulate import simulate
    from hub.simulate.slack import workspace, write_export

    folder = ROOT / "bench" / "out" / f"slack-{messages}"
    done = folder / "messages.count"
    if done.exists():
        return folder / "export", int(done.read_text())
    print(f"generating a {messages:,}-message Slack workspace...", flush=True)
    sim = simulate(members=max(50, messages // 330), days=365, seed=42, messages=messages, name="Bench")
    ws = workspace(sim)
    write_export(ws, folder / "export", indent=None)
    count = sum(len(v) for v in ws["messages"].values())
    done.write_text(str(count))
    start_afresh()


def floor(path: Path) -> float:
    import duckdb

    started = time.perf_counter()
    duckdb.connect().execute(f"SELECT count(*) FROM read_json('{path}/*/*.json', format='array', "
                             "maximum_object_size=1073741824)").fetchone()
    return time.perf_counter() - started


def extraction(path: Path) -> float:
    """DuckDB reading the fields the hub uses (not just counting objects): a fairer reference."""
    import duckdb

    columns = ("{ts: 'VARCHAR', subtype: 'VARCHAR', user: 'VARCHAR', bot_id: 'VARCHAR', text: 'VARCHAR', "
               "thread_ts: 'VARCHAR', edited: 'STRUCT(ts VARCHAR)', files: 'STRUCT(id VARCHAR)[]', "
               "reactions: 'STRUCT(name VARCHAR, count BIGINT, users VARCHAR[])[]'}")
    started = time.perf_counter()
    duckdb.connect().execute(
        f"SELECT count(ts), count(subtype), count(user), count(bot_id), sum(length(text)), count(thread_ts), "
        f"count(edited), sum(len(files)), sum(len(reactions)) FROM read_json('{path}/*/*.json', format='array', "
        f"columns={columns})").fetchone()
    return time.perf_counter() - started


def duckdb_alone(path: Path) -> tuple[float, int]:
    """The least any implementation can take: DuckDB alone reading the day files and inserting
    their messages, and nothing else (no reactions, accounts, threads, mentions or start-up), into
    a fresh warehouse's `messages` table. Seconds, and rows inserted."""
    from warehouse.db import connect

    columns = ("{ts: 'VARCHAR', subtype: 'VARCHAR', user: 'VARCHAR', text: 'VARCHAR', thread_ts: 'VARCHAR', "
               "edited: 'STRUCT(ts VARCHAR)', files: 'STRUCT(id VARCHAR)[]'}")
    with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "alone.duckdb") as con:
        started = time.perf_counter()
        (rows,) = con.execute(f"""
            INSERT INTO messages BY NAME
            SELECT 'slack/T/' || channel || '/' || ts AS message_id, 'slack' AS platform, 'default' AS community,
                   'slack/T/' || channel AS channel_id, 'slack/T/' || "user" AS author_id, "user" AS author_name,
                   to_timestamp(ts::DOUBLE) AS sent_at, 'message' AS kind, text,
                   CASE WHEN thread_ts <> ts THEN 'slack/T/' || channel || '/' || thread_ts END AS reply_to_id,
                   CASE WHEN thread_ts IS NOT NULL THEN 'slack/T/' || channel || '/' || thread_ts END AS thread_id,
                   coalesce(len(files) > 0, false) AS has_media, to_timestamp(edited.ts::DOUBLE) AS edited_at,
                   'bench' AS source_id
            FROM (SELECT *, parse_path(filename)[-2] AS channel
                  FROM read_json('{path}/*/*.json', format='array', columns={columns}, filename=true))""").fetchone()
        con.execute("CHECKPOINT")
        return time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args()
    path, count = export(args.messages)
    size = sum(p.stat().st_size for p in path.rglob("*.json")) / 1e6
    print(f"export: {count:,} messages in {sum(1 for _ in path.rglob('*.json')):,} files, {size:.0f} MB")
    base = floor(path)
    print(f"floor: DuckDB read_json count(*)  {base:.2f} s")
    print(f"       DuckDB read_json of the fields the hub reads  {extraction(path):.2f} s")
    alone, rows = duckdb_alone(path)
    print(f"       DuckDB alone reading the files and inserting only their {rows:,} messages  {alone:.2f} s "
          f"({alone / base:.1f}x the floor: the least a load of the warehouse takes, before start-up)")
    hub = str(Path(sys.executable).with_name("hub"))
    with tempfile.TemporaryDirectory() as tmp:
        wall, peak, out = run([hub, "ingest", str(path), "--db", str(Path(tmp) / "bench.duckdb"), "--json"])
    (report,) = json.loads(out)["files"]
    assert report["new"] == count, report
    print(f"hub ingest      {count / wall:>10,.0f} messages/s  ({wall:.2f} s wall, whole command)   peak RSS {peak:,} MB")
    print(f"  read+load     {count / report['seconds']:>10,.0f} messages/s  ({report['seconds']:.2f} s for the export)")
    ratio = wall / base
    verdict = "met" if ratio <= 3 and peak < 1536 else "NOT met"
    print(f"  {ratio:.1f}x the floor; target within 3x and peak RSS < 1,536 MB: {verdict}")


if __name__ == "__main__":
    main()
