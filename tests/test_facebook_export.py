"""Facebook dumps: the corpus files (Messenger, and an Instagram DM export of the same schema) read
right, and inline cases for what the corpus lacks: a thread over two files, a whole DYI zip, group
activity of two members, a Graph API feed page, a BOM, a truncated file, a zip entry that leads
out of the archive, and other platforms' files left alone.

Expected corpus values were read off the JSON files themselves.
"""

from __future__ import annotations

import datetime as dt
import copy
import json
import zipfile
from pathlib import Path

import pytest

from connectors import detect_platform
from connectors.facebook import export
from connectors.mojibake import repair
from hub.config import HubConfig
from hub.ingest import ingest_file
from hub.simulate.facebook import mojibake

F = "facebook"
# file -> (messages, media, authors, reactions, first UTC ms, last UTC ms, channel name, kind)
EXPECTED = {
    # chat-miner's Instagram-shaped sample: no participants, no title, no thread_path.
    "joweich__chat-miner/test_export.json":
        (2, 0, {"John Doe", "Jane Doe"}, 0, "2019-12-24 11:23:00.000", "2020-01-17 20:49:00.000", "test_export",
         "direct"),
    "langchain-ai__langchain-community/facebook_chat.json":
        (11, 1, {"User 1", "User 2"}, 0, "2023-02-04 22:17:02.673", "2023-02-05 11:46:11.851",
         "User 1 and User 2 chat", "direct"),
}
MOJIBAKE = "Ã|Â|â\x80|ð\x9f|Ä|Å"


def _files(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / F).rglob("*") if p.is_file())


def _no_mojibake(con) -> None:
    """No string stored in any table reads like UTF-8 taken for latin-1."""
    columns = con.execute("""SELECT table_name, column_name FROM information_schema.columns
                             WHERE data_type = 'VARCHAR' AND table_schema = 'main'""").fetchall()
    for table, column in columns:
        found = con.execute(f'SELECT "{column}" FROM "{table}" WHERE regexp_matches("{column}", ?)',
                            [MOJIBAKE]).fetchall()
        assert found == [], f"mojibake in {table}.{column}: {found[:3]}"


def _span(con, where: str = "kind = 'message'") -> tuple[str, str]:
    fmt = "'%Y-%m-%d %H:%M:%S.%g'"
    return con.execute(f"""SELECT strftime(min(sent_at) AT TIME ZONE 'UTC', {fmt}),
                                  strftime(max(sent_at) AT TIME ZONE 'UTC', {fmt})
                           FROM messages WHERE {where}""").fetchone()


def _ingest(con, path: Path, **kw):
    report = ingest_file(con, path, config=HubConfig(), **kw)
    assert report.error is None, report.error
    assert report.platform == F
    return report


def test_every_corpus_file_is_known(corpus: Path) -> None:
    assert {p.relative_to(corpus / F).as_posix() for p in _files(corpus)} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(corpus: Path, con, name: str) -> None:
    messages, media, authors, reactions, first, last, channel, kind = EXPECTED[name]
    report = _ingest(con, corpus / F / name)
    assert (report.result.records, report.result.new, report.result.quarantined) == (messages, messages, 0)
    assert con.execute("SELECT count(*), count(*) FILTER (has_media) FROM messages WHERE kind = 'message'") \
        .fetchone() == (messages, media)
    assert {a for (a,) in con.execute("SELECT DISTINCT author_name FROM messages").fetchall()} == authors
    assert con.execute("SELECT count(*) FROM reactions").fetchone() == (reactions,)
    assert _span(con) == (first, last)
    assert con.execute("SELECT name, kind FROM channels").fetchall() == [(channel, kind)]
    assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
    assert con.execute("SELECT list_sort(list(display_name)) FROM accounts").fetchone() == (sorted(authors),)
    assert con.execute("""SELECT count(*) FROM messages m ANTI JOIN accounts a ON a.account_id = m.author_id
                          WHERE m.author_id IS NOT NULL""").fetchone() == (0,)
    _no_mojibake(con)


def test_corpus_details(corpus: Path, con) -> None:
    path = corpus / F / "langchain-ai__langchain-community/facebook_chat.json"
    _ingest(con, path)
    assert con.execute("SELECT channel_id FROM channels").fetchone() == (
        "facebook:default:thread:User 1 and User 2 chat",)  # thread_path's folder
    assert con.execute("SELECT account_id FROM accounts ORDER BY 1").fetchall() == [
        ("facebook:default:name:User 1",), ("facebook:default:name:User 2",)]
    # The photo message has no text; Facebook writes the newest first: positions follow the file.
    assert con.execute("SELECT text, author_name, position FROM messages WHERE has_media").fetchone() == \
        ("", "User 2", 7)
    again = ingest_file(con, path, config=HubConfig(), force=True)
    assert (again.result.records, again.result.new) == (11, 0)
    assert con.execute("SELECT count(*) FROM messages").fetchone() == (11,)


