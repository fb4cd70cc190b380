"""The live Slack reader, with the real slack_sdk WebClient against a fake Web API on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fakes.slack_api import serve, sample_workspace

from connectors.slack.api import client_for
from hub.config import Community, HubConfig, Source
from hub.ingest import ingest_file
from hub.simulate import simulate
from hub.simulate.slack import workspace, write_export
from hub.sync import SyncError, sync_slack
from warehouse.db import connect

COMMUNITY = Community(slug="makers", name="Makers")
SOURCE = Source(platform="slack", token_env="SLACK_BOT_TOKEN")
TABLES = {
    "messages": "SELECT * EXCLUDE (source_id, position) FROM messages ORDER BY message_id",
    "reactions": "SELECT * EXCLUDE (source_id) FROM reactions ORDER BY ALL",
    "mentions": "SELECT * EXCLUDE (source_id) FROM mentions ORDER BY ALL",
    "membership_events": "SELECT * EXCLUDE (source_id) FROM membership_events ORDER BY ALL",
    "accounts": "SELECT account_id, display_name, is_bot FROM accounts ORDER BY ALL",
}
SIM = simulate(members=25, days=40, seed=4, name="Makers")
NOW = dt.datetime.combine(SIM.start + dt.timedelta(days=41), dt.time()).replace(tzinfo=dt.timezone.utc).timestamp()
SAMPLE_NOW = 1700086400.0  # a day after the sample workspace's messages: all in the look-back window


def tables(con) -> dict[str, list]:
    return {name: con.execute(sql).fetchall() for name, sql in TABLES.items()}


def everything(con) -> dict[str, list]:
    names = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
    return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in names if t != "schema_migrations"}


def sync(con, fake, now: float = NOW, **kwargs):
    return sync_slack(con, COMMUNITY, SOURCE, client=client_for(fake.token, f"{fake.url}/api/"), now=now, **kwargs)


def readable_sample() -> dict:
    """The sample workspace with the bot in every channel, so that its export and the API hold the same."""
    ws = sample_workspace()
    for channel in ws["channels"]:
        channel["is_member"] = True
    return ws


def ingested_export(ws: dict, folder: Path):
    """A warehouse in `folder` loaded from the workspace's export."""
    write_export(ws, folder / "export")
    con = connect(folder / "export.duckdb")
    report = ingest_file(con, folder / "export", config=HubConfig(communities=[COMMUNITY]), community="makers")
    assert report.error is None and report.result.quarantined == 0
    return con


@pytest.fixture
def ws() -> dict:
    return workspace(SIM)


def test_export_and_api_give_the_same_tables(tmp_path: Path, ws: dict) -> None:
    write_export(ws, tmp_path / "export")
    with connect(tmp_path / "a.duckdb") as by_export, connect(tmp_path / "b.duckdb") as by_api:
        config = HubConfig(communities=[COMMUNITY])
        report = ingest_file(by_export, tmp_path / "export", config=config, community="makers")
        assert report.error is None and report.result.quarantined == 0
        with serve(ws, page_limit=50) as fake:
            synced = sync(by_api, fake)
        exported, live = tables(by_export), tables(by_api)
        assert len(exported["messages"]) == sum(len(v) for v in ws["messages"].values())
        assert synced.messages_new == len(live["messages"])
        assert exported["reactions"] and exported["mentions"] and exported["membership_events"]
        assert by_api.execute("SELECT count(DISTINCT thread_id) FROM messages").fetchone()[0] > 10
        for name in TABLES:
            assert live[name] == exported[name], name


def test_an_interrupted_sync_resumes_and_ends_like_an_uninterrupted_one(tmp_path: Path, ws: dict) -> None:
    with serve(ws, page_limit=20) as fake, connect(tmp_path / "clean.duckdb") as clean, \
            connect(tmp_path / "crashy.duckdb") as crashy:
        sync(clean, fake)
        calls = len(fake.calls)
        fake.fail_after = calls // 2  # the remote dies halfway through the backfill
        with pytest.raises(Exception):
            sync(crashy, fake)
        partial = crashy.execute("SELECT count(*) FROM messages").fetchone()[0]
        assert 0 < partial < clean.execute("SELECT count(*) FROM messages").fetchone()[0]
        assert crashy.execute("SELECT count(*) FROM sync_state").fetchone()[0] == 1  # the checkpoint it reached
        fake.fail_after = None
        sync(crashy, fake)
        assert tables(crashy) == tables(clean)


