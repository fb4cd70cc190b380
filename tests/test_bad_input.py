"""One bad record never stops a load and is never dropped silently; unreadable files fail clearly."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.config import HubConfig
from hub.ingest import ingest_file

runner = CliRunner()

GOOD = [
    "27/03/2022, 21:41 - Ana: one",
    "27/03/2022, 21:42 - Bo: two",
]


def corrupt_export(tmp_path: Path) -> Path:
    lines = [
        b"27/03/2022, 21:40 - Ana: before the damage",                      # 1
        b"27/03/2022, 21:41 - Bo: caf\xe9 in latin-1",                      # 2 invalid UTF-8
        b"continuation of the damaged message",                              # 3 belongs to line 2
        b"27/03/2022, 21:42 - Ana: a bell \x07 in the text",                 # 4 control byte
        b"31/02/2022, 21:43 - Bo: the 31st of February",                     # 5 no such date
        b"27/03/2022, 21:44 - Ana: after the damage",                        # 6
        b"\x00\x01\x02 stray binary",                                        # 7 control bytes, mid-file
        b"27/03/2022, 21:45 - Bo: still reading",                            # 8
    ]
    path = tmp_path / "WhatsApp Chat with Damaged.txt"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_corrupt_lines_are_quarantined_with_line_numbers_and_the_rest_loads(tmp_path: Path, con) -> None:
    report = ingest_file(con, corrupt_export(tmp_path), config=HubConfig())
    assert report.error is None
    assert (report.result.records, report.result.quarantined) == (3, 4)
    texts = [t for (t,) in con.execute("SELECT text FROM messages ORDER BY position").fetchall()]
    assert texts == ["before the damage", "after the damage", "still reading"]
    rows = con.execute("SELECT location, reason, raw FROM quarantine ORDER BY location").fetchall()
    assert rows == [
        ("line 4", "control characters in the line", "27/03/2022, 21:42 - Ana: a bell \x07 in the text"),
        ("line 5", "date does not exist: '31/02/2022' (read as DMY)", "31/02/2022, 21:43 - Bo: the 31st of February"),
        ("line 7", "control characters in the line", "\x00\x01\x02 stray binary"),
        ("lines 2-3", "invalid UTF-8 at byte 28 of the line",
         "27/03/2022, 21:41 - Bo: caf\\xe9 in latin-1\ncontinuation of the damaged message"),
    ]
    (source_id, quarantined), = con.execute("SELECT source_id, quarantined FROM sources").fetchall()
    assert quarantined == 4
    assert con.execute("SELECT count(*) FROM quarantine WHERE source_id = ?", [source_id]).fetchone() == (4,)


def test_cli_reports_the_quarantine_count(tmp_path: Path, db_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(corrupt_export(tmp_path)), "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "4 record(s) quarantined" in result.output
    again = runner.invoke(app, ["ingest", str(corrupt_export(tmp_path)), "--db", str(db_path), "--force"])
    assert again.exit_code == 0
    query = runner.invoke(app, ["query", "SELECT count(*) AS n FROM quarantine", "--db", str(db_path), "--format", "csv"])
    assert query.output.splitlines() == ["n", "4"]  # re-reading replaces the file's quarantine, never doubles it


def test_text_before_the_first_message_is_quarantined(tmp_path: Path, con) -> None:
    path = tmp_path / "chat.txt"
    path.write_text("a stray first line\n" + "\n".join(GOOD) + "\n")
    report = ingest_file(con, path, config=HubConfig())
    assert (report.result.records, report.result.quarantined) == (2, 1)
    assert con.execute("SELECT location, reason FROM quarantine").fetchall() == [
        ("line 1", "text before the first message")]


@pytest.mark.parametrize(("name", "content", "says"), [
    ("empty.txt", b"", "the file is empty"),
    ("blank.txt", b"\n \r\n", "the file is empty"),
    ("picture.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "binary file"),
    ("notes.txt", b"Shopping list\n- eggs\n- milk\n", "not a chat export"),
    ("broken.zip", b"PK\x03\x04 this is not really a zip", "damaged or incomplete zip archive"),
])
def test_unreadable_files_fail_with_one_line_naming_the_file(tmp_path: Path, db_path: Path, name, content, says) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(app, ["ingest", str(path), "--db", str(db_path)])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.strip()]
    assert len(errors) == 1, result.output
    assert str(path) in errors[0] and says in errors[0]


def test_a_zip_cut_short_is_said_to_be_one(tmp_path: Path, db_path: Path) -> None:
    """An interrupted download: the entries are there, the directory at the zip's end is not."""
    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w") as z:
        z.writestr("WhatsApp Chat with Good.txt", "\n".join(GOOD) + "\n")
    cut = tmp_path / "WhatsApp Chat with Good.zip"
    cut.write_bytes(whole.read_bytes()[:-40])
    result = runner.invoke(app, ["ingest", str(cut), "--db", str(db_path)])
    assert result.exit_code == 1
    assert f"{cut}: damaged or incomplete zip archive — download or export it again" in " ".join(result.output.split())


