"""Every Slack export in ../shared/corpus/slack ingests with nothing quarantined, and reads right.

Expected values were counted from the JSON files themselves (messages per channel folder, the sum
of every reaction's `count`, users in users.json, bots, and channel_join messages).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from hub.config import HubConfig
from hub.ingest import ingest_file

EXPECTED = {
    "houstondatavis__slack-export": {
        "per_channel": {"datajam": 173, "datasets": 40, "design-thinking": 4, "examples": 80, "general": 476,
                        "get_feedback": 149, "meetup": 2, "meetup-": 147, "organizations": 12, "readings": 52,
                        "sci": 58, "sponsors": 16, "talks": 32, "team-d3": 31, "tools": 83, "tutorials": 27},
        "reactions": 199, "users": 71, "bots": 1, "joins": 320, "leaves": 3, "system": 351, "links": 331,
    },
    "hfaran__slack-export-viewer/testarchive.zip": {
        "per_channel": {"enrique": 102, "traveling-sailor": 56},
        "reactions": 1, "users": 4, "bots": 3, "joins": 8, "leaves": 0, "system": 11, "links": 108,
    },
    "langchain-ai__langchain-community/slack_export.zip": {
        "per_channel": {"example-channel": 2, "general": 2, "random": 1},
        # users.json lists one (bot) user; the messages' author is known only by its user_profile.
        "reactions": 0, "users": 2, "bots": 1, "joins": 1, "leaves": 0, "system": 1, "links": 0,
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_slack_export(corpus: Path, con, name: str) -> None:
    want = EXPECTED[name]
    report = ingest_file(con, corpus / "slack" / name, config=HubConfig())
    assert report.error is None and report.platform == "slack"
    total = sum(want["per_channel"].values())
    assert (report.result.records, report.result.new, report.result.quarantined) == (total, total, 0)
    per_channel = dict(con.execute("""SELECT c.name, count(*) FROM messages m JOIN channels c USING (channel_id)
                                      GROUP BY c.name""").fetchall())
    assert per_channel == want["per_channel"]
    assert con.execute("SELECT coalesce(sum(count), 0) FROM reactions").fetchone() == (want["reactions"],)
    users, bots = con.execute("""SELECT count(*) FILTER (WHERE native_id LIKE 'U%' OR native_id LIKE 'W%'),
                                        count(*) FILTER (WHERE is_bot) FROM accounts""").fetchone()
    assert (users, bots) == (want["users"], want["bots"])
    events = dict(con.execute("SELECT event, count(*) FROM membership_events GROUP BY 1").fetchall())
    assert events.get("join", 0) + events.get("add", 0) == want["joins"]
    assert events.get("leave", 0) == want["leaves"]
    assert con.execute("SELECT count(*) FROM messages WHERE kind = 'system'").fetchone() == (want["system"],)
    # Each <https://…> or <https://…|label> of what people wrote, once per message (counted apart
    # with Python's json and re over the day files).
    assert con.execute("SELECT count(*) FROM links").fetchone() == (want["links"],)
    assert con.execute("""SELECT count(*) FROM messages m ANTI JOIN accounts a ON a.account_id = m.author_id
                          WHERE m.author_id IS NOT NULL""").fetchone() == (0,)


def test_slack_details(corpus: Path, con) -> None:
    ingest_file(con, corpus / "slack/hfaran__slack-export-viewer/testarchive.zip", config=HubConfig())
    # A bot message with no text of its own reads as its attachment's summary, authored by the bot.
    text, author, is_bot = con.execute("""
        SELECT m.text, m.author_name, a.is_bot FROM messages m JOIN accounts a ON a.account_id = m.author_id
        WHERE m.message_id = 'slack:default:C0JGLMMNX/1454894897.000008'""").fetchone()
    assert text.startswith('[enrique] New branch "<https://github.com/mesos-magellan/enrique/tree/hfaran_problem')
    assert (author, is_bot) == ("github", True)
    # Every channel_join is a system line and a membership event of the user who joined.
    assert con.execute("""SELECT count(*) FROM membership_events e JOIN messages m USING (message_id)
                          WHERE m.kind = 'system'""").fetchone() == (8,)
    # File shares are media; edits keep their time.
    assert con.execute("SELECT count(*) FROM messages WHERE has_media").fetchone() == (3,)


def test_slack_export_twice_adds_nothing_and_reactions_are_not_doubled(corpus: Path, con) -> None:
    path = corpus / "slack/houstondatavis__slack-export"
    ingest_file(con, path, config=HubConfig())
    again = ingest_file(con, path, config=HubConfig(), force=True)
    assert (again.result.new, again.result.duplicate) == (0, 1382)
    assert con.execute("SELECT sum(count) FROM reactions").fetchone() == (199,)
    assert con.execute("SELECT count(*) FROM links").fetchone() == (331,)
    assert con.execute("SELECT count(*), count(DISTINCT message_id) FROM messages").fetchone() == (1382, 1382)


def _one_channel_export(tmp_path: Path, monkeypatch, batch: int) -> Path:
    """An export folder with one user (U1, ana) and one channel (general), read in batches of `batch`."""
    from connectors.slack import export as slack_export

    monkeypatch.setattr(slack_export, "BATCH_MESSAGES", batch)
    folder = tmp_path / "export"
    (folder / "general").mkdir(parents=True)
    (folder / "users.json").write_text(json.dumps([{"id": "U1", "name": "ana"}]))
    (folder / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general"}]))
    return folder


@pytest.mark.parametrize("batch", [200_000, 2])
def test_a_message_in_two_day_files_is_one_message_whatever_the_batches(tmp_path: Path, con, monkeypatch,
                                                                        batch: int) -> None:
    # A broadcast reply can be listed in two day files; day files are read in batches of messages,
    # and the two copies may fall in two batches: still one message, its reactions once.
    folder = _one_channel_export(tmp_path, monkeypatch, batch)
    broadcast = {"type": "message", "subtype": "thread_broadcast", "user": "U1", "ts": "1700090300.000300",
                 "text": "thanks!", "thread_ts": "1700000000.000100",
                 "reactions": [{"name": "tada", "count": 2, "users": ["U1"]}]}
    root = {"type": "message", "user": "U1", "ts": "1700000000.000100", "text": "Question?"}
    (folder / "general" / "2023-11-14.json").write_text(json.dumps([root, broadcast]))
    (folder / "general" / "2023-11-15.json").write_text(json.dumps([broadcast, {**root, "ts": "1700090400.000400"}]))
    report = ingest_file(con, folder, config=HubConfig())
    assert (report.result.new, report.result.quarantined) == (3, 0)
    assert con.execute("SELECT count(*) FROM messages WHERE message_id LIKE '%1700090300.000300'").fetchone() == (1,)
    assert con.execute("SELECT sum(count) FROM reactions").fetchone() == (2,)


def test_threads_mentions_and_reactions_with_more_reactors_than_listed(tmp_path: Path, con) -> None:
    export = tmp_path / "export.zip"
    users = [{"id": "U1", "name": "ana", "profile": {"display_name": "Ana"}},
             {"id": "U2", "name": "bo", "profile": {"real_name": "Bo Lee"}}]
    day1 = [{"type": "message", "user": "U1", "ts": "1700000000.000100", "text": "Question for <@U2|bo>?",
             "thread_ts": "1700000000.000100", "reply_count": 2,
             "reactions": [{"name": "clap::skin-tone-3", "count": 5, "users": ["U2", "U1"]}]}]
    day2 = [{"type": "message", "user": "U2", "ts": "1700090000.000200", "text": "Answer <@U1>",
             "thread_ts": "1700000000.000100", "parent_user_id": "U1", "edited": {"user": "U2", "ts": "1700090100.0"}},
            {"type": "message", "subtype": "thread_broadcast", "user": "U1", "ts": "1700090300.000300",
             "text": "thanks!", "thread_ts": "1700000000.000100"},
            {"type": "message", "subtype": "channel_join", "user": "U2", "ts": "1700090400.000400",
             "text": "<@U2> has joined the channel", "inviter": "U1"}]
    with zipfile.ZipFile(export, "w") as z:
        z.writestr("users.json", json.dumps(users))
        z.writestr("channels.json", json.dumps([{"id": "C1", "name": "general"}]))
        z.writestr("general/2023-11-14.json", json.dumps(day1))
        z.writestr("general/2023-11-15.json", json.dumps(day2))
        z.writestr("general/2023-11-16.json", "[{broken json")
    report = ingest_file(con, export, config=HubConfig())
    assert (report.result.records, report.result.quarantined) == (4, 1)
    rows = con.execute("""SELECT message_id, author_name, kind::VARCHAR, reply_to_id, thread_id,
                                 strftime(edited_at, '%H:%M:%S') FROM messages ORDER BY sent_at""").fetchall()
    root = "slack:default:C1/1700000000.000100"
    assert rows == [
        (root, "Ana", "message", None, root, None),
        ("slack:default:C1/1700090000.000200", "Bo Lee", "message", root, root, "23:15:00"),
        ("slack:default:C1/1700090300.000300", "Ana", "message", root, root, None),
        ("slack:default:C1/1700090400.000400", None, "system", None, None, None),
    ]
    assert con.execute("SELECT reactor_id, emoji, count FROM reactions ORDER BY reactor_id NULLS LAST").fetchall() == [
        ("slack:default:U1", "clap::skin-tone-3", 1), ("slack:default:U2", "clap::skin-tone-3", 1),
        (None, "clap::skin-tone-3", 3)]
    assert con.execute("SELECT message_id, account_id FROM mentions ORDER BY 1").fetchall() == [
        (root, "slack:default:U2"), ("slack:default:C1/1700090000.000200", "slack:default:U1")]
    assert con.execute('SELECT account_id, event, actor_id FROM membership_events').fetchall() == [
        ("slack:default:U2", "add", "slack:default:U1")]
    location, reason = con.execute("SELECT location, reason FROM quarantine").fetchone()
    assert location == "general/2023-11-16.json" and reason.startswith("not valid JSON")


@pytest.mark.parametrize("batch", [1, 2, 200_000])
def test_who_the_users_file_does_not_list_is_named_whatever_the_batches(tmp_path: Path, con, monkeypatch,
                                                                       batch: int) -> None:
    # A user, a bot, an inviter and a mentioned user the users file does not list: what the
    # messages tell of them names them, whichever message tells it and whatever the batches.
    folder = _one_channel_export(tmp_path, monkeypatch, batch)
    (folder / "general" / "2024-01-01.json").write_text(json.dumps([
        {"type": "message", "user": "U9", "text": "a", "ts": "1704067200.000100"},
        {"type": "message", "bot_id": "B1", "text": "first", "ts": "1704067201.000100"},
        {"type": "message", "subtype": "bot_message", "bot_id": "B2", "username": "", "text": "x",
         "bot_profile": {"name": "Profiled"}, "ts": "1704067202.000100"},
        {"type": "message", "subtype": "channel_join", "user": "U1", "inviter": "U5", "text": "<@U1> joined",
         "ts": "1704067203.000100"},
    ]))
    (folder / "general" / "2024-01-02.json").write_text(json.dumps([
        {"type": "message", "user": "U9", "text": "b <@U7|seven>", "ts": "1704153600.000100",
         "user_profile": {"real_name": "Nine", "display_name": "", "name": "nine"}},
        {"type": "message", "subtype": "bot_message", "bot_id": "B1", "username": "deploybot", "text": "y",
         "ts": "1704153601.000100"},
    ]))
    report = ingest_file(con, folder, config=HubConfig())
    assert report.result.quarantined == 0
    accounts = {k: (name, handle) for k, name, handle in
                con.execute("SELECT native_id, display_name, handle FROM accounts WHERE native_id <> 'U1'").fetchall()}
    assert accounts == {
        "U9": ("Nine", "nine"), "B1": ("deploybot", "deploybot"), "B2": ("Profiled", "Profiled"),
        "U5": (None, None), "U7": (None, "seven")}
    assert con.execute("SELECT DISTINCT author_name FROM messages WHERE author_id LIKE '%U9'").fetchall() == [("Nine",)]
    assert con.execute("SELECT DISTINCT author_name FROM messages WHERE author_id LIKE '%B1'").fetchall() == [
        ("deploybot",)]


def test_an_old_integrations_message_is_its_bot_s(tmp_path: Path, con) -> None:
    """An incoming webhook from before bot users posts with a name and no bot_id: a bot account of
    that name, not a message without an author."""
    folder = tmp_path / "slack"
    (folder / "general").mkdir(parents=True)
    (folder / "users.json").write_text(json.dumps([{"id": "U1", "name": "ana", "real_name": "Ana"}]))
    (folder / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general"}]))
    (folder / "general" / "2016-01-14.json").write_text(json.dumps([
        {"type": "message", "subtype": "bot_message", "username": "deploys", "text": "build 12 passed",
         "ts": "1452790000.000100"},
        {"type": "message", "subtype": "bot_message", "username": "deploys", "text": "build 13 passed",
         "ts": "1452790100.000100"},
        {"type": "message", "user": "U1", "text": "nice", "ts": "1452790200.000100"}]))
    report = ingest_file(con, folder, config=HubConfig())
    assert report.error is None and report.result.quarantined == 0
    assert con.execute("""SELECT m.author_id, m.author_name, a.is_bot, count(*) FROM messages m
                          JOIN accounts a ON a.account_id = m.author_id GROUP BY ALL ORDER BY 1""").fetchall() == [
        ("slack:default:U1", "Ana", False, 1), ("slack:default:name:deploys", "deploys", True, 2)]


def test_a_user_listed_twice_keeps_what_either_listing_gives(tmp_path: Path, con) -> None:
    """Enterprise Grid lists users in users.json and org_users.json: one may leave out what the other
    gives (an e-mail, a phone), which identity resolution needs."""
    folder = tmp_path / "slack"
    (folder / "general").mkdir(parents=True)
    (folder / "users.json").write_text(json.dumps([{"id": "U1", "name": "ana", "profile": {
        "real_name": "Ana Lima", "email": "ana@example.org"}}]))
    (folder / "org_users.json").write_text(json.dumps([{"id": "U1", "name": "ana", "profile": {
        "real_name": "Ana Lima", "phone": "+33 6 12 34 56 78"}}]))
    (folder / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general"}]))
    (folder / "general" / "2024-03-01.json").write_text(json.dumps([
        {"type": "message", "user": "U1", "text": "hi", "ts": "1709280000.000100"}]))
    assert ingest_file(con, folder, config=HubConfig()).error is None
    assert con.execute("SELECT display_name, handle, email, phone FROM accounts").fetchall() == [
        ("Ana Lima", "ana", "ana@example.org", "+33 6 12 34 56 78")]


def test_channel_folders_no_listing_names_are_warned_about(tmp_path: Path, con) -> None:
    """Folders alone (channels.json left out) are keyed by their names: a later export of the same
    workspace, keyed by Slack's ids, would load their messages again. The load says so."""
    folder = tmp_path / "part of an export"
    for channel, day, ts in (("general", 1, 1709280000), ("general", 2, 1709366400), ("random", 1, 1709280000)):
        (folder / channel).mkdir(parents=True, exist_ok=True)
        (folder / channel / f"2024-03-0{day}.json").write_text(json.dumps([
            {"type": "message", "user": "U1", "text": f"hi {channel}", "ts": f"{ts}.000100"}]))
    report = ingest_file(con, folder, config=HubConfig())
    assert report.error is None and report.result.new == 3
    assert report.warning == (f"{folder}: no channels.json, groups.json, dms.json or mpims.json lists the folder(s) "
                              "general, random: their messages are keyed by folder name, not by channel id, and "
                              "would be loaded again from a fuller export of the workspace; load the export Slack "
                              "made, whole")
    (folder / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general"}, {"id": "C2", "name": "random"}]))
    assert ingest_file(con, folder, config=HubConfig()).warning is None


def test_links_are_read_from_slack_s_markup(tmp_path: Path, con, monkeypatch) -> None:
    """Slack writes a link as <https://…> or <https://…|label>, `&` as `&amp;`: the URL is kept as
    the browser opens it. Mentions, channels, e-mail addresses and what Slack itself wrote are not links."""
    folder = _one_channel_export(tmp_path, monkeypatch, 200_000)
    day = [{"type": "message", "user": "U1", "ts": "1700000000.000100",
            "text": "notes: <https://example.org/a?x=1&amp;y=2|the notes>, <http://b.example/> and again "
                    "<https://example.org/a?x=1&amp;y=2> for <@U1> in <#C1|general>, <mailto:a@b.example|mail> "
                    "<https://c.example/?q=&lt;b&gt;>?"},
           {"type": "message", "subtype": "channel_topic", "user": "U1", "ts": "1700000001.000100",
            "text": "set the channel topic: <https://topic.example/>"}]
    (folder / "general" / "2023-11-14.json").write_text(json.dumps(day))
    ingest_file(con, folder, config=HubConfig())
    assert con.execute("SELECT message_id, url FROM links ORDER BY url").fetchall() == [
        ("slack:default:C1/1700000000.000100", "http://b.example/"),
        ("slack:default:C1/1700000000.000100", "https://c.example/?q=<b>"),
        ("slack:default:C1/1700000000.000100", "https://example.org/a?x=1&y=2")]


def test_a_later_export_takes_back_the_reactions_it_no_longer_lists(tmp_path: Path, con, monkeypatch) -> None:
    """A message in a later export without a reaction it had lost it; an older export read after
    a later one says nothing of reactions given since (it reaches less far in the channel)."""
    folder = _one_channel_export(tmp_path, monkeypatch, 200_000)
    hello = {"type": "message", "user": "U1", "ts": "1700000000.000100", "text": "hello"}
    later = {"type": "message", "user": "U1", "ts": "1700090000.000100", "text": "later"}
    day = folder / "general" / "2023-11-14.json"
    day.write_text(json.dumps([{**hello, "reactions": [{"name": "wave", "count": 1, "users": ["U1"]}]}]))
    ingest_file(con, folder, config=HubConfig())
    day.write_text(json.dumps([hello]))  # the wave taken back, and a message the next day
    (folder / "general" / "2023-11-15.json").write_text(json.dumps([later]))
    ingest_file(con, folder, config=HubConfig())
    assert con.execute("SELECT count(*) FROM reactions").fetchone() == (0,)

    day.write_text(json.dumps([{**hello, "reactions": [{"name": "tada", "count": 1, "users": ["U1"]}]}]))
    ingest_file(con, folder, config=HubConfig())  # a tada since
    (folder / "general" / "2023-11-15.json").unlink()
    day.write_text(json.dumps([hello]))  # the first day alone, exported before the tada
    ingest_file(con, folder, config=HubConfig())
    assert con.execute("SELECT emoji FROM reactions").fetchall() == [("tada",)]
