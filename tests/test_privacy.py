"""Privacy. `hub forget`: a member who asks to be forgotten is erased from every table and the raw
store, the community's counts and threads still add up, and an old export cannot bring them back.
Reports, views and the digest mask phone numbers unless asked to show them.

One simulated community on WhatsApp, Slack and Telegram. Ivan Novák is on WhatsApp (known there
by his phone number, which WhatsApp puts in account and message ids) and on Slack (with that
phone in his profile), so the two accounts are one person.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.simulate import simulate
from hub.simulate.community import community, write_exports
from hub.simulate.whatsapp import write_export
from pipelines.exports.assets import core_tables, export_files, raw_export_file
from pipelines.resources import HubSettings, warehouse_resource
from warehouse import checks

runner = CliRunner()
NAME = "Ivan Novák"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("forget")
    cp = community(members=40, days=90, seed=6, trajectory="mature", platforms=("whatsapp", "slack", "telegram"))
    db = folder / "hub.duckdb"
    exports = write_exports(cp, folder / "exports")
    for path in exports:
        assert runner.invoke(app, ["ingest", str(path), "--db", str(db)]).exit_code == 0
    assert runner.invoke(app, ["build", "--db", str(db)]).exit_code == 0
    return {"db": db, "exports": exports, "phone": cp.identity[NAME]["phone"], "folder": folder}


@pytest.fixture
def db(built, tmp_path: Path) -> Path:
    copy = tmp_path / "hub.duckdb"
    shutil.copy(built["db"], copy)
    return copy


def _sql(db: Path, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _identifiers(db: Path, phone: str) -> list[str]:
    """Every way the warehouse spells Ivan: names, handles, ids, the phone as written and in E.164."""
    rows = _sql(db, """SELECT a.display_name, a.handle, a.native_id, a.email, a.phone FROM accounts a
                       JOIN person_accounts USING (account_id) JOIN persons p USING (person_id)
                       WHERE p.display_name = ?""", NAME)
    found = {v for row in rows for v in row if v} | {NAME, phone, phone.replace(" ", "")}
    return sorted(found)


def _where_found(db: Path, needles: list[str]) -> list[str]:
    """Every table and column (cast to text) holding any of the needles."""
    hits = []
    with duckdb.connect(str(db), read_only=True) as con:
        columns = con.execute("""SELECT table_name, column_name FROM information_schema.columns
                                 WHERE table_schema = 'main'""").fetchall()
        for table, column in columns:
            for needle in needles:
                (n,) = con.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}"::VARCHAR ILIKE ?',
                                   [f"%{needle}%"]).fetchone()
                if n:
                    hits.append(f"{table}.{column} holds {needle!r} {n} time(s)")
    return hits


def _counts(db: Path) -> tuple:
    return _sql(db, """SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM messages WHERE reply_to_id IS NOT NULL),
                              (SELECT sum(count) FROM reactions), (SELECT count(*) FROM membership_events)""")[0]


def test_a_forgotten_person_is_nowhere_and_the_counts_still_add_up(built, db: Path) -> None:
    needles = _identifiers(db, built["phone"])
    assert len(needles) >= 5 and _where_found(db, needles)  # Ivan is there, under all these spellings
    (wrote,) = _sql(db, """SELECT count(*) FROM messages m JOIN person_accounts pa ON pa.account_id = m.author_id
                           JOIN persons p USING (person_id) WHERE p.display_name = ?""", NAME)[0]
    assert wrote > 300
    before = _counts(db)
    # Others write his number their own ways, and use words that are no one's name.
    phone = built["phone"]  # +44 7700 …
    compact, national = phone.replace(" ", ""), "0" + phone.removeprefix("+44").replace(" ", "")
    with duckdb.connect(str(db)) as con:
        con.execute("""UPDATE messages SET text = ? WHERE message_id = (SELECT min(message_id) FROM messages
                       WHERE kind = 'message' AND author_name <> ?)""",
                    [f"call Ivan at {compact} or {national}, I will bring the default kit", NAME])

    result = runner.invoke(app, ["forget", NAME, "--yes", "--db", str(db)])

    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "2 account(s)" in said and f"{wrote:,} message(s) now [removed]" in said
    assert _where_found(db, needles + [compact, national]) == []
    assert _sql(db, "SELECT count(*) FROM messages WHERE text = ?",
                "call Ivan at [removed] or [removed], I will bring the default kit") == [(1,)]
    assert _sql(db, "SELECT DISTINCT community FROM messages") == [("default",)]
    assert _counts(db) == before  # the same messages, replies, reactions and events, now anonymous
    removed = _sql(db, "SELECT count(*), count(DISTINCT author_id) FROM messages WHERE text = '[removed]'")[0]
    assert removed == (wrote, 2)  # one tombstone account per platform
    assert _sql(db, """SELECT count(*) FROM messages r ANTI JOIN messages m ON m.message_id = r.reply_to_id
                       WHERE r.reply_to_id IS NOT NULL""") == _sql(db, "SELECT 0")  # threads hold together
    with duckdb.connect(str(db), read_only=True) as con:
        assert checks.unique_message_ids(con)[0] and checks.no_orphan_authors(con)[0]
    # Rebuilt without him: the tombstones are not people, and everyone else is still scored.
    assert _sql(db, "SELECT count(*) FROM persons WHERE display_name = '[removed]'") == [(0,)]
    assert _sql(db, "SELECT count(DISTINCT person_id) > 30 FROM member_scores") == [(True,)]


def test_an_old_export_does_not_bring_them_back(built, db: Path) -> None:
    needles = _identifiers(db, built["phone"])
    assert runner.invoke(app, ["forget", NAME, "--yes", "--no-build", "--db", str(db)]).exit_code == 0
    before = _counts(db)
    chat = next(p for p in built["exports"] if p.suffix == ".txt")
    lines = chat.read_text(encoding="utf-8").splitlines(keepends=True)
    older = built["folder"] / "older" / chat.name
    older.parent.mkdir(exist_ok=True)
    older.write_text("".join(lines[: len(lines) * 2 // 3]), encoding="utf-8")
    slack = next(p for p in built["exports"] if p.is_dir())

    for path, extra in ((older, []), (slack, ["--force"])):
        result = runner.invoke(app, ["ingest", str(path), "--db", str(db), *extra])
        assert result.exit_code == 0, result.output

    assert _where_found(db, needles) == []
    assert _counts(db) == before  # nothing twice: his messages came back under the ids they had
    with duckdb.connect(str(db), read_only=True) as con:
        assert checks.unique_message_ids(con)[0]


def _telegram(path: Path, *messages: dict) -> Path:
    import json

    path.write_text(json.dumps({"name": "Club", "type": "private_supergroup", "id": 42, "messages": list(messages)}))
    return path


# Luis, in two exports of one Telegram group: an older one names him only as invited, a later one
# shows him writing as user2.
_WELCOME = {"id": 1, "type": "message", "date": "2024-06-01T10:00:00", "date_unixtime": "1717236000",
            "from": "Noah Park", "from_id": "user1", "text": "welcome", "text_entities": []}
_INVITE = {"id": 2, "type": "service", "date": "2024-06-01T10:01:00", "date_unixtime": "1717236060",
           "actor": "Noah Park", "actor_id": "user1", "action": "invite_members", "members": ["Luis Kaur"],
           "text": "", "text_entities": []}
_HELLO = {"id": 3, "type": "message", "date": "2024-06-02T10:00:00", "date_unixtime": "1717322400",
          "from": "Luis Kaur", "from_id": "user2", "text": "hi, Luis here", "text_entities": []}


def _luis_exports(tmp_path: Path) -> tuple[Path, Path]:
    """(the older export, the later one)."""
    (tmp_path / "old").mkdir()
    return (_telegram(tmp_path / "old" / "result.json", _WELCOME, _INVITE),
            _telegram(tmp_path / "result.json", _WELCOME, _INVITE, _HELLO))


def test_an_export_that_knew_them_only_by_name_does_not_bring_them_back(tmp_path: Path) -> None:
    """An older Telegram export names Luis only as invited (`name:Luis Kaur`); a later one shows him
    writing as user2. He is one person; forgotten, neither account comes back from either export,
    even when no build ran since the later load, and the configuration naming him is pointed out."""
    old, new = _luis_exports(tmp_path)
    config = tmp_path / "hub.yaml"
    config.write_text('communities:\n  - slug: club\n    promoters: ["Luis Kaur"]\n')
    db = str(tmp_path / "hub.duckdb")
    common = ["--db", db, "--config", str(config)]
    assert runner.invoke(app, ["ingest", str(old), *common]).exit_code == 0
    assert runner.invoke(app, ["persons", "show", *common]).exit_code == 0  # persons as of the old export
    assert runner.invoke(app, ["ingest", str(new), *common]).exit_code == 0

    forgotten = runner.invoke(app, ["forget", "Luis Kaur", "--yes", "--no-build", *common])
    said = " ".join(forgotten.output.split())
    assert forgotten.exit_code == 0, said
    assert "2 account(s): telegram:club:name:Luis Kaur, telegram:club:user2" in said
    assert f"still named in the configuration: {config}: promoters: Luis Kaur" in said
    for export in (old, new):
        assert runner.invoke(app, ["ingest", str(export), "--force", *common]).exit_code == 0
        assert _sql(Path(db), "SELECT count(*) FROM accounts WHERE display_name LIKE '%Luis%' "
                              "OR account_id LIKE '%Luis%' OR account_id LIKE '%user2'") == [(0,)]
        assert _sql(Path(db), "SELECT count(*) FROM messages WHERE text LIKE '%Luis%'") == [(0,)]


def test_pseudonymised_a_member_known_only_by_name_is_still_one_person_and_forgotten(tmp_path: Path, monkeypatch) -> None:
    """The same as above in a pseudonymised community: the name-only account keeps its `name:` form
    under the name's pseudonym, so it still joins its person, goes with them, and stays out."""
    monkeypatch.setenv("HUB_PSEUDONYM_KEY", KEY)
    old, new = _luis_exports(tmp_path)
    config = tmp_path / "hub.yaml"
    config.write_text('communities:\n  - slug: club\n    pseudonymise: true\n    promoters: ["Luis Kaur"]\n')
    db = str(tmp_path / "hub.duckdb")
    common = ["--db", db, "--config", str(config)]
    for export in (old, new):
        assert runner.invoke(app, ["ingest", str(export), *common]).exit_code == 0
    forgotten = runner.invoke(app, ["forget", "Luis Kaur", "--yes", "--no-build", *common])
    said = " ".join(forgotten.output.split())
    assert forgotten.exit_code == 0, said
    assert "2 account(s): telegram:club:name:Member " in said and "Luis" not in said.split("account(s)")[1].split("still")[0]
    assert f"still named in the configuration: {config}: promoters: Luis Kaur" in said
    for export in (old, new):
        assert runner.invoke(app, ["ingest", str(export), "--force", *common]).exit_code == 0
        assert _sql(Path(db), "SELECT count(*) FROM accounts WHERE NOT is_bot") == [(1,)]  # Noah alone


