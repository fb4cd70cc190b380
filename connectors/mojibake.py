"""Mojibake: text written as the bytes of its UTF-8 encoding read one byte a character ("é" as
"Ã©", 👍 as "ð\x9f\x91\x8d", or in cp1252 "Grace ðŸ§¤"), as Facebook's "Download Your
Information" files and old Telegram exports have it.

The exact inverse, `s.encode("latin-1").decode("utf-8")`, is applied wherever it applies (the
string's code points are all below U+0100 and their bytes are valid UTF-8). ftfy is the fallback
for the strings it does not apply to (text that is already right, emoji written as themselves,
the cp1252-style mojibake of tools that re-saved a file): `ftfy.fix_encoding` leaves right text
alone. ftfy is not the first choice because it is a heuristic: it also "fixes" a second layer
(someone who wrote "cafÃ©" gets "café") and C1 characters ("a\x80b" becomes "a€b"), where the
exact inverse gives back what was written. `ftfy.fix_text` is not used at all: it would also
straighten quotes and change character widths, i.e. alter what people wrote. Text without a
lead-byte/continuation-byte pair cannot be mojibake and is not even looked at.
"""

from __future__ import annotations

import re

import polars as pl

# What any mojibake of UTF-8 read as latin-1 or cp1252 holds: a lead byte (Â…ô) followed by a
# continuation byte (U+0080…U+00BF, or the cp1252 characters of bytes 0x80…0x9F). Text without
# such a pair cannot be mojibake and is left as it is, without the cost of asking ftfy.
_SUSPECT = re.compile("[\u00c2-\u00f4]"
                      "[\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]")


def repair(text: str) -> str:
    """A string as its author wrote it (see the module docstring)."""
    if text.isascii() or not _SUSPECT.search(text):
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        import ftfy  # here: most text needs only the exact inverse, and importing ftfy costs 60 ms

        return ftfy.fix_encoding(text)


class Repairer:
    """`repair` with a memory: names and reactions repeat, each distinct string is repaired once."""

    def __init__(self) -> None:
        self._done: dict[str, str] = {}

    def __call__(self, value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            if isinstance(value, (dict, list)):
                raise ValueError(f"a {type(value).__name__} where text was expected")
            value = str(value)
        if value.isascii():
            return value
        fixed = self._done.get(value)
        if fixed is None:
            fixed = self._done[value] = repair(value)
        return fixed


def repair_series(values: pl.Series) -> pl.Series:
    """`repair` column-wise: each distinct string that is not plain ASCII is repaired once."""
    odd = values.filter(values.str.contains(_SUSPECT.pattern)).unique()
    return values if odd.is_empty() else values.replace(odd, [repair(v) for v in odd.to_list()])
