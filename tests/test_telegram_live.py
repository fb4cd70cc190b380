"""Telegram live: the real python-telegram-bot `Bot` against the fake Bot API on 127.0.0.1.

The offset is committed with the data, reactions are applied as changes, a crash between fetching
and committing loses and duplicates nothing, and history from an export joins live messages
without duplicates.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.telegram_api import ANN, BOB, CHAT, serve, sample_updates

from hub.config import Community, Source
from hub.ingest import ingest_file
from hub.config import HubConfig
from hub.sync import SyncError, live_source, sync_telegram
from warehouse import load as loader
from warehouse import state as stored

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