def test_derived_rows_built_under_an_earlier_person_id_go_too(tmp_path: Path) -> None:
    """Built while Luis was user2 alone, his scores carry the id made from user2; an older export then
    joins `name:Luis Kaur` to him, whose id sorts first. Forgotten without a build, no row of either id stays."""
    answer = {"id": 4, "type": "message", "date": "2024-06-02T10:05:00", "date_unixtime": "1717322700",
              "from": "Noah Park", "from_id": "user1", "text": "welcome Luis", "reply_to_message_id": 3,
              "text_entities": []}
    (tmp_path / "old").mkdir()
    db = str(tmp_path / "hub.duckdb")
    assert runner.invoke(app, ["ingest", str(_telegram(tmp_path / "result.json", _HELLO, answer)), "--db", db]).exit_code == 0
    assert runner.invoke(app, ["build", "--db", db]).exit_code == 0
    ids = "('person:default:' || sha256('telegram:default:user2')[:12], " \
          "'person:default:' || sha256('telegram:default:name:Luis Kaur')[:12])"
    assert _sql(Path(db), f"SELECT count(*) > 0 FROM member_scores WHERE person_id IN {ids}") == [(True,)]
    assert runner.invoke(app, ["ingest", str(_telegram(tmp_path / "old" / "result.json", _INVITE)), "--db", db]).exit_code == 0
    assert runner.invoke(app, ["forget", "Luis Kaur", "--yes", "--no-build", "--db", db]).exit_code == 0
    for table, column in (("member_scores", "person_id"), ("member_flags", "person_id"), ("interactions", "to_person")):
        assert _sql(Path(db), f"SELECT count(*) FROM {table} WHERE {column} IN {ids}") == [(0,)], table


