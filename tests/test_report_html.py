"""The community report: one self-contained HTML page whose every number is the warehouse's,
that a browser opens offline with no request at all, and where a member's name never runs as code.

A simulated community on Slack and Telegram (80 members, 180 days) is ingested and built as a user
would; one Telegram member is renamed, in the export itself, to an HTML injection.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.config import load_config
from hub.html_report import (ReportError, report_data, write_csv_report, write_html_report,
                             write_markdown_report)
from hub.ingest import ingest_file
from hub.simulate.community import community, write_exports
from hub.stages import promoters
from warehouse.db import connect

XSS = "<img src=x onerror=alert(1)>"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("report")
    cp = community(members=80, days=180, seed=3)
    config = tmp / "hub.yaml"
    config.write_text(f'communities:\n  - slug: makers\n    promoters: ["{cp.sim.promoter.name}"]\n')
    cfg = load_config(config)
    written = Counter(m.author for m in cp.sim.messages if m.kind == "message")
    renamed = next(name for name, _ in written.most_common() if cp.presence[name] == ("telegram",))
    db = tmp / "hub.duckdb"
    with connect(db) as con:
        for path in write_exports(cp, tmp / "exports"):
            if path.suffix == ".json":  # the Telegram export: the member is called XSS there
                path.write_text(path.read_text(encoding="utf-8").replace(renamed, XSS), encoding="utf-8")
            report = ingest_file(con, path, config=cfg, community="makers")
            assert report.error is None, report.error
    result = CliRunner().invoke(app, ["build", "--db", str(db), "--config", str(config)])
    assert result.exit_code == 0, result.output
    with connect(db, read_only=True) as con:
        ids = promoters(con, cfg, "makers")
        weights = cfg.rules("makers").scoring.weights
        page = write_html_report(con, "makers", tmp / "out" / "report.html", weights=weights, promoters=ids)
        data = report_data(con, "makers", weights=weights, promoters=ids)
    return {"db": db, "tmp": tmp, "page": page, "data": data, "promoters": ids, "weights": weights, "config": config}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.blob = ""
        self._in_blob = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        self._in_blob = tag == "script" and attrs.get("id") == "report-data"

    def handle_endtag(self, tag):
        self._in_blob = False

    def handle_data(self, data):
        if self._in_blob:
            self.blob += data


def _parse(page: Path) -> _Tags:
    parser = _Tags()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_the_page_is_self_contained(warehouse) -> None:
    parsed = _parse(warehouse["page"])
    for tag, attrs in parsed.tags:
        for key in ("src", "href", "srcset", "action", "poster", "data", "formaction"):
            value = (attrs.get(key) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "file:")), (tag, attrs)
        assert tag != "link" or attrs.get("rel") not in ("stylesheet", "preload", "modulepreload", "import"), attrs
        assert tag not in ("iframe", "object", "embed", "img"), (tag, attrs)
    scripts = [attrs for tag, attrs in parsed.tags if tag == "script"]
    assert len(scripts) == 3 and not any("src" in s for s in scripts)  # the data, ECharts, the page's own
    text = warehouse["page"].read_text(encoding="utf-8")
    assert "@import" not in text and "url(http" not in text
    assert "echarts" in text and 'content="default-src \'none\'' in text  # bundled, and nothing may load
    assert warehouse["page"].stat().st_size < 5_000_000


def test_the_numbers_are_the_warehouse(warehouse) -> None:
    data = json.loads(_parse(warehouse["page"]).blob)
    assert data == warehouse["data"]
    with connect(warehouse["db"], read_only=True) as con:
        messages = dict(con.execute(
            """SELECT coalesce(m.platform, 'all'), count(*) FROM messages m
               JOIN person_accounts pa ON pa.account_id = m.author_id
               WHERE m.community = 'makers' AND m.kind = 'message' GROUP BY ROLLUP (m.platform)""").fetchall())
        stage = con.execute("""SELECT week, stage, reason FROM community_stages
                               WHERE community = 'makers' AND platform IS NULL ORDER BY week DESC LIMIT 1""").fetchone()
        week = con.execute("SELECT max(week) FROM member_scores WHERE community = 'makers'").fetchone()[0]
        best = con.execute("SELECT max(reputation) FROM member_scores WHERE community = 'makers' AND week = ?",
                           [week]).fetchone()[0]
        ambassadors = sorted(name for (name,) in con.execute(
            """SELECT p.display_name FROM member_flags f JOIN persons p USING (person_id)
               WHERE f.community = 'makers' AND f.flag = 'ambassador' AND f.week = ?""", [week]).fetchall())
        new = con.execute("""SELECT sum(new_members), sum(new_members_active_30d) FROM community_health
                             WHERE community = 'makers' AND platform IS NULL""").fetchone()
    headline = {h["platform"] or "all": h for h in data["headline"]}
    assert set(headline) == set(messages) == {"all", "slack", "telegram"}
    for platform, count in messages.items():
        assert headline[platform]["messages"]["current"] == count
        assert headline[platform]["messages"]["previous"] == 0  # nothing before the data
    assert (data["latest_stage"]["week"], data["latest_stage"]["stage"], data["latest_stage"]["reason"]) == \
        (stage[0].isoformat(), stage[1], stage[2])
    assert data["period"]["as_of_week"] == week.isoformat()
    top = data["top_members"][0]
    assert top["reputation"] == best
    assert math.isclose(sum(p["points"] for p in top["parts"].values()), best, rel_tol=1e-9)
    assert sorted(m["name"] for m in data["flags"]["ambassador"]) == ambassadors and ambassadors
    assert (data["newcomers"]["new_members"], data["newcomers"]["active_30d"]) == tuple(new)
    promoted = [n for n in data["network"]["nodes"] if n["promoter"]]
    assert {n["person_id"] for n in promoted} == set(warehouse["promoters"]) and promoted
    text = warehouse["page"].read_text(encoding="utf-8")  # the table cells carry the same numbers
    assert f'data-metric="messages" data-value="{messages["all"]}"' in text
    assert f'data-stage="{stage[1]}" data-week="{stage[0].isoformat()}"' in text


def test_a_period_is_compared_with_the_weeks_before(warehouse) -> None:
    with connect(warehouse["db"], read_only=True) as con:
        data = report_data(con, "makers", start=dt.date(2024, 4, 3), end=dt.date(2024, 6, 30))
        weekly = dict(con.execute(
            """SELECT coalesce(m.platform, 'all'), count(*) FROM messages m
               JOIN person_accounts pa ON pa.account_id = m.author_id
               WHERE m.community = 'makers' AND m.kind = 'message'
                 AND date_trunc('week', timezone('UTC', m.sent_at))::DATE BETWEEN ? AND ?
               GROUP BY ROLLUP (m.platform)""", [dt.date(2024, 1, 1), dt.date(2024, 3, 25)]).fetchall())
        with pytest.raises(ReportError, match="no community"):
            report_data(con, "nobody")
    period = data["period"]
    assert (period["first_week"], period["last_week"], period["weeks"]) == ("2024-04-01", "2024-06-24", 13)
    assert (period["previous_first_week"], period["previous_last_week"]) == ("2024-01-01", "2024-03-25")
    for h in data["headline"]:
        figure = h["messages"]
        assert figure["previous"] == weekly[h["platform"] or "all"]
        assert figure["change"] == figure["current"] - figure["previous"]
    assert all("2024-04-01" <= w["week"] <= "2024-06-24" for w in data["weekly"] + data["stages"])


def test_member_names_are_escaped(warehouse) -> None:
    text = warehouse["page"].read_text(encoding="utf-8")
    assert XSS not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text  # shown, as text, in the member tables
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in text  # and in the JSON, where it cannot close the script
    assert any(m["name"] == XSS for m in warehouse["data"]["top_members"])
    assert not [attrs for tag, attrs in _parse(warehouse["page"]).tags if "onerror" in attrs or tag == "img"]


def test_markdown_and_csv(warehouse) -> None:
    tmp = warehouse["tmp"]
    with connect(warehouse["db"], read_only=True) as con:
        md = write_markdown_report(con, "makers", tmp / "md" / "report.md", weights=warehouse["weights"],
                                   promoters=warehouse["promoters"])
        folder = write_csv_report(con, "makers", tmp / "csv", weights=warehouse["weights"],
                                  promoters=warehouse["promoters"])
    text = md.read_text(encoding="utf-8")
    assert XSS not in text and "\\<img src=x onerror=alert\\(1\\)\\>" in text
    for chart in ("activity", "newcomers", "stages", "network"):
        assert f"](report-{chart}.svg)" in text and (md.parent / f"report-{chart}.svg").stat().st_size > 1000
    with (folder / "headline.csv").open(encoding="utf-8") as fh:
        rows = {(r["platform"], r["figure"]): int(r["current"]) for r in csv.DictReader(fh)}
    for h in warehouse["data"]["headline"]:
        assert rows[(h["platform"] or "all platforms", "messages")] == h["messages"]["current"]
    with (folder / "top_members.csv").open(encoding="utf-8") as fh:
        assert float(next(csv.DictReader(fh))["reputation"]) == warehouse["data"]["top_members"][0]["reputation"]


def test_chromium_draws_the_page_offline(warehouse) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium "
                    "(CI installs it in .ci/run); this test drives it headless to check the report")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install -e '.[dev]' (the browser is Debian's chromium; "
                    "do not run `playwright install`)")
    page_file = warehouse["page"]
    url = page_file.resolve().as_uri()
    requests, problems, dialogs = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(url)
            page.wait_for_selector('body[data-rendered="true"]', timeout=30_000)
            # every chart drew on its canvas
            canvases = page.eval_on_selector_all(".chart", "els => els.map(e => e.querySelectorAll('canvas').length)")
            assert len(canvases) == 8 and all(canvases), canvases
            # the XSS member is shown as text, and no element came from the name
            assert page.locator("td.name", has_text=XSS).count() >= 1
            assert page.locator("img").count() == 0
            # the tooltips (HTML) of the charts that name members show the name escaped
            data = warehouse["data"]
            shown = data["top_members"][:15]
            bar = len(shown) - 1 - next(i for i, m in enumerate(shown) if m["name"] == XSS)
            node = next(i for i, n in enumerate(data["network"]["nodes"]) if n["name"] == XSS)
            for chart, index in (("chart-reputation", bar), ("chart-network", node)):
                tip = page.evaluate("""([id, index]) => {
                    const el = document.getElementById(id);
                    echarts.getInstanceByDom(el).dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: index});
                    return el.innerHTML; }""", [chart, index])
                assert "&lt;img src=x onerror=alert(1)&gt;" in tip, chart
            assert page.locator("img").count() == 0
            page.screenshot(path=str(warehouse["tmp"] / "report.png"), full_page=True)
        finally:
            browser.close()
    assert requests == [url], requests
    assert not problems, problems
    assert not dialogs, dialogs
    shutil.copy(warehouse["tmp"] / "report.png", page_file.with_suffix(".png"))


def test_hub_report_writes_each_format_from_the_command_line(warehouse) -> None:
    db, config, tmp = str(warehouse["db"]), str(warehouse["config"]), warehouse["tmp"]
    runner = CliRunner()
    page = tmp / "cli" / "makers.html"
    result = runner.invoke(app, ["report", "--db", db, "--config", config, "--community", "mak", "--out", str(page),
                                 "--from", "2024-03-04", "--to", "2024-04-28"])
    assert result.exit_code == 0, result.output
    assert "report written to" in result.output and page.stat().st_size > 100_000
    data = json.loads(re.search(r'<script id="report-data" type="application/json">(.*?)</script>',
                                page.read_text(encoding="utf-8"), re.S).group(1))
    assert json.dumps(data).count("2024-03-04") and "2024-05-06" not in json.dumps(data["weekly"])
    assert runner.invoke(app, ["report", "--db", db, "--config", config, "--out", str(tmp / "cli" / "r.md")]).exit_code == 0
    assert (tmp / "cli" / "r-activity.svg").exists()
    assert runner.invoke(app, ["report", "--db", db, "--config", config, "--format", "csv",
                               "--out", str(tmp / "cli" / "tables")]).exit_code == 0
    assert (tmp / "cli" / "tables" / "headline.csv").exists()
    bad = runner.invoke(app, ["report", "--db", db, "--out", str(page), "--from", "March"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    assert runner.invoke(app, ["report", "--db", db, "--from", "2024-03-04"]).exit_code == 2  # --from needs --out
    # A CSV folder where a file is, a page under a file: one line, not a traceback.
    for out, kind in ((page, "csv"), (page / "r.html", "html")):
        unwritable = runner.invoke(app, ["report", "--db", db, "--config", config, "--format", kind, "--out", str(out)])
        assert unwritable.exit_code == 2 and f"cannot write the report to {out}" in " ".join(unwritable.output.split())


def test_the_terminal_report_tells_the_stage_the_people_and_their_reputation(warehouse: dict, tmp_path: Path) -> None:
    # `hub report` (and the end of `make demo`) is what a promoter reads first: once built, it says
    # where the community stands, how many people its accounts are, and who counts, person by person.
    from hub.rules import STAGES
    from warehouse import reports

    db, config = tmp_path / "hub.duckdb", tmp_path / "hub.yaml"
    shutil.copy(warehouse["db"], db)
    shutil.copy(warehouse["config"], config)
    with connect(db, read_only=True) as con:
        (slack, slack_messages), (telegram, telegram_messages) = [con.execute(
            """SELECT account_id, sum(messages)::BIGINT FROM member_weekly_activity WHERE platform = ?
               GROUP BY ALL ORDER BY 2 DESC, 1 LIMIT 1""", [platform]).fetchone() for platform in ("slack", "telegram")]
    runner = CliRunner()
    merged = runner.invoke(app, ["persons", "merge", slack, telegram, "--db", str(db), "--config", str(config)])
    assert merged.exit_code == 0, merged.output

    result = runner.invoke(app, ["report", "--db", str(db), "--config", str(config)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    with connect(db, read_only=True) as con:
        week, stage = con.execute("SELECT week, stage FROM community_stages WHERE community = 'makers' "
                                  "AND platform IS NULL ORDER BY week DESC LIMIT 1").fetchone()
        accounts, persons, across, proposed = reports.people(con, "makers")
        assert (accounts, persons) == con.execute(
            "SELECT (SELECT count(*) FROM accounts WHERE NOT is_bot), (SELECT count(*) FROM persons)").fetchone()
        top = reports.top_members(con, "makers", 1000)
        (name,) = con.execute("SELECT p.display_name FROM persons p JOIN person_accounts pa USING (person_id) "
                              "WHERE pa.account_id = ?", [slack]).fetchone()
    assert f"Stage {stage}, {STAGES[stage]} across platforms, week of {week:%Y-%m-%d}" in text
    assert across >= 1 and f"People: {persons:,} persons from {accounts:,} accounts, {across:,} of them" in text
    assert "Members by reputation" in text and "Most active members" not in text
    # The merged person is one row of the most active, their two accounts' messages added up.
    assert (name, "slack, telegram", slack_messages + telegram_messages) in [row[:3] for row in top]
    assert not [row for row in top if row[0] == name and row[1] != "slack, telegram"]
