"""Adding a day of messages recomputes only what changed, and ends where a full recompute would.

A simulated Telegram group's export, first without its last day, then whole (an overlapping
export, as a member would send the next week). After the second `hub build`, every derived table
equals the one a clean warehouse builds from the whole export at once; the build says which week
it recomputed from.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.simulate import simulate
from hub.simulate import telegram

runner = CliRunner()
DERIVED = {
    "member_weekly_activity": "*",
    "interactions": "community, from_person, to_person, kind, \"at\", platform, message_id",
    "community_health": "*",
    "member_scores": "*",
    "member_flags": "*",
    "community_stages": "*",
}


def _export(tmp_path: Path) -> tuple[Path, Path, dt.date]:
    sim = simulate(members=60, days=120, seed=4, name="Makers")
    last = sim.end - dt.timedelta(days=1)
    before = dataclasses.replace(sim, messages=[m for m in sim.messages if m.at.date() < last])
    whole = telegram.write_export(telegram.chat(sim), tmp_path / "whole" / "result.json")
    partial = telegram.write_export(telegram.chat(before), tmp_path / "partial" / "result.json")
    config = tmp_path / "hub.yaml"
    config.write_text(f'communities:\n  - slug: makers\n    promoters: ["{sim.promoter.name}"]\n')
    return partial, whole, last


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _tables(db: Path) -> dict[str, list[tuple]]:
    from warehouse.db import connect

    def same(value):  # decay carried on from a stored week rounds differently in the last digits
        return round(value, 9) if isinstance(value, float) else value

    with connect(db, read_only=True) as con:
        return {t: [tuple(map(same, row)) for row in con.execute(f"SELECT {cols} FROM {t} ORDER BY ALL").fetchall()]
                for t, cols in DERIVED.items()}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("incremental")
    partial, whole, last = _export(tmp)
    config = str(tmp / "hub.yaml")
    step, clean = tmp / "step.duckdb", tmp / "clean.duckdb"
    _run("ingest", str(partial), "--db", str(step), "--config", config)
    first = _run("build", "--db", str(step), "--config", config)
    _run("ingest", str(whole), "--db", str(step), "--config", config)
    second = _run("build", "--db", str(step), "--config", config)
    third = _run("build", "--db", str(step), "--config", config)
    _run("ingest", str(whole), "--db", str(clean), "--config", config)
    _run("build", "--db", str(clean), "--config", config)
    return {"step": step, "clean": clean, "last": last, "outputs": (first, second, third), "config": config}


def test_a_new_day_recomputes_from_its_week_and_ends_as_a_full_build(built) -> None:
    first, second, third = built["outputs"]
    monday = built["last"] - dt.timedelta(days=built["last"].weekday())
    assert "makers: everything" in first
    recomputed = second.split("makers: from the week of ")[1][:10]
    assert dt.date.fromisoformat(recomputed) >= monday - dt.timedelta(weeks=1)  # that week, or one it answers
    assert "makers: nothing changed" in third
    step, clean = _tables(built["step"]), _tables(built["clean"])
    for table in DERIVED:
        assert step[table] == clean[table], table


def test_a_change_of_rules_recomputes_everything(built, tmp_path) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text(Path(built["config"]).read_text() + "    scoring: {half_life_weeks: 4}\n")
    step = _copy(built["step"], tmp_path / "rules.duckdb")
    assert "makers: everything" in _run("build", "--db", str(step), "--config", str(config))


def _copy(db: Path, to: Path) -> Path:
    import shutil

    shutil.copy(db, to)
    return to


def test_a_change_in_the_middle_of_history_ends_as_a_full_build(built, tmp_path) -> None:
    from warehouse.db import connect

    step = _copy(built["step"], tmp_path / "mid.duckdb")
    with connect(step) as con:  # a message of week 8 removed, as a corrected export would
        (gone,) = con.execute("""SELECT message_id FROM messages WHERE kind = 'message'
                                 ORDER BY sent_at LIMIT 1 OFFSET (SELECT count(*) // 2 FROM messages)""").fetchone()
        con.execute("DELETE FROM reactions WHERE message_id = ?", [gone])
        con.execute("DELETE FROM messages WHERE message_id = ?", [gone])
    output = _run("build", "--db", str(step), "--config", built["config"])
    assert "makers: from the week of" in output
    full = _copy(step, tmp_path / "full.duckdb")
    with connect(full) as con:
        con.execute("DELETE FROM derived_state")  # forget what was built: the next build is whole
    assert "makers: everything" in _run("build", "--db", str(full), "--config", built["config"])
    assert _tables(step) == _tables(full)


def test_a_step_run_alone_leaves_the_plan_for_the_next_build(built, tmp_path) -> None:
    import dagster as dg

    from pipelines.exports.assets import core_tables
    from pipelines.people.assets import build as people_assets
    from pipelines.resources import HubSettings, warehouse_resource
    from warehouse.db import connect

    step = _copy(built["step"], tmp_path / "alone.duckdb")
    with connect(step) as con:
        (gone,) = con.execute("SELECT max(message_id) FROM messages WHERE kind = 'message'").fetchone()
        con.execute("DELETE FROM messages WHERE message_id = ?", [gone])
    assets = {a.key.to_user_string(): a for a in people_assets([core_tables])}
    resources = {"duckdb": warehouse_resource(step), "hub": HubSettings(config_path=built["config"])}
    for name in ("persons", "community_stages"):  # the stages alone, as from the UI
        assert dg.materialize([assets[name]], resources=resources, instance=dg.DagsterInstance.ephemeral()).success
    assert "makers: from the week of" in _run("build", "--db", str(step), "--config", built["config"])


def test_a_new_time_zone_recomputes_everything(built, tmp_path) -> None:
    from warehouse.db import connect

    step = _copy(built["step"], tmp_path / "zone.duckdb")
    with connect(step) as con:
        con.execute("UPDATE communities SET timezone = 'Pacific/Auckland'")  # what the next ingest would write
    assert "makers: everything" in _run("build", "--db", str(step), "--config", built["config"])


def test_the_mart_is_rebuilt_only_where_what_it_reads_changed(built, tmp_path) -> None:
    import shutil

    from warehouse import marts
    from warehouse.db import connect

    db = tmp_path / "hub.duckdb"
    shutil.copy(built["step"], db)
    with connect(db) as con:
        rows = con.execute("SELECT count(*) FROM member_weekly_activity").fetchone()[0]
        assert marts.refresh(con) == {"member_weekly_activity": rows, "rebuilt": 0}
        con.execute("DELETE FROM member_weekly_activity")  # by hand
        assert marts.refresh(con) == {"member_weekly_activity": rows, "rebuilt": 1}
        account = con.execute("SELECT account_id FROM member_weekly_activity LIMIT 1").fetchone()[0]
        con.execute("UPDATE accounts SET display_name = 'Renamed' WHERE account_id = ?", [account])
        assert marts.refresh(con)["rebuilt"] == 1
        assert {n for (n,) in con.execute("SELECT DISTINCT display_name FROM member_weekly_activity "
                                          "WHERE account_id = ?", [account]).fetchall()} == {"Renamed"}
        con.execute("DELETE FROM messages WHERE author_id = ?", [account])
        assert marts.refresh(con)["rebuilt"] == 1
        assert con.execute("SELECT count(*) FROM member_weekly_activity WHERE account_id = ?", [account]).fetchone() == (0,)
        for table in ("mentions", "links", "reactions", "messages", "membership_events", "accounts", "communities"):
            con.execute(f"DELETE FROM {table}")
        assert marts.refresh(con) == {"member_weekly_activity": 0, "rebuilt": 0}