def test_a_second_sync_with_nothing_new_writes_nothing(tmp_path: Path, ws: dict) -> None:
    with serve(ws, page_limit=50) as fake, connect(tmp_path / "w.duckdb") as con:
        sync(con, fake)
        before = everything(con)
        again = sync(con, fake)
        assert again.messages_new == 0 and again.units == 0
        assert everything(con) == before


def test_new_replies_on_a_month_old_thread_are_picked_up(tmp_path: Path, ws: dict) -> None:
    channel = ws["channels"][0]["id"]
    with serve(ws, page_limit=50) as fake, connect(tmp_path / "w.duckdb") as con:
        sync(con, fake)
        month_ago = NOW - 31 * 86400
        parents = [m for m in ws["messages"][channel]
                   if m.get("thread_ts") == m["ts"] and float(m["ts"]) < month_ago]
        parent = parents[-1]
        reply = {"type": "message", "user": parent["user"], "text": "coming back to this", "ts": f"{NOW + 3600:.6f}",
                 "thread_ts": parent["ts"], "parent_user_id": parent["user"]}
        fake.add_message(channel, reply)
        later = sync_slack(con, COMMUNITY, SOURCE, client=client_for(fake.token, f"{fake.url}/api/"),
                           now=NOW + 86400)
        assert later.messages_new == 1 and later.threads_reread == 1
        row = con.execute("SELECT reply_to_id, text FROM messages WHERE text = 'coming back to this'").fetchone()
        assert row == (f"slack:makers:{channel}/{parent['ts']}", "coming back to this")


def test_rate_limits_every_third_call_are_honoured(tmp_path: Path) -> None:
    small = sample_workspace()
    with serve(small, page_limit=10) as fake, connect(tmp_path / "clean.duckdb") as clean, \
            connect(tmp_path / "limited.duckdb") as limited:
        sync(clean, fake)
        fake.rate_limit_every = 3
        report = sync(limited, fake)
        assert report.rate_limited >= 3 and fake.count_status(429) == report.rate_limited
        assert tables(limited) == tables(clean)
        # The pace learnt from Retry-After keeps later calls to those methods apart.
        assert report.channels == 2 and report.skipped == {"C03ANNOUNCE": "not_in_channel"}


def test_bad_token_and_missing_scope_stop_with_a_clear_message(tmp_path: Path) -> None:
    with serve(sample_workspace()) as fake, connect(tmp_path / "w.duckdb") as con:
        with pytest.raises(SyncError, match="Slack refused the token \\(invalid_auth\\)") as bad:
            sync_slack(con, COMMUNITY, SOURCE, client=client_for("xoxb-wrong-secret", f"{fake.url}/api/"), now=NOW)
        assert "xoxb-wrong-secret" not in str(bad.value)
        fake.missing_scopes = {"conversations.history": "channels:history"}
        with pytest.raises(SyncError, match="lacks the scope 'channels:history', needed by conversations.history"):
            sync(con, fake)
        assert con.execute("SELECT count(*) FROM messages").fetchone() == (0,)


