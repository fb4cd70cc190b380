"""What reports may show of a person: phone numbers are masked unless asked for.

WhatsApp names a member who is not in the exporting phone's contacts by their number
(`+33 6 12 34 56 78`), and that number then appears wherever their name does. Reports, views and
the digest are read and forwarded by people who need to know who a member is, not how to call
them: they keep the country code and the last two digits, so that two members stay told apart.
"""

from __future__ import annotations

import re

from rich.markup import escape

# An international number as people and WhatsApp write it: a +, then 7 to 15 digits with spaces,
# dots, dashes or brackets between them. Dates, counts and ids never start with a +.
PHONE = re.compile(r"\+\d(?:[\s().\-\u2010-\u2015]{0,2}\d){6,14}")  # dashes: iOS writes U+2011
# An e-mail address inside a text: a letter or digit, then letters, digits and `. _ % + -` (any
# script's letters), an @, then a domain whose last label is letters (`pkg@1.2.3`,
# `root@192.168.1.10` and `me@home` are not addresses). EMAIL_ANYWHERE finds candidates (and is
# what Polars' regex engine, which has no look-around, filters rows with); EMAIL takes only those
# that neither follow a letter, digit, `/`, `@`, `.`, `%`, `+` or `-`, nor run on into one, so
# `https://medium.com/@user.name/post` keeps its text and Slack's `_ann@example.org_` (italics)
# is the address alone.
_ADDRESS = (r"[^\W_][\w.%+-]*@[^\W_](?:[\w-]{0,61}[^\W_])?(?:\.[^\W_](?:[\w-]{0,61}[^\W_])?)*"
            r"\.[^\W\d_]{2,63}")
EMAIL_ANYWHERE = re.compile(_ADDRESS)
EMAIL = re.compile(r"(?<![^\W_])(?<![./@%+-])" + _ADDRESS + r"(?![^\W_])(?![@-])")
_HIDDEN = "•"


def mask_phones(text: str) -> str:
    """`+33 6 12 34 56 78` -> `+33 • •• •• •• 78`: the country code and the last two digits stay."""
    return PHONE.sub(_mask, text)


def _mask(match: re.Match) -> str:
    number = match.group()
    digits = [i for i, c in enumerate(number) if c.isdigit()]
    hidden = set(digits[2:-2])  # the first two digits (country code or most of it) and last two stay
    return "".join(_HIDDEN if i in hidden else c for i, c in enumerate(number))


def shown(text: str | None, show_phones: bool = False) -> str:
    """Text from the warehouse (a name, a path, evidence) as a terminal shows it: phones masked,
    brackets as typed, never read as Rich markup (`Ivan [bold]Tanaka`, `Luis [/x]`), and no
    control character reaching the terminal."""
    return terminal_text(masked(text or "", show_phones))


def terminal_text(text: str) -> str:
    """Any text from data (a name, a path, an error naming them) as Rich markup that prints it as
    it is: brackets escaped, control characters as their codes."""
    return escape(printable(text))


# Control characters (an escape sequence in a name recolours or retitles the terminal) and the
# bidirectional overrides that make text read backwards. Joiners inside emoji stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """The text with control characters shown as their code (`\\x1b`), not obeyed by the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        text)


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
