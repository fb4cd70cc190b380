"""The timestamp that starts every message line of a WhatsApp export, in every locale.

A header is `[date, time] ` (iOS) or `date, time - ` (Android), or the legacy `date, time: `.
The date and time follow the phone's locale: any field order, `/ . -` separators, 12 h clocks
with a localized marker before or after the time, non-Latin digits, Buddhist and Japanese-era years.

Parsing works on *distinct* date strings and time strings: a chat of a million lines has a few
thousand distinct dates and at most 86,400 distinct times, so the locale logic stays plain Python
while the per-line work is one regex pass (see `parse.py`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# Characters WhatsApp writes around header parts: spaces (plain, no-break, narrow no-break, thin)
# and directional marks.
_SP = "[ \u00a0\u202f\u2009]"
_MARKS = "[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"

# 12-hour markers, both before and after the time. Normalized spellings are mapped in MERIDIEM.
_MARKER = (
    r"(?i:[ap]\.?" + _SP + r"?m\.?|in the (?:morning|afternoon|evening)|at night|noon|midnight"
    r"|sa|ch|ÖÖ|ÖS|de\.|du\.|dop\.|odp\.|ap\.|ip\.|fm|em|vm\.|nm\.|pg|ptg|to|tk|p\.d\.|m\.d\."
    r"|π\.μ\.|μ\.μ\.|дп|пп|priekšp\.|pēcp\.|priešpiet|popiet)"
    r"|ص|م|ق\.ظ\.|ب\.ظ\.|上午|下午|中午|晚上|凌晨|清晨|早上|午前|午後|오전|오후"
    r"|पूर्वाह्न|अपराह्न|পূর্বাহ্ণ|অপরাহ্ণ"
)
_YEAR_OR_NUM = r"(?:[RHSTrhst]\d{1,2}|\d{1,4})"
_DATE_SEP = _MARKS + "*[./\\-]" + _SP + "?" + _MARKS + "*"
DATE = (
    _YEAR_OR_NUM + _DATE_SEP + r"\d{1,2}" + _DATE_SEP + _YEAR_OR_NUM
    + r"\.?(?:" + _SP + r"?(?:BE|พ\.ศ\.))?"
)
TIME = (
    r"(?:(?:" + _MARKER + ")" + _SP + r"?)?"
    r"\d{1,2}[:.]\d{2}(?:[:.]\d{2})?"
    r"(?:" + _MARKS + "*" + _SP + r"?" + _MARKS + "*_?(?:" + _MARKER + r"))?"
)
_JOIN = "(?:" + _SP + "|" + _MARKS + ")*[,،]?(?:" + _SP + "|" + _MARKS + ")*(?:(?:à|klo|um|at|в)" + _SP + "+)?"
_END = r"(?:\]" + _SP + "?|" + _SP + "*[-–]" + _SP + "|:" + _SP + ")"

# Group 0 of this pattern is the whole header, separator included. No capture groups: matching
# without captures runs on the regex engines' fast DFA path, which matters at a million lines.
HEADER = (
    "^" + _MARKS + r"*\[?" + _MARKS + "*"
    + "(?:" + DATE + _JOIN + TIME + "|" + TIME + _JOIN + DATE + ")"
    + _MARKS + "*" + _END
)
DATE_IN_HEADER = DATE
HEADER_RE = re.compile(HEADER)
_TIME_RE = re.compile(TIME)

_FIELD = re.compile(r"([RHSTrhst]?)(\d{1,4})")
_CLOCK = re.compile(r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?")
_ERA_BASE = {"r": 2018, "h": 1988, "s": 1925, "t": 1911}  # Reiwa, Heisei, Showa, Taisho

_AM = {"am", "ص", "上午", "凌晨", "清晨", "早上", "午前", "오전", "πμ", "sa", "öö", "de", "dop", "ap", "fm",
       "vm", "дп", "pg", "पूर्वाह्न", "পূর্বাহ্ণ", "pd", "priekšp", "priešpiet", "to", "قظ",
       "inthemorning", "midnight"}
_PM = {"pm", "م", "下午", "中午", "晚上", "午後", "오후", "μμ", "ch", "ös", "du", "odp", "ip", "em", "nm",
       "пп", "ptg", "अपराह्न", "অপরাহ্ণ", "md", "pēcp", "popiet", "tk", "بظ", "intheafternoon",
       "intheevening", "noon"}

ORDERS = ("DMY", "MDY", "YMD")


def ascii_digits(text: str) -> str:
    """Arabic-Indic, Persian, Devanagari... digits become 0-9; everything else is kept."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


@dataclass(frozen=True)
class DateParts:
    """The three numeric fields of a date as written, before the field order is known."""

    fields: tuple[tuple[str, str], ...]  # (era letter or "", digits)
    buddhist: bool
    slashed: bool = False  # written with slashes: `1/2/21` is month-first in US phones' habit

    @property
    def year_position(self) -> str:
        """'first', 'last', or 'unknown' when every field has two digits or fewer."""
        (e1, d1), _, (e3, d3) = self.fields
        if e1 or len(d1) >= 3:
            return "first"
        if e3 or len(d3) >= 3:
            return "last"
        return "unknown"

    @property
    def unpadded(self) -> bool:
        return any(len(d) == 1 for _, d in self.fields)


