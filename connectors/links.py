"""Links written in a message's plain text, as chat clients turn text into links.

`http(s)://` text (any case) up to a space or an angle bracket, without the punctuation that ends
a sentence after it (`.,:;"')]`, and `?!»…`): the rule of Discord's client markdown
(simple-markdown's `url`), which WhatsApp's and Telegram's clients follow for such text too, but
for a final `?` or `!`, which Discord keeps and which in a chat ends the sentence far more often
than the link. Bare domains (`example.org`) are not taken: clients link some and not others.
Slack writes its links in its own markup (`<https://…|label>`): see `connectors/slack/messages.py`.
"""

from __future__ import annotations

import polars as pl

URL = r"""(?i)https?://[^\s<>]+[^<>.,:;"')\]\s?!»…]"""


def links_in(messages: pl.DataFrame, found: pl.Expr | None = None) -> pl.DataFrame:
    """(message_id, url): each link once per message, in what people wrote (`kind` 'message').
    `found` turns `text` into a list of URLs (default: URL's matches)."""
    found = pl.col("text").str.extract_all(URL) if found is None else found
    # (Only texts with "://" in them are searched: most messages have none, and the regex costs.)
    return messages.filter((pl.col("kind") == "message") & pl.col("text").str.contains("://", literal=True)) \
        .select("message_id", url=found).explode("url").drop_nulls("url").unique(maintain_order=True)
