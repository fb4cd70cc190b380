"""Telegram Desktop's HTML chat export reads into the shape of its JSON export.

The real sample is the langchain-community pair in ../shared/corpus: one chat exported both as
HTML and as JSON. The synthetic page below follows the markup Telegram Desktop writes
(export_output_html.cpp) for what that sample lacks: replies, forwards, media, service messages,
links, mentions and a "UTC+03:00" date title.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.telegram.html import NOT_INCLUDED, looks_like_html_export, read_html

SAMPLE = "telegram/langchain-ai__langchain-community/chat_loaders/data"


@pytest.fixture
def sample(corpus: Path) -> tuple[bytes, dict]:
    html = (corpus / SAMPLE / "telegram_chat_html/messages.html").read_bytes()
    as_json = json.loads((corpus / SAMPLE / "telegram_chat_json/result.json").read_text(encoding="utf-8"))
    return html, as_json


def test_real_sample(sample) -> None:
    html, _ = sample
    assert looks_like_html_export(html)
    chat = read_html(html)
    assert chat["name"] == "Jimmeny Marvelton"
    # The "23 August 2023" divider (id="message-1") is not a message.
    assert [(m["id"], m["type"], m["from"], m["date"], m["text"]) for m in chat["messages"]] == [
        (1, "message", "Jimmeny Marvelton", "2023-08-23T13:11:23", "i refuse to converse with you"),
        (2, "message", "Batman & Robin", "2023-08-23T13:13:20", "Hi nemesis"),
        (3, "message", "Jimmeny Marvelton", "2023-08-23T13:15:35", "we meet again"),
        # `joined`: no from_name in the page; the author is the previous message's.
        (4, "message", "Jimmeny Marvelton", "2023-08-23T13:15:53", "you will not trick me this time"),
    ]
    # The titles say "UTC-08:00": 13:11:23 there is 21:11:23 UTC.
    assert [m["date_unixtime"] for m in chat["messages"]] == ["1692825083", "1692825200", "1692825335", "1692825353"]
    assert chat["messages"][0]["text_entities"] == [{"type": "plain", "text": "i refuse to converse with you"}]


def test_real_sample_agrees_with_its_json_export(sample) -> None:
    html, as_json = sample
    chat = read_html(html)
    keys = ("id", "type", "from", "date", "text", "text_entities")
    assert [{k: m[k] for k in keys} for m in chat["messages"]] == [{k: m[k] for k in keys} for m in as_json["messages"]]
    # Same instants but for one hour: result.json was written at UTC-07:00 (its date_unixtime is
    # 20:11:23 UTC for 13:11:23), the HTML titles say UTC-08:00. The sample disagrees, not the reader.
    assert [int(h["date_unixtime"]) - int(j["date_unixtime"])
            for h, j in zip(chat["messages"], as_json["messages"], strict=True)] == [3600] * 4
    # The JSON names a personal chat by first name; the HTML header has the full name.
    assert as_json["name"] == "Jimmeny" and chat["name"].startswith(as_json["name"])


PAGE = """<!DOCTYPE html>
<html>
 <head>
  <meta charset="utf-8"/>
<title>Exported Data</title>
  <link href="../../css/style.css" rel="stylesheet"/>
 </head>
 <body onload="CheckLocation();">
  <div class="page_wrap">
   <div class="page_header">
    <a class="content block_link" href="../../lists/chats.html" onclick="return GoBack(this)">
     <div class="text bold">
Café Rust &amp; Co
     </div>
    </a>
   </div>
   <div class="page_body chat_page">
    <div class="history">
     <a class="pagination block_link" href="messages.html">
Previous messages
     </a>
     <div class="message service" id="message-3">
      <div class="body details">
5 March 2024
      </div>
     </div>
     <div class="message service" id="message1001">
      <div class="body details">
Alice Liddell invited Bob
      </div>
     </div>
     <div class="message default clearfix" id="message1002">
      <div class="pull_left userpic_wrap">
       <div class="userpic userpic5" style="width: 42px; height: 42px">
        <div class="initials" style="line-height: 42px">
AL
        </div>
       </div>
      </div>
      <div class="body">
       <div class="pull_right date details" title="05.03.2024 09:15:00 UTC+03:00">
09:15
       </div>
       <div class="from_name">
Alice Liddell 
       </div>
       <div class="reply_to details">
In reply to <a href="messages.html#go_to_message998">this message</a>
       </div>
       <div class="text">
Hi <a href="https://t.me/bob_builder">@bob_builder</a>, see <a href="https://example.com/a?b=1&amp;c=2">https://example.com/a?b=1&amp;c=2</a><br>and <a href="https://docs.rs">the docs</a> <strong>now</strong> or mail <a href="mailto:a@b.org">a@b.org</a> #<a href="" onclick="return ShowHashtag(&quot;rust&quot;)">#rust</a>
       </div>
      </div>
     </div>
     <div class="message default clearfix joined" id="message1003">
      <div class="body">
       <div class="pull_right date details" title="05.03.2024 09:16:30 UTC+03:00">
