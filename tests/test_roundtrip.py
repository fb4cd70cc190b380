"""Simulate a community, write it as each phone's export, ingest it: the same messages come back."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.config import HubConfig
from hub.ingest import ingest_file
from hub.simulate import simulate
from hub.simulate.whatsapp import VARIANTS, expected_rows, write_export

SIM = simulate(members=40, days=90, seed=21)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_export_variant_round_trips(tmp_path: Path, con, variant: str) -> None:
    path = write_export(SIM, tmp_path, variant)
    report = ingest_file(con, path, config=HubConfig(), tz="Europe/Paris")
    assert report.error is None and report.result.quarantined == 0
    rows = con.execute("""
        SELECT timezone('Europe/Paris', sent_at), author_name, kind::VARCHAR, text, has_media
        FROM messages ORDER BY position""").fetchall()
    expected = expected_rows(SIM)
    seconds = VARIANTS[variant].ios  # Android exports keep minutes only
    assert [(t, a, k) for t, a, k, _, _ in rows] == [
        (at if seconds else at.replace(second=0), author, kind) for at, author, kind in expected]
    people = [m for m in SIM.messages]
    for (_, _, kind, text, media), message in zip(rows[1:], people):
        assert media == message.media
        if kind == "message" and not message.media:
            assert text == message.text
    # Joins, adds and leaves come back as membership events, in the export's language.
    events = con.execute('SELECT count(*) FROM membership_events').fetchone()[0]
    assert events == sum(1 for m in SIM.messages if m.event)


def test_the_demo_runs_the_whole_pipeline(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--db", str(tmp_path / "demo.duckdb"), "--workdir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "checks passed" in result.output and "FAILED" not in result.output
    assert "Riverside Makers" in result.output and "Members by reputation" in result.output
    text = " ".join(result.output.split())  # built: the report says where the community stands
    assert "across platforms, week of" in text and "People:" in text and "ambassador" in text
    from warehouse.db import connect

    with connect(tmp_path / "demo.duckdb", read_only=True) as con:  # every platform the hub reads is in it
        platforms = {p for (p,) in con.execute("SELECT DISTINCT platform FROM messages").fetchall()}
    from connectors import FILE_CONNECTORS

    assert platforms == set(FILE_CONNECTORS)
