"""Benchmark: `hub ingest` of a simulated Telegram Desktop `result.json` (one supergroup, replies,
reactions, entities, media, service messages), laid out as Telegram Desktop writes it.

    .venv/bin/python bench/telegram.py [--messages N] [--also N]

Targets (issue 4): >= 100,000 messages/s and peak RSS under 1 GB for a 1,000,000-message file, and
peak RSS that does not grow with the file's size (`--also 250000` measures a second size beside it).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from whatsapp import run, start_afresh  # noqa: E402  (same measuring of a separate process)


def export(messages: int) -> tuple[Path, dict]:
    from hub.simulate.telegram import write_large_export

    folder = ROOT / "bench" / "out" / f"telegram-{messages}"
    done = folder / "truth.json"
    if done.exists():
        return folder / "result.json", json.loads(done.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    print(f"generating a {messages:,}-message Telegram export...", flush=True)
    truth = write_large_export(folder / "result.json", messages, seed=42)
    done.write_text(json.dumps(truth))
    start_afresh()


def measure(messages: int) -> tuple[int, float, int]:
    path, truth = export(messages)
    total = truth["messages"] + truth["service"]
    hub = str(Path(sys.executable).with_name("hub"))
    with tempfile.TemporaryDirectory() as tmp:
        wall, peak, out = run([hub, "ingest", str(path), "--db", str(Path(tmp) / "bench.duckdb"), "--json"])
    (report,) = json.loads(out)["files"]
    assert (report["new"], report["quarantined"]) == (total, 0), report
    size = path.stat().st_size / 1e6
    print(f"{total:>9,} messages, {size:,.0f} MB:  hub ingest {total / wall:>9,.0f} messages/s "
          f"({wall:.2f} s wall, whole command; read+load {total / report['seconds']:,.0f}/s)   peak RSS {peak:,} MB")
    return total, total / wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--also", type=int, default=250_000, help="a second size, to show RSS stays flat (0: none)")
    args = parser.parse_args()
    results = [measure(n) for n in sorted({args.messages, args.also} - {0})]
    _, rate, peak = results[-1]
    verdict = "met" if rate >= 100_000 and peak < 1024 else "NOT met"
    print(f"target >= 100,000 messages/s and peak RSS < 1,024 MB at the largest size: {verdict}")
    if len(results) == 2:
        (n1, _, p1), (n2, _, p2) = results
        print(f"peak RSS {p1:,} MB at {n1:,} messages vs {p2:,} MB at {n2:,}: x{p2 / p1:.2f} for x{n2 / n1:.0f} the size")


if __name__ == "__main__":
    main()
