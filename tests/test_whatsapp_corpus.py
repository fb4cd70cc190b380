"""Every WhatsApp export in ../shared/corpus ingests with nothing quarantined, and reads right.

Expected values were worked out from the files themselves (header lines counted, system lines
told apart by eye, first and last stamps read off the lines, with the day/month order the file's
own dates imply). Times are UTC because no --tz is given.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import HubConfig
from hub.ingest import ingest_file

# (file under corpus/whatsapp, records, kind='message', authors, first sent_at, last sent_at)
EXPECTED = [
    ("Pustur__whatsapp-chat-parser-website/whatsapp-chat-parser-example.zip", 52, 48, ["Emily", "John", "Loris"], "2019-06-20 15:58:47", "2019-06-20 16:45:28"),
    ("joweich__chat-miner/test_[mmddyy]_24hrs.txt", 9, 7, ["Jahn Doe", "John Doe", "John Doe 🤓", "John-John Doe", "🤓"], "2019-01-01 11:25:00", "2021-12-30 22:01:00"),
    ("joweich__chat-miner/test_ddmmyy_24hrs.txt", 9, 7, ["Jahn Doe", "John Doe", "John Doe 🤓", "John-John Doe", "🤓"], "2019-01-01 11:25:00", "2021-12-30 22:01:00"),
    ("joweich__chat-miner/test_mmddyy_24hrs.txt", 9, 7, ["Jahn Doe", "John Doe", "John Doe 🤓", "John-John Doe", "🤓"], "2019-01-01 11:25:00", "2021-12-30 22:01:00"),
    ("joweich__chat-miner/test_mmddyyyy_12hrs.txt", 9, 7, ["Jahn Doe", "John Doe", "John Doe 🤓", "John-John Doe", "🤓"], "2019-01-01 11:25:00", "2021-12-30 22:01:00"),
    ("joweich__chat-miner/test_yyyymmdd_24hrs.txt", 9, 7, ["Jahn Doe", "John Doe", "John Doe 🤓", "John-John Doe", "🤓"], "2019-01-01 11:25:00", "2021-12-30 22:01:00"),
    ("langchain-ai__langchain-community/examples/whatsapp_chat.txt", 10, 10, ["James", "User 1", "User 2", "User 3", "User 4", "User name", "User name 2"], "2021-01-24 12:41:03", "2023-06-29 00:16:00"),
    ("langchain-ai__langchain-community/unit_tests/chat_loaders/data/whatsapp_chat.txt", 12, 11, ["Dr. Feather", "Jungle Jane"], "2023-08-15 09:12:33", "2023-08-15 21:25:16"),
    ("lucasrodes__whatstk/chats/whatsapp/pokemon.txt", 20, 18, ["Ash Ketchum", "Brock", "Jessie & James", "Meowth", "Misty", "Prof. Oak", "Raichu", "Wobbuffet"], "2016-04-15 15:04:00", "2016-10-31 12:23:00"),
    ("lucasrodes__whatstk/tests/chats/example-12h.txt", 20, 18, ["Ash Ketchum", "Brock", "Jessie & James", "Meowth", "Misty", "Prof. Oak", "Raichu", "Wobbuffet"], "2016-04-15 15:04:00", "2016-10-31 23:45:00"),
    ("mlomb__chat-analytics/2A_5M.txt", 5, 5, ["A", "B"], "2021-01-01 12:00:00", "2021-01-01 12:03:00"),
    ("mlomb__chat-analytics/4A_11M.txt", 14, 11, ["Alice", "Bob", "Eve", "Mallory", "Trent"], "2020-12-09 23:16:00", "2020-12-09 23:56:00"),
    ("mlomb__chat-analytics/4A_11M.zip", 14, 11, ["Alice", "Bob", "Eve", "Mallory", "Trent"], "2020-12-09 23:16:00", "2020-12-09 23:56:00"),
    ("sodascience__port-whatsapp-datadonation/_chat.txt", 10, 9, ["person1", "person2", "person3", "person4"], "2020-07-14 22:05:54", "2022-03-26 18:52:15"),
    ("sodascience__port-whatsapp-datadonation/_chat_file1.txt", 10, 9, ["person1", "person2", "person3", "person4"], "2020-07-14 22:05:54", "2022-03-26 18:52:15"),
    ("sodascience__port-whatsapp-datadonation/_chat_file2.txt", 10, 9, ["person1", "person2", "person3", "person4"], "2020-07-14 22:05:54", "2022-03-26 18:52:15"),
    ("sodascience__port-whatsapp-datadonation/_chat_file3.txt", 10, 9, ["person1", "person2", "person3", "person4"], "2020-07-14 22:05:00", "2022-03-26 18:52:00"),
    ("sodascience__port-whatsapp-datadonation/_chat_file4.txt", 10, 9, ["person1", "person2", "person3", "person4"], "2020-07-14 22:05:00", "2022-03-26 18:52:00"),
    ("sodascience__port-whatsapp-datadonation/_chat_file5.txt", 10, 9, ["person1", "person2", "person3", "person4"], "2020-07-14 22:05:54", "2022-03-26 18:52:15"),
    ("sodascience__port-whatsapp-datadonation/_chat_file6.txt", 10, 9, ["person1", "person2", "person3", "person4"], "2020-07-14 22:05:54", "2022-03-26 18:52:15"),
    ("sodascience__port-whatsapp-datadonation/whatsapp_chat.zip", 10, 9, ["person1", "person2", "person3", "person4"], "2020-07-14 22:05:54", "2022-03-26 18:52:15"),
    ("starkdmi__whats_json/android/WhatsApp Chat with Group Chat XXX Android.txt", 20, 4, ["Dmitry S"], "2023-01-11 16:11:00", "2023-01-11 16:57:00"),
    ("starkdmi__whats_json/chats_unique/WhatsApp Chat - Dmitry S.txt", 23, 22, ["+40 521 028 62 18", "Dmitry S"], "2022-03-18 14:56:01", "2022-03-27 21:56:46"),
    ("starkdmi__whats_json/chats_unique/WhatsApp Chat - Group_NoMedia 2017.txt", 5, 3, ["+905510386088", "BotX", "UserX"], "2017-03-06 00:45:00", "2017-05-08 01:48:00"),
    ("starkdmi__whats_json/languages/czech_android.txt", 60, 57, ["Dmitry S", "Elon"], "2022-03-18 14:56:00", "2023-01-07 23:32:00"),
    ("starkdmi__whats_json/languages/deutch_ios.txt", 23, 22, ["Dmitry S", "Elon Musk"], "2022-03-18 14:56:00", "2022-03-27 21:56:45"),
    ("starkdmi__whats_json/languages/english_android.txt", 60, 57, ["Dmitry S", "Elon"], "2022-03-18 14:56:00", "2023-01-07 23:32:00"),
    ("starkdmi__whats_json/languages/english_android_media.txt", 60, 57, ["Dmitry S", "Elon"], "2022-03-18 14:56:00", "2023-01-07 23:32:00"),
    ("starkdmi__whats_json/languages/english_ios.txt", 23, 22, ["Dmitry S", "Elon Musk"], "2022-03-18 14:56:01", "2022-03-27 21:56:45"),
    ("starkdmi__whats_json/languages/english_ios_media.txt", 25, 22, ["Dmitry S", "Elon Musk"], "2022-03-18 14:56:01", "2023-01-07 23:32:30"),
    ("starkdmi__whats_json/languages/french_ios.txt", 23, 22, ["Dmitry S", "Elon Musk"], "2022-03-18 14:56:00", "2022-03-27 21:56:45"),
    ("starkdmi__whats_json/languages/russian_android.txt", 60, 57, ["Dmitry S", "Elon"], "2022-03-18 14:56:00", "2023-01-07 23:32:00"),
    ("starkdmi__whats_json/languages/spanish_ios.txt", 23, 22, ["Dmitry S", "Elon Musk"], "2022-03-18 14:56:00", "2022-03-27 21:56:45"),
]


def _ingest(con, path: Path):
    report = ingest_file(con, path, config=HubConfig())
    assert report.error is None, report.error
    return report


def test_every_corpus_file_has_expectations(corpus: Path) -> None:
    files = {str(p.relative_to(corpus / "whatsapp")) for p in (corpus / "whatsapp").rglob("*") if p.is_file()}
    assert files == {row[0] for row in EXPECTED}


@pytest.mark.parametrize(("name", "records", "messages", "authors", "first", "last"), EXPECTED,
                         ids=[row[0].split("/")[-1] for row in EXPECTED])
def test_corpus_file(corpus: Path, con, name, records, messages, authors, first, last) -> None:
    report = _ingest(con, corpus / "whatsapp" / name)
    assert report.platform == "whatsapp"
    assert (report.result.records, report.result.new, report.result.quarantined) == (records, records, 0)
    got = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE kind = 'message'),
               strftime(min(sent_at) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S'),
               strftime(max(sent_at) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S')
        FROM messages""").fetchone()
    assert got == (records, messages, first, last)
    names = [n for (n,) in con.execute(
        "SELECT DISTINCT author_name FROM messages WHERE kind = 'message' ORDER BY author_name").fetchall()]
    assert names == sorted(authors)
    assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
    # Every author is an account, and system messages have none.
    assert con.execute("""SELECT count(*) FROM messages m LEFT JOIN accounts a ON a.account_id = m.author_id
                          WHERE m.author_id IS NOT NULL AND a.account_id IS NULL""").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM messages WHERE kind = 'system' AND author_id IS NOT NULL").fetchone() == (0,)


