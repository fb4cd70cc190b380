"""What the `hub` command says when something is wrong, and what it prints as stored.

A mistake the user can mend (a community slug, a platform, a warehouse that is not there, a
decisions file) ends in one line naming it and exit code 2, never a traceback, and leaves no
warehouse behind. Names and paths are data: brackets in them are printed as typed.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from hub.cli import app

runner = CliRunner()
CHAT = "27/03/2022, 21:40 - Ivan [bold]Tanaka: hi\n27/03/2022, 21:41 - Luis [/x] Ivanova: hello [Ivan]\n"


def _loaded(tmp_path: Path) -> str:
    """A warehouse holding the two-line chat: its path."""
    chat = tmp_path / "WhatsApp Chat with Makers.txt"
    chat.write_text(CHAT, encoding="utf-8")
    db = str(tmp_path / "hub.duckdb")
    assert runner.invoke(app, ["ingest", str(chat), "--db", db]).exit_code == 0
    return db


def one_line(result) -> str:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


def test_brackets_in_names_and_paths_are_printed_as_typed(tmp_path: Path) -> None:
    (tmp_path / "dir [").mkdir()
    chat = tmp_path / "dir [" / "WhatsApp Chat with Makers [old].txt"
    chat.write_text(CHAT, encoding="utf-8")
    db = str(tmp_path / "hub.duckdb")
    ingested = runner.invoke(app, ["ingest", str(chat), "--db", db])
    assert ingested.exit_code == 0, ingested.output
    assert "Makers [old]" in one_line(ingested)
    report = runner.invoke(app, ["report", "--db", db])
    assert report.exit_code == 0, report.output
    text = one_line(report)
    assert "Ivan [bold]Tanaka" in text and "Luis [/x] Ivanova" in text


def test_a_bad_community_or_platform_is_one_line_and_makes_no_warehouse(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Makers.txt"
    chat.write_text(CHAT, encoding="utf-8")
    db = tmp_path / "hub.duckdb"
    for options, said in ((["--community", "Makers"], "a community slug is lowercase"),
                          (["--platform", "signal"], "unknown platform 'signal'")):
        result = runner.invoke(app, ["ingest", str(chat), "--db", str(db), *options])
        assert result.exit_code == 2 and said in one_line(result), result.output
    assert not db.exists()
    assert runner.invoke(app, ["ingest", str(chat), "--db", str(db), "--platform", "WhatsApp"]).exit_code == 0


def test_a_file_the_configuration_cannot_place_fails_alone(tmp_path: Path) -> None:
    # Two communities and no --community: a file no source names belongs to neither. The others
    # load, the marts are rebuilt, the run ends with exit 1.
    placed = tmp_path / "makers" / "WhatsApp Chat with Makers.txt"
    placed.parent.mkdir()
    placed.write_text(CHAT, encoding="utf-8")
    stray = tmp_path / "WhatsApp Chat with Stray.txt"
    stray.write_text(CHAT, encoding="utf-8")
    config = tmp_path / "hub.yaml"
    config.write_text("communities:\n  - slug: makers\n    sources:\n      - platform: whatsapp\n"
                      "        path: makers\n  - slug: other\n")
    db = tmp_path / "hub.duckdb"
    result = runner.invoke(app, ["ingest", str(stray), str(placed), "--db", str(db), "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "several communities are configured" in one_line(result)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT community, count(*) FROM messages GROUP BY ALL").fetchall() == [("makers", 2)]
        assert con.execute("SELECT sum(messages) FROM member_weekly_activity").fetchone() == (2,)


@pytest.mark.parametrize("command", [["build"], ["persons", "suggest"], ["forget", "Ivan", "--yes"],
                                     ["communities"], ["report"]])
def test_commands_that_need_a_warehouse_do_not_make_one(tmp_path: Path, command: list[str]) -> None:
    db = tmp_path / "none.duckdb"
    result = runner.invoke(app, [*command, "--db", str(db)])
    assert result.exit_code == 2 and f"no warehouse at {db}" in one_line(result), result.output
    assert not db.exists()


def test_a_file_that_is_no_warehouse_is_named(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    for command in (["communities"], ["ingest", str(notes)]):
        result = runner.invoke(app, [*command, "--db", str(notes)])
        assert result.exit_code == 2, result.output
        assert f"cannot open the warehouse {notes}" in one_line(result)


def test_a_decisions_file_that_cannot_be_read_stops_the_build_in_one_line(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Makers.txt"
    chat.write_text(CHAT, encoding="utf-8")
    config = tmp_path / "hub.yaml"
    config.write_text("communities:\n  - slug: makers\n")
    (tmp_path / "makers.identities.yaml").write_text("merge:\n  - [whatsapp:makers:Ana]\n")
    db = str(tmp_path / "hub.duckdb")
    assert runner.invoke(app, ["ingest", str(chat), "--db", db, "--config", str(config)]).exit_code == 0
    result = runner.invoke(app, ["build", "--db", db, "--config", str(config)])
    assert result.exit_code == 2, result.output
    text = one_line(result)
    assert text.startswith(f"error: {tmp_path / 'makers.identities.yaml'}:2: merge[0]: a merge is a list")
    assert "STEP_FAILURE" not in text


def test_the_build_says_which_decision_it_could_not_apply(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Makers.txt"
    chat.write_text(CHAT, encoding="utf-8")
    config = tmp_path / "hub.yaml"
    config.write_text("communities:\n  - slug: makers\n")
    (tmp_path / "makers.identities.yaml").write_text(
        "merge:\n  - ['whatsapp:makers:Ivan [bold]Tanaka', 'whatsapp:makers:Ivan Tanakka']\n")
    db = str(tmp_path / "hub.duckdb")
    assert runner.invoke(app, ["ingest", str(chat), "--db", db, "--config", str(config)]).exit_code == 0
    result = runner.invoke(app, ["build", "--db", db, "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert (f"warning: {tmp_path / 'makers.identities.yaml'}:2: merge[0]: whatsapp:makers:Ivan Tanakka: no such "
            "account (or a bot): left out of this merge") in one_line(result)


def test_names_a_view_does_not_know_are_errors_not_empty_answers(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Makers.txt"
    chat.write_text(CHAT, encoding="utf-8")
    db = str(tmp_path / "hub.duckdb")
    assert runner.invoke(app, ["ingest", str(chat), "--db", db, "--community", "makers"]).exit_code == 0
    member = runner.invoke(app, ["member", "Ivan", "--db", db])
    assert member.exit_code == 2 and "no persons yet: run hub build" in one_line(member)
    stage = runner.invoke(app, ["stage", "--db", db, "--platform", "signal"])
    assert stage.exit_code == 2 and "has no messages on 'signal'" in one_line(stage)
    report = runner.invoke(app, ["report", "--db", db, "--community", "nope"])
    assert report.exit_code == 2 and "no community matches 'nope'" in one_line(report)
    assert "makers" in one_line(runner.invoke(app, ["report", "--db", db, "--community", "mak"]))
    folder = runner.invoke(app, ["report", "--db", db, "--out", str(tmp_path)])
    assert folder.exit_code == 2 and "is a folder" in one_line(folder)


def test_query_tables_fold_long_values_rather_than_cut_them(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Makers.txt"
    chat.write_text(CHAT, encoding="utf-8")
    db = str(tmp_path / "hub.duckdb")
    assert runner.invoke(app, ["ingest", str(chat), "--db", db]).exit_code == 0
    result = runner.invoke(app, ["query", "SELECT message_id, channel_id, sent_at FROM messages LIMIT 1", "--db", db])
    assert result.exit_code == 0 and "…" not in result.output
    cells = "".join(line.strip("│┃ ").split("│")[0].strip() for line in result.output.splitlines()[3:-1])
    with duckdb.connect(db, read_only=True) as con:
        (message_id,) = con.execute("SELECT message_id FROM messages LIMIT 1").fetchone()
    assert cells == message_id.replace(" ", "")  # (a fold at a space drops it)


def test_a_file_loaded_in_one_zone_is_not_said_to_be_in_another(tmp_path: Path) -> None:
    # Ids do not depend on the zone, so a second reading in another zone would change no row:
    # the command says so, and the source keeps the zone its times were read in.
    chat = tmp_path / "WhatsApp Chat with Makers.txt"
    chat.write_text(CHAT, encoding="utf-8")
    db = str(tmp_path / "hub.duckdb")
    assert runner.invoke(app, ["ingest", str(chat), "--db", db]).exit_code == 0
    again = runner.invoke(app, ["ingest", str(chat), "--db", db, "--tz", "Asia/Tokyo"])
    assert again.exit_code == 0 and "was loaded with the time zone UTC" in one_line(again)
    forced = runner.invoke(app, ["ingest", str(chat), "--db", db, "--tz", "Asia/Tokyo", "--force"])
    assert forced.exit_code == 1 and "--tz Asia/Tokyo changes nothing" in one_line(forced)
    with duckdb.connect(db, read_only=True) as con:
        assert con.execute("SELECT json_extract_string(options, '$.tz') FROM sources").fetchall() == [("UTC",)]
        assert con.execute("SELECT min(sent_at) FROM messages").fetchone()[0].hour == 21


def test_a_channel_name_an_export_does_not_take_is_warned_about(tmp_path: Path) -> None:
    from hub.simulate import simulate
    from hub.simulate import slack

    sim = simulate(members=8, days=5, seed=1, name="Makers")
    export = slack.write_export(slack.workspace(sim), tmp_path / "slack")
    result = runner.invoke(app, ["ingest", str(export), "--db", str(tmp_path / "hub.duckdb"), "--channel", "foo"])
    assert result.exit_code == 0 and "--channel foo does not apply" in one_line(result)
    # A Facebook feed page takes it: no warning.
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps({"data": [{"id": "123_456", "message": "hi", "created_time": "2019-05-01T10:00:00+0000",
                                          "from": {"name": "Ann", "id": "1"}}]}))
    result = runner.invoke(app, ["ingest", str(feed), "--db", str(tmp_path / "hub.duckdb"), "--channel", "Makers"])
    assert result.exit_code == 0 and "does not apply" not in one_line(result)


@pytest.mark.parametrize("option", [["--members", "0"], ["--days", "-5"], ["--messages", "0"]])
def test_a_simulation_of_nothing_is_refused(tmp_path: Path, option: list[str]) -> None:
    result = runner.invoke(app, ["simulate", str(tmp_path / "sim"), *option])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert not (tmp_path / "sim").exists()


def test_the_demo_never_empties_a_folder_or_warehouse_it_did_not_make(tmp_path: Path) -> None:
    """`hub demo` starts its folder and warehouse afresh: pointed at someone's own, it refuses and
    touches neither."""
    chat = tmp_path / "WhatsApp Chat with Makers.txt"
    chat.write_text(CHAT, encoding="utf-8")
    mine = tmp_path / "mine.duckdb"
    assert runner.invoke(app, ["ingest", str(chat), "--db", str(mine)]).exit_code == 0
    notes = tmp_path / "work" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("mine")

    refused = runner.invoke(app, ["demo", "--db", str(tmp_path / "new.duckdb"), "--workdir", str(notes.parent)])
    assert refused.exit_code == 2
    assert "is not a folder an earlier demo made" in one_line(refused) and notes.read_text() == "mine"
    refused = runner.invoke(app, ["demo", "--db", str(mine), "--workdir", str(tmp_path / "demo")])
    assert refused.exit_code == 2
    assert "holds communities other than the demo's (default)" in one_line(refused)
    with duckdb.connect(str(mine), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == 2
    assert not (tmp_path / "demo").exists() and not (tmp_path / "new.duckdb").exists()


def test_every_command_reads_the_configuration_hub_config_names(tmp_path: Path, monkeypatch) -> None:
    """$HUB_CONFIG is what the pipeline reads: `hub ingest` must place files by it too, not load them
    into the ad-hoc `default` community while `hub build` reads the right one."""
    config = tmp_path / "conf" / "hub.yaml"
    config.parent.mkdir()
    config.write_text("communities:\n  - slug: makers\n    timezone: Europe/Paris\n")
    chat = tmp_path / "WhatsApp Chat with Makers.txt"
    chat.write_text(CHAT, encoding="utf-8")
    db = str(tmp_path / "hub.duckdb")
    monkeypatch.setenv("HUB_CONFIG", str(config))
    assert runner.invoke(app, ["ingest", str(chat), "--db", db]).exit_code == 0
    with duckdb.connect(db, read_only=True) as con:
        assert con.execute("SELECT DISTINCT community, min(sent_at)::VARCHAR FROM messages GROUP BY 1").fetchall() == [
            ("makers", "2022-03-27 19:40:00+00")]  # 21:40 in Paris
    monkeypatch.setenv("HUB_CONFIG", str(tmp_path / "missing.yaml"))
    missing = runner.invoke(app, ["ingest", str(chat), "--db", db])
    assert missing.exit_code == 2 and "missing.yaml: no such configuration file" in one_line(missing)


def test_help_shows_the_defaults_it_names() -> None:
    """`[default: …]` in an option's help is text, not markup that swallows it."""
    def shown(*command: str) -> str:
        return " ".join(runner.invoke(app, [*command, "--help"]).output.replace("│", " ").split())

    assert "[default: $HUB_CONFIG, else ./hub.yaml if present]" in shown("ingest")
    assert "[default: the community's, else UTC]" in shown("ingest")
    assert "[default: masked]" in shown("member")


