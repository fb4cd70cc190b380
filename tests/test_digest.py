"""The weekly digest thanks the members others valued, greets the welcomed newcomers, names a
member of the month, and is posted to Slack or Telegram only when asked, through the real SDK
clients against the local fake servers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fakes import slack_api, telegram_api
from typer.testing import CliRunner

from hub.cli import app
from hub.simulate.community import community, write_exports

runner = CliRunner()
CHANNEL = "C0DIGEST"
CHAT = {"id": -1001234567890, "type": "supergroup", "title": "Makers"}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, str]:
    folder = tmp_path_factory.mktemp("digest")
    cp = community(members=60, days=150, seed=2, trajectory="growing")
    config = folder / "hub.yaml"
    config.write_text(f'communities:\n  - slug: makers\n    promoters: ["{cp.sim.promoter.name}"]\n')
    db = folder / "hub.duckdb"
    for path in write_exports(cp, folder / "exports"):
        assert runner.invoke(app, ["ingest", str(path), "--db", str(db), "--config", str(config)]).exit_code == 0
    assert runner.invoke(app, ["build", "--db", str(db), "--config", str(config)]).exit_code == 0
    return db, config, cp.sim.promoter.name


def _with_digest(config: Path, digest: str) -> Path:
    text = config.read_text() + f"    digest: {digest}\n"
    path = config.with_name(f"hub-{abs(hash(digest))}.yaml")
    path.write_text(text)
    return path


def _expected_valued(db: Path, promoter: str) -> tuple[dt.date, list[tuple[str, int]]]:
    from warehouse.db import connect

    with connect(db, read_only=True) as con:
        (week,) = con.execute("SELECT max(week) FROM member_scores").fetchone()
        rows = con.execute(
            """SELECT p.display_name, count(DISTINCT i.from_person) FROM interactions i
               JOIN persons p ON p.person_id = i.to_person
               WHERE i."at" >= ?::TIMESTAMP AT TIME ZONE 'UTC' AND i."at" < ?::TIMESTAMP AT TIME ZONE 'UTC'
                 AND p.display_name <> ?
               GROUP BY p.person_id, p.display_name ORDER BY 2 DESC, count(*) DESC, 1 LIMIT 3""",
            [week, week + dt.timedelta(days=7), promoter]).fetchall()
    return week, rows


def test_the_digest_thanks_whom_others_valued_and_is_a_dry_run_by_default(built) -> None:
    db, config, promoter = built
    week, valued = _expected_valued(db, promoter)
    result = runner.invoke(app, ["digest", "--db", str(db), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert f"the week of {week:%-d %B %Y}" in result.output
    assert valued and "Thank you!" in result.output
    for name, people in valued:
        assert f"• {name}: {people} member{'s' if people != 1 else ''} replied to" in result.output
    assert "Member of the month: " in result.output and promoter not in result.output
    assert "dry run: nothing sent" in result.output


def test_a_week_after_the_scored_ones_has_no_digest(built) -> None:
    # Posted, "a quiet week" for a week with no data would thank nobody for a week nobody saw.
    db, config, _ = built
    week, _ = _expected_valued(db, "")
    later = week + dt.timedelta(weeks=1)
    result = runner.invoke(app, ["digest", "--db", str(db), "--config", str(config), "--week", f"{later:%Y-%m-%d}"])
    assert result.exit_code == 2
    assert f"no scores for the week of {later:%Y-%m-%d}: its latest scored week is {week:%Y-%m-%d}" \
        in " ".join(result.output.split())


def test_newcomers_welcomed_in_their_first_week_are_greeted_by_name(built) -> None:
    db, config, _ = built
    from warehouse.db import connect

    with connect(db, read_only=True) as con:
        weeks = [w for (w,) in con.execute("SELECT DISTINCT week FROM member_scores ORDER BY 1").fetchall()]
    greeted = [runner.invoke(app, ["digest", "--db", str(db), "--config", str(config), "--week", str(w)]).output
               for w in weeks[4:12]]
    assert any("Welcome! New this week and already greeted:\n• " in text and ", welcomed by " in text
               for text in greeted)


def test_post_to_slack_through_the_web_api(built, monkeypatch) -> None:
    db, config, _ = built
    workspace = {"channels": [{"id": CHANNEL, "name": "general", "is_member": True}], "users": []}
    with slack_api.serve(workspace) as fake:
        cfg = _with_digest(config, f"{{platform: slack, channel: {CHANNEL}, token_env: HUB_DIGEST_SLACK, "
                                   f"base_url: '{fake.url}/api/'}}")
        monkeypatch.setenv("HUB_DIGEST_SLACK", slack_api.DEFAULT_TOKEN)
        result = runner.invoke(app, ["digest", "--post", "--db", str(db), "--config", str(cfg)])
        assert result.exit_code == 0, result.output
        (posted,) = [p for m, p in fake.calls if m == "chat.postMessage"]
        assert posted["channel"] == CHANNEL and posted["text"].startswith("makers: the week of")
        assert posted["text"].strip() in result.output.replace("\r", "") and f"posted to slack channel {CHANNEL}" in result.output
        assert fake.workspace["messages"][CHANNEL][-1]["text"] == posted["text"]
        workspace["channels"][0]["is_member"] = False
        refused = runner.invoke(app, ["digest", "--post", "--db", str(db), "--config", str(cfg)])
        assert refused.exit_code == 2 and f"Slack refused the digest for channel {CHANNEL}: not_in_channel" in refused.output


def test_names_posted_to_slack_are_text_not_slack_markup() -> None:
    """A member named `<!channel>` must not notify the whole channel when the digest thanks them."""
    from hub.digest import _post_slack

    workspace = {"channels": [{"id": CHANNEL, "name": "general", "is_member": True}], "users": []}
    with slack_api.serve(workspace) as fake:
        _post_slack(slack_api.DEFAULT_TOKEN, f"{fake.url}/api/", CHANNEL, "thanks <!channel> <@U0P> & *Tom*\n")
        (posted,) = [p for m, p in fake.calls if m == "chat.postMessage"]
    assert posted["text"] == "thanks &lt;!channel&gt; &lt;@U0P&gt; &amp; *Tom*\n"
    assert posted["mrkdwn"] in (False, "false", "0")


def test_post_to_telegram_through_the_bot_api(built, monkeypatch) -> None:
    db, config, _ = built
    with telegram_api.serve(chats=[CHAT]) as fake:
        cfg = _with_digest(config, f"{{platform: telegram, channel: '{CHAT['id']}', token_env: HUB_DIGEST_BOT, "
                                   f"base_url: '{fake.url}/bot'}}")
        missing = runner.invoke(app, ["digest", "--post", "--db", str(db), "--config", str(cfg)])
        assert missing.exit_code == 2 and "set the environment variable HUB_DIGEST_BOT" in missing.output
        assert not fake.sent
        monkeypatch.setenv("HUB_DIGEST_BOT", telegram_api.DEFAULT_TOKEN)
        result = runner.invoke(app, ["digest", "--post", "--db", str(db), "--config", str(cfg)])
        assert result.exit_code == 0, result.output
        (sent,) = fake.sent
        assert sent["chat"]["id"] == CHAT["id"] and sent["text"].startswith("makers: the week of")
        assert f"posted to telegram chat {CHAT['id']}, message 1" in result.output
        assert telegram_api.DEFAULT_TOKEN not in result.output


def test_a_dagster_schedule_posts_the_digest_once_switched_on(built, monkeypatch, tmp_path) -> None:
    import dagster as dg

    from pipelines.definitions import build_definitions
    from pipelines.resources import HubSettings

    db, config, _ = built
    with telegram_api.serve(chats=[CHAT]) as fake:
        cfg = _with_digest(config, f"{{platform: telegram, channel: '{CHAT['id']}', token_env: HUB_DIGEST_BOT, "
                                   f"base_url: '{fake.url}/bot'}}")
        monkeypatch.setenv("HUB_DIGEST_BOT", telegram_api.DEFAULT_TOKEN)
        settings = HubSettings(config_path=str(cfg), inbox=str(tmp_path / "inbox"), raw_store=str(tmp_path / "raw"))
        defs = build_definitions(str(db), settings)
        dg.Definitions.validate_loadable(defs)
        (schedule,) = [s for s in defs.schedules if s.name.startswith("weekly_digest")]
        assert schedule.name == "weekly_digest_makers" and schedule.cron_schedule == "0 9 * * 1"
        assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED  # posting to members is opted into
        result = dg.materialize([defs.resolve_assets_def("weekly_digest")], partition_key="makers",
                                instance=dg.DagsterInstance.ephemeral())
        assert result.success
        (sent,) = fake.sent
        (event,) = result.get_asset_materialization_events()
        assert event.materialization.metadata["posted to"].value.startswith(f"telegram chat {CHAT['id']}")
        assert sent["text"].splitlines()[0] in event.materialization.metadata["digest"].value