09:16
       </div>
       <div class="reply_to details">
In reply to <a href="#go_to_message1002" onclick="return GoToMessage(1002)">this message</a>
       </div>
       <div class="text">
and another thing
       </div>
      </div>
     </div>
     <div class="message default clearfix" id="message1004">
      <div class="pull_left userpic_wrap">
       <div class="userpic userpic2" style="width: 42px; height: 42px">
        <div class="initials" style="line-height: 42px">
B
        </div>
       </div>
      </div>
      <div class="body">
       <div class="pull_right date details" title="05.03.2024 09:20:00 UTC+03:00">
09:20
       </div>
       <div class="from_name">
Bob 
       </div>
       <div class="pull_left forwarded userpic_wrap">
        <div class="userpic userpic3" style="width: 42px; height: 42px">
         <div class="initials" style="line-height: 42px">
CD
         </div>
        </div>
       </div>
       <div class="forwarded body">
        <div class="from_name">
Carol Danvers<span class="date details" title="01.03.2024 18:00:00 UTC+03:00"> 01.03.2024 18:00:00</span>
        </div>
        <div class="media_wrap clearfix">
         <a class="photo_wrap clearfix pull_left" href="photos/photo_1@05-03-2024_09-20-00.jpg">
          <img class="photo" src="photos/photo_1@05-03-2024_09-20-00_thumb.jpg" style="width: 260px; height: 195px"/>
         </a>
        </div>
        <div class="text">
the view from here
        </div>
       </div>
      </div>
     </div>
     <div class="message default clearfix joined" id="message1005">
      <div class="body">
       <div class="pull_right date details" title="05.03.2024 09:20:00 UTC+03:00">
09:20
       </div>
       <div class="forwarded body">
        <div class="media_wrap clearfix">
         <div class="media clearfix pull_left media_voice_message">
          <div class="fill pull_left">
          </div>
          <div class="body">
           <div class="title bold">
Voice message
           </div>
           <div class="description">
Not included, change data exporting settings to download.
           </div>
           <div class="status details">
00:07, 21.5 KB
           </div>
          </div>
         </div>
        </div>
       </div>
      </div>
     </div>
     <div class="message default clearfix" id="message1006">
      <div class="pull_left userpic_wrap">
       <div class="userpic userpic5" style="width: 42px; height: 42px">
        <div class="initials" style="line-height: 42px">
AL
        </div>
       </div>
      </div>
      <div class="body">
       <div class="pull_right date details" title="05.03.2024 23:59:59 UTC+03:00">
23:59
       </div>
       <div class="from_name">
Alice Liddell  via @gif
       </div>
       <div class="media_wrap clearfix">
        <a class="animated_wrap clearfix pull_left" href="video_files/gif.mp4">
         <div class="video_play_bg">
          <div class="gif_play">
GIF
          </div>
         </div>
         <img class="animated" src="video_files/gif.mp4_thumb.jpg" style="width: 200px; height: 150px"/>
        </a>
       </div>
      </div>
     </div>
     <div class="message service" id="message-4">
      <div class="body details">
6 March 2024
      </div>
     </div>
     <div class="message default clearfix" id="message1007">
      <div class="pull_left userpic_wrap">
       <div class="userpic userpic2" style="width: 42px; height: 42px">
        <div class="initials" style="line-height: 42px">
B
        </div>
       </div>
      </div>
      <div class="body">
       <div class="pull_right date details" title="06.03.2024 08:00:00">
08:00
       </div>
       <div class="from_name">
Bob 
       </div>
       <div class="media_wrap clearfix">
        <a class="media clearfix pull_left block_link media_file" href="files/report.pdf">
         <div class="fill pull_left">
         </div>
         <div class="body">
          <div class="title bold">
report.pdf
          </div>
          <div class="status details">
1.2 MB
          </div>
         </div>
        </a>
       </div>
       <div class="text">
the report
       </div>
      </div>
     </div>
     <div class="message service" id="message1008">
      <div class="body details">
Bob pinned <a href="#go_to_message1007" onclick="return GoToMessage(1007)">this message</a>
      </div>
     </div>
    </div>
   </div>
  </div>
 </body>
