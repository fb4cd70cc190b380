"""Ingest one file with the fuzz contract checked, in a process of its own whose memory is watched.

    python tests/fuzz/bounded_ingest.py PATH PLATFORM WAREHOUSE LIMIT_MB

Prints the outcome and the peak memory as one JSON line and exits 0; exits 3 as soon as the resident
memory passes LIMIT_MB (an input that makes memory grow without bound must fail the test, not take
the machine down). A broken contract is a traceback and exit 1. Used by the fuzz tests for the
inputs built to exhaust memory (deep nesting, huge lines).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def resident_mb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE >> 20


def watch(limit_mb: int) -> None:
    """Stop the process the moment its resident memory passes the limit (checked every 20 ms)."""
    def loop() -> None:
        while True:
            if resident_mb() > limit_mb:
                print(json.dumps({"error": f"memory passed {limit_mb} MB"}), flush=True)
                os._exit(3)
            time.sleep(0.02)

    threading.Thread(target=loop, daemon=True).start()


def main() -> None:
    path, platform, db, limit_mb = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for fuzz.harness
    from fuzz.harness import ingest_checked
    from warehouse.db import connect

    baseline = resident_mb()
    watch(baseline + limit_mb)
    with connect(db) as con:
        outcome = ingest_checked(con, path, platform)
    print(json.dumps({**outcome.__dict__, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10,
                      "baseline_mb": baseline}))


if __name__ == "__main__":
    main()
