"""What reports may show of a person: phone numbers are masked unless asked for.

WhatsApp names a member who is not in the exporting phone's contacts by their number
(`+33 6 12 34 56 78`), and that number then appears wherever their name does. Reports, views and
the digest are read and forwarded by people who need to know who a member is, not how to call
them: they keep the country code and the last two digits, so that two members stay told apart.
"""

from __future__ import annotations

import re

# An international number as people and WhatsApp write it: a +, then 7 to 15 digits with spaces,
# dots, dashes or brackets between them. Dates, counts and ids never start with a +.
PHONE = re.compile(r"\+\d(?:[\s().\-\u2010-\u2015]{0,2}\d){6,14}")  # dashes: iOS writes U+2011
# An e-mail address inside a text: the WHATWG (HTML) grammar of a valid address, with a dot in the
# domain (`me@home` is more often a chat's @mention than an address). Python's re and Polars' Rust
# regex read it alike.
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")
_HIDDEN = "•"


def mask_phones(text: str) -> str:
    """`+33 6 12 34 56 78` -> `+33 • •• •• •• 78`: the country code and the last two digits stay."""
    return PHONE.sub(_mask, text)


def _mask(match: re.Match) -> str:
    number = match.group()
    digits = [i for i, c in enumerate(number) if c.isdigit()]
    hidden = set(digits[2:-2])  # the first two digits (country code or most of it) and last two stay
    return "".join(_HIDDEN if i in hidden else c for i, c in enumerate(number))


def masked(value, show_phones: bool = False):
    """The same value (text, or lists, tuples and dicts of them, keys included) with phones masked."""
    if show_phones:
        return value
    if isinstance(value, str):
        return mask_phones(value)
    if isinstance(value, dict):
        return {masked(k): masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(masked(v) for v in value)
    return value
