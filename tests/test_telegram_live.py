"""Telegram live: the real python-telegram-bot `Bot` against the fake Bot API on 127.0.0.1.

The offset is committed with the data, reactions are applied as changes, a crash between fetching
and committing loses and duplicates nothing, and history from an export joins live messages
without duplicates.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes.telegram_api import ANN, BOB, CHAT, serve, sample_updates

from hub.config import Community, Source
from hub.ingest import ingest_file
from hub.config import HubConfig
from hub.sync import SyncError, live_source, sync_telegram
from warehouse import load as loader
from warehouse import state as stored
from warehouse.db import connect

P = "telegram:makers:"
MSG = f"{P}1700000001/"


def _community() -> Community:
    return Community(slug="makers", name="Makers", sources=[])


def _source(fake) -> Source:
    return Source(platform="telegram", token_env="TELEGRAM_BOT_TOKEN", base_url=f"{fake.url}/bot")


@pytest.fixture
def fake(monkeypatch):
    with serve() as server:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", server.token)
        yield server


def _sync(con, fake, **kwargs):
    return sync_telegram(con, _community(), _source(fake), sleep=lambda s: None, **kwargs)


def _reactions(con) -> list[tuple]:
    return con.execute("""SELECT split_part(message_id, '/', -1), replace(reactor_id, ?, ''), emoji, count
                          FROM reactions ORDER BY 1, 2 NULLS LAST, 3""", [P]).fetchall()


def test_sample_updates_land(con, fake) -> None:
    ids = fake.add_updates(sample_updates())
    report = _sync(con, fake)
    assert (report.updates, report.messages_new, report.chats) == (6, 2, 1)
    rows = con.execute("""SELECT split_part(message_id, '/', -1), author_name, text, split_part(reply_to_id, '/', -1),
                                 edited_at IS NOT NULL FROM messages ORDER BY 1""").fetchall()
    assert rows == [("7", "Ann Lee", "hi", None, False), ("8", "Bob", "hello Ann!", "7", True)]
    # Bob's 👍 is named; the anonymous total of 3 counts him, so 2 more are anonymous.
    assert _reactions(con) == [("7", "user1002", "👍", 1), ("7", None, "👍", 2)]
    assert con.execute("SELECT replace(account_id, ?, ''), event FROM membership_events", [P]).fetchall() \
        == [("user1002", "join")]
    assert con.execute("SELECT handle FROM accounts WHERE native_id = 'user1001'").fetchone() == ("annlee",)
    assert con.execute("SELECT name, kind FROM channels").fetchall() == [("Makers", "group")]
    # Confirmed: the next sync asks with the stored offset, and nothing is pending any more.
    assert _sync(con, fake).updates == 0 and fake.pending() == []
    assert stored.checkpoints(con, live_source(_community(), _source(fake)).source_id) == {"offset": str(max(ids) + 1)}


def _reaction(message_id: int, user: dict, old: list[str], new: list[str], date: int = 1700000300) -> dict:
    return {"message_reaction": {"chat": CHAT, "message_id": message_id, "user": user, "date": date,
                                 "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
                                 "new_reaction": [{"type": "emoji", "emoji": e} for e in new]}}


def test_reaction_added_then_removed_leaves_the_right_count(con, fake) -> None:
    fake.add_updates([{"message": {"message_id": 7, "from": ANN, "chat": CHAT, "date": 1700000000, "text": "hi"}},
                      _reaction(7, BOB, [], ["👍"]), _reaction(7, ANN, [], ["🔥"])])
    _sync(con, fake)
    assert _reactions(con) == [("7", "user1001", "🔥", 1), ("7", "user1002", "👍", 1)]
    fake.add_updates([_reaction(7, BOB, ["👍"], []), _reaction(7, ANN, ["🔥"], ["🎉"])])
    _sync(con, fake)
    assert _reactions(con) == [("7", "user1001", "🎉", 1)]
    # Added and taken back within one page: nothing stays.
    fake.add_updates([_reaction(7, BOB, [], ["👍"]), _reaction(7, BOB, ["👍"], [])])
    _sync(con, fake)
    assert _reactions(con) == [("7", "user1001", "🎉", 1)]


def test_crash_between_fetch_and_commit_loses_and_duplicates_nothing(con, fake, monkeypatch) -> None:
    fake.add_updates(sample_updates())
    real = loader._sync_state

    def crash(*args):
        raise RuntimeError("power cut")

    monkeypatch.setattr(loader, "_LOADERS", {**loader._LOADERS, "sync_state": crash})
    with pytest.raises(RuntimeError, match="power cut"):
        _sync(con, fake)
    assert con.execute("SELECT count(*) FROM messages").fetchone() == (0,)  # rolled back
    assert len(fake.pending()) == 6  # and not confirmed to Telegram
    monkeypatch.setattr(loader, "_LOADERS", {**loader._LOADERS, "sync_state": real})
    assert _sync(con, fake).messages_new == 2
    assert _sync(con, fake).updates == 0
    assert con.execute("SELECT count(*), count(DISTINCT message_id) FROM messages").fetchone() == (2, 2)
    assert _reactions(con) == [("7", "user1002", "👍", 1), ("7", None, "👍", 2)]


def test_retry_after_is_honoured(con, fake) -> None:
    fake.add_updates(sample_updates())
    fake.fail_next("getUpdates", n=2, retry_after=7)
    waits = []
    report = sync_telegram(con, _community(), _source(fake), sleep=waits.append)
    assert waits == [7, 7] and report.rate_limited == 2 and report.messages_new == 2


def test_bad_token_says_what_to_do(con, fake, monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:wrong")
    with pytest.raises(SyncError, match="token was rejected") as e:
        _sync(con, fake)
    assert "123:wrong" not in str(e.value)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    with pytest.raises(SyncError, match="set the environment variable TELEGRAM_BOT_TOKEN"):
        _sync(con, fake)


def test_export_and_live_overlap_without_duplicates(tmp_path: Path, con, fake) -> None:
    from hub.simulate import simulate
    from hub.simulate import telegram as tg

    chat = tg.chat(simulate(members=25, days=40, seed=3), seed=3)
    ids = [m["id"] for m in chat["messages"]]
    half = len(ids) // 2
    history = {**chat, "messages": [m for m in chat["messages"] if m["id"] <= ids[half + 20]]}
    export = tg.write_export(history, tmp_path / "result.json")
    cfg = HubConfig.model_validate({"communities": [{"slug": "makers", "name": "Makers"}]})
    ingest_file(con, export, config=cfg, community="makers")
    # The bot joined later: it sees the last part of the chat, overlapping the export by 20 messages.
    fake.add_updates(tg.updates(chat, message_ids=set(ids[half:])))
    _sync(con, fake)
    truth = tg.truth(chat)
    assert con.execute("SELECT count(*), count(DISTINCT message_id) FROM messages WHERE kind = 'message'").fetchone() \
        == (truth["messages"], truth["messages"])
    totals = dict(con.execute("SELECT emoji, sum(count) FROM reactions GROUP BY 1").fetchall())
    assert totals == truth["reactions_by_emoji"]
    events = dict(con.execute("SELECT event IN ('join', 'add'), count(*) FROM membership_events GROUP BY 1").fetchall())
    assert (events[True], events[False]) == (truth["joins"], truth["leaves"])


def test_hub_sync_reads_a_configured_bot(tmp_path: Path, fake) -> None:
    from typer.testing import CliRunner

    from hub.cli import app

    fake.add_updates(sample_updates())
    config = tmp_path / "hub.yaml"
    config.write_text("communities:\n  - slug: makers\n    sources:\n      - platform: telegram\n"
                      f"        token_env: TELEGRAM_BOT_TOKEN\n        base_url: {fake.url}/bot\n")
    db = tmp_path / "hub.duckdb"
    result = CliRunner().invoke(app, ["sync", "--db", str(db), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "Synced Telegram" in result.output and fake.token not in result.output
    from warehouse.db import connect

    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM messages").fetchone() == (2,)
        assert con.execute("SELECT count(*) FROM member_weekly_activity").fetchone()[0] > 0


def _message(message_id: int, user: dict, text: str, date: int = 1700000000, **fields) -> dict:
    return {"message_id": message_id, "from": user, "chat": CHAT, "date": date, "text": text, **fields}


def _member(user: dict, old: str, new: str, date: int) -> dict:
    return {"chat_member": {"chat": CHAT, "from": user, "date": date, "old_chat_member": {"status": old, "user": user},
                            "new_chat_member": {"status": new, "user": user}}}


def _texts(con) -> list[tuple]:
    return con.execute("SELECT split_part(message_id, '/', -1), kind, text FROM messages ORDER BY 1").fetchall()


def _load_export(con, tmp_path: Path, messages: list[dict]) -> None:
    """Messages as Telegram Desktop exports the same supergroup, loaded into `con`."""
    export = tmp_path / "result.json"
    export.write_text(json.dumps({"name": "Makers", "type": "private_supergroup", "id": 1700000001,
                                  "messages": messages}), encoding="utf-8")
    cfg = HubConfig.model_validate({"communities": [{"slug": "makers", "name": "Makers"}]})
    ingest_file(con, export, config=cfg, community="makers")


def test_an_entity_that_splits_an_emoji_keeps_the_message(con, fake) -> None:
    # A client that counted code points, not UTF-16 units: the bold starts inside 😀.
    fake.add_updates([{"message": _message(7, ANN, "😀 hi", entities=[{"type": "bold", "offset": 1, "length": 2}])},
                      {"message": _message(8, BOB, "hello", date=1700000060)}])
    assert _sync(con, fake).messages_new == 2
    assert _texts(con) == [("7", "message", "😀 hi"), ("8", "message", "hello")]
    assert fake.pending() == []


def test_an_update_that_cannot_be_read_is_quarantined_and_the_rest_loads(con, fake) -> None:
    nobody = {"message_reaction": {"chat": CHAT, "message_id": 7, "date": 1700000300, "old_reaction": [],
                                   "new_reaction": [{"type": "emoji", "emoji": "👍"}]}}
    ids = fake.add_updates([{"message": _message(7, ANN, "hi")}, nobody, _reaction(7, BOB, [], ["🔥"]),
                            {"message": _message(8, BOB, "beyond", reply_to_message=_message(2 ** 64, ANN, "?"))}])
    assert _sync(con, fake).quarantined == 2  # (what `hub sync` counts and says)
    assert _texts(con) == [("7", "message", "hi")]
    assert _reactions(con) == [("7", "user1002", "🔥", 1)]
    rows = con.execute("SELECT location, reason, raw FROM quarantine ORDER BY location").fetchall()
    assert [(location, reason.split(":")[0]) for location, reason, _ in rows] == [
        (f"update {ids[1]}", "an update the hub cannot read"), (f"update {ids[3]}", "a message of an unexpected shape")]
    assert "neither user nor actor_chat" in rows[0][1]
    assert json.loads(rows[0][2])["message_reaction"]["new_reaction"] == [{"type": "emoji", "emoji": "👍"}]
    assert json.loads(rows[1][2])["message"]["reply_to_message"]["message_id"] == 2 ** 64  # shown whole
    # Set aside, not pending: the next sync neither fails on them nor quarantines them twice.
    assert fake.pending() == [] and _sync(con, fake).updates == 0
    assert stored.checkpoints(con, live_source(_community(), _source(fake)).source_id) == {"offset": str(ids[-1] + 1)}
    assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (2,)


def test_a_service_message_set_aside_takes_its_membership_events_with_it(con, fake) -> None:
    odd = _message(9, ANN, "", date=1700000240, new_chat_members=[BOB], reply_to_message=_message(2 ** 64, ANN, "?"))
    ids = fake.add_updates([{"message": odd}, {"message": _message(10, BOB, "hello", date=1700000300)}])
    assert _sync(con, fake).quarantined == 1
    assert con.execute("SELECT location FROM quarantine").fetchall() == [(f"update {ids[0]}",)]
    assert con.execute("SELECT count(*) FROM membership_events").fetchone() == (0,)
    assert _texts(con) == [("10", "message", "hello")]


def test_forbidden_is_a_sync_error_without_the_token(con, fake) -> None:
    fake.add_updates(sample_updates())
    fake.error_next("getUpdates", 403, f"Forbidden: bot {fake.token} was deactivated")
    with pytest.raises(SyncError, match=r"refused the bot \(403") as e:
        _sync(con, fake)
    assert fake.token not in str(e.value) and len(fake.pending()) == 6
    assert _sync(con, fake).messages_new == 2  # once Telegram lets it in again, nothing was lost


def _links(con) -> list[tuple]:
    return con.execute("SELECT split_part(message_id, '/', -1), url FROM links ORDER BY 1, 2").fetchall()


def test_live_messages_give_the_links_an_export_gives(tmp_path: Path, con, fake) -> None:
    text = "see example.org and the docs"
    found = [{"type": "url", "offset": 4, "length": 11},
             {"type": "text_link", "offset": 24, "length": 4, "url": "https://hub.example/docs"}]
    fake.add_updates([{"message": _message(7, ANN, text, entities=found)}])
    _sync(con, fake)
    assert _links(con) == [("7", "example.org"), ("7", "https://hub.example/docs")]
    with connect(tmp_path / "export.duckdb") as exported:
        _load_export(exported, tmp_path, [{
            "id": 7, "type": "message", "date": "2023-11-14T22:13:20", "date_unixtime": "1700000000",
            "from": "Ann Lee", "from_id": "user1001", "text_entities": [
                {"type": "plain", "text": "see "}, {"type": "link", "text": "example.org"},
                {"type": "plain", "text": " and the "},
                {"type": "text_link", "text": "docs", "href": "https://hub.example/docs"}]}])
        assert _links(exported) == _links(con)
    # An edit's links replace the old text's.
    fake.add_updates([{"edited_message": _message(7, ANN, "moved to t.me/makers", edit_date=1700000100,
                                                  entities=[{"type": "url", "offset": 9, "length": 11}])}])
    _sync(con, fake)
    assert _links(con) == [("7", "t.me/makers")]


@pytest.mark.parametrize("pages", ["one page", "a page each"])
def test_join_leave_and_rejoin_are_three_events_wherever_pages_break(con, fake, pages: str) -> None:
    joined = {"message": _message(9, BOB, "", date=1700000240, new_chat_members=[BOB])}
    del joined["message"]["text"]
    updates = [joined, _member(BOB, "left", "member", 1700000241),  # the same join, shown twice
               _member(BOB, "member", "left", 1700000840), _member(BOB, "left", "member", 1700001440)]
    for group in [updates] if pages == "one page" else [[u] for u in updates]:
        fake.add_updates(group)
        _sync(con, fake)
    events = con.execute("""SELECT event, epoch("at")::BIGINT, split_part(message_id, '/', -1)
                            FROM membership_events ORDER BY "at" """).fetchall()
    assert events == [("join", 1700000240, "9"), ("leave", 1700000840, None), ("join", 1700001440, None)]


@pytest.mark.parametrize("first", ["export", "bot"])
def test_a_join_by_link_is_the_same_row_whichever_comes_first(tmp_path: Path, con, fake, first: str) -> None:
    joined = {"message": _message(9, BOB, "", date=1700000240, new_chat_members=[BOB])}
    del joined["message"]["text"]
    fake.add_updates([joined])
    export = [{"id": 9, "type": "service", "date": "2023-11-14T22:17:20", "date_unixtime": "1700000240",
               "actor": "Bob", "actor_id": "user1002", "action": "join_group_by_link", "inviter": "Group",
               "text": "", "text_entities": []}]
    for source in (first, {"export": "bot", "bot": "export"}[first]):
        if source == "export":
            _load_export(con, tmp_path, export)
        else:
            _sync(con, fake)
    assert _texts(con) == [("9", "system", "Bob: join_group_by_link")]
    assert con.execute("SELECT replace(account_id, ?, ''), event, actor_id FROM membership_events", [P]).fetchall() \
        == [("user1002", "join", None)]
