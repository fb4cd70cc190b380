"""A bot token never leaves the environment: the live connectors run with recognisable tokens, on
their good days and their bad ones (a refused token, rate limits, server errors, a crash
mid-sync), through `hub sync` and through Dagster, and the token is then searched for in every log
line of every logger at DEBUG, in what the command printed, in every error, in Dagster's event log
and asset metadata, and in every column of every table of the warehouse."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import dagster as dg
import pytest
from dagster._serdes import serialize_value
from fakes.slack_api import sample_workspace
from fakes.slack_api import serve as serve_slack
from fakes.telegram_api import sample_updates
from fakes.telegram_api import serve as serve_telegram
from typer.testing import CliRunner

import hub.sync
from hub.cli import app
from hub.config import Community, Source
from hub.sync import SyncError, sync_telegram
from pipelines.definitions import build_definitions
from pipelines.resources import HubSettings
from warehouse.db import connect

SLACK_TOKEN = "xoxb-SECRET-canary-1234"
TELEGRAM_TOKEN = "123456:SECRET-canary-telegram"
CANARY = "SECRET-canary"
ENV = {"slack": "MAKERS_SLACK_TOKEN", "telegram": "MAKERS_TELEGRAM_TOKEN"}
runner = CliRunner()


# -- where a token could show up ---------------------------------------------------------------------

@pytest.fixture
def logs(caplog) -> pytest.LogCaptureFixture:
    """Every record of every logger, DEBUG and up (httpx, httpcore, python-telegram-bot, slack_sdk …)."""
    caplog.set_level(logging.DEBUG)
    return caplog


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    """The log as a handler writes it (tracebacks included), and each record's own message and arguments."""
    records = [f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records]
    return caplog.text + "\n".join(records)


def _error_text(error: BaseException | None) -> str:
    return "" if error is None else "".join(traceback.format_exception(error))


def _warehouse_columns_holding(db: Path, needle: str) -> list[str]:
    """`table.column` of every column of every table whose text holds `needle`."""
    with connect(db, read_only=True) as con:
        columns = con.execute("""SELECT c.table_name, c.column_name FROM information_schema.columns c
                                 JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
                                 WHERE t.table_type = 'BASE TABLE'""").fetchall()
        assert len(columns) > 50  # the whole warehouse is searched, not a few tables
        return [f"{table}.{column}" for table, column in columns
                if con.execute(f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS VARCHAR) LIKE ?',
                               [f"%{needle}%"]).fetchone()[0]]


def _assert_no_token(db: Path | None, *texts: str) -> None:
    for text in texts:
        assert CANARY not in text, text[max(0, text.find(CANARY) - 300): text.find(CANARY) + 100]
    if db is not None and db.exists():
        assert _warehouse_columns_holding(db, CANARY) == []
        for file in db.parent.glob(db.name + "*"):  # the database file and its write-ahead log
            assert CANARY.encode() not in file.read_bytes(), file


def _config(tmp_path: Path, platform: str, url: str) -> Path:
    base_url = f"{url}/api/" if platform == "slack" else f"{url}/bot"
    config = tmp_path / "hub.yaml"
    config.write_text(f"communities:\n  - slug: makers\n    sources:\n      - platform: {platform}\n"
                      f"        token_env: {ENV[platform]}\n        base_url: {base_url}\n")
    return config


def _hub_sync(tmp_path: Path, config: Path):
    return runner.invoke(app, ["sync", "--db", str(tmp_path / "hub.duckdb"), "--config", str(config)])


def _messages(db: Path) -> int:
    with connect(db, read_only=True) as con:
        return con.execute("SELECT count(*) FROM messages").fetchone()[0]


# -- Slack ------------------------------------------------------------------------------------------------

SLACK_DAYS = {  # the fake's knobs, what `hub sync` exits with, and what it says
    "a good sync": ({}, 0, "Synced Slack"),
    "rate limited (429)": ({"rate_limit_every": 3, "retry_after": 0}, 0, "Synced Slack"),
    "a refused token (invalid_auth)": ({"token": "xoxb-the-token-slack-expects"}, 1,
                                       "Slack refused the token (invalid_auth)"),
    "a server error mid-sync (500)": ({"fail_after": 4}, 1, ""),
}


