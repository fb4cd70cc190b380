"""Telegram Desktop exports: every file of ../shared/corpus/telegram reads right, and the shapes the
samples don't show (reactions, service messages, forwards, entities, huge files) too.

Expected values were read off the JSON and HTML files themselves.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from connectors.files import UnreadableExport
from connectors.telegram import export
from hub.config import HubConfig
from hub.ingest import ingest_file

T = "telegram"
# file -> (messages, service, authors, first UTC, last UTC, chat name)
EXPECTED = {
    "joweich__chat-miner/test_single_export.json":
        (2, 0, {"Author 1", "Author 2"}, "2018-12-05 10:39:10", "2018-12-05 10:49:24", "test_single_export"),
    "joweich__chat-miner/test_batch_export.json":
        (2, 0, {"Author 1", "Author 2"}, "2018-12-05 10:39:10", "2018-12-05 10:49:24", "Chatname"),
    "langchain-ai__langchain-community/chat_loaders/data/telegram_chat_json/result.json":
        (4, 0, {"Jimmeny Marvelton", "Batman & Robin"}, "2023-08-23 20:11:23", "2023-08-23 20:15:53", "Jimmeny"),
    # The HTML says UTC-08:00 where result.json was written at UTC-07:00: its own times are kept.
    "langchain-ai__langchain-community/chat_loaders/data/telegram_chat_html/messages.html":
        (4, 0, {"Jimmeny Marvelton", "Batman & Robin"}, "2023-08-23 21:11:23", "2023-08-23 21:15:53",
         "Jimmeny Marvelton"),
    # Old format: integer from_id, no date_unixtime (times read in the community's zone, UTC here),
    # and mojibake names ("Grace ðŸ§¤" is "Grace 🧤").
    "langchain-ai__langchain-community/document_loaders/test_docs/telegram.json":
        (3, 0, {"Henry", "Grace 🧤 🍒"}, "2020-01-01 00:00:02", "2020-01-01 00:00:05", "Grace 🧤"),
    # A Telethon dump of a channel (not a Desktop export): the channel is the author.
    "langchain-ai__langchain-community/document_loaders/test_docs/telegram_channel.json":
        (4, 0, set(), "2023-05-03 15:32:25", "2023-05-15 19:30:49", "telegram_channel"),
}


def _files(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / T).rglob("*") if p.is_file())


def test_every_corpus_file_is_known(corpus: Path) -> None:
    assert {p.relative_to(corpus / T).as_posix() for p in _files(corpus)} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(corpus: Path, con, name: str) -> None:
    messages, service, authors, first, last, chat = EXPECTED[name]
    report = ingest_file(con, corpus / T / name, config=HubConfig())
    assert report.error is None and report.platform == T
    assert (report.result.records, report.result.new, report.result.quarantined) == (messages, messages, 0)
    assert con.execute("SELECT count(*) FROM messages WHERE kind = 'system'").fetchone() == (service,)
    found = {a for (a,) in con.execute("SELECT DISTINCT author_name FROM messages WHERE author_name IS NOT NULL")
             .fetchall()}
    assert found == authors
    span = con.execute("""SELECT strftime(min(sent_at) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S'),
                                 strftime(max(sent_at) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') FROM messages""")
    assert span.fetchone() == (first, last)
    assert con.execute("SELECT name FROM channels").fetchall() == [(chat,)]
    assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
    assert con.execute("""SELECT count(*) FROM messages m ANTI JOIN accounts a ON a.account_id = m.author_id
                          WHERE m.author_id IS NOT NULL""").fetchone() == (0,)


def test_corpus_details(corpus: Path, con) -> None:
    base = corpus / T / "langchain-ai__langchain-community"
    ingest_file(con, base / "document_loaders/test_docs/telegram.json", config=HubConfig())
    assert con.execute("SELECT native_id, display_name FROM accounts ORDER BY 1").fetchall() == [
        ("user4325636679", "Henry"), ("user4720225552", "Grace 🧤 🍒")]
    ingest_file(con, base / "document_loaders/test_docs/telegram_channel.json", config=HubConfig())
    replies = con.execute("""SELECT split_part(message_id, '/', -1), split_part(reply_to_id, '/', -1) FROM messages
                             WHERE reply_to_id IS NOT NULL AND message_id LIKE '%telegram_channel%' ORDER BY 1""")
    assert replies.fetchall() == [("1783", "1782"), ("1784", "1783")]
    ingest_file(con, corpus / T / "joweich__chat-miner/test_single_export.json", config=HubConfig())
    # A text given as a list of entities: plain text kept, the link extracted.
    assert con.execute("SELECT text FROM messages WHERE text LIKE 'Link:%'").fetchone() == ("Link:https://telegram.org/",)
    assert con.execute("SELECT url FROM links").fetchall() == [("https://telegram.org/",)]


def test_same_corpus_file_twice_adds_nothing(corpus: Path, con) -> None:
    path = corpus / T / "joweich__chat-miner/test_batch_export.json"
    first = ingest_file(con, path, config=HubConfig())
    again = ingest_file(con, path, config=HubConfig(), force=True)
    assert (first.result.new, again.result.new, again.result.records) == (2, 0, 2)
    assert con.execute("SELECT count(*) FROM messages").fetchone() == (2,)


# -- shapes the corpus does not show ----------------------------------------------------------------

def _message(i: int, **extra) -> dict:
    return {"id": i, "type": "message", "date": "2024-05-01T12:00:00", "date_unixtime": str(1714564800 + i),
            "from": "Ann Lee", "from_id": "user1001", "text": f"message {i}",
            "text_entities": [{"type": "plain", "text": f"message {i}"}], **extra}


def _chat(messages: list[dict], **extra) -> dict:
    return {"name": "Makers", "type": "private_supergroup", "id": 1700000001, "messages": messages, **extra}


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def test_reactions_service_forwards_entities(tmp_path: Path, con) -> None:
    messages = [
        _message(1, reactions=[
            {"type": "emoji", "count": 3, "emoji": "👍",
             "recent": [{"from": "Bob", "from_id": "user1002", "date": "2024-05-01T12:01:00"}]},
            {"type": "custom_emoji", "count": 1, "document_id": "5368324170671202286",
             "recent": [{"from": "Bob", "from_id": "user1002", "date": "2024-05-01T12:02:00"}]},
            {"type": "paid", "count": 2}]),
        _message(2, **{"from": "Bob", "from_id": "user1002", "reply_to_message_id": 1, "forwarded_from": "News",
                       "text": ["hi ", {"type": "mention_name", "text": "Ann Lee", "user_id": 1001}, " see ",
                                {"type": "text_link", "text": "this", "href": "https://example.org/a"}],
                       "text_entities": [{"type": "plain", "text": "hi "},
                                         {"type": "mention_name", "text": "Ann Lee", "user_id": 1001},
                                         {"type": "plain", "text": " see "},
                                         {"type": "text_link", "text": "this", "href": "https://example.org/a"}]}),
        _message(3, photo="(File not included. Change data exporting settings to download.)",
                 edited="2024-05-01T12:10:00", edited_unixtime="1714565400"),
        {"id": 4, "type": "service", "date": "2024-05-01T12:20:00", "date_unixtime": "1714566000",
         "actor": "Ann Lee", "actor_id": "user1001", "action": "invite_members", "members": ["Bob", "Cleo"],
         "text": "", "text_entities": []},
        {"id": 5, "type": "service", "date": "2024-05-01T12:21:00", "date_unixtime": "1714566060",
         "actor": "Dan", "actor_id": "user1004", "action": "join_group_by_link", "inviter": "Group",
         "text": "", "text_entities": []},
        {"id": 6, "type": "service", "date": "2024-05-01T12:22:00", "date_unixtime": "1714566120",
         "actor": "Bob", "actor_id": "user1002", "action": "remove_members", "members": ["Bob"],
         "text": "", "text_entities": []},
        {"id": 7, "type": "service", "date": "2024-05-01T12:23:00", "date_unixtime": "1714566180",
         "actor": "Ann Lee", "actor_id": "user1001", "action": "edit_group_title", "title": "Makers!",
         "text": "", "text_entities": []},
    ]
    report = ingest_file(con, _write(tmp_path / "result.json", _chat(messages)), config=HubConfig())
    assert report.result.quarantined == 0 and report.result.new == 7
    p = "telegram:default:"
    assert con.execute("SELECT reactor_id, emoji, count FROM reactions ORDER BY emoji, reactor_id NULLS LAST").fetchall() \
        == [(f"{p}user1002", "custom:5368324170671202286", 1), (None, "paid", 2),
            (f"{p}user1002", "👍", 1), (None, "👍", 2)]
    row = con.execute("SELECT text, reply_to_id, forwarded_from FROM messages WHERE message_id = ?",
                      [f"{p}1700000001/2"]).fetchone()
    assert row == ("hi Ann Lee see this", f"{p}1700000001/1", "News")
    assert con.execute("SELECT account_id FROM mentions").fetchall() == [(f"{p}user1001",)]
    assert con.execute("SELECT url FROM links").fetchall() == [("https://example.org/a",)]
    assert con.execute("SELECT has_media, edited_at IS NOT NULL FROM messages WHERE message_id = ?",
                       [f"{p}1700000001/3"]).fetchone() == (True, True)
    events = con.execute("""SELECT replace(account_id, 'telegram:default:', ''), event,
                                   replace(actor_id, 'telegram:default:', '')
                            FROM membership_events ORDER BY event_id""").fetchall()
    assert events == [("user1002", "add", "user1001"), ("name:Cleo", "add", "user1001"),
                      ("user1004", "join", None), ("user1002", "leave", None)]
    assert con.execute("SELECT count(*) FROM messages WHERE kind = 'system' AND author_id IS NULL").fetchone() == (4,)
    assert con.execute("SELECT text FROM messages WHERE message_id = ?", [f"{p}1700000001/7"]).fetchone() \
        == ("Ann Lee: edit_group_title Makers!",)


def test_forwards_senders_are_repaired(tmp_path: Path, con) -> None:
    messages = [_message(1), _message(2, forwarded_from="Grace ðŸ§¤")]  # an old export's mojibake
    ingest_file(con, _write(tmp_path / "result.json", _chat(messages)), config=HubConfig())
    assert con.execute("SELECT forwarded_from FROM messages WHERE forwarded_from IS NOT NULL").fetchall() == [
        ("Grace 🧤",)]


def test_full_account_export_and_left_chats(tmp_path: Path, con) -> None:
    data = {"about": "export", "personal_information": {"user_id": 1001, "first_name": "Ann", "phone_number": "+1"},
            "chats": {"about": "chats", "list": [_chat([_message(1), _message(2)]),
                                                 {"name": "Saved", "type": "saved_messages", "id": 1001,
                                                  "messages": [_message(9)]}]},
            "left_chats": {"about": "left", "list": [{"name": "Old group", "type": "private_group", "id": 42,
                                                      "messages": [_message(5)]}]}}
    report = ingest_file(con, _write(tmp_path / "result.json", data), config=HubConfig())
    assert report.result.new == 4
    assert con.execute("SELECT name, kind FROM channels ORDER BY name").fetchall() == [
        ("Makers", "group"), ("Old group", "group"), ("Saved", "direct")]


@pytest.mark.parametrize("block_bytes", [2048, 4096, 1 << 20])
def test_a_big_account_export_keeps_its_chats_apart(tmp_path: Path, con, monkeypatch, block_bytes: int) -> None:
    # Streamed in blocks, a read can hold the end of one chat's messages and the start of the next
    # chat's, at the same indentation: the first chat's array must end where it ends.
    monkeypatch.setattr(export, "SMALL_FILE", 0)
    monkeypatch.setattr(export, "BLOCK_BYTES", block_bytes)
    chats = [_chat([_message(i) for i in range(1, n + 1)], name=name, id=chat_id)
             for name, chat_id, n in (("Makers", 1700000001, 60), ("Readers", 1700000002, 45), ("Tiny", 1700000003, 1))]
    data = {"about": "export", "chats": {"about": "chats", "list": chats},
            "left_chats": {"about": "left", "list": [_chat([_message(i) for i in range(1, 31)], name="Old", id=42)]}}
    report = ingest_file(con, _write(tmp_path / "result.json", data), config=HubConfig())
    assert (report.result.new, report.result.quarantined) == (136, 0)
    assert con.execute("SELECT c.name, count(*), min(m.position), max(m.position) FROM messages m "
                       "JOIN channels c USING (channel_id) GROUP BY ALL ORDER BY 1").fetchall() == [
        ("Makers", 60, 1, 60), ("Old", 30, 1, 30), ("Readers", 45, 1, 45), ("Tiny", 1, 1, 1)]


def _big(path: Path, n: int, *, bad_at: int | None = None, cut: bool = False, ids: list[int] | None = None) -> Path:
    """A pretty-printed export of n messages (or of these ids) laid out as Telegram Desktop writes it."""
    ids = ids or list(range(1, n + 1))
    with open(path, "w", encoding="utf-8") as f:
        f.write('{\n "name": "Makers",\n "type": "private_supergroup",\n "id": 1700000001,\n "messages": [\n')
        for number, i in enumerate(ids, 1):
            text = json.dumps(_message(i), indent=1, ensure_ascii=False).replace("\n", "\n  ")
            if number == bad_at:
                text = text.replace('"type": "message"', '"type": "message" "oops"')
            f.write("  " + text + (",\n" if number < len(ids) else "\n"))
        f.write(" ]\n}\n")
    if cut:
        path.write_bytes(path.read_bytes()[:-200])
    return path


def test_big_file_is_streamed_in_blocks(tmp_path: Path, con, monkeypatch) -> None:
    monkeypatch.setattr(export, "SMALL_FILE", 0)
    monkeypatch.setattr(export, "BLOCK_BYTES", 4096)
    report = ingest_file(con, _big(tmp_path / "result.json", 500), config=HubConfig())
    assert (report.result.new, report.result.quarantined) == (500, 0)
    assert con.execute("SELECT min(position), max(position), count(DISTINCT position) FROM messages").fetchone() \
        == (1, 500, 500)
    reader = export.ExportReader(tmp_path / "result.json")
    list(reader.batches())
    assert reader.summary.layout == "pretty"


def test_bad_block_is_quarantined_and_the_rest_loads(tmp_path: Path, con, monkeypatch) -> None:
    monkeypatch.setattr(export, "SMALL_FILE", 0)
    monkeypatch.setattr(export, "BLOCK_BYTES", 1 << 20)
    report = ingest_file(con, _big(tmp_path / "result.json", 300, bad_at=150), config=HubConfig())
    assert (report.result.new, report.result.quarantined) == (299, 1)
    location, reason = con.execute("SELECT location, reason FROM quarantine").fetchone()
    assert location == "Makers message #150" and "JSON" in reason


def test_a_bad_message_in_a_later_block_is_quarantined_with_its_number_in_the_file(tmp_path: Path, con,
                                                                                   monkeypatch) -> None:
    # Blocks are parsed in parallel and numbered once done: a block's number must count every
    # message before it, including those of blocks that were read one by one.
    monkeypatch.setattr(export, "SMALL_FILE", 0)
    monkeypatch.setattr(export, "BLOCK_BYTES", 4096)
    report = ingest_file(con, _big(tmp_path / "result.json", 500, bad_at=450), config=HubConfig())
    assert (report.result.new, report.result.quarantined) == (499, 1)
    assert con.execute("SELECT location FROM quarantine").fetchone() == ("Makers message #450",)
    assert con.execute("SELECT min(position), max(position), count(DISTINCT position) FROM messages").fetchone() \
        == (1, 500, 499)


@pytest.mark.parametrize("parse_bytes", [200, 1500, 1 << 20])
def test_a_block_parsed_in_parts_reads_as_parsed_whole(tmp_path: Path, con, monkeypatch, parse_bytes: int) -> None:
    # A block is parsed a few MB at a time, cut between two messages; a message longer than a part
    # (here 200 bytes, and one message of 3,000 characters) is parsed whole. Every message loads,
    # numbered as in the file, and a damaged one is set aside with its own number.
    monkeypatch.setattr(export, "SMALL_FILE", 0)
    monkeypatch.setattr(export, "BLOCK_BYTES", 8192)
    monkeypatch.setattr(export, "PARSE_BYTES", parse_bytes)
    path = _big(tmp_path / "result.json", 400, bad_at=250)
    path.write_text(path.read_text(encoding="utf-8").replace('"message 77"', '"' + "long " * 600 + '"'),
                    encoding="utf-8")
    one_by_one = []  # blocks read message by message (slower, same result): only the damaged one
    slow = export.ExportReader._one_by_one
    monkeypatch.setattr(export.ExportReader, "_one_by_one", lambda self, *a: one_by_one.append(1) or slow(self, *a))
    report = ingest_file(con, path, config=HubConfig())
    assert len(one_by_one) == 1
    assert (report.result.new, report.result.quarantined) == (399, 1)
    assert con.execute("SELECT location FROM quarantine").fetchone() == ("Makers message #250",)
    assert con.execute("SELECT count(*), count(DISTINCT position), sum(position), "
                       "count(*) FILTER (WHERE text = 'message ' || position) FROM messages").fetchone() \
        == (399, 399, sum(range(1, 401)) - 250, 398)
    assert con.execute("SELECT position, length(text) FROM messages WHERE text LIKE 'long %'").fetchone() \
        == (77, 3000)


def test_a_zipped_export_is_cut_into_blocks_as_big_as_a_plain_one(tmp_path: Path, monkeypatch) -> None:
    # A zip member gives a few MB a read at most: the reader reads on until a block is full, or a
    # zipped export would go through twice as many blocks (each with its fixed cost).
    import connectors.files

    monkeypatch.setattr(export, "SMALL_FILE", 0)
    monkeypatch.setattr(export, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(connectors.files, "_READ_STEP", 1000)
    plain = _big(tmp_path / "result.json", 300)
    zipped = tmp_path / "export.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(plain, "ChatExport_2024-05-01/result.json")
    blocks = []
    block = export.ExportReader._block
    monkeypatch.setattr(export.ExportReader, "_block", lambda self, chat, part: blocks.append(len(part[0]))
                        or block(self, chat, part))

    def read(path: Path) -> list:
        blocks.clear()
        rows = [r for b in export.ExportReader(path).batches() if b.stream == "messages" for r in b.table.to_pylist()]
        return [len(blocks), sorted(blocks)[len(blocks) // 2], sorted(r["message_id"] for r in rows)]

    assert read(zipped) == read(plain)
    assert read(plain)[1] > 3000


@pytest.mark.parametrize("small_file", [0, 1 << 30])
def test_messages_given_again_further_on_are_set_aside_once(tmp_path: Path, con, monkeypatch, small_file: int) -> None:
    # A doubled stretch (an export appended to another): streamed in blocks or read whole, the
    # second copies are set aside with their numbers in the file, and the first ones load.
    monkeypatch.setattr(export, "SMALL_FILE", small_file)
    monkeypatch.setattr(export, "BLOCK_BYTES", 4096)
    ids = list(range(1, 201)) + list(range(100, 151)) + [201]
    report = ingest_file(con, _big(tmp_path / "result.json", 0, ids=ids), config=HubConfig())
    assert (report.result.new, report.result.quarantined) == (201, 51)
    assert con.execute("SELECT min(location), max(location), min(reason) FROM quarantine").fetchone() == (
        "Makers message #201", "Makers message #251", "a second message with the id 100")
    assert con.execute("SELECT max(position) FROM messages").fetchone() == (252,)


def test_a_file_cut_before_any_chat_is_unreadable_streamed_or_whole(tmp_path: Path, monkeypatch) -> None:
    # Cut inside the list of chats, before any chat's messages: loading nothing would say nothing.
    from connectors.files import UnreadableExport

    text = json.dumps({"about": "export", "chats": {"about": "chats", "list": [_chat([_message(1)])]}}, indent=1)
    (tmp_path / "ChatExport").mkdir()
    for path in (tmp_path / "result.json", tmp_path / "ChatExport" / "result.json"):
        path.write_text(text[:text.index('"list"') + 12])
    for small in (0, 1 << 30):
        monkeypatch.setattr(export, "SMALL_FILE", small)
        for path in (tmp_path / "result.json", tmp_path / "ChatExport"):
            with pytest.raises(UnreadableExport):
                list(export.ExportReader(path).batches())


def test_unfinished_file_keeps_every_whole_message(tmp_path: Path, con, monkeypatch) -> None:
    monkeypatch.setattr(export, "SMALL_FILE", 0)
    report = ingest_file(con, _big(tmp_path / "result.json", 50, cut=True), config=HubConfig())
    assert report.result.new == 49 and report.result.quarantined == 1
    assert "ends inside a message" in con.execute("SELECT reason FROM quarantine").fetchone()[0]


def test_a_first_read_ending_at_the_messages_array_does_not_decide_the_layout(tmp_path: Path, con,
                                                                              monkeypatch) -> None:
    # The layout (Telegram Desktop's, or any other, for ijson) shows after "messages": [ ; a first
    # read ending right there sent an unfinished Desktop file to ijson, which refuses it whole.
    path = _big(tmp_path / "result.json", 50, cut=True)
    opened = path.read_bytes().find(b'"messages": [') + len(b'"messages": [')
    monkeypatch.setattr(export, "SMALL_FILE", 0)
    for block in (opened, opened + 1):
        monkeypatch.setattr(export, "BLOCK_BYTES", block)
        reader = export.ExportReader(path)
        kept = sum(b.table.num_rows for b in reader.batches() if b.stream == "messages")
        assert (reader.summary.layout, kept, reader.summary.quarantined) == ("pretty", 49, 1), block


@pytest.mark.parametrize("block_bytes", [None, 2048, 1 << 20])
def test_a_member_is_named_as_they_write_not_as_others_mention_them(tmp_path: Path, con, monkeypatch,
                                                                   block_bytes: int | None) -> None:
    # Bob is mentioned as "Bobby" before he writes as "Bob Smith": his own name wins, wherever
    # the blocks of a streamed file fall.
    mention = [{"type": "mention_name", "text": "Bobby", "user_id": 1002}]
    messages = [_message(1, text_entities=mention)] + [_message(i) for i in range(2, 20)] \
        + [_message(20, **{"from": "Bob Smith", "from_id": "user1002"})]
    path = _write(tmp_path / "result.json", _chat(messages))
    if block_bytes:
        monkeypatch.setattr(export, "SMALL_FILE", 0)
        monkeypatch.setattr(export, "BLOCK_BYTES", block_bytes)
    ingest_file(con, path, config=HubConfig())
    assert con.execute("SELECT display_name FROM accounts WHERE native_id = 'user1002'").fetchone() == ("Bob Smith",)


@pytest.mark.parametrize("block_bytes", [None, 2048])
def test_mojibake_is_undone_text_by_text_and_right_text_is_kept_as_written(tmp_path: Path, con, monkeypatch,
                                                                          block_bytes: int | None) -> None:
    # An old export's garbled name and text are repaired; curly quotes and ligatures someone typed
    # are not "fixed", in blocks before the first garbled name as after it.
    typed = "“quoted” ﬁne"
    messages = [_message(i, text=typed, text_entities=[{"type": "plain", "text": typed}]) for i in range(1, 20)]
    messages.append(_message(20, **{"from": "Grace ðŸ§¤", "from_id": "user77", "text": "cafÃ©",
                                    "text_entities": [{"type": "plain", "text": "cafÃ©"}]}))
    path = _write(tmp_path / "result.json", _chat(messages))
    if block_bytes:
        monkeypatch.setattr(export, "SMALL_FILE", 0)
        monkeypatch.setattr(export, "BLOCK_BYTES", block_bytes)
    ingest_file(con, path, config=HubConfig())
    assert con.execute("SELECT DISTINCT text FROM messages WHERE position < 20").fetchall() == [(typed,)]
    assert con.execute("SELECT author_name, text FROM messages WHERE position = 20").fetchone() == ("Grace 🧤", "café")


def test_identical_messages_without_ids_in_two_blocks_are_two_messages(tmp_path: Path, con, monkeypatch) -> None:
    # Old tools wrote no ids: they are derived from what a message says, ranked among identical
    # ones. The rank counts on across the blocks of a streamed file, so the ids are those of a
    # whole-file read and the second "ok" is not taken for a repeat of the first.
    def old(text: str) -> dict:
        return {"type": "message", "date": "2024-05-01T12:00:00", "from": "Ann", "text": text}

    path = _write(tmp_path / "result.json", _chat([old("ok")] + [old(f"filler {i} " + "x" * 40) for i in range(24)]
                                                  + [old("ok"), {"type": "service", "date": "2024-05-01T12:00:00",
                                                                 "actor": "Ann", "action": "invite_members",
                                                                 "members": ["Bo"]}] * 2))

    def ids(block_bytes: int | None) -> list[str]:
        if block_bytes:
            monkeypatch.setattr(export, "SMALL_FILE", 0)
            monkeypatch.setattr(export, "BLOCK_BYTES", block_bytes)
        reader = export.ExportReader(path)
        batches = list(reader.batches())
        assert reader.summary.quarantined == 0
        return sorted(i for b in batches if b.stream in ("messages", "membership_events")
                      for i in b.table["message_id"].to_pylist())

    whole = ids(None)
    assert len(whole) == 29 + 2 and ids(2048) == whole and ids(1 << 20) == whole  # 29 messages, 2 events


def test_minified_big_file_streams_through_ijson(tmp_path: Path, con, monkeypatch) -> None:
    monkeypatch.setattr(export, "SMALL_FILE", 0)
    path = tmp_path / "result.json"
    path.write_text(json.dumps(_chat([_message(i) for i in range(1, 101)])), encoding="utf-8")
    report = ingest_file(con, path, config=HubConfig())
    assert (report.result.new, report.result.quarantined) == (100, 0)


def test_folder_and_zip_exports(tmp_path: Path, con) -> None:
    folder = tmp_path / "ChatExport_2024-05-01"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "photo_1.jpg").write_bytes(b"\xff\xd8\xff")
    _write(folder / "result.json", _chat([_message(1), _message(2)]))
    report = ingest_file(con, folder, config=HubConfig())
    assert (report.platform, report.result.new) == (T, 2)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(folder / "result.json", "ChatExport_2024-05-01/result.json")
        z.writestr("ChatExport_2024-05-01/more.json", json.dumps(_chat([_message(3)])))
    report = ingest_file(con, archive, config=HubConfig())
    assert (report.platform, report.result.new, report.result.records) == (T, 0, 2)


def test_not_a_telegram_export(tmp_path: Path) -> None:
    path = _write(tmp_path / "data.json", {"hello": "world"})
    with pytest.raises(UnreadableExport, match="data.json: not a Telegram Desktop export"):
        export.ExportReader(path)


def test_simulated_group_round_trips(tmp_path: Path, con) -> None:
    """A simulated group written as a Desktop export ingests to exactly what was simulated."""
    from hub.simulate import simulate
    from hub.simulate import telegram as tg

    chat = tg.chat(simulate(members=40, days=60, seed=11), seed=11, tz="Europe/Paris")
    truth = tg.truth(chat)
    report = ingest_file(con, tg.write_export(chat, tmp_path / "result.json"), config=HubConfig())
    assert (report.result.new, report.result.quarantined) == (truth["messages"] + truth["service"], 0)
    count = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    assert count("SELECT count(*) FROM messages WHERE kind = 'message'") == truth["messages"]
    assert count("SELECT count(*) FROM messages WHERE kind = 'system'") == truth["service"]
    assert dict(con.execute("SELECT emoji, sum(count) FROM reactions GROUP BY 1").fetchall()) \
        == truth["reactions_by_emoji"]
    assert count("SELECT count(*) FROM messages WHERE forwarded_from IS NOT NULL") == truth["forwards"]
    assert count("SELECT count(*) FROM messages WHERE reply_to_id IS NOT NULL") == truth["replies"]
    assert count("SELECT count(*) FROM messages WHERE edited_at IS NOT NULL") == truth["edited"]
    assert count("SELECT count(*) FROM messages WHERE has_media") == truth["media"]
    assert count("SELECT count(DISTINCT author_id) FROM messages WHERE kind = 'message'") == truth["authors"]
    assert count("SELECT count(*) FROM links") == truth["links"]
    assert count("SELECT count(*) FROM membership_events WHERE event IN ('join', 'add')") == truth["joins"]
    assert count("SELECT count(*) FROM membership_events WHERE event IN ('leave', 'remove')") == truth["leaves"]
    first, last = con.execute("""SELECT min(sent_at), max(sent_at) FROM messages WHERE kind = 'message'""").fetchone()
    assert (first.isoformat(), last.isoformat()) == (truth["first"], truth["last"])
    # Replies point at messages of the same chat, all of which are there.
    assert count("SELECT count(*) FROM messages m ANTI JOIN messages p ON p.message_id = m.reply_to_id "
                 "WHERE m.reply_to_id IS NOT NULL") == 0


def test_a_later_export_takes_back_the_reactions_it_no_longer_lists(tmp_path: Path, con) -> None:
    # A JSON export lists every message's reactions: read again later without one, the message lost it.
    wave = [{"type": "emoji", "count": 1, "emoji": "👋", "recent": [{"from": "Ana", "from_id": "user1",
                                                                     "date": "2024-01-01T10:00:00"}]}]
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first = _write(tmp_path / "a" / "result.json", _chat([_message(1, reactions=wave)]))
    later = _write(tmp_path / "b" / "result.json", _chat([_message(1), _message(2)]))
    ingest_file(con, first, config=HubConfig())
    assert con.execute("SELECT count(*) FROM reactions").fetchone() == (1,)
    ingest_file(con, later, config=HubConfig())
    assert con.execute("SELECT count(*) FROM reactions").fetchone() == (0,)


def _streamed(monkeypatch, block_bytes: int | None, *, fast_only: bool = False) -> None:
    """Read in blocks of `block_bytes` (whole if None); with `fast_only`, a block that falls back to
    reading its messages one by one in Python fails the test."""
    if block_bytes:
        monkeypatch.setattr(export, "SMALL_FILE", 0)
        monkeypatch.setattr(export, "BLOCK_BYTES", block_bytes)
    if fast_only:
        def slow(*args):
            raise AssertionError("read one by one")

        monkeypatch.setattr(export.ExportReader, "_one_by_one", slow)


@pytest.mark.parametrize("block_bytes", [None, 2048, 1 << 20])
def test_a_forward_from_a_sender_without_a_name_is_still_a_forward(tmp_path: Path, con, monkeypatch,
                                                                  block_bytes: int | None) -> None:
    # Telegram Desktop writes "forwarded_from": null for a forward whose sender shows no name (a
    # deleted account, a hidden one): not the forwarder's words either. "hidden", as the bot says.
    messages = [_message(i) for i in range(1, 20)] + [_message(20, forwarded_from=None),
                                                      _message(21, saved_from=None)]
    _streamed(monkeypatch, block_bytes)
    ingest_file(con, _write(tmp_path / "result.json", _chat(messages)), config=HubConfig())
    assert con.execute("SELECT position, forwarded_from FROM messages WHERE forwarded_from IS NOT NULL "
                       "ORDER BY 1").fetchall() == [(20, "hidden"), (21, "hidden")]


@pytest.mark.parametrize("block_bytes", [None, 2048])
def test_a_reply_to_a_message_of_another_chat_points_there(tmp_path: Path, con, monkeypatch,
                                                          block_bytes: int | None) -> None:
    # reply_to_peer_id: the message replied to is in another chat (a channel's post, a quote from
    # elsewhere), not this chat's message of that number.
    messages = [_message(i) for i in range(1, 20)] + [_message(20, reply_to_message_id=3,
                                                               reply_to_peer_id="channel1800000009")]
    _streamed(monkeypatch, block_bytes)
    ingest_file(con, _write(tmp_path / "result.json", _chat(messages)), config=HubConfig())
    assert con.execute("SELECT reply_to_id FROM messages WHERE reply_to_id IS NOT NULL").fetchall() == [
        ("telegram:default:1800000009/3",)]


@pytest.mark.parametrize("block_bytes", [None, 2048])
def test_a_chat_in_both_chats_and_left_chats_loads_its_messages_once(tmp_path: Path, con, monkeypatch,
                                                                    block_bytes: int | None) -> None:
    data = {"about": "export", "chats": {"about": "chats", "list": [_chat([_message(i) for i in range(1, 21)])]},
            "left_chats": {"about": "left", "list": [_chat([_message(i) for i in range(15, 26)])]}}
    _streamed(monkeypatch, block_bytes)
    report = ingest_file(con, _write(tmp_path / "result.json", data), config=HubConfig())
    assert con.execute("SELECT count(*), count(DISTINCT message_id) FROM messages").fetchone() == (25, 25)
    assert report.result.quarantined == 6  # the second copies, each said where and why
    assert con.execute("SELECT min(reason) FROM quarantine").fetchone() == ("a second message with the id 15",)


def test_saved_messages_and_replies_are_named_though_the_export_names_them_not(tmp_path: Path, con) -> None:
    # Telegram Desktop writes no "name" for these two chats: not the file's name ("result") either.
    data = {"about": "export", "chats": {"about": "chats", "list": [
        {"type": "saved_messages", "id": 1001, "messages": [_message(1)]},
        {"type": "replies", "id": 1271266957, "messages": [_message(1)]}]}}
    ingest_file(con, _write(tmp_path / "result.json", data), config=HubConfig())
    assert con.execute("SELECT name FROM channels ORDER BY 1").fetchall() == [("Replies",), ("Saved Messages",)]


def test_an_unsupported_message_does_not_send_its_block_to_the_slow_path(tmp_path: Path, con, monkeypatch) -> None:
    # Desktop writes {"id", "type": "unsupported"} for media it could not export: no text_entities,
    # as old exports have none. It is set aside; its block's messages are still parsed by Polars
    # (read one by one in Python, a block with one of them took five times as long).
    messages = [_message(i) for i in range(1, 40)]
    messages[19] = {"id": 20, "type": "unsupported"}
    _streamed(monkeypatch, 1 << 20, fast_only=True)
    report = ingest_file(con, _write(tmp_path / "result.json", _chat(messages)), config=HubConfig())
    assert (report.result.new, report.result.quarantined) == (38, 1)
    assert con.execute("SELECT location FROM quarantine").fetchone() == ("Makers message #20",)


def test_a_wall_clock_time_the_community_zone_skips_is_still_a_time(tmp_path: Path, con) -> None:
    # An old export (no date_unixtime) written where clocks did not change, read in a zone where they
    # did: 02:30 on the night the clocks went forward is read with the offset of before, not lost.
    messages = [{"id": 1, "type": "message", "date": "2024-03-31T02:30:00", "from": "Ann", "from_id": 5, "text": "hi"}]
    path = _write(tmp_path / "result.json", _chat(messages))
    reader = export.ExportReader(path, export.Options(tz="Europe/Paris"))
    rows = [r for b in reader.batches() if b.stream == "messages" for r in b.table["sent_at"].to_pylist()]
    assert (reader.summary.quarantined, [r.isoformat() for r in rows]) == (0, ["2024-03-31T01:30:00+00:00"])


def test_a_formatted_poll_and_newer_media_are_media_and_keep_their_block_fast(tmp_path: Path, con,
                                                                             monkeypatch) -> None:
    # Desktop writes a poll's question as text does: a list of entities once formatted. A field of
    # RAW that reads a string made Polars refuse the whole block (read one by one in Python). Paid
    # media, checklists, games and invoices are media too.
    formatted = {"question": [{"type": "bold", "text": "Which"}, " day?"], "closed": False, "total_voters": 0,
                 "answers": []}
    messages = [_message(i) for i in range(1, 30)] + [
        _message(30, poll=formatted), _message(31, paid_stars_amount=5),
        _message(32, todo_list={"title": "Chores", "others_can_append": False, "answers": []}),
        _message(33, game_title="Chess", game_description=""),
        _message(34, invoice_information={"title": "T", "description": "", "amount": 100, "currency": "EUR"})]
    _streamed(monkeypatch, 1 << 20, fast_only=True)
    report = ingest_file(con, _write(tmp_path / "result.json", _chat(messages)), config=HubConfig())
    assert (report.result.new, report.result.quarantined) == (34, 0)
    assert con.execute("SELECT list(position ORDER BY position) FROM messages WHERE has_media").fetchone() == (
        [30, 31, 32, 33, 34],)