def test_an_unreachable_api_stops_with_a_clear_message(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with connect(tmp_path / "w.duckdb") as con:
        with pytest.raises(SyncError, match=f"the Slack Web API cannot be reached .*on auth.test at "
                                            f"http://127.0.0.1:{port}/api/") as unreachable:
            sync_slack(con, COMMUNITY, SOURCE, client=client_for("xoxb-secret", f"http://127.0.0.1:{port}/api/"), now=NOW)
        assert "xoxb-secret" not in str(unreachable.value)
        assert con.execute("SELECT count(*) FROM messages").fetchone() == (0,)


def test_the_token_comes_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    with connect(tmp_path / "w.duckdb") as con, pytest.raises(SyncError, match="set the environment variable SLACK_BOT_TOKEN"):
        sync_slack(con, COMMUNITY, SOURCE)


def test_export_and_api_agree_on_thread_parents(tmp_path: Path) -> None:
    ws = readable_sample()  # its parents hold no thread_ts: the export writer and the API add it
    with ingested_export(ws, tmp_path) as by_export, connect(tmp_path / "api.duckdb") as by_api:
        with serve(ws) as fake:
            sync(by_api, fake, now=SAMPLE_NOW)
        parents = "SELECT message_id FROM messages WHERE thread_id = message_id ORDER BY 1"
        expected = [("slack:makers:C01GENERAL/1700000240.000100",), ("slack:makers:C01GENERAL/1700000600.000100",)]
        assert by_export.execute(parents).fetchall() == by_api.execute(parents).fetchall() == expected
        assert tables(by_api) == tables(by_export)


def test_reactions_and_edits_on_synced_messages_are_picked_up(tmp_path: Path) -> None:
    ws = readable_sample()
    general = {m["text"]: m for m in ws["messages"]["C01GENERAL"]}
    with serve(ws, page_limit=10) as fake, connect(tmp_path / "live.duckdb") as con:
        sync(con, fake, now=SAMPLE_NOW)
        with fake.lock:
            general["Hi Alice :wave:"]["reactions"] = [{"name": "tada", "count": 2, "users": ["U01ALICE", "U02BOB"]}]
            general["Hello everyone!"]["reactions"][0].update(count=2, users=["U02BOB", "U01ALICE"])
            general["Me!"]["reactions"] = [{"name": "+1", "count": 1, "users": ["U01ALICE"]}]  # an older reply
            general["general chatter 3"].update(text="general chatter 3, corrected",
                                                edited={"user": "U01ALICE", "ts": f"{SAMPLE_NOW + 120:.6f}"})
        meetup = general["Who's coming to the meetup on Friday?"]["ts"]  # ... whose thread moves:
        fake.add_message("C01GENERAL", {"type": "message", "user": "U02BOB", "text": "Count me in too",
                                        "ts": f"{SAMPLE_NOW + 60:.6f}", "thread_ts": meetup})
        later = sync(con, fake, now=SAMPLE_NOW + 3600)
        assert later.messages_new == 1 and later.threads_reread == 1  # the re-sent ones are no new messages
        assert con.execute("SELECT text, edited_at FROM messages WHERE text LIKE 'general chatter 3%'").fetchone() \
            == ("general chatter 3, corrected", dt.datetime.fromtimestamp(SAMPLE_NOW + 120, dt.timezone.utc))
        reactions = "SELECT m.text, r.reactor_id, r.emoji FROM reactions r JOIN messages m USING (message_id) ORDER BY ALL"
        assert [r for r in con.execute(reactions).fetchall() if r[0] in general] == [
            ("Hello everyone!", "slack:makers:U01ALICE", "wave"), ("Hello everyone!", "slack:makers:U02BOB", "wave"),
            ("Hi Alice :wave:", "slack:makers:U01ALICE", "tada"), ("Hi Alice :wave:", "slack:makers:U02BOB", "tada"),
            ("Me!", "slack:makers:U01ALICE", "+1"),
            ("Who's coming to the meetup on Friday?", "slack:makers:U01ALICE", "raised_hands"),
            ("Who's coming to the meetup on Friday?", "slack:makers:U02BOB", "raised_hands")]
        with ingested_export(ws, tmp_path) as by_export:  # the workspace as it is now
            assert tables(con) == tables(by_export)
        before = everything(con)
        again = sync(con, fake, now=SAMPLE_NOW + 7200)
        assert again.messages_new == 0 and again.units == 0 and everything(con) == before


def test_a_reaction_taken_back_goes_at_the_next_sync(tmp_path: Path) -> None:
    # Slack sends a message with all its reactions, and without the field once the last is taken
    # back: the message, sent again, has none left (it kept them, and export and API disagreed).
    ws = readable_sample()
    general = {m["text"]: m for m in ws["messages"]["C01GENERAL"]}
    reacted = "SELECT count(*) FROM reactions r JOIN messages m USING (message_id) WHERE m.text = 'Hello everyone!'"
    with serve(ws, page_limit=10) as fake, connect(tmp_path / "live.duckdb") as con:
        sync(con, fake, now=SAMPLE_NOW)
        assert con.execute(reacted).fetchone() == (1,)
        with fake.lock:
            del general["Hello everyone!"]["reactions"]
        sync(con, fake, now=SAMPLE_NOW + 3600)
        assert con.execute(reacted).fetchone() == (0,)
        with ingested_export(ws, tmp_path) as by_export:
            assert tables(con) == tables(by_export)


def test_a_renamed_user_is_renamed_by_the_next_sync(tmp_path: Path) -> None:
    ws = sample_workspace()
    with serve(ws) as fake, connect(tmp_path / "w.duckdb") as con:
        sync(con, fake, now=SAMPLE_NOW)
        with fake.lock:
            ws["users"][0]["profile"]["display_name"] = "Alicia"
        later = sync(con, fake, now=SAMPLE_NOW + 3600)
        assert later.messages_new == 0
        assert con.execute("SELECT display_name FROM accounts WHERE account_id = 'slack:makers:U01ALICE'").fetchone() \
            == ("Alicia",)


def test_a_method_limited_to_one_call_per_interval_is_refused_once_then_paced(tmp_path: Path) -> None:
    limited = {"conversations.history": 1}  # Slack's 1-request-a-minute tier, in seconds
    with serve(sample_workspace(), page_limit=5, min_interval=limited) as fake, connect(tmp_path / "w.duckdb") as con:
        report = sync(con, fake, now=SAMPLE_NOW)
        history = [status for method, status, _ in fake.responses if method == "conversations.history"]
        # 4 pages of general and 2 of core-team: after the first 429, one request each.
        assert history == [200, 429] + [200] * 5
        assert report.rate_limited == 1 and report.messages_new == 26


class _History:
    """A channel of `n` messages over the last 59 days, as conversations.history pages them."""

    retry_handlers: list = []
    base_url = "http://127.0.0.1/api/"

    def __init__(self, n: int, now: float) -> None:
        self.messages = [{"type": "message", "user": "U1", "text": f"m{i}", "ts": f"{now - 59 * 86400 + i * 600:.6f}"}
                         for i in range(n)][::-1]

    def auth_test(self, **_):
        return _Answer({"team": "T"})

    def users_list(self, **_):
        return _Answer({"members": []})

    def conversations_list(self, **_):
        return _Answer({"channels": [{"id": "C1", "name": "general", "is_member": True}]})

    def conversations_history(self, channel, oldest="0", latest=None, inclusive=False, limit=200, cursor=None):
        low, high = float(oldest), float(latest) if latest else float("inf")
        found = [m for m in self.messages if low < float(m["ts"]) < high]
        start = int(cursor or 0)
        more = str(start + limit) if start + limit < len(found) else ""
        return _Answer({"messages": found[start:start + limit], "response_metadata": {"next_cursor": more}})


class _Answer:
    def __init__(self, data: dict) -> None:
        self.data = data


def test_a_backfill_writes_checkpoints_that_grow_with_the_channel_not_its_square() -> None:
    """What was sent of the window's messages is written with the channel's last page, not with
    every page: 6,000 messages in 30 pages, checkpoints of about 40 bytes a message in all."""
    from connectors.slack.api import LiveReader, SyncState

    now = 1_700_000_000.0
    reader = LiveReader(_History(6_000, now), "makers", SyncState(), now=now, page_size=200)
    units = list(reader.units())
    written = sum(len(text) for unit in units for text in unit.checkpoints.values())
    assert len(units) == 31 and written < 6_000 * 50, written


def test_a_long_thread_that_moves_is_read_from_its_newest_reply_stored(tmp_path: Path) -> None:
    """At one request of 15 replies a minute, re-reading a long thread whole on each new reply would
    take minutes: only its new replies are asked for (a short thread is read whole, in one request)."""
    ws = readable_sample()
    general = ws["messages"]["C01GENERAL"]
    parent = {"type": "message", "user": "U01ALICE", "text": "A long thread", "ts": f"{SAMPLE_NOW - 9000:.6f}"}
    general.append(parent)
    for i in range(20):
        general.append({"type": "message", "user": "U02BOB", "text": f"reply {i}", "ts": f"{SAMPLE_NOW - 8000 + i:.6f}",
                        "thread_ts": parent["ts"]})
    with serve(ws) as fake, connect(tmp_path / "live.duckdb") as con:
        sync(con, fake, now=SAMPLE_NOW)
        newest = f"{SAMPLE_NOW - 8000 + 19:.6f}"
        fake.add_message("C01GENERAL", {"type": "message", "user": "U01ALICE", "text": "reply 20",
                                        "ts": f"{SAMPLE_NOW + 60:.6f}", "thread_ts": parent["ts"]})
        fake.calls.clear()
        later = sync(con, fake, now=SAMPLE_NOW + 3600)
        asked = [p for method, p in fake.calls if method == "conversations.replies" and p.get("ts") == parent["ts"]]
        assert later.messages_new == 1 and [p.get("oldest") for p in asked] == [newest]
        assert con.execute("SELECT count(*) FROM messages WHERE thread_id LIKE ?", [f"%/{parent['ts']}"]).fetchone() \
            == (22,)
