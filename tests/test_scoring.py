"""Member reputation: decayed parts, a score rebuilt from its stored parts, levels without flicker."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.rules import StageRules
from hub.scoring import PARTS, Scoring, explain, score
from hub.stages import Weeks, follow


def _weeks(n: int) -> list[dt.date]:
    return [dt.date(2024, 1, 1) + dt.timedelta(weeks=i) for i in range(n)]


def _parts(rows: dict[str, list[dict]]) -> pl.DataFrame:
    """person -> weekly parts (missing parts are 0), every week from the first."""
    records = []
    for person, weeks in rows.items():
        for week, values in zip(_weeks(len(weeks)), weeks):
            records.append({"person_id": person, "week": week, **{p: float(values.get(p, 0)) for p in PARTS}})
    return pl.DataFrame(records)


def test_a_contribution_counts_half_after_one_half_life() -> None:
    scoring = Scoring(half_life_weeks=4)
    scored = score(_parts({"ann": [{"answers": 1}] + [{}] * 8}), scoring)
    assert scored["answers"].to_list() == pytest.approx([1, 0.5 ** 0.25, 0.5 ** 0.5, 0.5 ** 0.75, 0.5,
                                                         0.5 ** 1.25, 0.5 ** 1.5, 0.5 ** 1.75, 0.25])
    assert scored["reputation"][4] == pytest.approx(scoring.weights["answers"] * 0.5)


def test_levels_climb_at_a_threshold_and_do_not_flicker() -> None:
    # Ten members; "bo" sits right at the top, then dips just below the ambassador rank for a week.
    quiet = [{"messages": 1}] * 6
    members = {f"m{i}": [{"messages": i}] * 6 for i in range(1, 9)}
    members["bo"] = [{"reach": 30}, {"reach": 30}, {"reach": 0}, {"reach": 30}, {"reach": 30}, {"reach": 30}]
    members["zed"] = [{}] * 6
    members["al"] = quiet
    scored = score(_parts(members), Scoring(half_life_weeks=1))
    bo = scored.filter(pl.col("person_id") == "bo")["level"].to_list()
    assert bo == ["ambassador"] * 6  # the dip stays within the hysteresis
    assert set(scored.filter(pl.col("person_id") == "zed")["level"]) == {"observer"}  # no reputation at all


def test_every_stored_score_is_rebuilt_from_its_parts(tmp_path: Path) -> None:
    from hub.simulate import simulate
    from hub.simulate import telegram as tg

    db = tmp_path / "hub.duckdb"
    chat = tg.chat(simulate(members=30, days=60, seed=4), seed=4)
    export = tg.write_export(chat, tmp_path / "result.json")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(export), "--db", str(db)]).exit_code == 0
    assert runner.invoke(app, ["build", "--db", str(db)]).exit_code == 0
    from warehouse.db import connect

    with connect(db, read_only=True) as con:
        rows = con.execute("SELECT * FROM member_scores").to_arrow_table().to_pylist()
        persons = con.execute("SELECT count(*) FROM persons").fetchone()[0]
    assert rows
    top = max(rows, key=lambda r: r["reputation"])
    assert sum(explain(top).values()) == pytest.approx(top["reputation"])
    assert all(sum(explain(r).values()) == pytest.approx(r["reputation"]) for r in rows)
    latest = max(r["week"] for r in rows)
    levels = [r["level"] for r in rows if r["week"] == latest]
    assert len(levels) <= persons and "ambassador" in levels and "observer" in levels


def test_flags_name_ambassadors_newcomers_and_drifters_with_evidence() -> None:
    from hub.scoring import flags

    busy = {"messages": 5, "replies_received": 3, "reach": 4}
    members = {f"m{i}": [{"messages": 1}] * 10 for i in range(1, 15)}
    members["amb"] = [busy] * 10
    # A little less busy than "amb": tied with them, both would share the top two ranks (ambassador).
    members["gone"] = [busy | {"messages": 4}] * 6 + [{}] * 4
    members["new"] = [{}] * 8 + [busy] * 2  # arrived late: present only from week 9
    parts = _parts(members).filter(~((pl.col("person_id") == "new") & (pl.col("week") < dt.date(2024, 2, 26))))
    scored = score(parts, Scoring(half_life_weeks=2))
    found = flags(parts, scored)
    last = found.filter(pl.col("week") == pl.col("week").max())
    assert set(last.filter(pl.col("flag") == "ambassador")["person_id"]) == {"amb"}
    assert set(last.filter(pl.col("flag") == "drifting")["person_id"]) == {"gone"}
    assert set(found.filter(pl.col("flag") == "new_promising")["person_id"]) == {"new"}
    evidence = last.filter(pl.col("person_id") == "gone")["evidence"][0]
    assert evidence == "no message for 3 weeks, after reaching contributor in the last 12 weeks"


def test_an_ambassador_stands_out_in_the_community_not_only_in_its_top_few_percent() -> None:
    # A large community: 100 members each answered by one other a week, four prolific members
    # answered by three, one member answered by twelve. The prolific four are in the top 8 %, yet
    # their repliers are neither 40 % of the active members nor 4 times what the median
    # contributor draws: they write a lot and are answered in proportion. Only the one is flagged.
    from hub.scoring import Flags, flags

    members = {f"m{i}": [{"messages": 2, "replies_received": 1, "reach": 2}] * 10 for i in range(100)}
    members |= {f"prolific{i}": [{"messages": 8, "replies_received": 3, "reach": 4}] * 10 for i in range(4)}
    members["amb"] = [{"messages": 6, "replies_received": 12, "reach": 12}] * 10
    parts = _parts(members)
    last = lambda found: found.filter((pl.col("week") == pl.col("week").max()) & (pl.col("flag") == "ambassador"))
    found = last(flags(parts, score(parts)))
    assert set(found["person_id"]) == {"amb"}
    assert "96 repliers, counted week by week, of 105 active members" in found["evidence"][0]
    before = Flags(drew_active_share=0, drew_over_median=0)  # the top 8 % alone
    assert set(last(flags(parts, score(parts), before))["person_id"]) == {"amb"} | {f"prolific{i}" for i in range(4)}


def test_stage_rules_read_the_indicators() -> None:
    from hub.stages import stage_of

    columns = ["promoter_message_share", "promoter_start_share", "contributing_share", "reciprocity",
               "promoter_silent_weeks", "promoter_prominence"]
    # (the promoter's share of messages, of conversation starts; members who reply to others; reciprocity;
    # the promoter's silent weeks; how many times an active member's messages the promoter wrote)
    rows = pl.DataFrame([
        (0.9, 0.95, 0.0, None, 0, 90.0),
        (0.45, 0.8, 0.4, 0.1, 0, 30.0),
        (0.15, 0.35, 0.8, 0.2, 0, 12.0),
        (0.05, 0.1, 0.95, 0.4, 2, 4.0),
        # Never silent and 9 % of messages, but among many members: 6 times what one of them writes.
        (0.09, 0.2, 0.9, 0.4, 0, 6.0),
        # The same share among few members: 11 times what one of them writes.
        (0.09, 0.2, 0.9, 0.4, 0, 11.0),
        # A small group: the promoter opens half the conversations, but writes what 6 of its 25
        # active members write (4), or what 9 of them write (3); what 13 write is a promoter still
        # leading (2).
        (0.2, 0.5, 0.9, 0.4, 0, 6.0),
        (0.27, 0.55, 0.9, 0.4, 0, 9.0),
        (0.34, 0.55, 0.9, 0.4, 0, 13.0),
    ], schema=columns, orient="row")
    stage, reason = stage_of()
    out = rows.with_columns(stage=stage, reason=reason)
    assert out["stage"].to_list() == [1, 2, 3, 4, 4, 3, 4, 3, 2]
    assert out["reason"][7] == ("members start 45% of conversations and 90% of active members reply to others; "
                                "the promoter wrote 9.0 times what an active member wrote")
    # The week-by-week following reads the same stages from arrays, with rules of hub.yaml too
    # (stage 4 never without stage 3's conditions, whichever bars a community sets).
    from hub.rules import StageRules
    from hub.stages import readings

    arrays = [rows[c].fill_null(float("nan")).to_numpy() for c in columns if c != "reciprocity"]
    for rules in (StageRules(), StageRules(mobilisation_max_promoter_prominence=5, consolidation_min_contributing=0.7)):
        assert list(readings(*arrays, rules)) == rows.with_columns(stage=stage_of(rules)[0])["stage"].to_list()
    assert out["reason"][0] == "the promoter writes 90% of messages and starts 95% of conversations; 0% of members reply to others"
    assert "silent 2 of 4 weeks" in out["reason"][3]
    assert out["reason"][4].endswith("silent 0 of 4 weeks and wrote 6.0 times what an active member wrote")


def test_the_promoter_is_never_flagged_ambassador() -> None:
    from hub.scoring import flags

    busy = {"messages": 5, "replies_received": 3, "reach": 4}
    members = {f"m{i}": [{"messages": 1}] * 10 for i in range(1, 15)} | {"amb": [busy] * 10, "promoter": [busy] * 10}
    parts = _parts(members)
    found = flags(parts, score(parts), promoters=frozenset({"promoter"}))
    assert set(found.filter(pl.col("flag") == "ambassador")["person_id"]) == {"amb"}


def test_the_promoter_takes_no_place_among_the_members_an_ambassador_is_ranked_with() -> None:
    # A small group: twelve members and the promoter, who is answered most of all. The member
    # answered next is the most answered of the members: the promoter does not push them out of
    # the top 8 % (one place in thirteen).
    from hub.scoring import flags

    members = {f"m{i}": [{"messages": 2, "replies_received": 1, "reach": 2}] * 10 for i in range(11)}
    members["amb"] = [{"messages": 6, "replies_received": 5, "reach": 6}] * 10
    members["promoter"] = [{"messages": 10, "replies_received": 10, "reach": 11}] * 10
    parts = _parts(members)
    found = flags(parts, score(parts), promoters=frozenset({"promoter"}))
    last = found.filter((pl.col("week") == pl.col("week").max()) & (pl.col("flag") == "ambassador"))
    assert set(last["person_id"]) == {"amb"}
    assert "of 12 active members" in last["evidence"][0]


def test_rules_are_set_per_community_in_the_config(tmp_path) -> None:
    from hub.config import ConfigError, load_config

    path = tmp_path / "hub.yaml"
    path.write_text("communities:\n  - slug: makers\n    scoring: {half_life_weeks: 12, weights: {answers: 3}}\n"
                    "    flags: {window_weeks: 6}\n    stages: {mobilisation_max_promoter_starts: 0.4}\n"
                    "  - slug: other\n")
    config = load_config(path)
    rules = config.rules("makers")
    assert rules.scoring.half_life_weeks == 12 and rules.scoring.weights["answers"] == 3
    assert rules.scoring.weights["messages"] == Scoring().weights["messages"]  # unnamed weights keep their default
    assert rules.flags.window_weeks == 6 and rules.stages.mobilisation_max_promoter_starts == 0.4
    assert config.rules("other") == config.rules("unknown") and config.rules("other").scoring == Scoring()
    path.write_text("communities:\n  - slug: makers\n    scoring: {weights: {anwsers: 3}}\n")
    with pytest.raises(ConfigError, match="anwsers"):
        load_config(path)


@pytest.mark.parametrize("rules, says", [
    ("flags: {window_weeks: 2}", "consistent_weeks (3) cannot exceed window_weeks (2)"),
    ("scoring: {weights: [answers]}", "weights is a mapping of parts to numbers"),
    ("stages: {mobilisation_max_promoter_starts: 40}", "less than or equal to 1"),
    ("flags: {drifting_quiet_weeks: 0}", "greater than or equal to 1"),
    ("scoring: {half_life_weeks: 0.1}", "greater than or equal to 1"),
])
def test_rules_that_could_never_work_are_config_errors(tmp_path, rules: str, says: str) -> None:
    from hub.config import ConfigError, load_config

    path = tmp_path / "hub.yaml"
    path.write_text(f"communities:\n  - slug: makers\n    {rules}\n")
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_config(path)


# -- from a review against the README: ties, a member alone, silent stretches, promoters matching
# no one, answers in a question's thread, weeks without messages --

def _message(i: int, who: str, at: dt.datetime, text: str = "hi", **extra) -> dict:
    uid = {"Ann Lee": "user1001", "Bob Chen": "user1002", "Cleo Diaz": "user1003"}[who]
    return {"id": i, "type": "message", "date": at.isoformat(), "date_unixtime": str(int(at.timestamp())),
            "from": who, "from_id": uid, "text": text, "text_entities": [{"type": "plain", "text": text}], **extra}


def _build(tmp_path: Path, messages: list[dict], config: str) -> Path:
    tmp_path.mkdir(exist_ok=True)
    export = tmp_path / "result.json"
    export.write_text(json.dumps({"name": "Makers", "type": "private_supergroup", "id": 1700000001,
                                  "messages": messages}), encoding="utf-8")
    (tmp_path / "hub.yaml").write_text(config)
    db, runner = tmp_path / "hub.duckdb", CliRunner()
    args = ["--db", str(db), "--config", str(tmp_path / "hub.yaml")]
    assert runner.invoke(app, ["ingest", str(export), "--community", "makers", *args]).exit_code == 0
    result = runner.invoke(app, ["build", *args])
    assert result.exit_code == 0, result.output
    return db


# -- levels --------------------------------------------------------------------------------------

def test_members_tied_at_the_top_are_not_observers() -> None:
    # Five members each wrote one message in the group's first week, two more only joined: the
    # five are the week's most active, tied; they stood at the bottom of their ranks (2 of 6: below
    # the median) and were all observers, as if they had no reputation at all.
    members = {f"w{i}": [{"messages": 1}] for i in range(5)} | {f"l{i}": [{}] for i in range(2)}
    levels = dict(score(_parts(members)).select("person_id", "level").iter_rows())
    assert {levels[f"w{i}"] for i in range(5)} == {"participant"}
    assert {levels[f"l{i}"] for i in range(2)} == {"observer"}  # no reputation at all


def test_a_member_alone_stands_at_the_median() -> None:
    # A group of one who writes every week: the median of one, not below it (an observer for ever).
    assert set(score(_parts({"solo": [{"messages": 3}] * 4}))["level"]) == {"participant"}


# -- the stage -----------------------------------------------------------------------------------

def test_a_stretch_without_any_message_keeps_the_stage() -> None:
    # Two weeks read 1, a third 2, then the group is silent for five weeks. The stage is what most
    # recent weeks read (1); as the silent weeks pushed the first two out of the last four, the one
    # week that read 2 was left alone and moved the stage, in a week that read nothing (no row, so
    # the next row said the stage was kept though it was not the one of the row before).
    n, m = 8, np.array([100.0, 100, 100, 0, 0, 0, 0, 0])
    pm = np.array([60.0, 60, 30, 0, 0, 0, 0, 0])
    weeks = Weeks([dt.date(2024, 1, 1) + dt.timedelta(weeks=i) for i in range(n)], m, pm, m, pm,
                  np.zeros(n), np.full(n, 10.0), np.full(n, 1.0), np.full(n, 10.0))
    followed = follow(weeks, StageRules(window_weeks=1))
    assert list(followed.stage) == [1] * n and followed.how == ["reading"] + [""] * (n - 1)


def test_no_week_without_a_message_in_its_window_moves_the_stage() -> None:
    # Random communities that fall silent, under rules quick to move (a level after one week): in
    # a silent week neither the readings nor the levels of the weeks before move the stage.
    rng = np.random.default_rng(1)
    rules = StageRules(first_weeks=8, level_weeks=1)
    for _ in range(300):
        n, silent_from = 30, int(rng.integers(8, 25))
        messages = rng.integers(1, 60, n)
        messages[silent_from:] = 0
        promoter = np.minimum(messages, rng.integers(0, 40, n))
        starts = np.minimum(messages, rng.integers(0, 10, n))
        counted = rng.integers(0, 20, n)
        counted[silent_from:] = 0
        weeks = Weeks([dt.date(2024, 1, 1) + dt.timedelta(weeks=i) for i in range(n)], messages, promoter, starts,
                      np.minimum(starts, rng.integers(0, 8, n)), ((promoter == 0) & (messages > 0)).astype(int),
                      counted, np.minimum(counted, rng.integers(0, 20, n)), np.maximum(counted, 1))
        followed = follow(weeks, rules)
        heard = np.convolve(messages, np.ones(rules.window_weeks))[:n] > 0
        assert not any(followed.how[t] for t in range(n) if not heard[t])


# -- promoters -----------------------------------------------------------------------------------

def test_a_promoter_named_in_hub_yaml_who_matches_no_one_is_a_warning(tmp_path: Path, caplog) -> None:
    # "Alice Martin" is misspelt: the stage and the flags fall back on who wrote most at the start,
    # which the promoter has to be told, or they read a stage measured on someone else.
    at = dt.datetime(2024, 1, 2, 10, tzinfo=dt.UTC)
    messages = [_message(1, "Ann Lee", at, "hello?"), _message(2, "Ann Lee", at + dt.timedelta(hours=1)),
                _message(3, "Bob Chen", at + dt.timedelta(hours=2), "hi", reply_to_message_id=1)]
    config = ('communities:\n  - slug: makers\n    timezone: UTC\n'
              '    promoters: ["Alice Matrin", "bob chen", {platform: slack, account: U0999}]\n')
    with caplog.at_level(logging.WARNING, logger="hub.stages"):
        _build(tmp_path, messages, config)
    said = [r.getMessage() for r in caplog.records if r.name == "hub.stages"]
    assert said == [  # once each, though scores and stages both look the promoters up
        "makers: promoter 'Alice Matrin' in hub.yaml matches no account of the community: the stage and the "
        "flags take only the others (Bob Chen)",
        "makers: promoter slack account 'U0999' in hub.yaml matches no account of the community: the stage "
        "and the flags take only the others (Bob Chen)"]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hub.stages"):
        _build(tmp_path / "alone", messages, config.replace('"bob chen", ', ""))
    assert "the stage and the flags take Ann Lee instead (who wrote most in the first four weeks)" in caplog.text


# -- parts -----------------------------------------------------------------------------------------

def test_an_answer_in_the_thread_of_a_question_is_an_answer(tmp_path: Path) -> None:
    # On Discord a thread's messages reply to nothing, or to another of the thread: they are in the
    # thread the question started. community_health counted Ann's question answered; Bob and Cleo,
    # who answered it (Cleo replying to Bob), got no answers.
    def channel(name: str, native: str, messages: list[tuple], parent: str | None = None) -> Path:
        kind = {"type": "GuildPublicThread", "categoryId": parent} if parent else {"type": "GuildTextChat"}
        people = {"Ann Lee": "11", "Bob Chen": "12", "Cleo Diaz": "13"}
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"guild": {"id": "900", "name": "Makers"}, "channel": {"id": native, "name": name, **kind},
                                    "messages": [{"id": i, "type": "Default", "timestamp": at, "content": text,
                                                  "author": {"id": people[who], "name": who.split()[0].lower(),
                                                             "nickname": who, "isBot": False}, **(more[0] if more else {})}
                                                 for i, who, at, text, *more in messages]}), encoding="utf-8")
        return path

    general = channel("general", "500", [("600", "Ann Lee", "2024-01-02T10:00:00+00:00", "how do I solder this?")])
    thread = channel("solder", "600", [("601", "Bob Chen", "2024-01-02T10:05:00+00:00", "use flux"),
                                       ("602", "Cleo Diaz", "2024-01-02T10:07:00+00:00", "and a hot iron",
                                        {"type": "Reply", "reference": {"messageId": "601", "channelId": "600"}}),
                                       ("603", "Ann Lee", "2024-01-02T10:09:00+00:00", "thanks?")], parent="500")
    (tmp_path / "hub.yaml").write_text("communities:\n  - slug: makers\n    timezone: UTC\n")
    db, runner = tmp_path / "hub.duckdb", CliRunner()
    args = ["--db", str(db), "--config", str(tmp_path / "hub.yaml")]
    for path in (general, thread):
        assert runner.invoke(app, ["ingest", str(path), "--community", "makers", *args]).exit_code == 0
    assert runner.invoke(app, ["build", *args]).exit_code == 0
    from warehouse.db import connect

    with connect(db, read_only=True) as con:
        answers = dict(con.execute("""SELECT p.display_name, s.answers FROM member_scores s JOIN persons p
                                      USING (person_id)""").fetchall())
        answered = con.execute("SELECT questions_answered FROM community_health WHERE platform IS NULL").fetchone()
    assert answers == {"Ann Lee": 0, "Bob Chen": 1, "Cleo Diaz": 1} and answered == (1,)  # her own: no answer


# -- health --------------------------------------------------------------------------------------

def test_a_week_in_which_someone_joined_but_no_one_wrote_has_no_1_9_90_split(tmp_path: Path) -> None:
    # Ann writes in the first week; Bob joins in the second and no one writes: that week's row
    # counts him, and has no messages to split (it said 0 %, 0 % and 0 %, summing to nothing).
    at = dt.datetime(2024, 1, 2, 10, tzinfo=dt.UTC)
    joined = {"id": 2, "type": "service", "date": "2024-01-10T10:00:00",
              "date_unixtime": str(int((at + dt.timedelta(days=8)).timestamp())), "actor": "Bob Chen",
              "actor_id": "user1002", "action": "join_group_by_link", "text": "", "text_entities": []}
    db = _build(tmp_path, [_message(1, "Ann Lee", at), joined], "communities:\n  - slug: makers\n    timezone: UTC\n")
    from warehouse.db import connect

    with connect(db, read_only=True) as con:
        rows = con.execute("""SELECT week::VARCHAR, new_members, share_top_1pct, share_next_9pct, share_other_90pct
                              FROM community_health WHERE platform IS NULL ORDER BY week""").fetchall()
    assert rows == [("2024-01-01", 1, 1.0, 0.0, 0.0), ("2024-01-08", 1, None, None, None)]


@pytest.mark.parametrize(("text", "question"), [
    ("look https://www.youtube.com/watch?v=abc", False), ("HTTPS://X.ORG/watch?v=1", False),
    ("https://example.org/?a=1, thoughts", False), ("Did you read https://example.org/post?", True),
    ("(https://x.org?)", True), ("anyone tried <https://x.org>?", True), ("ok <https://x.org|this>? <@U1>", True),
    ("https://x.org/a\u00a0ok?", True), ("what? https://x.org/?a=1", True), ("no question", False)])
def test_a_question_is_a_question_mark_outside_any_link(text: str, question: bool) -> None:
    import duckdb

    from warehouse.db import asks

    assert duckdb.connect().execute(f"SELECT {asks('$t')}", {"t": text}).fetchone() == (question,)


def test_a_link_s_query_string_asks_nothing(tmp_path: Path) -> None:
    # `watch?v=` is no question: Bob's reply to the link is no answer, and the week has one question
    # (Ann's second message, whose "?" stands outside its link), answered by Cleo.
    at = dt.datetime(2024, 1, 2, 10, tzinfo=dt.UTC)
    hour = dt.timedelta(hours=1)
    messages = [_message(1, "Ann Lee", at, "look https://www.youtube.com/watch?v=abc"),
                _message(2, "Bob Chen", at + hour, "nice", reply_to_message_id=1),
                _message(3, "Ann Lee", at + 2 * hour, "and https://example.org/?a=1, what do you think?"),
                _message(4, "Cleo Diaz", at + 3 * hour, "great", reply_to_message_id=3)]
    db = _build(tmp_path, messages, "communities:\n  - slug: makers\n    timezone: UTC\n")
    from warehouse.db import connect

    with connect(db, read_only=True) as con:
        answers = dict(con.execute("SELECT p.display_name, s.answers FROM member_scores s JOIN persons p "
                                   "USING (person_id)").fetchall())
        health = con.execute("SELECT questions, questions_answered FROM community_health "
                             "WHERE platform IS NULL").fetchone()
    assert answers == {"Ann Lee": 0, "Bob Chen": 0, "Cleo Diaz": 1} and health == (1, 1)


def test_a_newcomer_is_welcomed_once_a_week_however_many_the_gestures(tmp_path: Path) -> None:
    # Cleo arrives; Ann replies to her twice and reacts to her with three emoji, all in one week:
    # one welcome (three emoji on one message were three), as recognition counts people, not gestures.
    at = dt.datetime(2024, 1, 2, 10, tzinfo=dt.UTC)
    hour = dt.timedelta(hours=1)
    ann = {"from": "Ann Lee", "from_id": "user1001", "date": "2024-01-02T15:00:00"}
    messages = [_message(1, "Ann Lee", at, "hello all"),
                _message(2, "Cleo Diaz", at + hour, "hi, I am new", reactions=[
                    {"type": "emoji", "count": 1, "emoji": e, "recent": [ann]} for e in ("👍", "🎉", "❤")]),
                _message(3, "Ann Lee", at + 2 * hour, "welcome Cleo", reply_to_message_id=2),
                _message(4, "Ann Lee", at + 3 * hour, "and see the pinned notes", reply_to_message_id=2)]
    db = _build(tmp_path, messages, "communities:\n  - slug: makers\n    timezone: UTC\n")
    from warehouse.db import connect

    with connect(db, read_only=True) as con:
        (welcomes,) = con.execute("SELECT s.welcomes FROM member_scores s JOIN persons p USING (person_id) "
                                  "WHERE p.display_name = 'Ann Lee'").fetchone()
    assert welcomes == 1
