"""Benchmark: one large simulated federation (several communities, each on every platform) through
the whole asset graph, end to end in Dagster, three ways:

  - the embedded DuckDB file: the inbox's runs one after another (one writer), steps in-process;
  - DuckLake (catalog in PostgreSQL, Parquet in a folder), Dagster's instance in PostgreSQL, every
    step on 1 Celery worker;
  - the same on 2 Celery workers, two runs at a time.

    .venv/bin/python bench/scaleout.py [--communities 4] [--members 200] [--days 365]

PostgreSQL and Redis are started here, as the tests start them (tests/servers.py). Each way starts
from an empty warehouse, instance and raw store; the time is from the first run to the last (the
inbox's loads, then the derived tables), and each DuckLake ends with the embedded file's row counts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from servers import celery_workers, postgres_server, redis_server, run_graph, scaleout_env  # noqa: E402

TABLES = ("messages", "reactions", "accounts", "interactions", "member_scores", "community_stages")


def federation(communities: int, members: int, days: int) -> tuple[Path, int]:
    """The federation's exports and its hub.yaml (made once, then reused); and its message count."""
    from hub.simulate.community import PLATFORMS, community, write_exports

    folder = ROOT / "bench" / "out" / f"scaleout-{communities}-{members}-{days}"
    done = folder / "truth.json"
    if done.exists():
        return folder, json.loads(done.read_text())["messages"]
    shutil.rmtree(folder, ignore_errors=True)
    print(f"generating {communities} communities of {members} members over {days} days, on "
          f"{len(PLATFORMS)} platforms each...", flush=True)
    lines, messages = ["communities:"], 0
    for i in range(communities):
        slug = f"chapter-{i + 1}"
        cp = community(members=members, days=days, seed=100 + i, platforms=PLATFORMS, name=f"Chapter {i + 1}",
                       trajectory=("growing", "mature", "stalled", "declining")[i % 4])
        write_exports(cp, folder / "inbox" / slug)
        messages += len(cp.sim.messages)
        lines += [f"  - slug: {slug}", f"    name: Chapter {i + 1}", "    sources:",
                  *(f"      - {{platform: {p}, inbox: inbox/{slug}/{p}}}" for p in PLATFORMS)]
    (folder / "hub.yaml").write_text("\n".join(lines) + "\n")
    done.write_text(json.dumps({"messages": messages}))
    return folder, messages


def settings_for(folder: Path, raw_store: Path):
    from pipelines.resources import HubSettings

    return HubSettings(config_path=str(folder / "hub.yaml"), inbox=str(folder / "inbox"), raw_store=str(raw_store))


def embedded(folder: Path, work: Path) -> tuple[float, dict]:
    settings = settings_for(folder, work / "raw")
    home = work / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(ROOT / "pipelines" / "dagster.yaml", home / "dagster.yaml")
    env = {**_clean_env(), "DAGSTER_HOME": str(home), "HUB_DB": str(work / "hub.duckdb"),
           "HUB_CONFIG": settings.config_path, "HUB_INBOX": settings.inbox, "HUB_RAW_STORE": settings.raw_store}
    started = time.perf_counter()
    run_graph(env, settings, parallel=1)
    return time.perf_counter() - started, counts(env["HUB_DB"])


def on_lake(folder: Path, work: Path, pg, broker: str, workers: int) -> tuple[float, dict]:
    settings = settings_for(folder, work / "raw")
    env = scaleout_env(pg, broker, settings, f"ducklake:postgres:{pg.dsn(f'lake{workers}')}", str(work / "lake"),
                       work / "dagster_home", f"dagster{workers}")
    with celery_workers(env, workers, work):
        started = time.perf_counter()
        run_graph(env, settings, parallel=workers)
        seconds = time.perf_counter() - started
    return seconds, counts(env["HUB_DB"])


def counts(target: str) -> dict:
    from warehouse.db import connect

    with connect(target, read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def _clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DAGSTER_"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--communities", type=int, default=4)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    folder, messages = federation(args.communities, args.members, args.days)
    files = sum(1 for c in (folder / "inbox").iterdir() for p in c.iterdir() for _ in p.iterdir())
    print(f"federation: {args.communities} communities, {messages:,} messages simulated, in {files} exports")
    results = []
    with tempfile.TemporaryDirectory() as tmp, postgres_server("lake1", "lake2", "dagster1", "dagster2") as pg, \
            redis_server() as broker:
        work = Path(tmp)
        ways = [("embedded DuckDB file", lambda w: embedded(folder, w)),
                ("DuckLake, 1 Celery worker", lambda w: on_lake(folder, w, pg, broker, 1)),
                ("DuckLake, 2 Celery workers", lambda w: on_lake(folder, w, pg, broker, 2))]
        for name, way in ways:
            print(f"{name}...", flush=True)
            (work / name).mkdir()
            seconds, rows = way(work / name)
            results.append((name, seconds, rows))
            print(f"  {seconds:,.1f} s end to end ({rows['messages'] / seconds:,.0f} messages/s)", flush=True)
    reference = results[0][2]
    print(f"\n{'':<28}{'seconds':>10}{'messages/s':>12}   same tables as the embedded file")
    for name, seconds, rows in results:
        same = "yes" if rows == reference else f"NO: {rows} vs {reference}"
        print(f"{name:<28}{seconds:>10,.1f}{rows['messages'] / seconds:>12,.0f}   {same}")


if __name__ == "__main__":
    main()