def test_a_zip_without_a_chat_fails_clearly(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("IMG-0001.jpg", b"\xff\xd8\xff" + bytes(100))
    result = runner.invoke(app, ["ingest", str(path), "--db", str(db_path)])
    assert result.exit_code == 1
    assert str(path) in result.output and "not a chat export" in result.output


def test_good_files_still_load_when_another_file_is_unreadable(tmp_path: Path, db_path: Path) -> None:
    good = tmp_path / "WhatsApp Chat with Good.txt"
    good.write_text("\n".join(GOOD) + "\n")
    bad = tmp_path / "empty.txt"
    bad.write_text("")
    result = runner.invoke(app, ["ingest", str(bad), str(good), "--db", str(db_path)])
    assert result.exit_code == 1
    count = runner.invoke(app, ["query", "SELECT count(*) AS n FROM messages", "--db", str(db_path), "--format", "csv"])
    assert count.output.splitlines() == ["n", "2"]


def test_unknown_time_zone_is_refused_before_reading(tmp_path: Path, db_path: Path) -> None:
    good = tmp_path / "WhatsApp Chat with Good.txt"
    good.write_text("\n".join(GOOD) + "\n")
    result = runner.invoke(app, ["ingest", str(good), "--db", str(db_path), "--tz", "Mars/Olympus"])
    assert result.exit_code == 2
    assert "unknown time zone 'Mars/Olympus'" in result.output


# -- JSON exports (Telegram, Discord, Facebook): truncated, of another platform, hostile zips -------

def _json_exports(tmp_path: Path) -> dict[str, Path]:
    """A small valid export of each JSON platform, written by the simulator."""
    from hub.simulate import discord, facebook, simulate, telegram

    sim = simulate(members=12, days=20, seed=5)
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "discord").mkdir()
    thread = folder / "facebook" / "makers_abc123"
    facebook.write_messenger(facebook.messenger_thread(sim), thread)
    return {"telegram": telegram.write_export(telegram.chat(sim), folder / "result.json"),
            "discord": discord.write_export(discord.channel(sim), folder / "discord"),
            "facebook": next(thread.glob("message_1.json"))}


@pytest.mark.parametrize("platform", ["telegram", "discord", "facebook"])
def test_a_truncated_json_export_keeps_what_is_whole_or_fails_clearly(tmp_path: Path, con, platform: str) -> None:
    path = _json_exports(tmp_path)[platform]
    cut = tmp_path / f"cut-{path.name}"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    report = ingest_file(con, cut, config=HubConfig(), platform=platform)
    if report.error is not None:  # nothing loaded, and the message names the file and what to do
        assert str(cut) in report.error and "—" in report.error
        assert con.execute("SELECT count(*) FROM messages").fetchone() == (0,)
    else:  # what was whole is loaded, the rest is quarantined with a reason
        assert report.result.new > 0 and report.result.quarantined > 0
        assert con.execute("SELECT count(*) FROM quarantine WHERE reason <> ''").fetchone()[0] > 0


@pytest.mark.parametrize("platform", ["telegram", "discord", "facebook"])
def test_another_platforms_json_is_refused_by_name(tmp_path: Path, con, platform: str) -> None:
    exports = _json_exports(tmp_path)
    other = next(p for name, p in exports.items() if name != platform)
    report = ingest_file(con, other, config=HubConfig(), platform=platform)
    assert report.error is not None and str(other) in report.error
    assert con.execute("SELECT count(*) FROM messages").fetchone() == (0,)


def test_a_zip_with_path_traversal_writes_nothing_outside(tmp_path: Path, db_path: Path) -> None:
    exports = _json_exports(tmp_path)
    archive = tmp_path / "work" / "export.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as z:
        z.write(exports["telegram"], "ChatExport/result.json")
        z.writestr("../evil.json", '{"pwned": true}')
        z.writestr("../../evil.sh", "echo pwned")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = runner.invoke(app, ["ingest", str(archive), "--db", str(db_path)])
    assert "Traceback" not in result.output
    after = sorted(p.name for p in tmp_path.rglob("*") if p != db_path and not p.name.startswith(db_path.name))
    assert [n for n in after if "evil" in n] == [] and set(before) <= set(after)
    assert not (tmp_path.parent / "evil.sh").exists() and not (tmp_path / "evil.json").exists()
