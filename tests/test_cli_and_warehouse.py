"""The hub command's query, report and simulate, and the warehouse's schema versions."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from hub.cli import app
from warehouse.db import connect, migrations, schema_version

runner = CliRunner()
CONTRACT = {
    "sources": ["source_id", "platform", "path", "sha256", "ingested_at", "records", "quarantined"],
    "channels": ["channel_id", "platform", "community", "name", "kind"],
    "accounts": ["account_id", "platform", "native_id", "display_name", "handle", "email", "phone", "is_bot",
                 "first_seen_at", "last_seen_at"],
    "messages": ["message_id", "platform", "community", "channel_id", "author_id", "author_name", "sent_at", "kind",
                 "text", "reply_to_id", "thread_id", "has_media", "edited_at", "source_id"],
    "reactions": ["message_id", "platform", "reactor_id", "emoji", "reacted_at", "count"],
    "membership_events": ["platform", "community", "channel_id", "account_id", "event", "at"],
    "quarantine": ["source_id", "location", "reason", "raw"],
    "mentions": ["message_id", "platform", "account_id", "source_id"],
}


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    db = tmp_path / "hub.duckdb"
    exports = tmp_path / "exports"
    assert runner.invoke(app, ["simulate", str(exports), "--members", "40", "--days", "60", "--seed", "3"]).exit_code == 0
    assert (exports / "WhatsApp Chat with Makers.truth.json").exists()
    # The folder, as a user would pass it: the ground truth beside the export is no export.
    result = runner.invoke(app, ["ingest", str(exports), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    assert [Path(f["path"]).name for f in json.loads(result.output)["files"]] == ["WhatsApp Chat with Makers.txt"]
    return db


def test_the_public_tables_have_the_contract_columns(con) -> None:
    for table, columns in CONTRACT.items():
        have = [c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()]
        assert set(columns) <= set(have), (table, set(columns) - set(have))
    types = dict(con.execute("""SELECT column_name, data_type FROM information_schema.columns
                                WHERE table_name = 'messages'""").fetchall())
    assert types["sent_at"] == "TIMESTAMP WITH TIME ZONE"


def test_migrations_are_versioned_and_applied_once(db_path: Path) -> None:
    with connect(db_path) as con:
        assert schema_version(con) == max(v for v, _, _ in migrations())
        applied = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    with connect(db_path) as con:  # opening again applies nothing
        assert con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall() == applied
    assert [name for _, name in applied] == [name for _, name, _ in migrations()]
    assert [name for _, name in applied][:3] == ["0001_core.sql", "0002_marts.sql", "0003_mentions.sql"]


def test_query_formats(loaded: Path) -> None:
    sql = "SELECT kind, count(*) AS n FROM messages GROUP BY kind ORDER BY kind"
    as_csv = runner.invoke(app, ["query", sql, "--db", str(loaded), "--format", "csv"])
    lines = as_csv.output.splitlines()
    assert lines[0] == "kind,n" and lines[1].startswith("message,") and lines[2].startswith("system,")
    as_json = json.loads(runner.invoke(app, ["query", sql, "--db", str(loaded), "--format", "json"]).output)
    assert [row["kind"] for row in as_json] == ["message", "system"] and as_json[0]["n"] > 500
    table = runner.invoke(app, ["query", sql, "--db", str(loaded)])
    assert "kind" in table.output and "message" in table.output


def test_query_is_read_only(loaded: Path) -> None:
    result = runner.invoke(app, ["query", "DELETE FROM messages", "--db", str(loaded)])
    assert result.exit_code == 2 and "read-only" in result.output
    with duckdb.connect(str(loaded), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] > 500


@pytest.mark.parametrize("statement", [
    "DROP TABLE messages", "INSERT INTO communities VALUES ('x', 'x', 'UTC')",
    "ATTACH '{tmp}/other.duckdb' AS other", "COPY (SELECT * FROM accounts) TO '{tmp}/leak.csv'",
    "SELECT * FROM read_csv('{tmp}/secret.txt')", "SET enable_external_access = true",
])
def test_query_cannot_write_nor_reach_the_file_system(loaded: Path, tmp_path: Path, statement: str) -> None:
    spot = tmp_path / "elsewhere"
    spot.mkdir()
    (spot / "secret.txt").write_text("token=xoxb-not-for-you\n")
    result = runner.invoke(app, ["query", statement.format(tmp=spot), "--db", str(loaded)])
    assert result.exit_code == 2 and result.output.startswith("error:"), result.output
    assert "xoxb-not-for-you" not in result.output
    assert sorted(p.name for p in spot.iterdir()) == ["secret.txt"]  # nothing written beside it
    with duckdb.connect(str(loaded), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] > 500


def test_query_without_a_warehouse_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["query", "SELECT 1", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2 and "ingest something first" in result.output


def test_the_database_defaults_to_hub_db(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HUB_DB", str(tmp_path / "from-env.duckdb"))
    (tmp_path / "chat.txt").write_text("27/03/2022, 21:41 - Ana: hi\n")
    assert runner.invoke(app, ["ingest", str(tmp_path / "chat.txt")]).exit_code == 0
    assert (tmp_path / "from-env.duckdb").exists()


def test_weekly_mart_and_report(loaded: Path) -> None:
    with duckdb.connect(str(loaded), read_only=True) as con:
        per_week = con.execute("SELECT sum(messages) FROM member_weekly_activity").fetchone()[0]
        total = con.execute("SELECT count(*) FROM messages WHERE kind = 'message'").fetchone()[0]
        weeks = con.execute("SELECT DISTINCT dayofweek(week) FROM member_weekly_activity").fetchall()
    assert per_week == total and weeks == [(1,)]  # weeks start on Monday
    report = runner.invoke(app, ["report", "--db", str(loaded)])
    assert report.exit_code == 0
    assert "Across platforms" in report.output and "Most active members" in report.output


def test_simulation_is_deterministic_and_has_a_ground_truth(tmp_path: Path) -> None:
    for out in ("a", "b"):
        runner.invoke(app, ["simulate", str(tmp_path / out), "--members", "30", "--days", "50", "--seed", "9",
                            "--variant", "ios_de"])
    a = (tmp_path / "a" / "WhatsApp Chat - Makers.zip").read_bytes()
    assert a == (tmp_path / "b" / "WhatsApp Chat - Makers.zip").read_bytes()
    truth = json.loads((tmp_path / "a" / "WhatsApp Chat - Makers.truth.json").read_text())
    roles = {m["role"] for m in truth["members"]}
    # It starts at stage 1, where no one animates the others yet: ambassadors come later, if at all.
    assert roles == {"promoter", "contributor", "occasional", "lurker"}
    assert all(a["since"] for a in truth["ambassadors"])
    assert [s["stage"] for s in truth["stages"]] == [1, 2, 3, 4]