def test_texts_media_and_multiline(corpus: Path, con) -> None:
    _ingest(con, corpus / "whatsapp/sodascience__port-whatsapp-datadonation/_chat_file2.txt")
    _ingest(con, corpus / "whatsapp/Pustur__whatsapp-chat-parser-website/whatsapp-chat-parser-example.zip")
    texts = dict(con.execute("SELECT position, text FROM messages WHERE channel_id LIKE '%_chat_file2'").fetchall())
    assert texts[2] == "Hi \n\nshiva!"  # a message spanning a blank line, CRLF folded to LF
    assert texts[8].startswith("Location: https://maps.google.com")  # the LRM mark is dropped
    poll = con.execute("SELECT text FROM messages WHERE text LIKE 'POLL:%'").fetchone()[0]
    assert poll.splitlines() == ["POLL:", "When can we meet?", "OPTION: Thursday 15 evening (2 votes)",
                                 "OPTION: Friday 16 afternoon (1 vote)", "OPTION: Friday 16 evening (2 votes)",
                                 "OPTION: Saturday 17 afternoon (3 votes)", "OPTION: Saturday 17 evening (3 votes)"]
    media = con.execute("SELECT text FROM messages WHERE has_media ORDER BY position").fetchall()
    assert [t for (t,) in media] == ["<attached: 00000001-PHOTO-2019-06-20-16-00-15.jpg>",
                                     "<attached: 00000002-VIDEO-2019-06-20-16-01-42.mp4>",
                                     "<attached: 00000003-AUDIO-2019-06-20-16-03-55.mp3>",
                                     "<attached: 00000004-whatsapp-chat-parser-example.zip>"]


