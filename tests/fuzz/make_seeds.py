"""Write the fuzzing seeds in tests/fuzz/seeds/: small synthetic exports of every kind the hub reads.

They come from the project's simulator (hub.simulate) or are written out below; none is a copy of
the real corpus in ../shared/corpus, which the fuzz tests read in place. To regenerate them (the
same bytes, but for the time stamps inside the zip): `.venv/bin/python tests/fuzz/make_seeds.py`.
The inputs the fuzzer found bugs with are in tests/fuzz/regressions/, written by hand.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hub.simulate import discord, facebook, simulate, slack, telegram, whatsapp

SEEDS = Path(__file__).resolve().parent / "seeds"
GENERATED = ("whatsapp", "slack", "telegram", "discord", "facebook")

# A Telegram Desktop HTML page in the markup export_output_html.cpp writes, trimmed to the parts the
# reader looks at: header, a date divider, a message, a joined one, a reply with a photo, a service message.
TELEGRAM_HTML = """<!DOCTYPE html>
<html>
 <head>
  <meta charset="utf-8"/>
  <title>Exported Data</title>
 </head>
 <body>
  <div class="page_wrap">
   <div class="page_header">
    <div class="text bold">
Makers
    </div>
   </div>
   <div class="page_body chat_page">
    <div class="history">
     <div class="message service" id="message-1">
      <div class="body details">
8 January 2024
      </div>
     </div>
     <div class="message default clearfix" id="message2">
      <div class="body">
       <div class="pull_right date details" title="08.01.2024 09:15:00 UTC+01:00">
09:15
       </div>
       <div class="from_name">
Ana Lima
       </div>
       <div class="text">
Welcome <a href="https://t.me/bo_builder">@bo_builder</a>, see <a href="https://example.org">https://example.org</a>
       </div>
      </div>
     </div>
     <div class="message default clearfix joined" id="message3">
      <div class="body">
       <div class="pull_right date details" title="08.01.2024 09:16:30 UTC+01:00">
09:16
       </div>
       <div class="text">
and <strong>bring</strong> a soldering iron<br>please
       </div>
      </div>
     </div>
     <div class="message default clearfix" id="message4">
      <div class="body">
       <div class="pull_right date details" title="08.01.2024 09:20:00 UTC+01:00">
09:20
       </div>
       <div class="from_name">
Bo Builder
       </div>
       <div class="reply_to details">
In reply to <a href="#go_to_message2" onclick="return GoToMessage(2)">this message</a>
       </div>
       <div class="media_wrap clearfix">
        <a class="photo_wrap clearfix pull_left" href="photos/photo_1.jpg"></a>
       </div>
       <div class="text">
Thanks 🔥
       </div>
      </div>
     </div>
     <div class="message service" id="message5">
      <div class="body details">
Ana Lima invited Cy Dee
      </div>
     </div>
    </div>
   </div>
  </div>
 </body>
</html>
"""

# A Telethon-style dump (chat-miner's shape): a list of messages with `message.id` and `sender_id`.
TELETHON = [
    {"message.id": 11, "sender_id": 42, "date": "2024-01-08T09:15:00+00:00", "text": "hello", "is_reply": False},
    {"message.id": 12, "sender_id": -1001700000001, "date": "2024-01-08T09:16:00+00:00", "text": "a channel post",
     "is_reply": False},
    {"message.id": 13, "sender_id": 43, "date": "2024-01-08T09:17:00+00:00", "text": "hi back", "is_reply": True,
     "reply_to_id": 11},
]

# A member's group activity from "Download Your Information" (the 2024 layout).
FACEBOOK_POSTS = {"group_posts_v2": [
    {"timestamp": 1704705300, "title": "Ana Lima posted in Makers.",
     "data": [{"post": "Soldering night on Friday"}, {"update_timestamp": 1704708900}],
     "attachments": [{"data": [{"external_context": {"url": "https://example.org/solder"}}]}]},
    {"timestamp": 1704791700, "title": "Ana Lima posted in Makers.",
     "attachments": [{"data": [{"media": {"uri": "groups/photos/1.jpg", "creation_timestamp": 1704791700}}]}]},
]}
FACEBOOK_COMMENTS = {"group_comments_v2": [
    {"timestamp": 1704795300, "title": "Ana Lima commented on Bo Builder's post.",
     "data": [{"comment": {"timestamp": 1704795300, "comment": "Merci !", "author": "Ana Lima", "group": "Makers"}}]},
]}


def main() -> None:
    for platform in GENERATED:
        shutil.rmtree(SEEDS / platform, ignore_errors=True)
        (SEEDS / platform).mkdir(parents=True)
    sim = simulate(members=6, days=6, seed=8)
    whatsapp.write_export(sim, SEEDS / "whatsapp", "android_en_gb")
    whatsapp.write_export(sim, SEEDS / "whatsapp", "ios_en_us")
    slack.write_export(slack.workspace(sim), SEEDS / "slack" / "Makers Slack export")
    telegram.write_export(telegram.chat(sim), SEEDS / "telegram" / "result.json")
    # A folder (or zip) is streamed, and a result.json not laid out as Telegram Desktop does goes
    # through ijson: this one is written on one line.
    telegram.write_export(telegram.chat(simulate(members=3, days=2, seed=9)),
                          SEEDS / "telegram" / "ChatExport_2024-01-08" / "result.json", indent=None)
    (SEEDS / "telegram" / "messages.html").write_text(TELEGRAM_HTML, encoding="utf-8")
    (SEEDS / "telegram" / "telethon.json").write_text(json.dumps(TELETHON, indent=1), encoding="utf-8")
    discord.write_export(discord.channel(sim), SEEDS / "discord")
    thread = SEEDS / "facebook" / "makers_abc123"
    facebook.write_messenger(facebook.messenger_thread(sim), thread)
    (thread / "message_1.json").rename(SEEDS / "facebook" / "message_1.json")
    thread.rmdir()
    facebook.write_feed(facebook.group_feed(sim, per_page=1000), SEEDS / "facebook")
    for name, data in (("your_posts_in_groups.json", FACEBOOK_POSTS),
                       ("your_comments_in_groups.json", FACEBOOK_COMMENTS)):
        (SEEDS / "facebook" / name).write_text(json.dumps(data, indent=2), encoding="utf-8")
    # A "Download Your Information" folder: a thread over two files, and the member's group posts.
    dump = SEEDS / "facebook" / "facebook-anadyi"
    small = simulate(members=3, days=3, seed=10)
    facebook.write_messenger(facebook.messenger_thread(small), dump / "messages" / "inbox" / "makers_9x1", per_file=5)
    (dump / "groups").mkdir(parents=True)
    (dump / "groups" / "your_posts_in_groups.json").write_text(json.dumps(FACEBOOK_POSTS, indent=2), encoding="utf-8")
    for path in sorted(p for p in SEEDS.rglob("*") if p.is_file()):
        print(f"{path.stat().st_size:8,}  {path.relative_to(SEEDS)}")


if __name__ == "__main__":
    main()
