"""Follow the stage again, under other rules, on communities bench/planted.py kept: seconds, not a
build per community.

    .venv/bin/python bench/planted.py --seeds 701,702,703,704,705 --jobs 2 --keep bench/out/planted
    .venv/bin/python bench/stages_replay.py bench/out/planted [--set level_margin=2.0 --set window_weeks=3]

Each kept community is its stage indicators as `hub build` reads them (warehouse/stages.py) and
the planted stage of each week. The stage is followed on them with hub.stages as `hub build`
does, with the default rules (hub.rules.StageRules) or those given by `--set`, and compared with
the planted one: per shape, the share of weeks right (mean, worst) and how many communities reach
90 %, and each community below it. The indicators do not depend on the stage rules; a change to
the SQL behind them needs the communities built again.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]


def agreement(folder: Path, name: str, rules) -> float:
    """The share of one kept community's weeks (all platforms together) whose stage is the planted one."""
    import datetime as dt

    import polars as pl

    from hub.stages import stages_of

    planted = json.loads((folder / f"{name}.json").read_text())["planted"]
    rows = stages_of(pl.read_parquet(folder / f"{name}.parquet"), rules).filter(pl.col("platform").is_null())
    weeks, stages = rows["week"].to_list(), rows["stage"].to_list()
    return sum(planted[dt.date.isoformat(w)] == s for w, s in zip(weeks, stages)) / len(stages)


def rules_from(settings: list[str]):
    """StageRules with `name=value` settings over the defaults (validated as in hub.yaml)."""
    from hub.rules import StageRules

    return StageRules(**dict(s.split("=", 1) for s in settings))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="a folder bench/planted.py --keep wrote")
    parser.add_argument("--set", action="append", default=[], metavar="RULE=VALUE",
                        help="a stage rule (hub.rules.StageRules) other than its default; repeatable")
    args = parser.parse_args()
    rules = rules_from(args.set)
    names = sorted(p.stem for p in args.folder.glob("*.json"))
    if not names:
        sys.exit(f"{args.folder}: no kept community; run bench/planted.py --keep {args.folder} first")
    by_shape: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for name in names:
        by_shape[name.split("-")[1]].append((name, agreement(args.folder, name, rules)))
    for shape, found in by_shape.items():
        shares = [a for _, a in found]
        print(f"{shape:>9}: stage mean {sum(shares) / len(shares):6.1%}, worst {min(shares):6.1%}, "
              f"{sum(a >= 0.9 for a in shares)}/{len(shares)} at >= 90 %")
    below = sorted((a, name) for found in by_shape.values() for name, a in found if a < 0.9)
    total = sum(len(found) for found in by_shape.values())
    print(f"\n{total - len(below)} of {total} communities at >= 90 % of weeks"
          + "".join(f"\n  {name}: {a:.1%}" for a, name in below))


if __name__ == "__main__":
    main()