@pytest.mark.parametrize(("name", "media"), [
    ("starkdmi__whats_json/languages/english_android.txt", 29),  # "<Media omitted>" 27x, "(file attached)" 2x
    ("starkdmi__whats_json/languages/english_ios.txt", 14),  # "image/video/audio/... omitted"
    ("starkdmi__whats_json/languages/deutch_ios.txt", 14),  # "Bild weggelassen", "Kontaktkarte ausgelassen"...
    ("starkdmi__whats_json/languages/spanish_ios.txt", 14),
    ("starkdmi__whats_json/languages/french_ios.txt", 14),
    ("starkdmi__whats_json/languages/russian_android.txt", 29),  # "<Без медиафайлов>", "(файл добавлен)"
    ("starkdmi__whats_json/chats_unique/WhatsApp Chat - Dmitry S.txt", 14),  # "<attached: ...>"
])
def test_media_placeholders_in_several_languages(corpus: Path, con, name: str, media: int) -> None:
    _ingest(con, corpus / "whatsapp" / name)
    assert con.execute("SELECT count(*) FROM messages WHERE has_media").fetchone() == (media,)


def test_group_events_become_membership_events(corpus: Path, con) -> None:
    _ingest(con, corpus / "whatsapp/starkdmi__whats_json/android/WhatsApp Chat with Group Chat XXX Android.txt")
    _ingest(con, corpus / "whatsapp/Pustur__whatsapp-chat-parser-website/whatsapp-chat-parser-example.zip")
    events = con.execute("""
        SELECT c.name, a.native_id, e.event, coalesce(actor.native_id, ''), strftime(e."at", '%Y-%m-%d %H:%M')
        FROM membership_events e JOIN accounts a USING (account_id) JOIN channels c USING (channel_id)
        LEFT JOIN accounts actor ON actor.account_id = e.actor_id
        ORDER BY e."at", e.event_id""").fetchall()
    assert events == [
        ("whatsapp-chat-parser-example", "Loris", "join", "", "2019-06-20 15:58"),
        ("whatsapp-chat-parser-example", "Emily", "add", "Loris", "2019-06-20 15:58"),
        ("whatsapp-chat-parser-example", "John", "add", "Loris", "2019-06-20 15:58"),
        ("Group Chat XXX Android", "Dmitry S", "join", "", "2023-01-11 16:11"),
        ("Group Chat XXX Android", "@exporter", "add", "Dmitry S", "2023-01-11 16:11"),
        ("Group Chat XXX Android", "+7 999 999-99-99", "join", "", "2023-01-11 16:21"),
        ("Group Chat XXX Android", "+7 999 999-99-99", "remove", "Dmitry S", "2023-01-11 16:21"),
    ]
    kinds = dict(con.execute("SELECT name, kind FROM channels").fetchall())
    assert kinds == {"whatsapp-chat-parser-example": "group", "Group Chat XXX Android": "group"}


def test_phone_number_names_get_an_e164_phone(corpus: Path, con) -> None:
    _ingest(con, corpus / "whatsapp/starkdmi__whats_json/chats_unique/WhatsApp Chat - Dmitry S.txt")
    assert con.execute("SELECT display_name, phone FROM accounts WHERE phone IS NOT NULL").fetchall() == [
        ("+40 521 028 62 18", "+405210286218")]
    # The chat is named after the file: "WhatsApp Chat - Dmitry S.txt".
    assert con.execute("SELECT name, kind FROM channels").fetchall() == [("Dmitry S", "direct")]


def test_system_lines_in_the_authors_place_are_system(corpus: Path, con) -> None:
    """iOS writes the encryption notice and security-code changes as if the contact had written them."""
    _ingest(con, corpus / "whatsapp/starkdmi__whats_json/languages/english_ios_media.txt")
    system = [t for (t,) in con.execute("SELECT text FROM messages WHERE kind = 'system' ORDER BY position").fetchall()]
    assert system[0].startswith("Messages and calls are end-to-end encrypted.")
    assert system[1:] == ["Your security code with Elon changed. \u200eTap to learn more."] * 2
