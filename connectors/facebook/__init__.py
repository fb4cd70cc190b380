"""Facebook: the three kinds of dump a community builder can get since the Groups API closed (2024).

- `messenger`: Messenger threads from "Download Your Information" (`message_1.json`, …), and
  Instagram DMs, which use the same schema;
- `activity`: a member's own group activity from "Download Your Information" (posts, comments,
  group joins and leaves, reactions);
- `feed`: group feeds saved from the old Graph API (`{"data": [...], "paging": ...}` pages).

`export` is the entry point (`sniff`, `Options`, `ExportReader`); `common` holds what they share
(mojibake repair, ids, canonical frames).
"""