# -- Messenger: a thread over two files ----------------------------------------------------------------

T = 1_714_560_000_000  # 2024-05-01 10:40:00 UTC


def _m(sender: str, dt_ms: int, content: str | None = None, **extra) -> dict:
    m = {"sender_name": sender, "timestamp_ms": T + dt_ms}
    if content is not None:
        m["content"] = content
    return {**m, "type": "Generic", **extra}


ZOE, INES, BOB = "Zoë Müller", "Inès García", "Bob Stone"
_HELLO = dict(content="Bonjour à tous 👋")
NEWER = [  # message_1.json, newest first; its last message is also in message_2.json (overlap)
    _m(ZOE, 10_000, f"{ZOE} removed {INES} from the group.", type="Unsubscribe", users=[{"name": INES}]),
    _m(BOB, 9_000, f"{BOB} left the group.", type="Unsubscribe"),
    _m(ZOE, 8_000, "The video call ended.", type="Call", call_duration=312),
    _m(INES, 7_000, "Regardez ça https://example.org/x", type="Share",
       share={"link": "https://example.org/x", "share_text": "Café"},
       reactions=[{"reaction": "😆", "actor": ZOE}, {"reaction": "❤", "actor": BOB}]),
    _m(ZOE, 6_000, sticker={"uri": "messages/stickers_used/1.png"}),
    _m(ZOE, 2_000, **_HELLO, reactions=[{"reaction": "👍", "actor": INES}, {"reaction": "🎉", "actor": BOB}]),
]
OLDER = [  # message_2.json
    _m(BOB, 5_000, "+1"),
    _m(BOB, 5_000, "+1"),  # a double tap: the same message twice, two messages
    _m(INES, 4_000, is_unsent=True),
    _m(BOB, 3_000, photos=[{"uri": "messages/inbox/makers_abc123/photos/1.jpg", "creation_timestamp": 1}]),
    _m(ZOE, 2_000, **_HELLO, reactions=[{"reaction": "👍", "actor": INES}]),
    _m(ZOE, 1_000, f"{ZOE} added {INES} to the group.", type="Subscribe", users=[{"name": INES}]),
    _m(BOB, 500, f"{BOB} joined the group.", type="Subscribe"),  # no `users`: read from the sentence
]
PARTICIPANTS = [{"name": n} for n in (ZOE, "Ünal Çelik")]


def _thread(messages: list[dict]) -> dict:
    return {"participants": PARTICIPANTS, "messages": messages, "title": "Makers ✨", "is_still_participant": True,
            "thread_path": "inbox/makers_abc123", "magic_words": [], "thread_type": "RegularGroup"}


def _facebook_json(data: object) -> str:
    """JSON as Facebook writes it: the UTF-8 bytes of every string as \\u00XX escapes."""
    return json.dumps(mojibake(data), indent=2, ensure_ascii=True)


def _write_thread(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "message_1.json").write_text(_facebook_json(_thread(NEWER)))
    (folder / "message_2.json").write_text(_facebook_json(_thread(OLDER)))
    return folder


