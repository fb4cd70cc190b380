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


def tables(con) -> dict[str, list]:
    return {name: con.execute(sql).fetchall() for name, sql in TABLES.items()}


def everything(con) -> dict[str, list]:
    names = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
    return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in names if t != "schema_migrations"}


def sync(con, fake, **kwargs):
    return sync_slack(con, COMMUNITY, SOURCE, client=client_for(fake.token, f"{fake.url}/api/"), now=NOW, **kwargs)


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