def test_a_namesake_s_name_only_record_is_not_forgotten_with_them(tmp_path: Path) -> None:
    """Two members go by Ana Li; an older export lists one "Ana Li" as invited, by name only. Forgetting
    one of the two must not later erase that record: it may be the other's."""
    def said(i: int, who: str) -> dict:
        return {"id": i, "type": "message", "date": "2024-06-02T10:00:00", "date_unixtime": str(1717322400 + i),
                "from": "Ana Li", "from_id": who, "text": f"hi from {who}", "text_entities": []}

    invite = {"id": 2, "type": "service", "date": "2024-06-01T10:01:00", "date_unixtime": "1717236060",
              "actor": "Noah Park", "actor_id": "user1", "action": "invite_members", "members": ["Ana Li"],
              "text": "", "text_entities": []}
    (tmp_path / "old").mkdir()
    old = _telegram(tmp_path / "old" / "result.json", invite)
    new = _telegram(tmp_path / "result.json", said(3, "user3"), said(4, "user4"))
    db = str(tmp_path / "hub.duckdb")
    for export in (old, new):
        assert runner.invoke(app, ["ingest", str(export), "--db", db]).exit_code == 0
    forgotten = runner.invoke(app, ["forget", "telegram:default:user3", "--yes", "--no-build", "--db", db])
    assert forgotten.exit_code == 0 and "1 account(s): telegram:default:user3" in " ".join(forgotten.output.split())
    assert runner.invoke(app, ["ingest", str(old), "--force", "--db", db]).exit_code == 0
    assert _sql(Path(db), "SELECT account_id FROM accounts WHERE display_name = 'Ana Li' ORDER BY 1") == [
        ("telegram:default:name:Ana Li",), ("telegram:default:user4",)]


