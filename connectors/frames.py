"""Polars frames kept from one chunk of an export to the next.

A Polars string column holds views into the buffers of the frame it was cut from: a few hundred
names or ids selected out of a block of messages keep the whole block's text alive. A reader that
keeps such a selection per block (who it has seen, membership events, ids met so far) then grows
with the file: on a 3 GB Telegram export, by about 300 MB. `detached` copies what is kept.
`SeenIds` keeps the ids met so far as hashes, which hold no text at all.
"""

from __future__ import annotations

import polars as pl

_ARROW = pl.CompatLevel.oldest()  # offsets-based strings: the round trip copies them into new buffers


def detached(frame: pl.DataFrame) -> pl.DataFrame:
    """The same rows, holding no buffer of the frame they came from."""
    return pl.from_arrow(frame.to_arrow(compat_level=_ARROW))


class SeenIds:
    """The message ids an export has given so far, as 64-bit hashes (8 bytes an id, whatever the
    id's length), so that an id met again further on is set aside or skipped rather than loaded twice.

    Where ids rise through the export (Telegram numbers a chat's messages, Discord's snowflakes
    grow with time), `order` gives them as numbers: a stretch whose ids all exceed the largest
    seen cannot repeat one, and needs no look-up."""

    def __init__(self) -> None:
        self.largest: int | None = None
        self.hashes: list[pl.Series] = []

    def repeated(self, ids: pl.Series, order: pl.Series | None = None) -> pl.Series:
        """True for each id given before: in an earlier stretch, or earlier in this one (nulls never)."""
        if ids.is_empty():
            return pl.Series(dtype=pl.Boolean)
        given = ids.is_not_null()
        hashes = ids.hash()
        again = given & ~ids.is_first_distinct()
        in_order = order is not None and order.null_count() == 0 \
            and (self.largest is None or order.min() > self.largest)
        if self.hashes and not in_order:
            again = again | (given & hashes.is_in(pl.concat(self.hashes).implode()))
        if order is not None and order.max() is not None:
            self.largest = max(self.largest or 0, order.max())
        self.hashes.append(hashes.filter(given & ~again))  # (a hash holds no view of the ids' text)
        return again
