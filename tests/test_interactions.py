"""The interaction graph between persons, and `hub build`, which recomputes every derived table
through the Dagster assets."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app

ANN, BOB, CLEO = ("Ann Lee", "user1001"), ("Bob Chen", "user1002"), ("Cleo Diaz", "user1003")


def _message(i: int, who: tuple[str, str], text: str, **extra) -> dict:
    return {"id": i, "type": "message", "date": "2024-05-01T12:00:00", "date_unixtime": str(1714564800 + 60 * i),
            "from": who[0], "from_id": who[1], "text": text, "text_entities": [{"type": "plain", "text": text}],
            **extra}


def _export(tmp_path: Path) -> Path:
    messages = [
        _message(1, ANN, "who has a soldering iron?", reactions=[
            {"type": "emoji", "count": 3, "emoji": "👍", "recent": [
                {"from": CLEO[0], "from_id": CLEO[1], "date": "2024-05-01T12:05:00"},
                {"from": ANN[0], "from_id": ANN[1], "date": "2024-05-01T12:05:00"}]}]),  # her own: no edge
        _message(2, BOB, "I do, Ann", reply_to_message_id=1, text_entities=[
            {"type": "plain", "text": "I do, "}, {"type": "mention_name", "text": "Ann", "user_id": 1001}]),
        _message(3, CLEO, "look at this", reply_to_message_id=2, forwarded_from="Hackaday"),  # a forward: no edge
        _message(4, BOB, "and me again", reply_to_message_id=2),  # replying to himself: no edge
        {"id": 5, "type": "service", "date": "2024-05-01T12:10:00", "date_unixtime": str(1714564800 + 300),
         "actor": "Dan Wu", "actor_id": "user1004", "action": "join_group_by_link", "text": "", "text_entities": []},
    ]
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"name": "Makers", "type": "private_supergroup", "id": 1700000001,
                                "messages": messages}, ensure_ascii=False), encoding="utf-8")
    return path


def test_hub_build_computes_persons_and_the_interaction_graph(tmp_path: Path) -> None:
    db = tmp_path / "hub.duckdb"
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(_export(tmp_path)), "--db", str(db)]).exit_code == 0
    result = runner.invoke(app, ["build", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "interactions" in result.output and "persons" in result.output and "member_weekly_activity" in result.output
    from warehouse.db import connect

    with connect(db, read_only=True) as con:
        names = dict(con.execute("""SELECT pa.person_id, a.display_name FROM person_accounts pa
                                    JOIN accounts a USING (account_id)""").fetchall())
        edges = sorted((names[f], names[t], k) for f, t, k in
                       con.execute("SELECT from_person, to_person, kind FROM interactions").fetchall())
    assert edges == [("Bob Chen", "Ann Lee", "mention"), ("Bob Chen", "Ann Lee", "reply"),
                     ("Cleo Diaz", "Ann Lee", "reaction")]


def test_build_is_repeatable(tmp_path: Path) -> None:
    db = tmp_path / "hub.duckdb"
    runner = CliRunner()
    runner.invoke(app, ["ingest", str(_export(tmp_path)), "--db", str(db)])
    runner.invoke(app, ["build", "--db", str(db)])
    from warehouse.db import connect

    with connect(db, read_only=True) as con:
        first = con.execute("SELECT * FROM interactions ORDER BY ALL").fetchall()
    assert runner.invoke(app, ["build", "--db", str(db)]).exit_code == 0
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT * FROM interactions ORDER BY ALL").fetchall() == first


def test_community_health_counts_members_arrivals_answers_and_the_1_9_90_split(tmp_path: Path) -> None:
    db = tmp_path / "hub.duckdb"
    runner = CliRunner()
    runner.invoke(app, ["ingest", str(_export(tmp_path)), "--db", str(db)])
    assert runner.invoke(app, ["build", "--db", str(db)]).exit_code == 0
    from warehouse.db import connect

    with connect(db, read_only=True) as con:
        rows = con.execute("""SELECT platform, week::VARCHAR, members, active_members, contributors, new_members,
                                     new_members_active_30d, questions, questions_answered, median_minutes_to_reply,
                                     share_top_1pct, share_next_9pct, share_other_90pct
                              FROM community_health ORDER BY platform NULLS FIRST""").fetchall()
    # Ann, Bob and Cleo wrote (Cleo only a forward); Dan joined and said nothing. Ann's question
    # was answered by Bob a minute later. Bob wrote 2 of the week's 4 messages: the top 1% of 4
    # members is 1 person, who wrote half.
    week = ("2024-04-29", 4, 3, 3, 4, 3, 1, 1, 1.0, 0.5, 0.0, 0.5)
    assert rows == [(None, *week), ("telegram", *week)]


def test_a_newcomer_who_joins_in_a_quiet_week_is_counted(tmp_path: Path) -> None:
    # Ann writes on 2 January; Bob joins on the 10th, a week nobody writes, and writes on the 17th:
    # he is that week's newcomer, and one who wrote within 30 days.
    day = 86400
    messages = [
        _message(1, ANN, "hello") | {"date_unixtime": str(1704189600)},
        {"id": 2, "type": "service", "date": "2024-01-10T10:00:00", "date_unixtime": str(1704189600 + 8 * day),
         "actor": BOB[0], "actor_id": BOB[1], "action": "join_group_by_link", "text": "", "text_entities": []},
        _message(3, BOB, "hi, I am new") | {"date_unixtime": str(1704189600 + 15 * day)},
    ]
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"name": "Makers", "type": "private_supergroup", "id": 1700000001,
                                "messages": messages}), encoding="utf-8")
    db = tmp_path / "hub.duckdb"
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(path), "--db", str(db)]).exit_code == 0
    assert runner.invoke(app, ["build", "--db", str(db)]).exit_code == 0
    from warehouse.db import connect

    with connect(db, read_only=True) as con:
        rows = con.execute("""SELECT week::VARCHAR, members, new_members, new_members_active_30d, active_members
                              FROM community_health WHERE platform IS NULL ORDER BY week""").fetchall()
    assert rows == [("2024-01-01", 1, 1, 1, 1), ("2024-01-08", 2, 1, 1, 0), ("2024-01-15", 2, 0, 0, 1)]