def test_a_two_letter_name_leaves_their_ids_too(tmp_path: Path) -> None:
    """A WhatsApp message id holds its author's name: Jo's become the erasure's token, however short
    the name (in others' texts a two-letter name is left: it is a common pair of letters)."""
    chat = tmp_path / "WhatsApp Chat with Club.txt"
    chat.write_text("01/06/2024, 10:00 - Jo: hi all\n01/06/2024, 10:01 - Noah Park: hello Jo\n", encoding="utf-8")
    db = tmp_path / "hub.duckdb"
    assert runner.invoke(app, ["ingest", str(chat), "--db", str(db)]).exit_code == 0
    result = runner.invoke(app, ["forget", "Jo", "--yes", "--no-build", "--db", str(db)])
    assert result.exit_code == 0, result.output
    ids = [i for (i,) in _sql(db, "SELECT message_id FROM messages ORDER BY sent_at")]
    assert len(ids) == 2 and "/Jo/" not in ids[0] and "/removed-" in ids[0], ids


def test_a_name_that_is_not_one_person_forgets_nobody(db: Path) -> None:
    before = _counts(db)
    several = runner.invoke(app, ["forget", "Martin", "--yes", "--db", str(db)])
    nobody = runner.invoke(app, ["forget", "Nobody Atall", "--yes", "--db", str(db)])
    declined = runner.invoke(app, ["forget", NAME, "--db", str(db)], input="n\n")
    said = " ".join(several.output.split())
    assert several.exit_code == 2 and "no one is called exactly 'Martin'" in said and "person id" in said
    part = runner.invoke(app, ["forget", "Novák", "--yes", "--db", str(db)])  # part of one name only: refused too
    assert part.exit_code == 2 and NAME in part.output
    assert nobody.exit_code == 2 and "nobody matches 'Nobody Atall'" in nobody.output
    assert declined.exit_code == 1 and "Forget them?" in declined.output
    assert _counts(db) == before and _sql(db, "SELECT count(*) FROM erasures") == [(0,)]


