"""Coverage-guided fuzzing with Atheris (libFuzzer), the second half of `make fuzz`; not part of `make test`.

    .venv/bin/python tests/fuzz/atheris_fuzz.py [--seconds N] [PARSER ...]

Hypothesis (tests/test_fuzz_parsers.py) damages exports in the ways files get damaged; Atheris
instead watches which lines of the connectors an input reaches and keeps mutating the inputs that
reach new ones, which finds the odd branch no hand-made damage thinks of. For each parser the
fuzzer's bytes become that parser's file (a WhatsApp chat, a Telegram result.json, a Slack day file
inside the seed workspace …) and are ingested with the contract checked (`fuzz.harness`): anything
but a load or an `UnreadableExport` is a crash. libFuzzer starts from the seeds in tests/fuzz/seeds/
(copied to .fuzz/corpus/<parser>/, which it grows; .fuzz/ is not in git), bounds each input's time
(-timeout) and memory (-rss_limit_mb), and writes a crashing input to .fuzz/crashes/. Each parser
runs in a process of its own; the figures (inputs, crashes, slowest input) are printed at the end.
Without Atheris installed (`pip install atheris`) this says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parents[1]
WORK = ROOT / ".fuzz"
# Parser -> (platform, the seed it fills, the file of that seed the fuzzer's bytes replace).
PARSERS = {
    "whatsapp txt": ("whatsapp", "WhatsApp Chat with Makers.txt", None),
    "whatsapp zip": ("whatsapp", "WhatsApp Chat - Makers.zip", "_chat.txt"),
    "slack": ("slack", "Makers Slack export", "makers/2024-01-13.json"),
    "telegram json": ("telegram", "result.json", None),
    "telegram folder/zip": ("telegram", "ChatExport_2024-01-08", "result.json"),
    "telegram html": ("telegram", "messages.html", None),
    "discord": ("discord", "Makers - Text Channels - general [1048750483046400003].json", None),
    "facebook messenger": ("facebook", "message_1.json", None),
    "facebook activity": ("facebook", "your_posts_in_groups.json", None),
    "facebook feed": ("facebook", "feed_1.json", None),
}
STATS_EVERY = 25  # inputs between two writes of a child's figures (it may be stopped at any time)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:  # --child PARSER, then libFuzzer's own arguments
        _fuzz(sys.argv[2], sys.argv[3:])
        return
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("parsers", nargs="*", metavar="PARSER", help=f"default: all of {', '.join(PARSERS)}")
    options.add_argument("--seconds", type=int, default=60, help="per parser (default 60)")
    args = options.parse_args()
    if unknown := [p for p in args.parsers if p not in PARSERS]:
        options.error(f"unknown parser {unknown[0]!r}: choose from {', '.join(PARSERS)}")
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("atheris is not installed (pip install atheris): the coverage-guided run is skipped")
        return
    figures = [_run(parser, args.seconds) for parser in args.parsers or PARSERS]
    _print(figures)
    if any(f["crashes"] for f in figures):
        sys.exit(1)


def _run(parser: str, seconds: int) -> dict:
    """One parser fuzzed in a child process for `seconds`; its figures."""
    corpus, crashes = WORK / "corpus" / parser.replace(" ", "-").replace("/", "-"), WORK / "crashes"
    if not corpus.exists():
        corpus.mkdir(parents=True)
        shutil.copy(_seed_bytes_path(parser), corpus / "seed")
    crashes.mkdir(parents=True, exist_ok=True)
    stats = WORK / f"{corpus.name}.json"
    stats.unlink(missing_ok=True)
    prefix = crashes / f"{corpus.name}-"
    before = set(crashes.glob(f"{corpus.name}-*"))
    command = [sys.executable, __file__, "--child", parser, str(corpus), f"-max_total_time={seconds}",
               "-timeout=30", "-rss_limit_mb=3072", f"-artifact_prefix={prefix}", "-print_final_stats=1"]
    print(f"atheris: {parser} for {seconds} s …", flush=True)
    child = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 300)
    figures = json.loads(stats.read_text()) if stats.exists() else {"tried": 0, "slowest": [0.0, ""]}
    if executed := re.search(r"stat::number_of_executed_units:\s*(\d+)", child.stderr):
        figures["tried"] = int(executed.group(1))  # libFuzzer's own count (the child writes every 25th)
    found = sorted(set(crashes.glob(f"{corpus.name}-*")) - before)
    if child.returncode != 0 and not found:
        found = [Path(f"exit {child.returncode}")]
    if found:
        print(child.stderr[-4000:], file=sys.stderr)
    return {"parser": parser, **figures, "crashes": len(found), "found": [str(f) for f in found]}


def _print(figures: list[dict]) -> None:
    print(f"\n{'parser':<22} {'inputs':>7} {'crashes':>8}  slowest input")
    for f in figures:
        seconds, what = f["slowest"]
        print(f"{f['parser']:<22} {f['tried']:>7} {f['crashes']:>8}  {seconds:.2f} s ({what})")
        for path in f.get("found", []):
            print(f"{'':<22} crash input: {path}")
    print(f"{sum(f['tried'] for f in figures)} inputs, {sum(f['crashes'] for f in figures)} crashes")


def _seed_bytes_path(parser: str) -> Path:
    platform, seed, member = PARSERS[parser]
    path = FUZZ / "seeds" / platform / seed
    if member is None:
        return path
    if path.suffix == ".zip":  # the chat text inside the zip, written out for libFuzzer
        import zipfile

        out = WORK / "seed-members" / parser.replace(" ", "-")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(zipfile.ZipFile(path).read(member))
        return out
    return path / member


def _fuzz(parser: str, libfuzzer: list[str]) -> None:
    """In the child: libFuzzer drives `one_input` until time runs out or an input crashes."""
    import atheris

    with atheris.instrument_imports(include=["connectors", "hub.ingest"]):
        import connectors  # noqa: F401
        import hub.ingest  # noqa: F401
    sys.path.insert(0, str(FUZZ.parent))
    from fuzz.harness import ingest_checked, read_sample, write
    from warehouse.db import connect

    platform, seed, member = PARSERS[parser]
    sample = read_sample(platform, FUZZ / "seeds" / platform / seed)
    folder = Path(tempfile.mkdtemp(prefix="hub-atheris-"))
    con = connect(folder / "w.duckdb")
    stats_path = WORK / f"{parser.replace(' ', '-').replace('/', '-')}.json"
    figures = {"tried": 0, "slowest": [0.0, ""]}

    def one_input(data: bytes) -> None:
        content = data if member is None else {**sample.content, member: data}
        inputs = folder / "input"
        shutil.rmtree(inputs, ignore_errors=True)
        path = write(sample, content, inputs)
        started = time.perf_counter()
        ingest_checked(con, path, platform)  # raises on a broken contract: libFuzzer reports the crash
        seconds = time.perf_counter() - started
        figures["tried"] += 1
        if seconds > figures["slowest"][0]:
            figures["slowest"] = [round(seconds, 3), f"{len(data):,} bytes"]
        if figures["tried"] % STATS_EVERY == 0 or figures["slowest"][0] == round(seconds, 3):
            stats_path.write_text(json.dumps(figures))

    atheris.Setup([sys.argv[0], *libfuzzer], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