def test_thread_over_two_files(tmp_path: Path, con) -> None:
    folder = _write_thread(tmp_path / "makers_abc123")
    assert "\\u00c3\\u00ab" in (folder / "message_1.json").read_text()  # the ë of Zoë, as Facebook writes it
    report = _ingest(con, folder)
    assert (report.result.records, report.result.new, report.result.quarantined) == (12, 12, 0)
    assert con.execute("SELECT channel_id, name, kind FROM channels").fetchall() == [
        ("facebook:default:thread:makers_abc123", "Makers ✨", "group")]
    assert con.execute("SELECT kind, count(*) FROM messages GROUP BY 1 ORDER BY 1").fetchall() == [
        ("message", 7), ("system", 5)]
    assert con.execute("SELECT author_name, count(*) FROM messages WHERE kind = 'message' GROUP BY 1 ORDER BY 1") \
        .fetchall() == [(BOB, 3), (INES, 2), (ZOE, 2)]
    assert con.execute("SELECT count(*) FROM messages WHERE text = '+1'").fetchone() == (2,)
    assert con.execute("SELECT text, has_media FROM messages WHERE author_name = ? ORDER BY sent_at", [INES]) \
        .fetchall() == [("", False), ("Regardez ça https://example.org/x", True)]  # unsent, then the share
    assert con.execute("SELECT count(*) FROM messages WHERE has_media").fetchone() == (3,)
    assert con.execute("SELECT text FROM messages WHERE kind = 'system' AND author_id IS NULL ORDER BY sent_at") \
        .fetchall() == [(f"{BOB} joined the group.",), (f"{ZOE} added {INES} to the group.",),
                        ("The video call ended.",), (f"{BOB} left the group.",),
                        (f"{ZOE} removed {INES} from the group.",)]
    # The overlapping message is kept once, as the newer file has it (two reactions).
    reactions = con.execute("""SELECT m.text, r.emoji, a.display_name FROM reactions r
                               JOIN messages m USING (message_id) JOIN accounts a ON a.account_id = r.reactor_id
                               ORDER BY m.sent_at, r.emoji""").fetchall()
    assert reactions == [("Bonjour à tous 👋", "🎉", BOB), ("Bonjour à tous 👋", "👍", INES),
                         ("Regardez ça https://example.org/x", "❤", BOB),
                         ("Regardez ça https://example.org/x", "😆", ZOE)]
    events = con.execute("""SELECT e.event, a.display_name, b.display_name, strftime(e."at" AT TIME ZONE 'UTC', '%S')
                            FROM membership_events e JOIN accounts a ON a.account_id = e.account_id
                            LEFT JOIN accounts b ON b.account_id = e.actor_id ORDER BY e."at" """).fetchall()
    assert events == [("join", BOB, None, "00"), ("add", INES, ZOE, "01"), ("leave", BOB, None, "09"),
                      ("remove", INES, ZOE, "10")]
    assert con.execute("SELECT url FROM links").fetchall() == [("https://example.org/x",)]
    assert con.execute("SELECT display_name FROM accounts ORDER BY 1").fetchall() == [
        (BOB,), (INES,), (ZOE,), ("Ünal Çelik",)]  # a participant who never wrote has an account too
    assert _span(con) == ("2024-05-01 10:40:02.000", "2024-05-01 10:40:07.000")
    _no_mojibake(con)
    again = ingest_file(con, folder, config=HubConfig(), force=True)
    assert (again.result.records, again.result.new) == (12, 0)
    assert con.execute("SELECT count(*) FROM messages").fetchone() == (12,)
    assert con.execute("SELECT count(*) FROM reactions").fetchone() == (4,)


def test_thread_files_one_by_one(tmp_path: Path, con) -> None:
    """message_2.json alone, then message_1.json alone: the same thread, the overlap once."""
    folder = _write_thread(tmp_path / "makers_abc123")
    first = _ingest(con, folder / "message_2.json")
    second = _ingest(con, folder / "message_1.json")
    assert (first.result.new, second.result.records, second.result.new) == (7, 6, 5)
    assert con.execute("SELECT count(DISTINCT channel_id), count(*) FROM messages").fetchone() == (1, 12)
    # The newer file's reactions of the overlapping message replace the older file's.
    assert con.execute("SELECT count(*) FROM reactions").fetchone() == (4,)
    fresh = _ingest(con, folder, force=True)
    assert fresh.result.new == 0


def test_a_thread_without_thread_path_is_one_channel_however_it_is_given(tmp_path: Path, con) -> None:
    """Instagram's and old Messenger files name no thread_path (nor title): the thread is its folder,
    whether a file, the folder or the whole download is given; nothing is loaded twice."""
    folder = tmp_path / "download" / "messages" / "inbox" / "jane_123"
    folder.mkdir(parents=True)
    for name, messages in (("message_1.json", NEWER), ("message_2.json", OLDER)):
        (folder / name).write_text(_facebook_json({"participants": PARTICIPANTS, "messages": messages}))
    news = [_ingest(con, path).result.new for path in (folder / "message_2.json", folder, tmp_path / "download")]
    assert news == [7, 5, 0]
    # As the pipeline reads it: a copy in the raw store, in a folder named by its hash.
    from hub.landing import land

    other = tmp_path / "inbox" / "bob_456" / "message_1.json"
    other.parent.mkdir(parents=True)
    other.write_text(_facebook_json({"participants": PARTICIPANTS, "messages": OLDER[:2]}))
    for found in (folder / "message_1.json", other):
        landed = land(found, tmp_path / "raw")
        report = ingest_file(con, landed.stored_as, origin=found, config=HubConfig(), platform=F, force=True)
        assert report.error is None
    assert con.execute("SELECT channel_id, name FROM channels ORDER BY 1").fetchall() == [
        ("facebook:default:thread:bob_456", "bob_456"), ("facebook:default:thread:jane_123", "jane_123")]
    assert con.execute("SELECT channel_id, count(*) FROM messages GROUP BY 1 ORDER BY 1").fetchall() == [
        ("facebook:default:thread:bob_456", 2), ("facebook:default:thread:jane_123", 12)]