def test_a_file_loaded_before_is_said_to_be_skipped(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Makers.txt"
    chat.write_text(CHAT, encoding="utf-8")
    db = str(tmp_path / "hub.duckdb")
    assert "loaded before" not in one_line(runner.invoke(app, ["ingest", str(chat), "--db", db]))
    again = runner.invoke(app, ["ingest", str(chat), "--db", db])
    assert again.exit_code == 0
    assert "1 file(s) loaded before, unchanged: not read again (--force reads them)." in one_line(again)


def test_sync_names_an_unknown_community(tmp_path: Path) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text("communities:\n  - slug: makers\n")
    result = runner.invoke(app, ["sync", "--config", str(config), "--community", "nope"])
    assert result.exit_code == 2 and "no community 'nope'" in one_line(result)


def test_stored_values_are_never_read_as_emoji_codes(tmp_path: Path) -> None:
    db = _loaded(tmp_path)
    shown = one_line(runner.invoke(app, ["query", "--db", db, "SELECT 'pseudo:phone:3fa9' AS p, ':smile:' AS q"]))
    assert "pseudo:phone:3fa9" in shown and ":smile:" in shown


def test_the_terminal_report_counts_people_on_the_community_s_calendar(tmp_path: Path) -> None:
    """Writers are people (one person's two accounts once), and first and last days are the
    community's days, as its header says: Kiritimati is 14 hours ahead of UTC."""
    chat = tmp_path / "WhatsApp Chat with Kiri.txt"
    chat.write_text("01/01/2024, 08:00 - Ivan: up early\n01/01/2024, 09:00 - Ivan T: same me, other phone\n"
                    "15/01/2024, 13:00 - Luis: hello\n", encoding="utf-8")
    config = tmp_path / "hub.yaml"
    config.write_text("communities:\n  - slug: kiri\n    timezone: Pacific/Kiritimati\n")
    (tmp_path / "kiri.identities.yaml").write_text("merge:\n  - [whatsapp:kiri:Ivan, whatsapp:kiri:Ivan T]\n")
    common = ["--db", str(tmp_path / "hub.duckdb"), "--config", str(config)]
    assert runner.invoke(app, ["ingest", str(chat), *common]).exit_code == 0
    assert runner.invoke(app, ["persons", "show", *common]).exit_code == 0
    shown = one_line(runner.invoke(app, ["report", *common]))
    assert "│ whatsapp │ 1 │ 3 │ 2 │ 0 │ 2024-01-01 │ 2024-01-15 │" in shown, shown


def test_query_output_is_what_each_format_means(tmp_path: Path) -> None:
    """JSON numbers stay numbers and NaN is null (valid JSON); CSV cells of nested values are JSON;
    the table shows an escape character as its code instead of sending it to the terminal; an
    empty query is an error, not a traceback."""
    db = _loaded(tmp_path)
    values = "SELECT 1.5::DECIMAL(4,2) AS d, 'nan'::DOUBLE AS n, {'a': 1} AS s, [1, 2] AS l, 'x'::BLOB AS b"
    as_json = runner.invoke(app, ["query", "--db", db, "--format", "json", values])
    assert json.loads(as_json.output) == [{"d": 1.5, "n": None, "s": {"a": 1}, "l": [1, 2], "b": "78"}]
    as_csv = runner.invoke(app, ["query", "--db", db, "--format", "csv", values])
    assert as_csv.output.splitlines()[1] == '1.50,nan,"{""a"": 1}","[1, 2]",78'
    table = runner.invoke(app, ["query", "--db", db, "SELECT chr(27) || '[31mred' AS e"])
    assert "\x1b" not in table.output and "\\x1b[31mred" in table.output
    joined = runner.invoke(app, ["query", "--db", db, "--format", "json", "SELECT 5 AS id, NULL AS id, 1 AS id"])
    assert json.loads(joined.output) == [{"id": 5, "id_1": None, "id_2": 1}]  # none overwrites another
    empty = runner.invoke(app, ["query", "--db", db, " "])
    assert empty.exit_code == 2 and "no SQL statement to run" in one_line(empty)


@pytest.mark.parametrize("command", [
    ["report", "--out", "{tmp}/r.html", "--from", "0001-01-01"],
    ["report", "--out", "{tmp}/r.html", "--to", "9999-12-31"],
    ["digest", "--week", "0001-01-03"],
])
def test_dates_at_the_limits_are_one_line_errors(tmp_path: Path, command: list[str]) -> None:
    chat = tmp_path / "chat.txt"
    chat.write_text(CHAT, encoding="utf-8")
    db = str(tmp_path / "hub.duckdb")
    assert runner.invoke(app, ["ingest", str(chat), "--db", db, "--community", "makers"]).exit_code == 0
    result = runner.invoke(app, [*(c.format(tmp=tmp_path) for c in command), "--db", db])
    assert result.exit_code == 2, result.output
    text = one_line(result)
    assert text.startswith("error: ") and "between 1900-01-01 and 2999-12-31" in text, text


def test_no_command_sends_a_name_s_control_codes_to_the_terminal(tmp_path: Path) -> None:
    chat = tmp_path / "result.json"  # (WhatsApp quarantines such a line; Telegram keeps the name)
    chat.write_text(json.dumps({"name": "Club", "type": "private_supergroup", "id": 42, "messages": [
        {"id": i, "type": "message", "date": "2024-06-01T10:00:00", "date_unixtime": str(1717236000 + i),
         "from": name, "from_id": f"user{i}", "text": "hi", "text_entities": []}
        for i, name in ((1, "\x1b]0;pwned\x07\x1b[31mEve Red"), (2, "Bo"))]}))
    db = str(tmp_path / "hub.duckdb")
    outputs = [runner.invoke(app, ["ingest", str(chat), "--db", db])]
    for command in (["persons", "show"], ["persons", "suggest"], ["report"], ["query", "SELECT * FROM accounts"]):
        outputs.append(runner.invoke(app, [*command, "--db", db]))
    with duckdb.connect(db, read_only=True) as con:
        (eve,) = con.execute("SELECT account_id FROM accounts WHERE display_name LIKE '%Eve Red'").fetchone()
    outputs.append(runner.invoke(app, ["forget", eve, "--yes", "--no-build", "--db", db]))
    for result in outputs:
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output, result.output
    assert "\\x07\\x1b[31mEve" in "".join(outputs[1].output.replace("│", " ").split())  # shown as codes