</html>
""".encode()


def test_synthetic_page() -> None:
    assert looks_like_html_export(PAGE)
    chat = read_html(PAGE)
    assert chat["name"] == "Café Rust & Co"
    by_id = {m["id"]: m for m in chat["messages"]}
    assert list(by_id) == [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008]  # dividers skipped

    assert by_id[1001] == {"id": 1001, "type": "service", "text": "Alice Liddell invited Bob"}
    assert by_id[1008] == {"id": 1008, "type": "service", "text": "Bob pinned this message"}

    first = by_id[1002]
    assert (first["from"], first["date"]) == ("Alice Liddell", "2024-03-05T09:15:00")
    assert first["date_unixtime"] == "1709619300"  # 06:15:00 UTC
    assert first["reply_to_message_id"] == 998  # a message on the previous page: href only, no onclick
    assert first["text"] == ("Hi @bob_builder, see https://example.com/a?b=1&c=2\n"
                             "and the docs now or mail a@b.org ##rust")
    assert first["text_entities"] == [
        {"type": "plain", "text": "Hi "},
        {"type": "mention", "text": "@bob_builder"},
        {"type": "plain", "text": ", see "},
        {"type": "link", "text": "https://example.com/a?b=1&c=2"},
        {"type": "plain", "text": "\nand "},
        {"type": "text_link", "text": "the docs", "href": "https://docs.rs"},
        {"type": "plain", "text": " "},
        {"type": "bold", "text": "now"},
        {"type": "plain", "text": " or mail "},
        {"type": "email", "text": "a@b.org"},
        {"type": "plain", "text": " #"},
        {"type": "hashtag", "text": "#rust"},
    ]

    joined = by_id[1003]
    assert (joined["from"], joined["reply_to_message_id"]) == ("Alice Liddell", 1002)
    assert joined["text"] == "and another thing"

    forwarded = by_id[1004]
    assert (forwarded["from"], forwarded["forwarded_from"]) == ("Bob", "Carol Danvers")
    assert forwarded["photo"] == "photos/photo_1@05-03-2024_09-20-00.jpg"
    assert forwarded["text"] == "the view from here" and "media_type" not in forwarded

    voice = by_id[1005]  # joined to a forward from the same sender: both names inherited
    assert (voice["from"], voice["forwarded_from"]) == ("Bob", "Carol Danvers")
    assert (voice["media_type"], voice["file"]) == ("voice_message", NOT_INCLUDED)
    assert (voice["text"], voice["text_entities"]) == ("", [])

    gif = by_id[1006]
    assert (gif["from"], gif["via_bot"]) == ("Alice Liddell", "@gif")
    assert (gif["media_type"], gif["file"]) == ("animation", "video_files/gif.mp4")

    document = by_id[1007]  # an old export: no UTC offset in the title, so no date_unixtime
    assert (document["date"], "date_unixtime" in document) == ("2024-03-06T08:00:00", False)
    assert (document["media_type"], document["file"]) == ("file", "files/report.pdf")
    assert document["file_name"] == "report.pdf"
    assert document["text"] == "the report"


def test_looks_like_html_export() -> None:
    assert not looks_like_html_export(b'{"name": "Jimmeny", "messages": []}')
    # The export's other pages (export_results.html, lists/chats.html) share the frame but hold no history.
    assert not looks_like_html_export(b'<html><body><div class="page_wrap"><div class="page_body list_page">')
    assert not looks_like_html_export(b"<html><body><p>hello</p></body></html>")


def test_service_messages_of_an_html_export_load_with_their_sentence(tmp_path: Path) -> None:
    # The page gives a service message no time and no action: it takes the time of the message
    # before (or, opening the chat, after) it, and keeps the sentence the page shows.
    from hub.config import HubConfig
    from hub.ingest import ingest_file
    from warehouse.db import connect

    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "messages.html").write_bytes(PAGE)
    with connect(tmp_path / "hub.duckdb") as con:
        report = ingest_file(con, tmp_path / "export" / "messages.html", config=HubConfig())
        assert (report.result.new, report.result.quarantined) == (8, 0)
        rows = dict(con.execute("""SELECT split_part(message_id, '/', 2)::INT, text FROM messages
                                   WHERE kind = 'system'""").fetchall())
        assert rows == {1001: "Alice Liddell invited Bob", 1008: "Bob pinned this message"}
        first, second = con.execute("SELECT sent_at FROM messages ORDER BY position LIMIT 2").fetchall()
        assert first == second


def test_a_mention_by_name_in_an_html_export_names_the_member_as_the_page_does(tmp_path: Path) -> None:
    # The page's mention-by-name has no user id (onclick="return ShowMentionName()"): authors there
    # are their names, so the person mentioned is the account of that name, not no one.
    from hub.config import HubConfig
    from hub.ingest import ingest_file
    from warehouse.db import connect

    page = PAGE.replace(b"<strong>now</strong>", b'<a href="" onclick="return ShowMentionName()">Bob</a>')
    assert read_html(page)["messages"][1]["text_entities"][7] == {"type": "mention_name", "text": "Bob"}
    (tmp_path / "messages.html").write_bytes(page)
    with connect(tmp_path / "hub.duckdb") as con:
        ingest_file(con, tmp_path / "messages.html", config=HubConfig())
        assert con.execute("SELECT account_id FROM mentions ORDER BY 1").fetchall() == [
            ("telegram:default:@bob_builder",), ("telegram:default:name:Bob",)]
        assert con.execute("SELECT count(*) FROM accounts WHERE account_id = 'telegram:default:name:Bob'"
                           ).fetchone() == (1,)
