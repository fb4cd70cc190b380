"""Benchmark: the community report (HTML, Markdown, CSV) of a simulated community of 20,000
members and 1,000,000 messages, read on a read-only connection.

    .venv/bin/python bench/report.py [--members N] [--messages N]

The warehouse is the one bench/scoring.py caches under bench/out (made once), copied to a
temporary folder and built there (`hub build`) when its derived tables are empty.
Target (issue 7): the HTML report in <= 10 s, and < 5 MB.
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

from scoring import warehouse  # noqa: E402  (the cached 20,000-member warehouse)
from whatsapp import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args()

    import duckdb

    from hub.config import HubConfig
    from hub.html_report import write_csv_report, write_html_report, write_markdown_report
    from hub.stages import promoters

    source = warehouse(args.members, args.messages)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "hub.duckdb"
        shutil.copy(source, db)
        with duckdb.connect(str(db), read_only=True) as con:
            scored = con.execute("SELECT count(*) FROM member_scores").fetchone()[0]
        if not scored:
            wall, _, _ = run([str(Path(sys.executable).with_name("hub")), "build", "--db", str(db)])
            print(f"hub build first (member_scores was empty): {wall:.1f} s")
        config = HubConfig()
        for attempt in ("first", "again"):
            started = time.perf_counter()
            with duckdb.connect(str(db), read_only=True) as con:
                (community,) = con.execute("SELECT community FROM communities ORDER BY 1 LIMIT 1").fetchone()
                out = write_html_report(con, community, Path(tmp) / "report.html",
                                        weights=config.rules(community).scoring.weights,
                                        promoters=promoters(con, config, community))
            seconds = time.perf_counter() - started
            size = out.stat().st_size / 1e6
            print(f"HTML report ({attempt}): {seconds:.2f} s, {size:.2f} MB")
        verdict = "met" if seconds <= 10 and size < 5 else "NOT met"
        print(f"target: HTML report in <= 10 s and < 5 MB: {verdict}")
        with duckdb.connect(str(db), read_only=True) as con:
            for name, write, target in [("Markdown + SVG", write_markdown_report, Path(tmp) / "md" / "report.md"),
                                        ("CSV", write_csv_report, Path(tmp) / "csv")]:
                started = time.perf_counter()
                write(con, community, target, promoters=promoters(con, config, community))
                print(f"{name} report: {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
