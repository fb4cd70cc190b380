"""The Facebook writers: a Messenger thread written as Facebook does (newest first, paginated,
mojibake escapes) and a Graph API group feed, both deterministic, and each ingests to exactly the
simulated messages, reactions, authors and time span."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from connectors.facebook.common import REACTION_EMOJI
from connectors.mojibake import repair
from hub.config import HubConfig
from hub.ingest import ingest_file
from hub.simulate import simulate
from hub.simulate import facebook as fb


@pytest.fixture(scope="module")
def sim():
    return simulate(members=50, days=180, seed=4)


@pytest.fixture(scope="module")
def thread(sim) -> dict:
    return fb.messenger_thread(sim, tz="Europe/Berlin")


@pytest.fixture(scope="module")
def pages(sim) -> list[dict]:
    return fb.group_feed(sim, per_page=20)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def test_deterministic(sim) -> None:
    again = simulate(members=50, days=180, seed=4)
    assert fb.messenger_thread(sim, seed=9) == fb.messenger_thread(again, seed=9) != fb.messenger_thread(sim, seed=10)
    assert fb.group_feed(sim, seed=9) == fb.group_feed(again, seed=9) != fb.group_feed(sim, seed=10)


def test_thread_shape_and_truth(thread: dict) -> None:
    ms = thread["messages"]
    assert [m["timestamp_ms"] for m in ms] == sorted((m["timestamp_ms"] for m in ms), reverse=True)
    assert {m["type"] for m in ms} == {"Generic", "Share", "Subscribe", "Unsubscribe", "Call"}
    assert any(m.get("is_unsent") for m in ms) and any("sticker" in m for m in ms) and any("photos" in m for m in ms)
    assert any(a is not b and a["timestamp_ms"] == b["timestamp_ms"] and a.get("content") == b.get("content")
               for a, b in zip(ms, ms[1:]))  # a double-tapped message
    lines = [m for m in ms if m["type"] in ("Subscribe", "Unsubscribe")]
    assert any("users" in m for m in lines) and any("users" not in m for m in lines)
    for m in ms:
        names = [r["actor"] for r in m.get("reactions", ())]
        assert len(names) == len(set(names)) and m["sender_name"] not in names
    truth = fb.truth(thread)
    assert truth["messages"] + truth["system"] == len(ms)
    assert truth["reactions"] == sum(truth["reactions_by_type"].values()) > 100
    assert set(truth["events"]) == {"join", "add", "leave", "remove"}
    assert truth["unsent"] and truth["media"] and truth["links"]


def test_write_messenger_as_facebook_does(thread: dict, tmp_path: Path) -> None:
    paths = fb.write_messenger(thread, tmp_path, per_file=300)
    assert [p.name for p in paths] == [f"message_{n}.json" for n in range(1, len(paths) + 1)] and len(paths) > 2
    raw = paths[0].read_bytes()
    assert raw.isascii() and b"\\u00f0\\u009f" in raw  # emoji as the escapes of their UTF-8 bytes
    files = [json.loads(p.read_text()) for p in paths]
    assert [m for f in files for m in f["messages"]] == fb.mojibake(thread["messages"])
    assert files[0]["messages"][0]["timestamp_ms"] > files[1]["messages"][0]["timestamp_ms"]  # message_1 is the newest
    names = {p["name"] for p in files[0]["participants"]}
    assert {repair(n) for n in names} == {p["name"] for p in thread["participants"]} != names


def test_messenger_round_trip(thread: dict, tmp_path: Path, con) -> None:
    truth = fb.truth(thread)
    folder = tmp_path / "inbox" / "makers"
    fb.write_messenger(thread, folder, per_file=250)
    report = ingest_file(con, folder, config=HubConfig())
    assert report.error is None and report.platform == "facebook"
    assert (report.result.new, report.result.quarantined) == (truth["messages"] + truth["system"], 0)
    q = con.execute
    assert q("SELECT count(*) FILTER (kind = 'message'), count(*) FILTER (kind = 'system') FROM messages").fetchone() \
        == (truth["messages"], truth["system"])
    assert q("SELECT count(DISTINCT author_id), count(*) FILTER (has_media) FROM messages WHERE kind = 'message'") \
        .fetchone() == (truth["authors"], truth["media"])
    assert dict(q("SELECT emoji, count(*) FROM reactions GROUP BY 1").fetchall()) == truth["reactions_by_type"]
    assert q("SELECT count(*) FROM reactions WHERE reactor_id IS NOT NULL AND count = 1").fetchone() == \
        (truth["reactions"],)
    first, last = q("SELECT min(sent_at), max(sent_at) FROM messages WHERE kind = 'message'").fetchone()
    assert (_iso(first), _iso(last)) == (truth["first"], truth["last"])
    assert dict(q("SELECT event, count(*) FROM membership_events GROUP BY 1").fetchall()) == truth["events"]
    assert q("SELECT count(*) FROM links").fetchone() == (truth["links"],)
    assert q("SELECT count(*) FROM messages WHERE text = '' AND NOT has_media").fetchone() == (truth["unsent"],)
    assert q("SELECT count(*) FROM accounts WHERE display_name LIKE '%Ã%'").fetchone() == (0,)
    again = ingest_file(con, folder, config=HubConfig(), force=True)
    assert again.result.new == 0 and q("SELECT count(*) FROM reactions").fetchone() == (truth["reactions"],)


def test_messenger_files_one_by_one(thread: dict, tmp_path: Path, con) -> None:
    paths = fb.write_messenger(thread, tmp_path / "makers", per_file=400)
    new = [ingest_file(con, p, config=HubConfig()).result.new for p in reversed(paths)]
    truth = fb.truth(thread)
    assert sum(new) == truth["messages"] + truth["system"]
    assert con.execute("SELECT count(*) FROM reactions").fetchone() == (truth["reactions"],)


def test_feed_shape_and_truth(pages: list[dict]) -> None:
    assert all(len(p["data"]) <= 20 for p in pages) and len(pages) > 3
    assert all("next" in p["paging"] for p in pages[:-1]) and "next" not in pages[-1]["paging"]
    posts = [post for p in pages for post in p["data"]]
    assert [p["created_time"] for p in posts] == sorted((p["created_time"] for p in posts), reverse=True)
    replies = [r for post in posts for c in post.get("comments", {}).get("data", ()) for r in
               c.get("comments", {}).get("data", ())]
    assert replies and all("comments" not in r for r in replies)  # two levels, as the Graph API has
    truth = fb.truth(pages)
    assert truth["posts"] == len(posts) and truth["messages"] == truth["posts"] + truth["comments"]
    assert set(truth["reactions_by_type"]) == {"LIKE", "LOVE", "HAHA", "WOW", "CARE", "SAD", "ANGRY"}
    assert truth["mentions"] and truth["links"] and truth["media"]


def test_feed_round_trip(pages: list[dict], tmp_path: Path, con) -> None:
    truth = fb.truth(pages)
    paths = fb.write_feed(pages, tmp_path / "feed")
    assert [p.name for p in paths][:2] == ["feed_1.json", "feed_2.json"]
    report = ingest_file(con, tmp_path / "feed", config=HubConfig())
    assert report.error is None and report.platform == "facebook"
    assert (report.result.new, report.result.quarantined) == (truth["messages"], 0)
    q = con.execute
    assert q("SELECT count(*) FILTER (reply_to_id IS NULL), count(*) FILTER (reply_to_id IS NOT NULL) FROM messages") \
        .fetchone() == (truth["posts"], truth["comments"])
    assert q("SELECT count(*) FROM messages m ANTI JOIN messages p ON p.message_id = m.reply_to_id "
             "WHERE m.reply_to_id IS NOT NULL").fetchone() == (0,)
    assert q("SELECT count(DISTINCT author_id), count(*) FILTER (has_media) FROM messages").fetchone() == \
        (truth["authors"], truth["media"])
    by_emoji = {REACTION_EMOJI[t]: n for t, n in truth["reactions_by_type"].items()}
    assert dict(q("SELECT emoji, count(*) FROM reactions GROUP BY 1").fetchall()) == by_emoji
    assert q("SELECT sum(count) FROM reactions").fetchone() == (truth["reactions"],)
    first, last = q("SELECT min(sent_at), max(sent_at) FROM messages").fetchone()
    assert (_iso(first), _iso(last)) == (truth["first"], truth["last"])
    assert q("SELECT count(*) FROM mentions").fetchone() == (truth["mentions"],)
    assert q("SELECT count(*) FROM links").fetchone() == (truth["links"],)
    assert ingest_file(con, tmp_path / "feed", config=HubConfig(), force=True).result.new == 0


def _tables(path: Path) -> dict:
    from warehouse.db import connect

    queries = {
        "messages": "SELECT message_id, channel_id, author_id, author_name, sent_at, kind, text, reply_to_id, "
                    "thread_id, has_media FROM messages ORDER BY 1",
        "reactions": "SELECT message_id, reactor_id, emoji, count FROM reactions ORDER BY ALL",
        "events": "SELECT event_id, account_id, event, \"at\", actor_id, message_id FROM membership_events ORDER BY 1",
        "links": "SELECT * EXCLUDE (source_id) FROM links ORDER BY ALL",
        "mentions": "SELECT * EXCLUDE (source_id) FROM mentions ORDER BY ALL",
        "accounts": "SELECT account_id, display_name, first_seen_at, last_seen_at FROM accounts ORDER BY 1",
        "channels": "SELECT * FROM channels ORDER BY 1",
    }
    with connect(path, read_only=True) as con:
        return {name: con.execute(sql).fetchall() for name, sql in queries.items()}


@pytest.mark.parametrize("kind", ["messenger", "feed"])
def test_record_by_record_reading_gives_the_same_rows(thread: dict, pages: list[dict], tmp_path: Path,
                                                      kind: str) -> None:
    """Polars reads clean files whole; a file with one bad record is read record by record (the
    record quarantined): both readings give the same rows, ids included."""
    from warehouse.db import connect

    clean, broken = tmp_path / "clean", tmp_path / "broken"
    if kind == "messenger":
        fb.write_messenger(thread, clean, per_file=500)
        fb.write_messenger(thread, broken, per_file=500)
        first = broken / "message_1.json"
        data = json.loads(first.read_text())
        data["messages"].insert(3, "not a message")
        first.write_text(json.dumps(data, indent=2))
    else:
        fb.write_feed(pages, clean)
        fb.write_feed([{**pages[0], "data": [None, *pages[0]["data"]]}, *pages[1:]], broken)
    results = {}
    for folder in (clean, broken):
        with connect(folder.with_suffix(".duckdb")) as con:
            results[folder] = ingest_file(con, folder, config=HubConfig()).result
    assert (results[clean].quarantined, results[broken].quarantined) == (0, 1)
    assert results[clean].new == results[broken].new > 500
    assert _tables(clean.with_suffix(".duckdb")) == _tables(broken.with_suffix(".duckdb"))