def test_whole_dyi_zip_with_a_path_traversal_entry(tmp_path: Path, con) -> None:
    """A "Download Your Information" zip: threads, group activity, the member's profile, photos. An
    entry named ../evil.json is not read (quarantined), and nothing is ever written anywhere."""
    path = tmp_path / "facebook-alicemartin.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("messages/inbox/makers_abc123/message_1.json", _facebook_json(_thread(NEWER)))
        z.writestr("messages/inbox/makers_abc123/message_2.json", _facebook_json(_thread(OLDER)))
        z.writestr("messages/inbox/makers_abc123/photos/1.jpg", b"\xff\xd8\xff\xe0" + bytes(200))
        z.writestr("your_activity_across_facebook/groups/your_posts_in_groups.json", _facebook_json(
            {"group_posts_v2": [{"timestamp": 1714560000, "title": "Alice Martin posted in Makers Café.",
                                 "data": [{"post": "Soldering night on Friday 🔥"}]}]}))
        z.writestr("profile_information/profile_information.json",
                   _facebook_json({"profile_v2": {"name": {"full_name": "Alice Martin"}}}))
        z.writestr("ads_information/advertisers_using_your_activity.json", _facebook_json({"custom_audiences_v2": []}))
        z.writestr("../evil.json", _facebook_json(_thread(NEWER)))
    before = sorted(p.name for p in tmp_path.parent.iterdir())
    report = _ingest(con, path)
    assert (report.result.records, report.result.new, report.result.quarantined) == (13, 13, 1)
    assert con.execute("SELECT location, reason FROM quarantine").fetchall() == [
        ("../evil.json", "a zip entry whose path leads out of the archive (path traversal): not read")]
    assert con.execute("SELECT name, kind FROM channels ORDER BY 1").fetchall() == [
        ("Makers Café", "group"), ("Makers ✨", "group")]
    assert con.execute("SELECT author_name, text FROM messages WHERE channel_id LIKE '%group%'").fetchall() == [
        ("Alice Martin", "Soldering night on Friday 🔥")]
    assert sorted(p.name for p in tmp_path.parent.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["facebook-alicemartin.zip", "hub.duckdb", "hub.duckdb.wal"] \
        or sorted(p.name for p in tmp_path.iterdir()) == ["facebook-alicemartin.zip", "hub.duckdb"]
    _no_mojibake(con)


def test_unsafe_names() -> None:
    from connectors.files import unsafe_name

    assert all(unsafe_name(n) for n in ["../evil.json", "a/../../b.json", "/etc/passwd", "C:evil.json", "..\\x"])
    assert not any(unsafe_name(n) for n in ["messages/inbox/a/message_1.json", "a..b/c.json", "..json"])


def test_only_an_unsafe_entry_is_not_an_export(tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("../message_1.json", _facebook_json(_thread(NEWER)))
    assert not export.sniff(path)


# -- a member's group activity (DYI) ------------------------------------------------------------------------

def _dump(root: Path, files: dict[str, object]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(_facebook_json(data))
    return root


CAFE = "Makers Café"
ALICE = {
    "your_activity_across_facebook/groups/your_posts_in_groups.json": {"group_posts_v2": [
        {"timestamp": 1714560000, "title": f"Alice Martin posted in {CAFE}.",
         "data": [{"post": "Soldering night on Friday 🔥"}, {"update_timestamp": 1714563600}],
         "attachments": [{"data": [{"external_context": {"url": "https://example.org/solder"}}]}]},
        {"timestamp": 1714646400, "title": f"Alice Martin posted in {CAFE}.",
         "attachments": [{"data": [{"media": {"uri": "your_activity_across_facebook/groups/photos/1.jpg",
                                              "creation_timestamp": 1714646400}}]}]}]},
    "your_activity_across_facebook/groups/your_comments_in_groups.json": {"group_comments_v2": [
        {"timestamp": 1714650000, "title": "Alice Martin commented on Bob Stone's post.",
         "data": [{"comment": {"timestamp": 1714650000, "comment": "Génial, merci !", "author": "Alice Martin",
                               "group": CAFE}}]}]},
    "your_activity_across_facebook/groups/your_group_membership_activity.json": {"groups_joined_v2": [
        {"timestamp": 1714000000, "title": f"You joined {CAFE}.", "data": [{"name": CAFE}]}]},
    "your_activity_across_facebook/comments_and_reactions/posts_and_comments.json": {"reactions_v2": [
        {"timestamp": 1714655000, "title": f"Alice Martin reacted to Bob Stone's post in {CAFE}.",
         "data": [{"reaction": {"reaction": "LOVE", "actor": "Alice Martin"}}]},
        {"timestamp": 1714000100, "title": "Alice Martin likes Carol's photo.",
         "data": [{"reaction": {"reaction": "LIKE", "actor": "Alice Martin"}}]}]},
}
BOB_DUMP = {  # an older layout: groups/ at the top
    "groups/your_posts_in_groups.json": {"group_posts_v2": [
        {"timestamp": 1714640000, "title": f"Bob Stone posted in {CAFE}.",
         "data": [{"post": "Who has a spare Arduino? 🙏"}]}]},
    "groups/your_group_membership_activity.json": {"groups_joined_v2": [
        {"timestamp": 1713900000, "title": f"Bob Stone joined {CAFE}.", "data": [{"name": CAFE}]},
        {"timestamp": 1714700000, "title": f"Bob Stone left {CAFE}.", "data": [{"name": CAFE}]}]},
    "profile_information/profile_information.json": {"profile_v2": {"name": {"full_name": "Bob Stone"}}},
}


def test_group_activity_of_two_members(tmp_path: Path, con) -> None:
    alice = _dump(tmp_path / "dumps" / "alice", ALICE)
    bob = _dump(tmp_path / "dumps" / "bob", BOB_DUMP)
    first, second = _ingest(con, alice), _ingest(con, bob)
    assert (first.result.new, first.result.quarantined, second.result.new) == (3, 1, 1)
    assert con.execute("SELECT channel_id, name, kind FROM channels").fetchall() == [
        (f"facebook:default:group:name:{CAFE}", CAFE, "group")]
    rows = con.execute("""SELECT author_id, text, has_media, strftime(edited_at AT TIME ZONE 'UTC', '%H:%M')
                          FROM messages ORDER BY sent_at""").fetchall()
    assert rows == [("facebook:default:name:Alice Martin", "Soldering night on Friday 🔥", False, "11:40"),
                    ("facebook:default:name:Bob Stone", "Who has a spare Arduino? 🙏", False, None),
                    ("facebook:default:name:Alice Martin", "", True, None),
                    ("facebook:default:name:Alice Martin", "Génial, merci !", False, None)]
    assert con.execute("SELECT url FROM links").fetchall() == [("https://example.org/solder",)]
    events = con.execute("""SELECT a.display_name, e.event, epoch(e."at")::BIGINT FROM membership_events e
                            JOIN accounts a USING (account_id) ORDER BY e."at" """).fetchall()
    assert events == [("Bob Stone", "join", 1713900000), ("Alice Martin", "join", 1714000000),
                      ("Bob Stone", "leave", 1714700000)]
    # The DYI reaction names no post: quarantined with the reason, never attached to a guess.
    (location, reason, raw), = con.execute("SELECT location, reason, raw FROM quarantine").fetchall()
    assert location.endswith("posts_and_comments.json: reactions[0]")
    assert reason.startswith(f"a ❤ reaction in {CAFE}: ")
    assert "Bob Stone's post" in raw
    assert con.execute("SELECT count(*) FROM reactions").fetchone() == (0,)
    _no_mojibake(con)
    ids = {i for (i,) in con.execute("SELECT message_id FROM messages").fetchall()}
    assert (_ingest(con, alice, force=True).result.new, _ingest(con, bob, force=True).result.new) == (0, 0)
    # Both dumps in one folder are one source with the same ids.
    con.execute("DELETE FROM messages")
    together = _ingest(con, tmp_path / "dumps")
    assert (together.result.new, together.result.quarantined) == (4, 1)
    assert {i for (i,) in con.execute("SELECT message_id FROM messages").fetchall()} == ids


def test_hub_ingest_reads_a_dump_folder_whole(tmp_path: Path) -> None:
    # Read file by file, a dump's reaction or post loses the groups its other files name.
    from typer.testing import CliRunner

    from hub.cli import app

    _dump(tmp_path / "dumps" / "alice", ALICE)
    _dump(tmp_path / "dumps" / "bob", BOB_DUMP)
    db = tmp_path / "hub.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "dumps"), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    files = json.loads(result.output)["files"]
    assert [(Path(f["path"]).name, f["new"], f["quarantined"]) for f in files] == [("alice", 3, 1), ("bob", 1, 0)]


def test_a_folder_of_exports_with_a_groups_folder_is_no_dump(tmp_path: Path) -> None:
    from hub.ingest import expand

    (tmp_path / "exports" / "groups").mkdir(parents=True)
    (tmp_path / "exports" / "groups" / "WhatsApp Chat with Makers.txt").write_text("27/03/2022, 21:40 - Ana: hi\n")
    _write_thread(tmp_path / "exports" / "facebook")
    assert [p.name for p in expand([tmp_path / "exports"])] == ["message_1.json", "message_2.json",
                                                                 "WhatsApp Chat with Makers.txt"]


def test_a_group_named_left_or_in_another_groups_name(tmp_path: Path, con) -> None:
    # The title names the group: "Left" in its name is no leave, and "Berlin Makers" is not the
    # known "Berlin" its title also contains.
    _dump(tmp_path / "dump", {
        "groups/your_group_membership_activity.json": {"groups_joined_v2": [
            {"timestamp": 1714000000, "title": "Ann Lee joined Left-Handed Guitarists.",
             "data": [{"name": "Left-Handed Guitarists"}]},
            {"timestamp": 1714000100, "title": "Ann Lee joined Berlin.", "data": [{"name": "Berlin"}]}]},
        "groups/your_posts_in_groups.json": {"group_posts_v2": [
            {"timestamp": 1714100000, "title": "Ann Lee posted in Berlin Makers.", "data": [{"post": "Soldering"}]}]},
    })
    _ingest(con, tmp_path / "dump")
    assert con.execute("SELECT channel_id, event FROM membership_events ORDER BY 1").fetchall() == [
        ("facebook:default:group:name:Berlin", "join"), ("facebook:default:group:name:Left-Handed Guitarists", "join")]
    assert con.execute("SELECT channel_id FROM messages").fetchall() == [("facebook:default:group:name:Berlin Makers",)]


def test_several_members_added_in_one_sentence(tmp_path: Path, con) -> None:
    thread = {"participants": [{"name": n} for n in ("Zoe", "Ines", "Bob", "Tom")], "title": "G",
              "thread_path": "inbox/g_1", "messages": [
                  _m("Zoe", 0, "Zoe added Ines, Tom and Bob to the group.", type="Subscribe"),
                  _m("Zoe", 1000, "Zoe added Max to the group.", type="Subscribe", users=["Max"])]}
    (tmp_path / "g_1").mkdir()
    (tmp_path / "g_1" / "message_1.json").write_text(_facebook_json(thread))
    report = _ingest(con, tmp_path / "g_1" / "message_1.json")
    assert report.result.quarantined == 0
    assert con.execute("""SELECT a.display_name, e.event FROM membership_events e JOIN accounts a USING (account_id)
                          ORDER BY e."at", 1""").fetchall() == [
        ("Bob", "add"), ("Ines", "add"), ("Tom", "add"), ("Max", "add")]


# -- Graph API feed page ---------------------------------------------------------------------------------

def _person(n: int) -> dict:
    return {"name": ["Alice Martin", "Bob Stone", "Zoë Müller"][n - 1], "id": str(1000 + n)}


FEED = {"data": [
    {"id": "123_456", "message": "Welcome to the group! 🎉", "created_time": "2019-05-01T10:00:00+0000",
     "updated_time": "2019-05-01T11:00:00+0000", "from": _person(1), "link": "https://example.org/welcome",
     "reactions": {"data": [{**_person(2), "type": "LIKE"}, {**_person(3), "type": "LOVE"}]},
     "comments": {"data": [
         {"id": "456_789", "message": "Thanks Alice Martin!", "created_time": "2019-05-01T10:05:00+0000",
          "from": _person(2), "message_tags": [{**_person(1), "type": "user", "offset": 7, "length": 12}],
          "reactions": {"data": [{**_person(1), "type": "HAHA"}]},
          "comments": {"data": [{"id": "456_790", "message": "De rien 😊", "created_time": "2019-05-01T10:07:00+0000",
                                 "from": _person(1)}]}},
         {"id": "456_791", "message": "Hello!", "created_time": "2019-05-01T12:00:00+0200", "from": _person(3)}]}},
    {"id": "123_457", "created_time": "2019-05-02T08:00:00+0000", "from": _person(2),
     "attachments": {"data": [{"type": "photo", "url": "https://www.facebook.com/photo.php?fbid=1"}]}},
    {"id": "123_458", "message": "a post whose date was lost", "from": _person(3)},
], "paging": {"previous": "https://graph.facebook.com/v3.0/123/feed?since=1",
               "next": "https://graph.facebook.com/v3.0/123/feed?until=2"}}


def test_graph_feed_page(tmp_path: Path, con) -> None:
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(FEED, ensure_ascii=False), encoding="utf-8")
    report = _ingest(con, path, channel="Makers")
    assert (report.result.records, report.result.quarantined) == (5, 1)
    assert con.execute("SELECT location, reason FROM quarantine").fetchall() == [
        ("feed.json: data[2]", "no created_time")]
    assert con.execute("SELECT channel_id, name FROM channels").fetchall() == [("facebook:default:group:123", "Makers")]
    g = "facebook:default:group:123/"
    rows = con.execute("""SELECT replace(message_id, $g, ''), author_name, replace(reply_to_id, $g, ''),
                                 replace(thread_id, $g, ''), has_media, strftime(sent_at AT TIME ZONE 'UTC', '%d %H:%M')
                          FROM messages ORDER BY position""", {"g": g}).fetchall()
    assert rows == [("123_456", "Alice Martin", None, "123_456", False, "01 10:00"),
                    ("456_789", "Bob Stone", "123_456", "123_456", False, "01 10:05"),
                    ("456_790", "Alice Martin", "456_789", "123_456", False, "01 10:07"),
                    ("456_791", "Zoë Müller", "123_456", "123_456", False, "01 10:00"),  # 12:00+0200
                    ("123_457", "Bob Stone", None, "123_457", True, "02 08:00")]
    assert _span(con) == ("2019-05-01 10:00:00.000", "2019-05-02 08:00:00.000")
    reactions = con.execute("""SELECT replace(message_id, $g, ''), reactor_id, emoji, count FROM reactions
                               ORDER BY 1, 2""", {"g": g}).fetchall()
    assert reactions == [("123_456", "facebook:default:1002", "👍", 1),
                         ("123_456", "facebook:default:1003", "❤", 1),
                         ("456_789", "facebook:default:1001", "😆", 1)]  # LIKE, LOVE and HAHA
    assert con.execute("SELECT replace(message_id, $g, ''), account_id FROM mentions", {"g": g}).fetchall() == [
        ("456_789", "facebook:default:1001")]
    assert con.execute("SELECT url FROM links").fetchall() == [("https://example.org/welcome",)]
    assert con.execute("SELECT native_id, display_name FROM accounts ORDER BY 1").fetchall() == [
        ("1001", "Alice Martin"), ("1002", "Bob Stone"), ("1003", "Zoë Müller")]
    assert _ingest(con, path, channel="Makers", force=True).result.new == 0


def test_feed_pages_are_read_a_group_at_a_time_with_the_same_result(tmp_path: Path, monkeypatch) -> None:
    # A dump of many pages is read in groups of pages (memory bounded by a group, not the dump):
    # the rows are the same as read all at once.
    import zipfile

    from connectors.facebook import export as fx
    from warehouse.db import connect

    path = tmp_path / "feed.zip"
    with zipfile.ZipFile(path, "w") as z:
        for page in range(12):
            data = copy.deepcopy(FEED)
            for item in data["data"]:
                item["id"] = f"{item.get('id', 'x')}_{page}"
                for comment in (item.get("comments") or {}).get("data", []):
                    comment["id"] = f"{comment['id']}_{page}"
                    for reply in (comment.get("comments") or {}).get("data", []):
                        reply["id"] = f"{reply['id']}_{page}"
            z.writestr(f"feed/page_{page}.json", json.dumps(data, ensure_ascii=False))
    tables = []
    for limit in (1 << 30, 2000):
        monkeypatch.setattr(fx, "FEED_BYTES", limit)
        with connect(tmp_path / f"{limit}.duckdb") as con:
            assert _ingest(con, path, channel="Makers").result.new == 60
            tables.append([con.execute(f"SELECT * EXCLUDE (source_id) FROM {t} ORDER BY ALL").fetchall()
                           for t in ("messages", "reactions", "mentions", "links")]
                          + [con.execute("SELECT location, reason, raw FROM quarantine ORDER BY ALL").fetchall()])
    assert tables[0] == tables[1]


# -- bad input and other platforms -----------------------------------------------------------------------------

def test_bom_is_not_an_error(tmp_path: Path, con) -> None:
    path = tmp_path / "message_1.json"
    path.write_bytes(b"\xef\xbb\xbf" + _facebook_json(_thread(OLDER)).encode())
    report = _ingest(con, path)
    assert (report.result.records, report.result.quarantined) == (7, 0)
    assert con.execute("SELECT count(*) FROM messages WHERE text = 'Bonjour à tous 👋'").fetchone() == (1,)


def test_truncated_file(tmp_path: Path, con) -> None:
    whole = _facebook_json(_thread(NEWER))
    alone = tmp_path / "message_1.json"
    alone.write_text(whole[: len(whole) // 2])
    report = ingest_file(con, alone, config=HubConfig())
    assert report.platform == F and report.result is None
    assert "not valid JSON" in report.error and "cut short" in report.error and str(alone) in report.error
    assert con.execute("SELECT count(*) FROM sources").fetchone() == (0,)
    # In a thread folder, the damaged file is quarantined and the rest loads.
    folder = tmp_path / "makers_abc123"
    folder.mkdir()
    (folder / "message_1.json").write_text(whole[: len(whole) // 2])
    (folder / "message_2.json").write_text(_facebook_json(_thread(OLDER)))
    report = _ingest(con, folder)
    assert (report.result.new, report.result.quarantined) == (7, 1)
    (location, reason), = con.execute("SELECT location, reason FROM quarantine").fetchall()
    assert location == "message_1.json" and reason.startswith("not valid JSON")


def test_bad_records_are_quarantined(tmp_path: Path, con) -> None:
    path = tmp_path / "message_1.json"
    broken = [_m(ZOE, 1, "fine"), {"sender_name": BOB, "content": "no time"}, "not an object",
              _m(INES, 2, "fine too", reactions=[{"reaction": "👍"}])]
    path.write_text(_facebook_json(_thread(broken)))
    report = _ingest(con, path)
    assert (report.result.new, report.result.quarantined) == (2, 3)
    assert con.execute("SELECT location, reason FROM quarantine ORDER BY 1").fetchall() == [
        ("message_1.json: messages[1]", "no timestamp"), ("message_1.json: messages[2]", "not a JSON object"),
        ("message_1.json: messages[3].reactions[0]", "a reaction without its reaction or actor")]
    _no_mojibake(con)


def test_other_platforms_are_not_facebook(tmp_path: Path) -> None:
    telegram = tmp_path / "result.json"
    telegram.write_text(json.dumps({"name": "Makers", "type": "private_supergroup", "id": 1, "messages": [
        {"id": 1, "type": "message", "date": "2024-05-01T12:00:00", "date_unixtime": "1714564800", "from": "Ann",
         "from_id": "user1", "text": "hi", "text_entities": [{"type": "plain", "text": "hi"}]}]}))
    discord = tmp_path / "discord.json"
    discord.write_text(json.dumps({
        "guild": {"id": "1", "name": "Makers"}, "channel": {"id": "2", "type": "GuildTextChat", "name": "general"},
        "messages": [{"id": "3", "type": "Default", "timestamp": "2024-05-01T12:00:00+00:00", "content": "hi",
                      "author": {"id": "4", "name": "ann"}, "reactions": []}], "messageCount": 1}))
    slack = tmp_path / "2024-05-01.json"
    slack.write_text(json.dumps([{"type": "message", "user": "U1", "text": "hi", "ts": "1714564800.000100"}]))
    whatsapp = tmp_path / "WhatsApp Chat with Makers.txt"
    whatsapp.write_text("01/05/2024, 12:00 - Ann: hi\n01/05/2024, 12:01 - Bob: hello\n")
    for path in (telegram, discord, slack, whatsapp, tmp_path):
        assert not export.sniff(path), path
    assert detect_platform(telegram) == "telegram" and detect_platform(whatsapp) == "whatsapp"


def test_no_other_corpus_file_is_facebook(corpus: Path) -> None:
    others = [p for p in corpus.rglob("*") if F not in p.relative_to(corpus).parts]
    assert len(others) > 100 and not [p for p in others if export.sniff(p)]


def test_mojibake_repair() -> None:
    for text in ["café", "👍", "Zoë Müller", "naïve — “quoted”", "❤", "a\x80b", "cafÃ©"]:
        assert repair(text.encode("utf-8").decode("latin-1")) == text  # exact, even for what ftfy would over-fix
        if text not in ("cafÃ©", "a\x80b"):  # (right text that looks like mojibake is taken for it)
            assert repair(text) == text  # right text stays as it is
    assert repair("ðŸ‘\x8d") == "👍"  # cp1252-style mojibake (a re-saved file): ftfy's fallback
    assert export.kind_of(b"\xef\xbb\xbf\n" + _facebook_json(_thread(OLDER)).encode()[:400]) == "messenger"


def test_timestamps_are_utc(tmp_path: Path, con) -> None:
    path = tmp_path / "message_1.json"
    path.write_text(_facebook_json(_thread([_m(ZOE, 0, "x")])))
    _ingest(con, path, tz="Asia/Tokyo")  # Facebook's times are absolute: the zone changes nothing
    (sent,), = con.execute("SELECT sent_at FROM messages").fetchall()
    assert sent == dt.datetime(2024, 5, 1, 10, 40, tzinfo=dt.UTC)
