"""The terminal views a promoter reads: `hub communities`, `members`, `member`, `stage`, `health`.

One simulated community on Slack and Telegram, built once; every view must fit 80 columns and show
what the warehouse holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.simulate.community import community, write_exports

runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("views")
    cp = community(members=60, days=150, seed=2, trajectory="mature")
    config = folder / "hub.yaml"
    config.write_text(f'communities:\n  - slug: makers\n    name: Makers Collective\n'
                      f'    promoters: ["{cp.sim.promoter.name}"]\n')
    db = folder / "hub.duckdb"
    for path in write_exports(cp, folder / "exports"):
        assert runner.invoke(app, ["ingest", str(path), "--db", str(db), "--config", str(config)]).exit_code == 0
    assert runner.invoke(app, ["build", "--db", str(db), "--config", str(config)]).exit_code == 0
    return db, config


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert all(len(line) <= 80 for line in result.output.splitlines()), result.output
    return result.output


def _sql(db: Path, sql: str, *params) -> list[tuple]:
    from warehouse.db import connect

    with connect(db, read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_communities_lists_each_with_its_stage(built) -> None:
    db, _ = built
    output = _run("communities", "--db", str(db))
    ((stage, persons),) = _sql(db, """SELECT (SELECT stage FROM community_stages WHERE platform IS NULL
                                              ORDER BY week DESC LIMIT 1), (SELECT count(*) FROM persons)""")
    names = {1: "lack of commitment", 2: "movement", 3: "mobilisation", 4: "consolidation"}
    assert "makers" in output and "slack," in output and "telegram" in output
    assert f"{stage} {names[stage]}" in output and f"{persons:,}" in output


def test_members_by_reputation_and_by_level(built) -> None:
    db, _ = built
    top = _sql(db, """SELECT p.display_name, s.reputation FROM member_scores s JOIN persons p USING (person_id)
                      WHERE s.week = (SELECT max(week) FROM member_scores) ORDER BY s.reputation DESC,
                      p.display_name LIMIT 5""")
    output = _run("members", "--community", "Makers Coll", "--top", "5", "--db", str(db))
    rows = [line for line in output.splitlines() if line.startswith("│")]
    assert [r.split("│")[1].strip() for r in rows] == [name for name, _ in top]
    assert f"{top[0][1]:,.1f}" in rows[0]
    ambassadors = _run("members", "--level", "ambassador", "--db", str(db))
    levels = {line.split("│")[2].strip() for line in ambassadors.splitlines() if line.startswith("│")}
    assert levels == {"ambassador"}


def test_one_member_by_part_of_their_name_with_the_parts_of_their_reputation(built) -> None:
    db, config = built
    ((person, name, reputation),) = _sql(
        db, """SELECT s.person_id, p.display_name, s.reputation FROM member_scores s JOIN persons p USING (person_id)
               WHERE s.week = (SELECT max(week) FROM member_scores) ORDER BY s.reputation DESC LIMIT 1""")
    output = _run("member", person, "--db", str(db), "--config", str(config))
    assert name in output and f"Reputation {reputation:,.1f}" in output
    points = [float(line.split("│")[4].replace(",", "")) for line in output.splitlines()
              if line.startswith("│") and line.split("│")[1].strip() in
              {"messages", "conversations started", "answers", "media and links", "welcomes", "replies received",
               "reactions received", "reach"}]
    assert len(points) == 8 and sum(points) == pytest.approx(reputation, abs=0.5)


def test_a_name_that_matches_several_or_none_says_so(built) -> None:
    db, config = built
    several = runner.invoke(app, ["member", "a", "--db", str(db), "--config", str(config)])
    assert several.exit_code == 2 and "members match 'a'" in several.output and "person id" in several.output
    none = runner.invoke(app, ["member", "Nobody Atall", "--db", str(db), "--config", str(config)])
    assert none.exit_code == 2 and "no member matches 'Nobody Atall'" in none.output
    unknown = runner.invoke(app, ["stage", "--community", "gardeners", "--db", str(db)])
    assert unknown.exit_code == 2 and "no community matches 'gardeners'" in unknown.output


def test_stage_and_health_show_the_latest_weeks(built) -> None:
    db, _ = built
    ((week, stage, reason),) = _sql(db, """SELECT week, stage, reason FROM community_stages WHERE platform IS NULL
                                           ORDER BY week DESC LIMIT 1""")
    output = _run("stage", "--db", str(db), "--weeks", "4")
    assert f"stage {stage}" in output and f"week of {week:%Y-%m-%d}" in output
    assert reason.split(";")[0] in " ".join(output.split())
    ((hweek, active, answered, questions),) = _sql(
        db, """SELECT week, active_members, questions_answered, questions FROM community_health
               WHERE platform = 'slack' ORDER BY week DESC LIMIT 1""")
    health = _run("health", "--platform", "slack", "--weeks", "3", "--db", str(db))
    last = [line for line in health.splitlines() if line.startswith("│")][-1]
    assert f"{hweek:%Y-%m-%d}" in last and f"{answered}/{questions}" in last and f" {active} " in last


def test_a_week_without_a_message_is_shown_and_counted(tmp_path: Path) -> None:
    """`--weeks 4` is four weeks of the calendar: a dead week (no row in the derived tables) is
    shown, with the members of the week before and no activity, not skipped for an older week."""
    import datetime as dt

    from hub.html_report import _runs
    from warehouse import views
    from warehouse.db import connect

    mondays = [dt.date(2024, 1, 1) + dt.timedelta(weeks=i) for i in (0, 1, 3)]  # 2024-01-15: nothing
    with connect(tmp_path / "hub.duckdb") as con:
        for i, week in enumerate(mondays):
            con.execute("INSERT INTO community_health VALUES ('c', NULL, ?, ?, 5, 2, 1, 0, 3, 1, 60, 0.2, 0.3, 0.5)",
                        [week, 10 + i])
            con.execute("INSERT INTO community_stages (community, platform, week, stage, reason, messages, "
                        "active_members, ambassadors, ambassadors_new, promoter_silent_weeks) "
                        "VALUES ('c', NULL, ?, 2, 'why', 9, 5, 0, 0, 0)", [week])
        health = views.health(con, "c", None, 3)
        stages = views.stages(con, "c", None, 3)
        # More weeks than the history: from its first week, not weeks before the community began.
        assert [w for w, *_ in views.health(con, "c", None, 10)] == [dt.date(2024, 1, 1) + dt.timedelta(weeks=i)
                                                                     for i in range(4)]
        assert len(views.stages(con, "c", None, 10 ** 6)) == len(views.health(con, "c", None, 2 ** 64)) == 4
    assert [(w, members, active) for w, members, active, *_ in health] == [
        (dt.date(2024, 1, 8), 11, 5), (dt.date(2024, 1, 15), 11, 0), (dt.date(2024, 1, 22), 12, 5)]
    assert [(w, stage) for w, stage, _ in stages] == [
        (dt.date(2024, 1, 8), 2), (dt.date(2024, 1, 15), None), (dt.date(2024, 1, 22), 2)]
    (run,) = _runs([{"week": w, "stage": 2, "reason": "why"} for w in mondays])
    assert (run["from_week"], run["to_week"], run["weeks"]) == (dt.date(2024, 1, 1), dt.date(2024, 1, 22), 4)
