"""The simulator plants behaviour (stage trajectories, roles, propensities, identities across
platforms); what the hub will measure must follow from it. Everything measured here is computed in
the test from the simulated messages, never taken from the simulator."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict

import pytest

from hub.config import HubConfig
from hub.ingest import ingest_file
from hub.simulate import monday_of, simulate
from hub.simulate.community import community, write_exports


def _messages(sim):
    return [m for m in sim.messages if m.kind == "message"]


def _by_stage(sim) -> dict[int, Counter]:
    """Per planted stage: messages, the promoter's, conversation starts, the promoter's, replies,
    and replies between two members (the promoter on neither side)."""
    promoter = sim.promoter.name
    out: dict[int, Counter] = defaultdict(Counter)
    for m in _messages(sim):
        c = out[sim.stage_on(m.at.date())]
        c["messages"] += 1
        c["promoter"] += m.author == promoter
        if m.reply_to is None:
            c["starts"] += 1
            c["promoter_starts"] += m.author == promoter
        else:
            c["replies"] += 1
            c["between_members"] += promoter not in (m.author, sim.messages[m.reply_to].author)
    return out


def test_same_seed_same_community() -> None:
    def fingerprint(cp):
        return [(m.at, m.author, m.text, m.platform, m.reply_to, tuple(m.reactions)) for m in cp.sim.messages]

    a, b = (community(members=40, days=90, seed=5, trajectory="mature", platforms=("slack", "discord")) for _ in "ab")
    assert fingerprint(a) == fingerprint(b) and a.truth() == b.truth()
    assert fingerprint(a) != fingerprint(community(members=40, days=90, seed=6, trajectory="mature",
                                                   platforms=("slack", "discord")))
    assert simulate(members=30, days=60, seed=2, trajectory="declining").truth() == \
        simulate(members=30, days=60, seed=2, trajectory="declining").truth()


@pytest.mark.parametrize("shape, expected", [
    ("stalled", [1]), ("mature", [4]), ("growing", [1, 2, 3, 4]), ("declining", [4, 3, 2, 1]),
    ([(0.0, 2), (0.5, 3)], [2, 3]),
])
def test_each_shape_plants_its_stages_week_by_week(shape, expected) -> None:
    sim = simulate(members=40, days=364, seed=3, trajectory=shape)
    truth = sim.truth()
    weeks = [(dt.date.fromisoformat(w["week"]), w["stage"]) for w in truth["weeks"]]
    assert all(w.weekday() == 0 for w, _ in weeks)  # weeks start on Monday
    assert weeks[0][0] == monday_of(sim.start) and len(weeks) == 52
    runs = [s for i, (_, s) in enumerate(weeks) if i == 0 or weeks[i - 1][1] != s]
    assert runs == expected == [s["stage"] for s in truth["stages"]]
    stage_of_week = dict(weeks)
    for d in range(sim.days):  # changes fall on Mondays: every day has its week's stage
        day = sim.start + dt.timedelta(days=d)
        assert sim.stage_on(day) == stage_of_week[monday_of(day)]


def test_short_periods_keep_every_stage_and_bad_trajectories_are_refused() -> None:
    assert [s["stage"] for s in simulate(members=10, days=10, seed=1).stages()] == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="unknown trajectory"):
        simulate(members=10, days=10, trajectory="booming")
    with pytest.raises(ValueError, match="stage 1 to 4"):
        simulate(members=10, days=10, trajectory=[(0.0, 5)])


def test_stalled_the_promoter_does_the_talking() -> None:
    sim = simulate(members=120, days=365, seed=7, trajectory="stalled")
    (c,) = _by_stage(sim).values()
    assert c["promoter"] > c["messages"] / 2  # the promoter wrote most messages
    assert c["promoter_starts"] > 0.85 * c["starts"]
    assert c["between_members"] < 0.15 * c["replies"]  # members hardly answer each other
    assert not sim.away


def test_mature_members_carry_the_community() -> None:
    sim = simulate(members=120, days=365, seed=7, trajectory="mature")
    (c,) = _by_stage(sim).values()
    assert c["promoter_starts"] < 0.2 * c["starts"]  # members started most conversations
    assert c["between_members"] > 0.8 * c["replies"]
    # Whole weeks without a word from the promoter, and the others go on.
    promoter = sim.promoter.name
    weekly: dict[dt.date, Counter] = defaultdict(Counter)
    for m in _messages(sim):
        weekly[monday_of(m.at.date())][m.author == promoter] += 1
    silent = [w for w, c in weekly.items() if not c[True]]
    assert len(silent) >= 10 and all(weekly[w][False] > 20 for w in silent)
    # Reactions: never one's own message; ambassadors react far more than lurkers.
    role_of = {m.name: m.role for m in sim.members}
    assert all(who != m.author for m in _messages(sim) for who, _ in m.reactions)
    given = Counter(role_of[who] for m in _messages(sim) for who, _ in m.reactions)
    members = Counter(role_of.values())
    assert given["ambassador"] / members["ambassador"] > 5 * given["lurker"] / members["lurker"]


def test_ambassadors_renew_and_new_ones_step_up() -> None:
    sim = simulate(members=120, days=365, seed=7, trajectory="mature")
    promoted = [a for a in sim.truth()["ambassadors"] if a["since"]]
    assert len(promoted) >= 3 and all(dt.date.fromisoformat(a["week"]).weekday() == 0 for a in promoted)
    member = {m.name: m for m in sim.members}
    day_before = [dt.date.fromisoformat(a["since"]) - dt.timedelta(days=1) for a in promoted]
    assert all(member[a["name"]].role_on(d) == "contributor" for a, d in zip(promoted, day_before))
    # Measured here: contributors write more per week once they are ambassadors.
    before = after = weeks_before = weeks_after = 0.0
    first = {}
    for a in sorted(promoted, key=lambda a: a["since"]):
        first.setdefault(a["name"], a)
    for a in first.values():
        if member[a["name"]].role != "contributor":
            continue  # an ambassador who stepped back, then up again
        m, since = member[a["name"]], dt.date.fromisoformat(a["since"])
        until = min(d for d in (dt.date.fromisoformat(a["until"]) if a["until"] else None, m.left, sim.end) if d)
        wrote = [x.at.date() for x in _messages(sim) if x.author == m.name]
        before += sum(d < since for d in wrote)
        after += sum(since <= d < until for d in wrote)
        weeks_before += (since - m.joined).days / 7
        weeks_after += (until - since).days / 7
    assert after / weeks_after > 1.5 * before / weeks_before


def test_growing_and_declining_move_the_promoter_in_opposite_directions() -> None:
    def share(sim):
        stages = _by_stage(sim)
        return [stages[n]["promoter_starts"] / stages[n]["starts"] for n in (1, 2, 3, 4)]

    growing = share(simulate(members=120, days=365, seed=8, trajectory="growing"))
    declining = share(simulate(members=120, days=365, seed=8, trajectory="declining"))
    assert growing == sorted(growing, reverse=True) and growing[0] > 0.85 > 0.2 > growing[3]
    assert declining == sorted(declining, reverse=True) and declining[0] > 0.85


@pytest.fixture(scope="module")
def slack_and_telegram(tmp_path_factory):
    cp = community(members=120, days=365, seed=11, trajectory="growing")
    folder = tmp_path_factory.mktemp("community")
    return cp, write_exports(cp, folder), folder


def test_a_community_on_two_platforms(slack_and_telegram) -> None:
    cp, _, _ = slack_and_telegram
    truth = cp.truth()
    assert truth["platforms"] == ["slack", "telegram"] and truth["promoters"] == [cp.sim.promoter.name]
    on_two = [m for m in truth["members"] if len(m["platforms"]) == 2 and m["role"] != "promoter"]
    assert len(on_two) == round(0.4 * 119)
    assert {s["member"] for s in truth["shared"]} == {m["name"] for m in on_two} | {cp.sim.promoter.name}
    assert {s["evidence"] for s in truth["shared"]} == {"email", "phone", "name_only"}
    assert all(len(set(m["names"].values())) == 1 for m in on_two)  # one name everywhere
    # Each conversation stays on one platform its starter is on; who answers and reacts is there too.
    where = {m["name"]: set(m["platforms"]) for m in truth["members"]}
    for m in _messages(cp.sim):
        assert m.platform in where[m.author] and all(m.platform in where[w] for w, _ in m.reactions)
        if m.reply_to is not None:
            assert cp.sim.messages[m.reply_to].platform == m.platform
    (pair,) = truth["first_name_only"]
    a, b = pair["accounts"]
    assert a["platform"] != b["platform"] and a["member"] != b["member"]
    assert a["member"].split()[0] == b["member"].split()[0] == pair["name"]


def test_the_exports_ingest_as_planted(slack_and_telegram, con) -> None:
    cp, paths, _ = slack_and_telegram
    truth = cp.truth()
    for path in paths:
        report = ingest_file(con, path, config=HubConfig())
        assert report.error is None and report.result.quarantined == 0, path
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    counts = dict(con.execute("SELECT platform, count(*) FROM messages WHERE kind = 'message' GROUP BY 1").fetchall())
    assert counts == truth["messages"]
    reactions = dict(con.execute("SELECT platform, sum(count) FROM reactions GROUP BY 1").fetchall())
    assert reactions == truth["reactions"]
    accounts = con.execute("SELECT platform, display_name, email, phone FROM accounts").fetchall()
    emails = {(p, n): e for p, n, e, _ in accounts if e}
    phones = {(p, n): ph for p, n, _, ph in accounts if ph}
    planted = [s for s in truth["shared"] if s["evidence"] in ("email", "phone")]
    assert planted
    for s in planted:
        for platform in s["carried_by"]:
            key = (platform, s["names"][platform])
            if s["evidence"] == "email":
                assert emails[key] == s["email"]
            else:
                assert phones[key] == "+" + re.sub(r"\D", "", s["phone"])


def test_identities_across_four_platforms(con, tmp_path) -> None:
    from hub.persons import refresh_persons

    cp = community(members=80, days=180, seed=4, platforms=("slack", "whatsapp", "discord", "telegram"), shared=0.5)
    truth = cp.truth()
    for path in write_exports(cp, tmp_path):
        report = ingest_file(con, path, config=HubConfig())
        assert report.error is None and report.result.quarantined == 0, path
    humans = dict(con.execute("""SELECT m.platform, count(*) FROM messages m
                                 JOIN accounts a ON a.account_id = m.author_id
                                 WHERE m.kind = 'message' AND NOT a.is_bot GROUP BY 1""").fetchall())
    assert humans == truth["messages"]
    refresh_persons(con, HubConfig(path=tmp_path / "hub.yaml"))
    person = {(p, n): pid for p, n, pid in con.execute(
        """SELECT a.platform, a.display_name, pa.person_id FROM accounts a
           JOIN person_accounts pa USING (account_id)""").fetchall()}
    suggested = {frozenset((x, y)) for x, y in con.execute(
        """SELECT a.person_id, b.person_id FROM identity_suggestions s
           JOIN person_accounts a ON a.account_id = s.account_id
           JOIN person_accounts b ON b.account_id = s.other_account_id WHERE s.confidence > 0""").fetchall()}

    def persons(s):
        return [person[(p, s["names"][p])] for p in s["platforms"]]

    phones = [s for s in truth["shared"] if s["evidence"] == "phone" and len(s["carried_by"]) == 2]
    assert phones and all(len(set(persons(s))) == 1 for s in phones)  # the same number: one person
    names = [s for s in truth["shared"] if s["evidence"] == "name_only"]
    assert names
    for s in names:  # only the name: proposed, never merged
        a, b = persons(s)
        assert a != b and frozenset((a, b)) in suggested
    for pair in truth["first_name_only"]:
        a, b = (person[(x["platform"], pair["name"])] for x in pair["accounts"])
        assert a != b


def test_a_simulated_iphone_zip_is_the_same_bytes_each_time(tmp_path) -> None:
    """Files are recorded by their hash: the demo run again must give the same sources, so an
    export written again, at another time, is byte for byte the same."""
    import hashlib
    import time
    import zipfile

    from hub.simulate import simulate
    from hub.simulate.whatsapp import write_export

    def written(folder: str) -> bytes:
        return write_export(simulate(members=8, days=30, seed=8, name="Café"), tmp_path / folder, "ios_en_gb").read_bytes()

    first = written("a")
    time.sleep(2.1)  # a zip's times are to the two seconds
    assert hashlib.sha256(written("b")).digest() == hashlib.sha256(first).digest()
    (path,) = (tmp_path / "a").iterdir()
    assert {i.filename: i.compress_type for i in zipfile.ZipFile(path).infolist()} == {
        "_chat.txt": zipfile.ZIP_DEFLATED, "__MACOSX/._chat.txt": zipfile.ZIP_DEFLATED}