@pytest.mark.parametrize("day", SLACK_DAYS)
def test_hub_sync_slack_never_shows_the_token(tmp_path: Path, monkeypatch, logs, capfd, day: str) -> None:
    knobs, exit_code, says = SLACK_DAYS[day]
    monkeypatch.setenv(ENV["slack"], SLACK_TOKEN)
    with serve_slack(sample_workspace(), **{"token": SLACK_TOKEN, **knobs}) as fake:
        result = _hub_sync(tmp_path, _config(tmp_path, "slack", fake.url))
    assert result.exit_code == exit_code and says in result.output, result.output + _error_text(result.exception)
    if exit_code == 0:
        assert _messages(tmp_path / "hub.duckdb") > 0
    captured = capfd.readouterr()
    _assert_no_token(tmp_path / "hub.duckdb", result.output, _error_text(result.exception), _log_text(logs),
                     captured.out, captured.err)


# -- Telegram: the token is in every request's URL ----------------------------------------------------------

def _telegram_day(fake, day: str) -> None:
    if day == "rate limited (429)":
        fake.fail_next("getUpdates", n=2, retry_after=0)
    elif day == "a server error, then good (500)":
        fake.error_next("getUpdates", 500, "Internal Server Error")  # retried after 1 s


TELEGRAM_DAYS = {
    "a good sync": ({}, 0, "Synced Telegram"),
    "rate limited (429)": ({}, 0, "Synced Telegram"),
    "a server error, then good (500)": ({}, 0, "Synced Telegram"),
    "a refused token (401)": ({"token": "654321:the-token-telegram-expects"}, 1, "the bot token was rejected"),
}


@pytest.mark.parametrize("day", TELEGRAM_DAYS)
def test_hub_sync_telegram_never_shows_the_token(tmp_path: Path, monkeypatch, logs, capfd, day: str) -> None:
    knobs, exit_code, says = TELEGRAM_DAYS[day]
    monkeypatch.setenv(ENV["telegram"], TELEGRAM_TOKEN)
    with serve_telegram(sample_updates(), **{"token": TELEGRAM_TOKEN, **knobs}) as fake:
        _telegram_day(fake, day)
        result = _hub_sync(tmp_path, _config(tmp_path, "telegram", fake.url))
    assert result.exit_code == exit_code and says in result.output, result.output + _error_text(result.exception)
    if exit_code == 0:
        assert _messages(tmp_path / "hub.duckdb") == 2
    # httpx logs each request's URL, which holds the token: it was logged, masked.
    assert "/bot[token]/get" in logs.text
    captured = capfd.readouterr()
    _assert_no_token(tmp_path / "hub.duckdb", result.output, _error_text(result.exception), _log_text(logs),
                     captured.out, captured.err)


def _stop_answering(fake) -> None:
    fake.stop()


TELEGRAM_FAILURES = {  # what breaks, and what the error says
    "the server keeps failing (500)": (lambda fake: fake.error_next("getUpdates", 500, "Internal Server Error", n=10),
                                       "the Bot API cannot be reached: Internal Server Error"),
    "the server is gone": (_stop_answering, "the Bot API cannot be reached: httpx.ConnectError"),
    "another poller (409)": (lambda fake: fake.error_next("getUpdates", 409, "Conflict: terminated by other "
                                                          "getUpdates request"), "another process polls this bot"),
}


@pytest.mark.parametrize("failure", TELEGRAM_FAILURES)
def test_a_failed_telegram_sync_says_why_without_the_token(tmp_path: Path, monkeypatch, logs, failure: str) -> None:
    breaks, says = TELEGRAM_FAILURES[failure]
    monkeypatch.setenv(ENV["telegram"], TELEGRAM_TOKEN)
    db = tmp_path / "hub.duckdb"
    with serve_telegram(sample_updates(), token=TELEGRAM_TOKEN) as fake, connect(db) as con:
        source = Source(platform="telegram", token_env=ENV["telegram"], base_url=f"{fake.url}/bot")
        breaks(fake)
        with pytest.raises(SyncError, match=says) as error:
            sync_telegram(con, Community(slug="makers", name="Makers"), source, sleep=lambda s: None)
    _assert_no_token(db, _error_text(error.value), _log_text(logs))