def split_date(text: str) -> DateParts | None:
    norm = ascii_digits(text)
    fields = _FIELD.findall(norm)
    if len(fields) != 3:
        return None
    return DateParts(tuple(fields), buddhist=("BE" in norm or "พ.ศ." in norm), slashed="/" in norm)


FIRST_YEAR = 2009  # WhatsApp's: no chat is older


def _year(era: str, digits: str, buddhist: bool) -> int:
    value = int(digits)
    if era:
        return _ERA_BASE[era.lower()] + value
    if len(digits) <= 2:
        return 2000 + value  # WhatsApp exists since 2009: a two-digit year is this century.
    if buddhist or value > 2400:
        return value - 543
    return value


def resolve_date(parts: DateParts, order: str) -> dt.date | None:
    """The calendar date under a field order, or None if that date cannot exist."""
    by_role = dict(zip(order, parts.fields))
    era_m, month = by_role["M"]
    era_d, day = by_role["D"]
    if era_m or era_d:
        return None
    year = _year(*by_role["Y"], parts.buddhist)
    if year < FIRST_YEAR:  # another calendar's year (Persian 1401, Hijri 1445), or a damaged one
        return None
    try:
        return dt.date(year, int(month), int(day))
    except ValueError:
        return None


def candidate_orders(parts: DateParts) -> tuple[str, ...]:
    return {"first": ("YMD",), "last": ("DMY", "MDY"), "unknown": ORDERS}[parts.year_position]


def infer_order(dates: Sequence[tuple[DateParts, int]]) -> str:
    """One field order for a whole file, from all its distinct dates in file order with their counts.

    The order that leaves fewest lines with impossible dates wins; among equals, the one whose
    dates move least from one to the next (a chat advances a day at a time, not a month); then
    the locale habit: unpadded `1/2/21` with slashes is US month-first, anything else day-first.
    Year-first dates (`2019/06/20`) are read year-month-day whatever this returns.
    """
    ambiguous = [(p, n) for p, n in dates if p.year_position != "first"]
    if not ambiguous:
        return "YMD"
    us_style = sum(n for p, n in ambiguous if p.unpadded and p.slashed) > sum(n for p, n in ambiguous) / 2
    preference = ("MDY", "DMY", "YMD") if us_style else ("DMY", "MDY", "YMD")

    def score(order: str) -> tuple[int, int, int]:
        invalid, moves, previous = 0, 0, None
        for parts, count in ambiguous:
            if order not in candidate_orders(parts):
                invalid += count
                continue
            day = resolve_date(parts, order)
            if day is None:
                invalid += count
                continue
            if previous is not None:
                moves += abs((day - previous).days)
            previous = day
        return invalid, moves, preference.index(order)

    return min(preference, key=score)


def why_not_a_date(parts: DateParts | None, order: str) -> str:
    """Why a header's date was refused (for the quarantine)."""
    if parts is not None:
        era, digits = dict(zip("YMD" if parts.year_position == "first" else order, parts.fields))["Y"]
        if not era and _year(era, digits, parts.buddhist) < FIRST_YEAR:
            return f"a year before WhatsApp ({FIRST_YEAR}), or of a calendar the hub does not read"
    return "date does not exist"


def date_for(parts: DateParts, order: str) -> dt.date | None:
    return resolve_date(parts, "YMD" if parts.year_position == "first" else order)


def _meridiem(rest: str) -> str | None:
    key = re.sub(r"[\s._\u00a0\u202f\u2009,،\-–\[\]:]", "", rest).lower()
    key = re.sub(_MARKS, "", key)
    if not key:
        return None
    if key in _AM:
        return "am"
    if key in _PM:
        return "pm"
    if key == "atnight":
        return "night"
    return "?"


def seconds_of_day(text: str) -> int | None:
    """Seconds since midnight for a time as written (`9:41:32 AM`, `下午3:04`, `٢:٠٧ م`), else None."""
    written = _TIME_RE.search(ascii_digits(text))
    if written is None:
        return None
    clock = _CLOCK.search(written[0])
    hour, minute = int(clock[1]), int(clock[2])
    second = int(clock[3]) if clock[3] else 0
    marker = _meridiem(written[0][: clock.start()] + written[0][clock.end():])
    if marker == "?":
        return None
    if marker == "am" and hour == 12:
        hour = 0
    elif marker == "pm" and hour < 12:
        hour += 12
    elif marker == "night":
        hour = 0 if hour == 12 else hour + 12 if hour >= 6 else hour
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour * 3600 + minute * 60 + second


def has_seconds(text: str) -> bool:
    clock = _CLOCK.search(ascii_digits(text))
    return bool(clock and clock[3])
