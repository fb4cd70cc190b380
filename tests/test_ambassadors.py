"""The ambassadors the hub flags are the ones the simulator planted.

A community on Slack and Telegram (120 members, one year) whose ambassadors the simulator plants
as behaviour: what they start draws more replies, and others (newcomers most) answer them more
readily. The hub sees only the two exports. A planted ambassador counts when they were one for at
least 8 weeks inside the data (less gives the flag nothing consistent to see); a flag is right when
the member was an ambassador at some time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from hub.simulate.community import community, write_exports


def _flagged_and_planted(tmp_path: Path, trajectory: str, seed: int) -> tuple[set[str], set[str], set[str]]:
    cp = community(members=120, days=365, seed=seed, trajectory=trajectory)
    config = tmp_path / "hub.yaml"
    config.write_text(f'communities:\n  - slug: makers\n    promoters: ["{cp.sim.promoter.name}"]\n')
    db = tmp_path / "hub.duckdb"
    runner = CliRunner()
    for path in write_exports(cp, tmp_path / "exports"):
        result = runner.invoke(app, ["ingest", str(path), "--db", str(db), "--config", str(config)])
        assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["build", "--db", str(db), "--config", str(config)]).exit_code == 0
    from warehouse.db import connect

    with connect(db, read_only=True) as con:
        # By account: a member shown by a bare first name on one platform is found by where that is.
        owners = cp.owners()
        flagged = {owners.get(key, key[1]) for key in con.execute(
            """SELECT DISTINCT a.platform, a.display_name FROM member_flags f
               JOIN person_accounts pa USING (person_id) JOIN accounts a USING (account_id)
               WHERE f.flag = 'ambassador'""").fetchall()}
        evidence = con.execute("SELECT evidence FROM member_flags WHERE flag = 'ambassador' LIMIT 1").fetchone()
    assert evidence is None or "others replied to" in evidence[0]
    joined = {m.name: m.joined for m in cp.sim.members}
    spans = [(a["name"], dt.date.fromisoformat(a["since"]) if a["since"] else joined[a["name"]],
              dt.date.fromisoformat(a["until"]) if a["until"] else cp.sim.end) for a in cp.sim.ambassadors()]
    planted = {name for name, since, until in spans if (until - since).days >= 8 * 7}
    ever = {name for name, _, _ in spans}
    assert cp.sim.promoter.name not in flagged  # the promoter animates by design: never flagged
    return flagged, planted, ever


def test_planted_ambassadors_are_found(tmp_path: Path) -> None:
    flagged, planted, ever = _flagged_and_planted(tmp_path, "growing", seed=8)
    assert planted
    recall = len(flagged & planted) / len(planted)
    precision = len(flagged & ever) / len(flagged)
    assert recall >= 0.9 and precision >= 0.8, (sorted(planted - flagged), sorted(flagged - ever))


def test_a_community_stuck_at_stage_one_has_no_ambassadors(tmp_path: Path) -> None:
    flagged, planted, _ = _flagged_and_planted(tmp_path, "stalled", seed=8)
    assert not planted and not flagged