@pytest.mark.parametrize(("platform", "crash_at"), [("slack", 2), ("telegram", 1)])
def test_a_crash_mid_sync_shows_no_token(tmp_path: Path, monkeypatch, logs, capfd, platform: str,
                                         crash_at: int) -> None:
    """Storing a page fails (Slack: after the directory is stored; Telegram: its one page of updates):
    the crash, its traceback and the logs hold no token."""
    real_load, loads = hub.sync.load, []

    def load_then_crash(con, source, batches):
        loads.append(source)
        if len(loads) == crash_at:
            raise RuntimeError(f"disk full while storing page {crash_at} of {source.path}")
        return real_load(con, source, batches)

    monkeypatch.setattr(hub.sync, "load", load_then_crash)
    token = SLACK_TOKEN if platform == "slack" else TELEGRAM_TOKEN
    monkeypatch.setenv(ENV[platform], token)
    serve = serve_slack(sample_workspace(), token=token) if platform == "slack" else \
        serve_telegram(sample_updates(), token=token)
    with serve as fake:
        result = _hub_sync(tmp_path, _config(tmp_path, platform, fake.url))
    assert result.exit_code == 1 and f"makers: the {platform} sync stopped unexpectedly (RuntimeError: disk full" \
        in " ".join(result.output.split()), result.output
    captured = capfd.readouterr()
    _assert_no_token(tmp_path / "hub.duckdb", result.output, _error_text(result.exception), _log_text(logs),
                     captured.out, captured.err)


def test_a_source_that_crashes_leaves_the_others_to_sync(tmp_path: Path, monkeypatch, logs, capfd) -> None:
    """A Telegram bot whose sync fails unexpectedly (the token in the error's text): it is said, without
    the token, and the Slack workspace of another community syncs all the same."""
    def broken(*args, **kwargs):
        raise RuntimeError(f"an answer no one foresaw from https://api.telegram.org/bot{TELEGRAM_TOKEN}/getUpdates")

    monkeypatch.setattr(hub.sync, "sync_telegram", broken)
    monkeypatch.setenv(ENV["telegram"], TELEGRAM_TOKEN)
    monkeypatch.setenv(ENV["slack"], SLACK_TOKEN)
    with serve_slack(sample_workspace(), token=SLACK_TOKEN) as fake:
        config = tmp_path / "hub.yaml"
        config.write_text(f"communities:\n  - slug: alpha\n    sources:\n      - platform: telegram\n"
                          f"        token_env: {ENV['telegram']}\n        base_url: http://127.0.0.1:9/bot\n"
                          f"  - slug: beta\n    sources:\n      - platform: slack\n"
                          f"        token_env: {ENV['slack']}\n        base_url: {fake.url}/api/\n")
        result = _hub_sync(tmp_path, config)
    said = " ".join(result.output.split())
    assert result.exit_code == 1 and "alpha: the telegram sync stopped unexpectedly" in said, result.output
    assert "Synced Slack" in said and _messages(tmp_path / "hub.duckdb") > 0
    captured = capfd.readouterr()
    _assert_no_token(tmp_path / "hub.duckdb", result.output, _log_text(logs), captured.out, captured.err)


# -- through Dagster ---------------------------------------------------------------------------------------

def _dagster_instance() -> dg.DagsterInstance:
    """An instance that records the libraries' own log lines in its event log too."""
    return dg.DagsterInstance.ephemeral(settings={"python_logs": {
        "python_log_level": "DEBUG", "managed_python_loggers": ["httpx", "httpcore", "telegram", "slack_sdk"]}})


DAGSTER_DAYS = {"a good sync": True, "a refused token": False}


@pytest.mark.parametrize("day", DAGSTER_DAYS)
@pytest.mark.parametrize("platform", ["slack", "telegram"])
def test_dagster_runs_record_no_token(tmp_path: Path, monkeypatch, logs, platform: str, day: str) -> None:
    succeeds = DAGSTER_DAYS[day]
    token = SLACK_TOKEN if platform == "slack" else TELEGRAM_TOKEN
    expected = token if succeeds else {"slack": "xoxb-the-token-slack-expects",
                                       "telegram": "654321:the-token-telegram-expects"}[platform]
    monkeypatch.setenv(ENV[platform], token)
    db = tmp_path / "hub.duckdb"
    serve = serve_slack(sample_workspace(), token=expected) if platform == "slack" else \
        serve_telegram(sample_updates(), token=expected)
    with serve as fake:
        settings = HubSettings(config_path=str(_config(tmp_path, platform, fake.url)), inbox=str(tmp_path / "inbox"),
                               raw_store=str(tmp_path / "raw"))
        asset = build_definitions(str(db), settings).resolve_assets_def(
            "slack_workspace" if platform == "slack" else "telegram_bot")
        instance = _dagster_instance()
        result = dg.materialize([asset], partition_key="makers", instance=instance, raise_on_error=False)
    assert result.success is succeeds
    events = [serialize_value(entry) for entry in instance.all_logs(result.run_id)]
    metadata = [str(e.materialization.metadata) for e in result.get_asset_materialization_events()]
    assert len(metadata) == int(succeeds)
    if platform == "telegram":  # the library's log lines reached the event log, masked
        assert any("/bot[token]/" in e for e in events)
    _assert_no_token(db, *events, *metadata, _log_text(logs))
