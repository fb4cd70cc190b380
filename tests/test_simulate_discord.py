"""The Discord writer: a deterministic DiscordChatExporter export whose truth matches it, written as DCE
writes it (both emoji forms), and one that ingests back to exactly the simulated messages and
reactions, whole or split into `[part N]` files.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from hub.config import HubConfig
from hub.ingest import ingest_file
from hub.simulate import simulate
from hub.simulate import discord as dc


@pytest.fixture(scope="module")
def export() -> dict:
    return dc.channel(simulate(members=60, days=120, seed=5), tz="Europe/Paris")


def test_deterministic() -> None:
    sim = simulate(members=40, days=60, seed=2)
    assert dc.channel(sim, seed=9) == dc.channel(simulate(members=40, days=60, seed=2), seed=9)
    assert dc.channel(sim, seed=9) != dc.channel(sim, seed=10)


def test_export_shape_and_truth(export: dict) -> None:
    ms = export["messages"]
    assert (export["channel"]["type"], export["channel"]["name"], export["guild"]["name"]) == (
        "GuildTextChat", "general", "Makers")
    ids = [int(m["id"]) for m in ms]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and export["messageCount"] == len(ms)
    times = [dt.datetime.fromisoformat(m["timestamp"]) for m in ms]
    assert times == sorted(times) and {t.utcoffset() for t in times} == {dt.timedelta(hours=1), dt.timedelta(hours=2)}
    by_id = {m["id"]: m for m in ms}
    kinds = {m["type"] for m in ms}
    assert kinds == {"Default", "Reply", "GuildMemberJoin", "ChannelPinnedMessage"}
    for m in ms:
        ref = m.get("reference")
        expected = {"Reply": "Default", "ChannelPinnedMessage": "Default"}.get(m["type"], "Forward" if ref else None)
        assert (ref or {}).get("type") == expected
        if ref:
            assert int(ref["messageId"]) < int(m["id"]) and ref["messageId"] in by_id
        if ref and ref["type"] == "Forward":
            assert m["content"] == "" and m["forwardedMessage"]["content"] == by_id[ref["messageId"]]["content"]
        for r in m["reactions"]:
            users = [u["id"] for u in r["users"]]
            assert len(users) == len(set(users)) <= r["count"] and m["author"]["id"] not in users
    reactions = [r for m in ms for r in m["reactions"]]
    assert any(r["count"] > len(r["users"]) for r in reactions) and any(r["emoji"]["id"] for r in reactions)
    bots = {m["author"]["id"] for m in ms if m["author"]["isBot"]}
    assert len(bots) == 1 and all(m["mentions"] for m in ms if m["author"]["id"] in bots)

    truth = dc.truth(export)
    person = [m for m in ms if m["type"] in ("Default", "Reply")]
    assert (truth["messages"], truth["system"]) == (len(person), len(ms) - len(person))
    assert truth["replies"] == sum(m["type"] == "Reply" for m in ms) > 0
    assert truth["forwards"] > 0 and truth["pins"] > 0 and truth["mentions"] > 0 and truth["links"] > 0
    assert truth["joins"] == sum(m["type"] == "GuildMemberJoin" for m in ms) > 0
    assert truth["reactions"] == sum(r["count"] for r in reactions) == sum(truth["reactions_by_emoji"].values())
    assert any(k.startswith("custom:") for k in truth["reactions_by_emoji"]) and "❤️" in truth["reactions_by_emoji"]
    assert truth["authors"] == len({m["author"]["id"] for m in person}) and truth["bots"] == 1
    assert truth["first"] == dt.datetime.fromisoformat(person[0]["timestamp"]).astimezone(dt.UTC).isoformat()
    assert truth["last"] == dt.datetime.fromisoformat(person[-1]["timestamp"]).astimezone(dt.UTC).isoformat()


def test_written_as_dce_writes(export: dict, tmp_path: Path) -> None:
    path = dc.write_export(export, tmp_path)
    raw = path.read_text(encoding="utf-8")
    assert path.name == f"Makers - Text Channels - general [{export['channel']['id']}].json"
    assert raw.startswith('{\n  "guild": {\n    "id": ') and '\n  "messages": [\n    {\n      "id": ' in raw
    assert json.loads(raw) == export
    # Beyond the BMP escaped as UTF-16 pairs, as .NET does; ❤️ (U+2764 U+FE0F) literal.
    assert "\\uD83C\\uDF89" in raw or "\\uD83D\\uDC4D" in raw
    assert "❤️" in raw and not any(ord(c) > 0xFFFF for c in raw)


def _warehouse(con) -> dict:
    one = lambda sql: con.execute(sql).fetchone()  # noqa: E731
    by_emoji = dict(con.execute("SELECT emoji, sum(count) FROM reactions GROUP BY 1 ORDER BY 1").fetchall())
    first, last = one("SELECT min(sent_at), max(sent_at) FROM messages WHERE kind = 'message'")
    return {
        "messages": one("SELECT count(*) FROM messages WHERE kind = 'message'")[0],
        "system": one("SELECT count(*) FROM messages WHERE kind = 'system'")[0],
        "reactions": one("SELECT sum(count) FROM reactions")[0], "reactions_by_emoji": by_emoji,
        "replies": one("SELECT count(reply_to_id) FROM messages")[0],
        "forwards": one("SELECT count(forwarded_from) FROM messages")[0],
        "edited": one("SELECT count(edited_at) FROM messages WHERE kind = 'message'")[0],
        "media": one("SELECT count(*) FROM messages WHERE has_media")[0],
        "mentions": one("SELECT count(*) FROM mentions")[0], "links": one("SELECT count(*) FROM links")[0],
        "joins": one("SELECT count(*) FROM membership_events WHERE event = 'join'")[0],
        "pins": one("SELECT count(*) FROM messages WHERE kind = 'system' AND text LIKE '%: Pinned a message.'")[0],
        "authors": one("SELECT count(DISTINCT author_id) FROM messages")[0],
        "bots": one("SELECT count(*) FROM accounts WHERE is_bot")[0],
        "first": first.astimezone(dt.UTC).isoformat(), "last": last.astimezone(dt.UTC).isoformat(),
    }


def test_round_trip(export: dict, tmp_path: Path, con) -> None:
    report = ingest_file(con, dc.write_export(export, tmp_path), config=HubConfig())
    assert report.error is None and report.platform == "discord" and report.result.quarantined == 0
    assert _warehouse(con) == dc.truth(export)
    # Every message comes back where it was, with its words (a forward's are the forwarded ones).
    rows = con.execute("SELECT split_part(message_id, '/', -1), text FROM messages WHERE kind = 'message' "
                       "ORDER BY position").fetchall()
    person = [m for m in export["messages"] if m["type"] in dc.PERSON_TYPES]
    assert rows == [(m["id"], m.get("forwardedMessage", m)["content"]) for m in person]
    assert con.execute("SELECT count(*) FROM reactions WHERE reactor_id IS NULL").fetchone()[0] > 0


def test_parts_round_trip(export: dict, tmp_path: Path, con) -> None:
    paths = dc.write_parts(export, tmp_path, 500)
    n = -(-len(export["messages"]) // 500)
    assert [p.name for p in paths][1:3] == [dc.file_name(export, 2), dc.file_name(export, 3)] and len(paths) == n
    assert paths[1].name.endswith(f"[{export['channel']['id']}] [part 2].json")
    reports = [ingest_file(con, p, config=HubConfig()) for p in reversed(paths)]  # any order
    assert all(r.error is None and r.result.quarantined == 0 for r in reports)
    assert sum(r.result.new for r in reports) == len(export["messages"])
    truth = dc.truth(export)
    assert _warehouse(con) == truth
    again = [ingest_file(con, p, config=HubConfig(), force=True) for p in paths]
    assert sum(r.result.new for r in again) == 0 and _warehouse(con) == truth
    assert con.execute("SELECT count(*) FROM channels").fetchone() == (1,)