def test_the_raw_copy_goes_and_is_not_landed_again(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    path = write_export(simulate(members=25, days=45, seed=11), inbox, "android_en_gb")
    db, store = tmp_path / "hub.duckdb", tmp_path / "raw"
    resources = {"duckdb": warehouse_resource(db), "hub": HubSettings(inbox=str(inbox), raw_store=str(store))}
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(export_files.name, [str(path)])

    def land_and_load() -> None:
        result = dg.materialize([raw_export_file, core_tables], partition_key=str(path), instance=instance,
                                resources=resources)
        assert result.success

    land_and_load()
    ((author, wrote),) = _sql(db, """SELECT author_id, count(*) FROM messages WHERE kind = 'message'
                                     GROUP BY 1 ORDER BY 2 DESC LIMIT 1""")
    name = author.rsplit(":", 1)[1]
    assert [p for p in store.rglob("*") if p.is_file()]
    result = runner.invoke(app, ["forget", author, "--yes", "--no-build", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "1 raw copy(ies) deleted" in " ".join(result.output.split())
    assert [p for p in store.rglob("*") if p.is_file()] == [] and path.exists()  # the original is the user's
    assert _sql(db, "SELECT erased_at IS NOT NULL FROM raw_files") == [(True,)]

    land_and_load()  # the sensor sees the file again: read where it is, no copy kept, still forgotten
    assert [p for p in store.rglob("*") if p.is_file()] == []
    assert _where_found(db, [name]) == []
    assert _sql(db, "SELECT count(*) FROM messages WHERE text = '[removed]'") == [(wrote,)]


def _phone_named(db: Path) -> list[str]:
    """Members WhatsApp knows only by their number (not in the exporting phone's contacts)."""
    return [n for (n,) in _sql(db, "SELECT display_name FROM persons WHERE display_name LIKE '+%' ORDER BY 1")]


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def test_reports_views_and_the_digest_mask_phone_numbers(built, tmp_path: Path) -> None:
    db = built["db"]
    numbers = _phone_named(db)
    assert numbers
    written = []
    for kind in ("html", "md", "csv"):
        out = tmp_path / f"report.{kind}"
        result = runner.invoke(app, ["report", "--db", str(db), "--out", str(out)])
        assert result.exit_code == 0, result.output
        written.append("\n".join(p.read_text(encoding="utf-8") for p in ([out] if out.is_file() else out.iterdir())))
    for command in (["report"], ["members", "--top", "100"], ["digest"]):
        result = runner.invoke(app, [*command, "--db", str(db)], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        written.append(result.output)
    (mine, *_) = numbers
    shown = runner.invoke(app, ["member", mine, "--db", str(db)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    written.append(shown.output)

    for text in written:
        flat = _digits(text)
        assert not any(_digits(n) in flat for n in numbers)
    assert "+" + _digits(mine)[:2] in written[-1] and _digits(mine)[-2:] in written[-1]  # still told apart
    full = runner.invoke(app, ["members", "--top", "100", "--show-phones", "--db", str(db)], env={"COLUMNS": "200"})
    assert any(n in full.output for n in numbers)  # asked for: shown in full


KEY = "a-test-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="module")
def pseudonymised(built, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("pseudonymised") / "hub.duckdb"
    for path in built["exports"]:
        result = runner.invoke(app, ["ingest", str(path), "--pseudonymise", "--db", str(db)],
                               env={"HUB_PSEUDONYM_KEY": KEY})
        assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["build", "--db", str(db)]).exit_code == 0
    return db


def test_pseudonymised_names_and_phones_never_reach_the_warehouse(built, pseudonymised: Path) -> None:
    db = pseudonymised
    # Full names. A bare first name ("Mateo" on one platform) is left where another platform's
    # members write "Thanks Mateo!": that is anyone's first name (README, Privacy).
    names = [n for (n,) in _sql(built["db"], "SELECT DISTINCT display_name FROM accounts WHERE NOT is_bot "
                                             "AND display_name LIKE '% %'")]
    phones = [p for (p,) in _sql(built["db"], "SELECT DISTINCT phone FROM accounts WHERE phone IS NOT NULL")]
    emails = [e for (e,) in _sql(built["db"], "SELECT DISTINCT email FROM accounts WHERE email IS NOT NULL")]
    assert len(names) > 30 and phones
    assert _where_found(db, names + phones + [p.removeprefix("+") for p in phones] + emails) == []
    # The same community, counted the same: nothing lost, and people still merged by their phone.
    assert _counts(db) == _counts(built["db"])
    merged = "SELECT method, count(*) FROM person_accounts WHERE method <> 'single' GROUP BY 1 ORDER BY 1"
    assert _sql(db, merged) == _sql(built["db"], merged) != []
    assert _sql(db, "SELECT count(*) FROM member_scores") == _sql(built["db"], "SELECT count(*) FROM member_scores")
    assert _sql(db, "SELECT count(*) FROM persons WHERE display_name LIKE 'Member %'") == \
        _sql(db, "SELECT count(*) FROM persons")


def test_the_same_key_gives_the_same_pseudonyms_and_nothing_twice(built, pseudonymised: Path, tmp_path: Path) -> None:
    db = tmp_path / "hub.duckdb"
    shutil.copy(pseudonymised, db)
    before = _counts(db)
    chat = next(p for p in built["exports"] if p.suffix == ".txt")
    result = runner.invoke(app, ["ingest", str(chat), "--pseudonymise", "--force", "--db", str(db)],
                           env={"HUB_PSEUDONYM_KEY": KEY})
    assert result.exit_code == 0, result.output
    assert _counts(db) == before


def test_a_load_cannot_mix_pseudonymised_and_plain_names(built, pseudonymised: Path, tmp_path: Path) -> None:
    db = tmp_path / "hub.duckdb"
    shutil.copy(pseudonymised, db)
    before = _counts(db)
    chat = next(p for p in built["exports"] if p.suffix == ".txt")
    plain = runner.invoke(app, ["ingest", str(chat), "--force", "--db", str(db)])
    other_key = runner.invoke(app, ["ingest", str(chat), "--pseudonymise", "--force", "--db", str(db)],
                              env={"HUB_PSEUDONYM_KEY": KEY[::-1]})
    no_key = runner.invoke(app, ["ingest", str(chat), "--pseudonymise", "--force", "--db", str(tmp_path / "new.duckdb")],
                           env={"HUB_PSEUDONYM_KEY": ""})
    for result in (plain, other_key, no_key):
        assert result.exit_code != 0
    said = [" ".join(r.output.split()) for r in (plain, other_key, no_key)]
    assert "was loaded pseudonymised" in said[0] and "with another key" in said[1]
    assert "$HUB_PSEUDONYM_KEY" in said[2] and chat.name in said[2]
    assert _counts(db) == before


def test_a_pseudonymised_member_is_forgotten_by_their_real_name(built, pseudonymised: Path, tmp_path: Path) -> None:
    db, config = tmp_path / "hub.duckdb", tmp_path / "hub.yaml"
    shutil.copy(pseudonymised, db)
    config.write_text("communities:\n  - slug: default\n    pseudonymise: true\n")
    result = runner.invoke(app, ["forget", NAME, "--yes", "--no-build", "--db", str(db), "--config", str(config)],
                           env={"HUB_PSEUDONYM_KEY": KEY})
    assert result.exit_code == 0, result.output
    assert "2 account(s)" in result.output and NAME not in result.output  # shown by pseudonym only
    assert _sql(db, "SELECT count(*) FROM messages WHERE author_name = '[removed]'")[0][0] > 300


def test_forgetting_a_bare_first_name_leaves_namesakes_alone(db: Path) -> None:
    # WhatsApp knows one member as "Mateo" and another as "Mateo Papadopoulos"; their ids hold the names.
    namesake = "whatsapp:default:Mateo Papadopoulos"
    theirs = "SELECT count(*), count(*) FILTER (WHERE message_id LIKE '%/Mateo Papadopoulos/%') FROM messages " \
             "WHERE author_id = ? AND author_name = 'Mateo Papadopoulos'"
    (wrote, with_name), = _sql(db, theirs, namesake)
    assert wrote > 10 and with_name == wrote
    (mateo,) = _sql(db, "SELECT count(*) FROM messages WHERE author_id = 'whatsapp:default:Mateo'")[0]

    result = runner.invoke(app, ["forget", "whatsapp:default:Mateo", "--yes", "--no-build", "--db", str(db)])

    assert result.exit_code == 0, result.output
    assert _sql(db, theirs, namesake) == [(wrote, wrote)]
    assert _sql(db, "SELECT display_name FROM accounts WHERE account_id = ?", namesake) == [("Mateo Papadopoulos",)]
    assert _sql(db, "SELECT count(*) FROM accounts WHERE account_id = 'whatsapp:default:Mateo'") == [(0,)]
    assert _sql(db, "SELECT count(*) FROM messages WHERE author_name = '[removed]'") == [(mateo,)]
    with duckdb.connect(str(db), read_only=True) as con:
        assert checks.unique_message_ids(con)[0] and checks.no_orphan_authors(con)[0]


def test_email_addresses_in_texts_are_pseudonymised_like_profiles(tmp_path: Path) -> None:
    from hub.pseudonyms import Pseudonymiser

    p = Pseudonymiser(KEY.encode())
    said = p.text("write to Ann.Lee+hub@mail.example.org, or ping @ann; me@home is no address.")
    assert "Ann.Lee" not in said and "example.org" not in said
    assert p._email("ann.lee+hub@mail.example.org") in said  # the profile's pseudonym, whatever the case
    assert "@ann" in said and "me@home" in said
    assert p.text(said) == said  # read twice, the same
    address = p._email("ann@example.org")
    for text, expected in [
            ("<mailto:ann@example.org|ann@example.org>", f"<mailto:{address}|{address}>"),  # Slack's markup
            ("_ann@example.org_ or *ANN@example.org*", f"_{address}_ or *{address}*"),
            ("müller@firma.de", p._email("müller@firma.de")),
            ("https://medium.com/@ann.lee/post-1, npm i lodash@4.17.21, ssh root@10.0.0.1, user@localhost", None)]:
        assert p.text(text) == (expected or text), text
    chat = tmp_path / "WhatsApp Chat with Makers.txt"
    chat.write_text("12/03/2024, 09:15 - Ann Lee: my address is ann.lee@example.org\n"
                    "12/03/2024, 09:16 - Bob Stone: Thanks Ann Lee, mine is bob@stone.example\n")
    db = tmp_path / "hub.duckdb"
    result = runner.invoke(app, ["ingest", str(chat), "--pseudonymise", "--db", str(db)], env={"HUB_PSEUDONYM_KEY": KEY})
    assert result.exit_code == 0, result.output
    assert _sql(db, "SELECT count(*) FROM messages")[0][0] == 2
    assert _where_found(db, ["ann.lee@", "bob@stone", "example.org", "Ann Lee", "Bob Stone"]) == []


def test_a_pseudonymised_warehouse_is_known_as_such_without_the_config(built, pseudonymised: Path, tmp_path: Path) -> None:
    """Loaded with `hub ingest --pseudonymise` and no `pseudonymise: true` in hub.yaml: promoters
    named in hub.yaml are still found, and a member is still forgotten by their real name."""
    from hub.config import load_config
    from hub.pseudonyms import Pseudonymiser
    from hub.stages import promoters
    from warehouse.db import connect

    db, config = tmp_path / "hub.duckdb", tmp_path / "hub.yaml"
    shutil.copy(pseudonymised, db)
    config.write_text(f'communities:\n  - slug: default\n    promoters: ["{NAME}"]\n')
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HUB_PSEUDONYM_KEY", KEY)
        with connect(db) as con:
            found = promoters(con, load_config(config), "default")
            named = con.execute("""SELECT DISTINCT person_id FROM person_accounts JOIN accounts USING (account_id)
                                   WHERE display_name = ?""", [Pseudonymiser.from_env().name(NAME)]).fetchall()
    assert found == [person for (person,) in named] != []
    unknown = runner.invoke(app, ["forget", "Nobody Atall", "--yes", "--no-build", "--db", str(db)],
                            env={"HUB_PSEUDONYM_KEY": ""})
    assert unknown.exit_code != 0 and "only with the key" in " ".join(unknown.output.split())
    result = runner.invoke(app, ["forget", NAME, "--yes", "--no-build", "--db", str(db)], env={"HUB_PSEUDONYM_KEY": KEY})
    assert result.exit_code == 0, result.output
    assert "2 account(s)" in result.output and NAME not in result.output
    shown = runner.invoke(app, ["query", "SELECT DISTINCT author_name FROM messages WHERE author_name = '[removed]'",
                                "--db", str(db)])
    assert "[removed]" in shown.output  # data, not console markup


def test_a_national_number_has_the_pseudonym_of_the_international_one() -> None:
    """Identity resolution reads `06 12 34 56 78` in the community's country: pseudonymised, it
    must still meet `+33 6 12 34 56 78` (a Slack profile and a WhatsApp name), or she is two people."""
    from hub.pseudonyms import Pseudonymiser

    paris = Pseudonymiser(b"k" * 32, "slack", "Europe/Paris")
    assert paris.phone("06 12 34 56 78") == paris.phone("+33 6 12 34 56 78") == paris.phone("0033612345678")
    assert Pseudonymiser(b"k" * 32, "slack", "UTC").phone("06 12 34 56 78") != paris.phone("+33 6 12 34 56 78")
