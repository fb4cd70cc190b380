"""The Telegram writer: a deterministic Desktop export whose truth matches it, Telegram's 1-space
`result.json` layout (also when streamed at benchmark size), and a Bot API update stream that
python-telegram-bot parses with the export's ids, replies and reaction totals intact.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from telegram import Update

from hub.simulate import simulate
from hub.simulate import telegram as tg


@pytest.fixture(scope="module")
def chat() -> dict:
    return tg.chat(simulate(members=60, days=120, seed=5), tz="Europe/Berlin")


def test_deterministic() -> None:
    sim = simulate(members=40, days=60, seed=2)
    assert tg.chat(sim, seed=9) == tg.chat(simulate(members=40, days=60, seed=2), seed=9)
    assert tg.chat(sim, seed=9) != tg.chat(sim, seed=10)


def test_export_shape_and_truth(chat: dict) -> None:
    ms = chat["messages"]
    assert (chat["type"], chat["id"]) == ("private_supergroup", 1700000001)
    assert [m["id"] for m in ms] == list(range(1, len(ms) + 1))
    assert all(int(a["date_unixtime"]) <= int(b["date_unixtime"]) for a, b in zip(ms, ms[1:]))
    zone = tg.ZoneInfo("Europe/Berlin")
    assert all(dt.datetime.fromisoformat(m["date"]).replace(tzinfo=zone).timestamp() == int(m["date_unixtime"])
               for m in ms)
    by_id = {m["id"]: m for m in ms}
    texts = [m for m in ms if m["type"] == "message"]
    for m in texts:
        assert m["from_id"] == f"user{int(m['from_id'][4:])}" and isinstance(m["text_entities"], list)
        assert isinstance(m["text"], list) == any(e["type"] != "plain" for e in m["text_entities"])
        if "reply_to_message_id" in m:
            assert by_id[m["reply_to_message_id"]]["id"] < m["id"]
        for r in m.get("reactions", ()):
            names = [p["from"] for p in r["recent"]]
            assert len(names) == len(set(names)) <= min(3, r["count"]) and m["from"] not in names
    kinds = Counter(e["type"] for m in texts for e in m["text_entities"])
    assert kinds["link"] and kinds["mention"] and kinds["mention_name"]
    assert any(r["count"] > len(r["recent"]) for m in texts for r in m.get("reactions", ()))
    assert {m.get("media_type") for m in texts} >= {"sticker", "voice_message"} and any("photo" in m for m in texts)
    assert {m["action"] for m in ms if m["type"] == "service"} >= {
        "create_group", "invite_members", "join_group_by_link", "remove_members", "pin_message"}

    truth = tg.truth(chat)
    assert (truth["messages"], truth["service"]) == (len(texts), len(ms) - len(texts))
    assert truth["forwards"] == sum("forwarded_from" in m for m in texts) > 0
    assert truth["replies"] == sum("reply_to_message_id" in m for m in texts) > 0
    assert truth["reactions"] == sum(r["count"] for m in texts for r in m.get("reactions", ()))
    assert truth["reactions"] == sum(truth["reactions_by_emoji"].values())
    assert any(k.startswith("custom:") for k in truth["reactions_by_emoji"])
    assert truth["authors"] == len({m["from_id"] for m in texts})
    assert truth["first"] == dt.datetime.fromtimestamp(int(texts[0]["date_unixtime"]), dt.UTC).isoformat()


def test_write_export_layout(chat: dict, tmp_path) -> None:
    path = tg.write_export(chat, tmp_path)
    raw = path.read_text(encoding="utf-8")
    assert path.name == "result.json" and raw.startswith('{\n "name": "Makers",\n "type": "private_supergroup"')
    assert json.loads(raw) == chat and raw == json.dumps(chat, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("n", [0, 3, 20_000])
def test_write_large_export(tmp_path, n: int) -> None:
    path = tmp_path / "result.json"
    want = tg.write_large_export(path, n, seed=3)
    raw = path.read_text(encoding="utf-8")
    with path.open(encoding="utf-8") as f:
        got = json.load(f)
    assert raw == json.dumps(got, indent=1, ensure_ascii=False)
    ms = got["messages"]
    assert len(ms) == n and [m["id"] for m in ms] == list(range(1, n + 1))
    assert tg.truth(got) == want
    assert all(m["reply_to_message_id"] < m["id"] for m in ms if "reply_to_message_id" in m)
    if n == 20_000:
        assert want["reactions"] and want["replies"] and want["service"] and want["links"]


def test_updates_parse_with_python_telegram_bot(chat: dict) -> None:
    raw = tg.updates(chat, first_update_id=100)
    updates = [Update.de_json(u, bot=None) for u in raw]
    assert [u.update_id for u in updates] == list(range(100, 100 + len(raw)))
    dates = [u.effective_message.date if u.effective_message else
             (u.message_reaction or u.message_reaction_count or u.chat_member).date for u in updates]
    assert dates == sorted(dates)
    by_id = {m["id"]: m for m in chat["messages"]}
    messages = [u.message for u in updates if u.message]
    assert len(messages) == len(chat["messages"])
    for message in messages:
        export = by_id[message.message_id]
        assert message.chat.id == -1001700000001 and message.chat.type == "supergroup"
        assert message.from_user.id == int((export.get("from_id") or export["actor_id"])[4:])
        if "reply_to_message_id" in export:
            assert message.reply_to_message.message_id == export["reply_to_message_id"]
        if "forwarded_from" in export:
            assert message.forward_origin is not None
        if "edited_unixtime" in export:
            assert message.edit_date.timestamp() == int(export["edited_unixtime"])
        if isinstance(export["text"], list):  # entities land where the export put them
            parsed = (message.parse_caption_entities() if message.caption else message.parse_entities()).values()
            assert sorted(parsed) == sorted(e["text"] for e in export["text"] if isinstance(e, dict))
    named: Counter = Counter()  # (message, emoji) -> reactors named
    counted: dict = {}  # (message, emoji) -> total count, where some reactors are not named
    for u in updates:
        if u.message_reaction:
            assert u.message_reaction.chat.id == -1001700000001 and not u.message_reaction.old_reaction
            r = u.message_reaction.new_reaction[0]
            named[u.message_reaction.message_id, r.emoji if r.type == "emoji" else f"custom:{r.custom_emoji_id}"] += 1
        for rc in u.message_reaction_count.reactions if u.message_reaction_count else ():
            key = rc.type.emoji if rc.type.type == "emoji" else f"custom:{rc.type.custom_emoji_id}"
            counted[u.message_reaction_count.message_id, key] = rc.total_count
    totals: Counter = Counter()
    for key in set(named) | set(counted):
        totals[key[1]] += max(named[key], counted.get(key, 0))  # a total counts the named reactors too
    assert dict(sorted(totals.items())) == tg.truth(chat)["reactions_by_emoji"]
    joins = [u.chat_member for u in updates if u.chat_member and u.chat_member.new_chat_member.status == "member"]
    assert len(joins) == tg.truth(chat)["joins"] - 1  # the creator joined by creating the group: no update

    some = [m["id"] for m in chat["messages"] if m.get("reactions")][:2]
    subset = tg.updates(chat, message_ids=some)
    assert {u.get("message", u.get("message_reaction", u.get("message_reaction_count")))["message_id"]
            for u in subset} == set(some)
