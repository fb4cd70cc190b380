"""Polars frames kept from one chunk of an export to the next.

A Polars string column holds views into the buffers of the frame it was cut from: a few hundred
names or ids selected out of a block of messages keep the whole block's text alive. A reader that
keeps such a selection per block (who it has seen, membership events, ids met so far) then grows
with the file: on a 3 GB Telegram export, by about 300 MB. `detached` copies what is kept.
"""

from __future__ import annotations

import polars as pl

_ARROW = pl.CompatLevel.oldest()  # offsets-based strings: the round trip copies them into new buffers


def detached(frame: pl.DataFrame) -> pl.DataFrame:
    """The same rows, holding no buffer of the frame they came from."""
    return pl.from_arrow(frame.to_arrow(compat_level=_ARROW))


def detached_series(series: pl.Series) -> pl.Series:
    return pl.Series(series.name, series.to_arrow(compat_level=_ARROW))
