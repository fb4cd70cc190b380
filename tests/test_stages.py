"""The community's stage read from its data agrees with the stage the simulator planted.

Measured on Telegram exports of simulated communities (80 members, one year) whose behaviour the
simulator draws member by member; the stage rules only see the warehouse.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.simulate import simulate
from hub.simulate import telegram


def _agreement(tmp_path: Path, trajectory: str, seed: int) -> tuple[float, list[int]]:
    sim = simulate(members=80, days=365, seed=seed, name="Makers", trajectory=trajectory)
    export = telegram.write_export(telegram.chat(sim), tmp_path / "result.json")
    config = tmp_path / "hub.yaml"
    config.write_text(f'communities:\n  - slug: makers\n    promoters: ["{sim.promoter.name}"]\n')
    db = tmp_path / "hub.duckdb"
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(export), "--db", str(db), "--config", str(config)]).exit_code == 0
    assert runner.invoke(app, ["build", "--db", str(db), "--config", str(config)]).exit_code == 0
    from warehouse.db import connect

    with connect(db, read_only=True) as con:
        rows = con.execute("""SELECT week, stage, reason FROM community_stages WHERE platform IS NULL
                              ORDER BY week""").fetchall()
    assert all(reason for _, _, reason in rows)
    agree = sum(sim.stage_on(week + dt.timedelta(days=3)) == stage for week, stage, _ in rows)
    return agree / len(rows), [stage for _, stage, _ in rows]


@pytest.mark.parametrize("trajectory", ["stalled", "growing", "mature"])
def test_planted_stage_is_found_on_nine_weeks_in_ten(tmp_path: Path, trajectory: str) -> None:
    agreement, stages = _agreement(tmp_path, trajectory, seed=5)
    assert agreement >= 0.9, stages
    if trajectory == "growing":
        assert stages[0] == 1 and stages[-1] == 4
