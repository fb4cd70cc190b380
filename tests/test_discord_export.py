"""DiscordChatExporter JSON exports: every file of ../shared/corpus/discord reads right, the `[part N]`
files of one channel become one channel, and the shapes the samples don't show (threads, DMs, group
DMs, cut files, broken messages, odd layouts, other platforms' JSON) too.

Expected values were read off the JSON files themselves.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import ftfy
import pytest

from connectors import detect_platform
from connectors.discord import export
from hub.config import HubConfig
from hub.ingest import ingest_file
from hub.simulate.discord import dce_json

D = "discord"
GENERAL = "zulip__zulip/zulip-discord server - Text Channels - general [1519311538035490958]"
PARTS = [f"{GENERAL}.json", f"{GENERAL} [part 2].json", f"{GENERAL} [part 3].json"]
GENERAL_2 = "zulip__zulip/zulip-discord server - Text Channels - general-2 [1519313380647764018].json"
PRIVATE = "zulip__zulip/zulip-discord server - Text Channels - private [1519314256007266425].json"
VOICE = "zulip__zulip/zulip-discord server - Voice Channels - General [1519311538035490959].json"
# file -> (messages, system, authors, reactions, first UTC, last UTC, channel name, kind)
EXPECTED = {
    PARTS[0]: (12, 1, {"pieter"}, 6, "2026-06-24 12:04:23.180", "2026-06-24 12:08:33.812", "general", "channel"),
    PARTS[1]: (12, 2, {"pieter", "hamlet"}, 0, "2026-06-24 12:16:11.316", "2026-06-24 13:45:19.758", "general",
               "channel"),
    PARTS[2]: (1, 0, {"hamlet"}, 0, "2026-06-24 13:45:39.797", "2026-06-24 13:45:39.797", "general", "channel"),
    GENERAL_2: (4, 0, {"pieter", "hamlet"}, 0, "2026-06-24 12:09:05.009", "2026-06-24 13:43:39.066", "general-2",
                "channel"),
    PRIVATE: (2, 1, {"pieter"}, 0, "2026-06-24 12:12:33.463", "2026-06-24 12:13:42.751", "private", "channel"),
    VOICE: (3, 0, {"pieter", "hamlet"}, 0, "2026-06-24 12:15:46.233", "2026-06-24 13:43:47.324", "General", "channel"),
}
P = "discord:default:"
GENERAL_ID = f"{P}1519311538035490958"


def _files(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / D).rglob("*") if p.is_file())


def _ingest(con, path: Path, **kw):
    report = ingest_file(con, path, config=HubConfig(), **kw)
    assert report.error is None, report.error
    return report


def _one(con, sql: str, *params):
    return con.execute(sql, list(params)).fetchone()


def test_every_corpus_file_is_known(corpus: Path) -> None:
    assert {p.relative_to(corpus / D).as_posix() for p in _files(corpus)} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(corpus: Path, con, name: str) -> None:
    messages, system, authors, reactions, first, last, channel, kind = EXPECTED[name]
    report = _ingest(con, corpus / D / name)
    assert report.platform == D and report.channel == channel
    assert (report.result.records, report.result.new, report.result.quarantined) == (messages, messages, 0)
    assert _one(con, "SELECT count(*) FROM messages WHERE kind = 'system'") == (system,)
    found = {a for (a,) in con.execute("SELECT DISTINCT author_name FROM messages WHERE kind = 'message'").fetchall()}
    assert found == authors
    assert _one(con, "SELECT coalesce(sum(count), 0) FROM reactions") == (reactions,)
    assert _one(con, """SELECT strftime(min(sent_at) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%g'),
                               strftime(max(sent_at) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%g') FROM messages""") \
        == (first, last)
    assert con.execute("SELECT name, kind FROM channels").fetchall() == [(channel, kind)]
    assert _one(con, "SELECT count(*) FROM quarantine") == (0,)
    assert _one(con, """SELECT count(*) FROM messages m ANTI JOIN accounts a ON a.account_id = m.author_id
                        WHERE m.author_id IS NOT NULL""") == (0,)
    assert _one(con, "SELECT count(*) FROM messages WHERE kind = 'system' AND author_id IS NOT NULL") == (0,)


def test_parts_of_one_channel_are_one_channel(corpus: Path, con) -> None:
    reports = [_ingest(con, corpus / D / name) for name in PARTS]
    assert [r.result.new for r in reports] == [12, 12, 1]
    assert {r.result.source_id for r in reports}.__len__() == 3  # three files, three sources
    assert con.execute("SELECT channel_id, name FROM channels").fetchall() == [(GENERAL_ID, "general")]
    assert _one(con, "SELECT count(*), count(DISTINCT message_id) FROM messages") == (25, 25)
    assert _one(con, "SELECT count(*) FROM messages WHERE message_id NOT LIKE ?", GENERAL_ID + "/%") == (0,)
    again = [ingest_file(con, corpus / D / name, config=HubConfig(), force=True) for name in PARTS]
    assert [(r.result.records, r.result.new) for r in again] == [(12, 0), (12, 0), (1, 0)]
    assert _one(con, "SELECT count(*), count(DISTINCT message_id) FROM messages") == (25, 25)
    assert _one(con, "SELECT sum(count) FROM reactions") == (6,)
    assert _one(con, "SELECT count(*) FROM membership_events") == (2,)
    assert _one(con, "SELECT count(*) FROM mentions") == (1,)
    assert _one(con, "SELECT count(*) FROM links") == (2,)
    assert [ingest_file(con, corpus / D / name, config=HubConfig()).skipped for name in PARTS] == [True] * 3


def test_forward_reply_and_what_the_corpus_holds(corpus: Path, con) -> None:
    for name in sorted(EXPECTED):
        _ingest(con, corpus / D / name)
    # The forward: its text is the forwarded message's, and it points at the original (in #general).
    forward = con.execute("""SELECT f.text, f.author_name, f.forwarded_from, o.author_name, o.text
                             FROM messages f JOIN messages o ON o.message_id = f.forwarded_from
                             WHERE f.forwarded_from IS NOT NULL""").fetchall()
    assert forward == [("Reactions", "pieter", f"{GENERAL_ID}/1519313281611862046", "pieter", "Reactions")]
    replies = con.execute("""SELECT r.text, o.text FROM messages r LEFT JOIN messages o ON o.message_id = r.reply_to_id
                             WHERE r.reply_to_id IS NOT NULL ORDER BY r.sent_at""").fetchall()
    # "This is my gif!" answers a message that is in none of the files (deleted before the export).
    assert replies == [("reply", "Chat in side a voice channel"), ("this is a reply", "Reactions"),
                       ("This is my gif!", None)]
    assert _one(con, "SELECT reply_to_id FROM messages WHERE text = 'reply'") == (
        f"{P}1519311538035490959/1519315095317119009",)
    # Reactions: escaped (\uD83D\uDCAF) and literal (❤️) emoji alike; each reactor a row.
    assert sorted(con.execute("""SELECT emoji, a.handle, count FROM reactions r
                                 JOIN accounts a ON a.account_id = r.reactor_id""").fetchall()) == sorted([
        ("❤️", "hamlet", 1), ("💖", "pieter", 1), ("💯", "pieter", 1), ("🙏", "hamlet", 1),
        ("😆", "hamlet", 1), ("😆", "pieter", 1)])
    assert _one(con, "SELECT text FROM messages WHERE message_id LIKE '%/1519312865599684608'") == ("💯",)
    # Mentions: hamlet names pieter; pieter naming himself is not a mention; @everyone/@here are nobody.
    assert con.execute("""SELECT m.author_name, a.display_name FROM mentions x JOIN messages m USING (message_id)
                          JOIN accounts a ON a.account_id = x.account_id""").fetchall() == [("hamlet", "pieter")]
    # Links: what Discord links (http/https); the bare domain "chat.zulip.org" is not one.
    assert sorted(u for (u,) in con.execute("SELECT url FROM links").fetchall()) == [
        "https://discord.com/channels/1519311536839983195/1519311538035490958/1519315200522846228",
        "https://tenor.com/view/cat-no-nonono-noooo-cat-no-gif-13597132752790194338"]
    # Accounts: the bot; names from messages (hamlet's reactions call him "TTW", his global name).
    assert con.execute("SELECT native_id, display_name, handle, is_bot FROM accounts ORDER BY 1").fetchall() == [
        ("1000000000000000001", "pieter", "pieter", False), ("1000000000000000002", "hamlet", "hamlet", False),
        ("1000000000000000003", "test-zulip-import", "test-zulip-import#9431", True)]
    # System messages keep who did it; joins are membership events.
    assert [t for (t,) in _rows(con, "SELECT text FROM messages WHERE kind = 'system' ORDER BY sent_at")] == [
        "test-zulip-import: Joined the server.", "pieter: Started a thread.", "pieter: Pinned a message.",
        "hamlet: Joined the server."]
    assert con.execute("""SELECT a.display_name, e.event, e.actor_id, e.channel_id FROM membership_events e
                          JOIN accounts a USING (account_id) ORDER BY e."at" """).fetchall() == [
        ("test-zulip-import", "join", None, GENERAL_ID), ("hamlet", "join", None, GENERAL_ID)]
    # Media (attachments, the tenor embed), edits; a message with nothing in it is still a message.
    assert _one(con, "SELECT count(*) FROM messages WHERE has_media") == (4,)
    assert _one(con, """SELECT text, strftime(edited_at AT TIME ZONE 'UTC', '%H:%M:%S') FROM messages
                        WHERE edited_at IS NOT NULL""") == ("Image files", "13:56:15")
    assert _one(con, "SELECT count(*) FROM messages WHERE kind = 'message' AND text = '' AND NOT has_media") == (1,)


def test_no_mojibake_nor_lone_surrogates(corpus: Path, con) -> None:
    for path in _files(corpus):
        _ingest(con, path)
    strings = [s for (s,) in con.execute("""
        SELECT text FROM messages UNION ALL SELECT author_name FROM messages UNION ALL SELECT emoji FROM reactions
        UNION ALL SELECT display_name FROM accounts UNION ALL SELECT handle FROM accounts
        UNION ALL SELECT name FROM channels UNION ALL SELECT url FROM links""").fetchall() if s]
    assert len(strings) > 60
    assert not [s for s in strings if ftfy.badness.is_bad(s)]
    assert not [s for s in strings if any(0xD800 <= ord(c) <= 0xDFFF or c == "\x00" for c in s)]
    emoji = {e for (e,) in _rows(con, "SELECT DISTINCT emoji FROM reactions")}
    assert emoji == {"💯", "😆", "💖", "🙏", "❤️"}


# -- shapes the corpus does not show ----------------------------------------------------------------

def _user(n: int, name: str, **extra) -> dict:
    return {"id": str(1000 + n), "name": name.lower(), "discriminator": "0000", "nickname": name, "color": None,
            "isBot": False, "roles": [], "avatarUrl": "https://cdn.discordapp.com/embed/avatars/0.png", **extra}


ANN, BOB, CY = _user(1, "Ann"), _user(2, "Bob"), _user(3, "Cy")


def _message(i: int, author: dict = ANN, content: str | None = None, kind: str = "Default", **extra) -> dict:
    return {"id": str(900 + i), "type": kind, "timestamp": f"2024-05-01T12:{i:02d}:00.5+02:00",
            "timestampEdited": None, "callEndedTimestamp": None, "isPinned": False,
            "content": f"message {i}" if content is None else content, "author": author, "attachments": [],
            "embeds": [], "stickers": [], "reactions": [], "mentions": [], **extra}


def _export(messages: list[dict], kind: str = "GuildTextChat", **channel) -> dict:
    guild = {"id": "0", "name": "Direct Messages", "iconUrl": ""} if kind.startswith("Direct") else \
        {"id": "77", "name": "Makers", "iconUrl": ""}
    return {"guild": guild, "channel": {"id": "500", "type": kind, "categoryId": None, "category": None,
                                        "name": "chat", "topic": None, **channel},
            "dateRange": {"after": None, "before": None}, "exportedAt": "2024-05-02T00:00:00.1234567+02:00",
            "messages": messages, "messageCount": len(messages)}


def _write(path: Path, data: dict) -> Path:
    path.write_text(dce_json(data), encoding="utf-8")
    return path


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_a_later_export_brings_a_messages_edit_and_its_new_links(tmp_path: Path, con) -> None:
    first = _export([_message(1, content="see https://a.example/x"), _message(2)])
    _ingest(con, _write(tmp_path / "first.json", first))
    later = _export([_message(1, content="see https://a.example/y", timestampEdited="2024-05-01T13:00:00+02:00"),
                     _message(2), _message(3)])
    report = _ingest(con, _write(tmp_path / "later.json", later))
    assert (report.result.new, report.result.duplicate) == (1, 2)
    assert _rows(con, "SELECT text, strftime(edited_at AT TIME ZONE 'UTC', '%H:%M') FROM messages "
                      "WHERE message_id LIKE '%/901'") == [("see https://a.example/y", "11:00")]
    assert _rows(con, "SELECT url FROM links") == [("https://a.example/y",)]
    # The first export again changes nothing back: its text is older.
    _ingest(con, tmp_path / "first.json", force=True)
    assert _rows(con, "SELECT text FROM messages WHERE message_id LIKE '%/901'") == [("see https://a.example/y",)]
    assert _rows(con, "SELECT url FROM links") == [("https://a.example/y",)]
    # An edit that takes the link (and nothing else) out leaves no link behind.
    latest = _export([_message(1, content="no link any more", timestampEdited="2024-05-01T14:00:00+02:00")])
    _ingest(con, _write(tmp_path / "latest.json", latest))
    assert _rows(con, "SELECT url FROM links") == []


def test_an_unreadable_edit_time_and_a_second_copy_are_told(tmp_path: Path, con) -> None:
    data = _export([_message(1, timestampEdited="2024-05-01T12:30:00"), _message(2),
                    _message(2, content="the copy says otherwise")])
    report = _ingest(con, _write(tmp_path / "odd.json", data))
    assert (report.result.new, report.result.quarantined) == (2, 2)
    quarantined = _rows(con, "SELECT location, reason, raw FROM quarantine ORDER BY location")
    assert [(q[0], q[1].split(" (")[0].split(" in ")[0]) for q in quarantined] == [
        ("message #1", "an edit time that cannot be read"), ("message #3", "a second message with id 902")]
    assert "the copy says otherwise" in quarantined[1][2]
    assert _rows(con, "SELECT count(*) FROM messages WHERE edited_at IS NULL") == [(2,)]


def test_thread(tmp_path: Path, con) -> None:
    data = _export([_message(1, kind="21", content=""), _message(2), _message(3, BOB, kind="Reply", reference={
        "type": "Default", "messageId": "902", "channelId": "500", "guildId": "77"})],
        kind="GuildPublicThread", categoryId="400", category="general", name="Laser cutter settings")
    _ingest(con, _write(tmp_path / "thread.json", data))
    assert _rows(con, "SELECT name, kind FROM channels") == [("Laser cutter settings", "thread")]
    assert _rows(con, "SELECT DISTINCT thread_id FROM messages") == [(f"{P}400/500",)]
    assert _rows(con, "SELECT kind::VARCHAR, count(*) FROM messages GROUP BY 1 ORDER BY 1") == [
        ("message", 2), ("system", 1)]
    assert _rows(con, "SELECT reply_to_id FROM messages WHERE author_name = 'Bob'") == [(f"{P}500/902",)]


def test_direct_messages_and_a_call(tmp_path: Path, con) -> None:
    data = _export([_message(1, content="hi 👋"), _message(2, BOB, kind="Call", content="Started a call.",
                                                          callEndedTimestamp="2024-05-01T12:05:00+02:00"),
                    _message(3, BOB, content="see <https://example.org/a>, and https://example.org/b.")],
                   kind="DirectTextChat", name="bob")
    _ingest(con, _write(tmp_path / "dm.json", data))
    assert _rows(con, "SELECT name, kind FROM channels") == [("bob", "direct")]
    assert _rows(con, "SELECT kind::VARCHAR, author_name, text FROM messages ORDER BY position") == [
        ("message", "Ann", "hi 👋"), ("system", None, "Bob: Started a call."),
        ("message", "Bob", "see <https://example.org/a>, and https://example.org/b.")]
    assert sorted(_rows(con, "SELECT url FROM links")) == [("https://example.org/a",), ("https://example.org/b",)]
    assert _rows(con, """SELECT strftime(sent_at AT TIME ZONE 'UTC', '%H:%M:%S.%g') FROM messages
                         ORDER BY position LIMIT 1""") == [("10:01:00.500",)]


def test_group_dm_membership(tmp_path: Path, con) -> None:
    data = _export([
        _message(1, ANN, "Added Bob to the group.", "RecipientAdd", mentions=[BOB]),
        _message(2, ANN, "Added Cy to the group.", "RecipientAdd", mentions=[CY]),
        _message(3, ANN, "Changed the channel name: Makers", "ChannelNameChange"),
        _message(4, ANN, "Changed the channel icon.", "ChannelIconChange"),
        _message(5, CY, "Left the group.", "RecipientRemove", mentions=[CY]),
        _message(6, ANN, "Removed Bob from the group.", "RecipientRemove", mentions=[BOB]),
        _message(7, BOB, "still here?"),
        _message(8, ANN, "Added Dee to the group.", "RecipientAdd", mentions=[_user(4, "Dee")]),
        _message(9, ANN, "Added someone to the group.", "RecipientAdd"),
    ], kind="DirectGroupTextChat", name="Makers")
    _ingest(con, _write(tmp_path / "group.json", data))
    assert _rows(con, "SELECT name, kind FROM channels") == [("Makers", "group")]
    assert _rows(con, "SELECT kind::VARCHAR, count(*) FROM messages GROUP BY 1 ORDER BY 1") == [
        ("message", 1), ("system", 8)]
    # Dee, added and silent, is an account all the same; an add naming no one is only a system message.
    assert _rows(con, """SELECT a.display_name, e.event, x.display_name FROM membership_events e
                         LEFT JOIN accounts a ON a.account_id = e.account_id
                         LEFT JOIN accounts x ON x.account_id = e.actor_id ORDER BY e."at" """) == [
        ("Bob", "add", "Ann"), ("Cy", "add", "Ann"), ("Cy", "leave", None), ("Bob", "remove", "Ann"),
        ("Dee", "add", "Ann")]
    assert _rows(con, "SELECT count(*) FROM mentions") == [(0,)]


def test_reactions_users_fewer_than_count_custom_emoji_bots_and_names(tmp_path: Path, con) -> None:
    bot = _user(9, "Helper", isBot=True, discriminator="4821")
    legacy = _user(4, "Dee", discriminator="0042", nickname=None, globalName="Dee D.")
    data = _export([
        _message(1, content="vote", reactions=[
            {"emoji": {"id": "", "name": "\U0001F44D", "code": "thumbsup", "isAnimated": False}, "count": 5,
             "users": [BOB, CY, BOB]},
            {"emoji": {"id": "123456", "name": "party_blob", "code": "party_blob", "isAnimated": True}, "count": 1,
             "users": [legacy]},
            {"emoji": {"id": "", "name": "❤️", "code": "heart", "isAnimated": False}, "count": 2, "users": []}]),
        _message(2, bot, "Welcome @Bob!", mentions=[BOB, BOB]),
        _message(3, BOB, "", stickers=[{"id": "1", "name": "Wave"}], timestampEdited="2024-05-01T12:30:00Z"),
    ])
    _ingest(con, _write(tmp_path / "reactions.json", data))
    assert _rows(con, """SELECT emoji, a.display_name, count FROM reactions LEFT JOIN accounts a
                         ON a.account_id = reactor_id ORDER BY emoji, a.display_name NULLS LAST""") == [
        ("custom:123456", "Dee D.", 1), ("❤️", None, 2), ("👍", "Bob", 1), ("👍", "Cy", 1), ("👍", None, 3)]
    assert _rows(con, "SELECT handle, is_bot FROM accounts WHERE is_bot OR handle LIKE '%#%' ORDER BY 1") == [
        ("dee#0042", False), ("helper#4821", True)]
    assert _rows(con, "SELECT account_id FROM mentions") == [(f"{P}1002",)]
    assert _rows(con, """SELECT has_media, strftime(edited_at AT TIME ZONE 'UTC', '%H:%M') FROM messages
                         WHERE author_name = 'Bob'""") == [(True, "12:30")]


def test_forward_with_words_of_the_forwarder(tmp_path: Path, con) -> None:
    forwarded = {"timestamp": "2024-04-01T10:00:00+00:00", "timestampEdited": None, "content": "the original",
                 "attachments": [{"id": "5", "url": "a.png", "fileName": "a.png", "fileSizeBytes": 9}],
                 "embeds": [], "stickers": []}
    reference = {"type": "Forward", "messageId": "42", "channelId": "600", "guildId": "77"}
    data = _export([_message(1, content="", reference=reference, forwardedMessage=forwarded),
                    _message(2, content="look", reference=reference, forwardedMessage=forwarded)])
    _ingest(con, _write(tmp_path / "forward.json", data))
    assert _rows(con, "SELECT text, forwarded_from, has_media, reply_to_id FROM messages ORDER BY position") == [
        ("the original", f"{P}600/42", True, None), ("look\nthe original", f"{P}600/42", True, None)]


def test_escaped_and_literal_emoji_are_the_same_and_lone_surrogates_are_repaired(tmp_path: Path, con) -> None:
    data = _export([_message(1, content="😀 and ❤️"), _message(2, content="LONE"), _message(3)])
    raw = json.dumps(data, indent=2, ensure_ascii=False)
    raw = raw.replace('"message 3"', '"\\ud83d\\ude00 and \\u2764\\ufe0f"').replace("LONE", "half \\ud83d pair")
    path = tmp_path / "emoji.json"
    path.write_text(raw, encoding="utf-8")
    reader = export.ExportReader(path)
    list(reader.batches())
    assert reader.summary.repaired_surrogates == 1
    _ingest(con, path)
    assert _rows(con, "SELECT text FROM messages ORDER BY position") == [
        ("😀 and ❤️",), ("half \ufffd pair",), ("😀 and ❤️",)]


def test_a_cut_file_loads_up_to_where_it_ends(tmp_path: Path, con) -> None:
    whole = dce_json(_export([_message(i) for i in range(1, 6)]))
    cut = whole[:whole.index('"message 4"')]
    path = tmp_path / "cut.json"
    path.write_text(cut, encoding="utf-8")
    report = _ingest(con, path)
    assert (report.result.records, report.result.quarantined) == (3, 1)
    location, reason = _one(con, "SELECT location, reason FROM quarantine")
    assert location == "message #4" and "ends inside this message" in reason
    # Cut right after a whole message: every message loads, and the cut is said.
    path.write_text(whole[:whole.index("\n    }\n  ]") + 6], encoding="utf-8")
    report = _ingest(con, path)
    assert (report.result.records, report.result.quarantined) == (5, 1)
    assert _one(con, "SELECT location FROM quarantine WHERE source_id = ?", report.result.source_id) == (
        "after message #5",)
    # Cut before the messages: nothing to read, one clear line.
    path.write_text(whole[:120], encoding="utf-8")
    report = ingest_file(con, path, config=HubConfig())
    assert report.result is None and "cut.json" in report.error and "DiscordChatExporter" in report.error
    assert "Traceback" not in report.error


def test_broken_and_repeated_messages_are_set_aside(tmp_path: Path, con) -> None:
    messages = [_message(1), _message(2, timestamp="yesterday"), _message(3), _message(4), _message(5, content=7)]
    messages[3]["id"] = "901"  # the same id as the first message
    raw = dce_json(_export(messages)).replace('"message 3"', '"message 3" oops')
    path = tmp_path / "broken.json"
    path.write_text(raw.replace('"message 1"', '"half \\udc00"'), encoding="utf-8")
    reader = export.ExportReader(path)
    assert sum(len(b) for b in reader.batches() if b.stream == "messages") == 2
    assert (reader.summary.quarantined, reader.summary.repaired_surrogates) == (3, 1)
    report = _ingest(con, path)
    assert (report.result.records, report.result.quarantined) == (2, 3)
    assert _rows(con, "SELECT location, split_part(reason, ':', 1) FROM quarantine ORDER BY location") == [
        ("message #2", "a message without a readable timestamp"), ("message #3", "not valid JSON"),
        ("message #4", "a second message with id 901 in this file")]
    assert _rows(con, "SELECT text FROM messages ORDER BY position") == [("half \ufffd",), ("7",)]
    # What was set aside is kept as the file wrote it, not as Python shows a buffer.
    (raw,) = _one(con, "SELECT raw FROM quarantine WHERE location = 'message #3'")
    assert raw.lstrip().startswith("{") and '"message 3" oops' in raw and "bytearray" not in raw


def test_message_count_is_not_trusted_and_any_layout_reads(tmp_path: Path, con) -> None:
    data = _export([_message(i) for i in range(1, 4)])
    data["messageCount"] = 10
    pretty = _write(tmp_path / "pretty.json", data)
    reader = export.ExportReader(pretty)
    assert sum(len(b) for b in reader.batches() if b.stream == "messages") == 3
    assert (reader.summary.message_count, reader.summary.entries, reader.summary.count_disagrees) == (10, 3, True)
    # Minified, keys in another order, CRLF: the same messages.
    moved = {"messages": data["messages"], **{k: v for k, v in data.items() if k != "messages"}}
    minified = tmp_path / "minified.json"
    minified.write_text(json.dumps(moved, separators=(",", ":")), encoding="utf-8")
    crlf = tmp_path / "crlf.json"
    crlf.write_bytes(pretty.read_bytes().replace(b"\n", b"\r\n"))
    for path, layout in ((minified, "whole"), (crlf, "pretty")):
        r = export.ExportReader(path)
        got = [b.table for b in r.batches() if b.stream == "messages"]
        assert r.summary.layout == layout and sum(t.num_rows for t in got) == 3
    empty = _write(tmp_path / "empty.json", _export([]))
    report = _ingest(con, empty)
    assert (report.result.records, report.channel) == (0, "chat")


def test_small_blocks_read_the_same(tmp_path: Path, monkeypatch) -> None:
    data = _export([_message(i, reactions=[{"emoji": {"id": "", "name": "🎉"}, "count": 2, "users": [BOB]}])
                    for i in range(1, 40)])
    path = _write(tmp_path / "blocks.json", data)

    def read() -> list:
        reader = export.ExportReader(path)
        return [(b.stream, b.table.to_pylist()) for b in reader.batches()]

    whole = read()
    monkeypatch.setattr(export, "BLOCK_BYTES", 700)
    small = read()
    def merged(batches: list) -> dict:
        return {s: sorted((r for t, rows in batches if t == s for r in rows), key=repr) for s, _ in batches}

    assert merged(small) == merged(whole)
    assert len([s for s, _ in small if s == "messages"]) > 5


def test_other_platforms_are_not_discord(corpus: Path, tmp_path: Path) -> None:
    telegram = corpus / "telegram/langchain-ai__langchain-community/chat_loaders/data/telegram_chat_json/result.json"
    slack_day = next((corpus / "slack/houstondatavis__slack-export/general").glob("*.json"))
    facebook = corpus / "facebook/joweich__chat-miner/test_export.json"
    for path in (telegram, slack_day, corpus / "slack/houstondatavis__slack-export/users.json", facebook):
        assert not export.sniff(path), path
    assert detect_platform(telegram) == "telegram"
    assert export.sniff(corpus / D / PARTS[0]) and detect_platform(corpus / D / PARTS[0]) == D
    # A JSON object that mentions a guild but is no export, and a folder of DCE files.
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"settings": 1, "guild": {"id": 1}, "channel": {"id": 2}}), encoding="utf-8")
    assert not export.sniff(other)
    assert not export.sniff(corpus / D / "zulip__zulip")
    with pytest.raises(export.UnreadableExport, match="not a DiscordChatExporter JSON export"):
        export.ExportReader(telegram)


def test_channel_option_names_the_channel_and_community_scopes_ids(tmp_path: Path, con) -> None:
    data = copy.deepcopy(_export([_message(1)]))
    report = _ingest(con, _write(tmp_path / "c.json", data), channel="Makers general", community="makers")
    assert report.channel == "Makers general"
    assert _rows(con, "SELECT channel_id, name FROM channels") == [("discord:makers:500", "Makers general")]
    assert _rows(con, "SELECT message_id, author_id FROM messages") == [
        ("discord:makers:500/901", "discord:makers:1001")]
