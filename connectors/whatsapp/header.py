"""The timestamp that starts every message line of a WhatsApp export, in every locale.

A header is `[date, time] ` (iOS) or `date, time - ` (Android), or the legacy `date, time: `.
The date and time follow the phone's locale: any field order, `/ . -` separators, 12 h clocks
with a localized marker before or after the time (any CLDR locale's, see `cldr.py`), non-Latin
digits, Buddhist and Japanese-era years.

Parsing works on *distinct* date strings and time strings: a chat of a million lines has a few
thousand distinct dates and at most 86,400 distinct times, so the locale logic stays plain Python
while the per-line work is one regex pass (see `parse.py`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from connectors.whatsapp.cldr import period_key
from connectors.whatsapp.day_periods import DATE_ORDER, HOURS

# Characters WhatsApp writes around header parts: spaces (plain, no-break, narrow no-break, thin)
# and directional marks.
_SP = "[ \u00a0\u202f\u2009]"
_MARKS = "[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"

# A 12-hour marker, before or after the time: up to four words of letters (`PM`, `a. m.`, `ਬਾ.ਦੁ.`,
# `in the evening`, `’s avonds`). Any words match here; `find_headers` keeps those that are a
# CLDR day period (`day_periods.py`). Listing the 1,200 spellings in the pattern instead would
# push the regex engine off its DFA: parsing ran forty times slower.
_WORD = "[\\p{L}\\p{M}’'\u070f\u200b][\\p{L}\\p{M}.’'/״\u070f་᠂\u200b-\u200d،-]*"
_MARKER = _WORD + "(?:" + _SP + "?" + _WORD + "){0,3}"
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
_JOINING_WORDS = "(?:à|klo|um|at|в)"
_JOIN = "(?:" + _SP + "|" + _MARKS + ")*[,،]?(?:" + _SP + "|" + _MARKS + ")*(?:" + _JOINING_WORDS + _SP + "+)?"
_END = r"(?:\]" + _SP + "?|" + _SP + "*[-–]" + _SP + "|:" + _SP + ")"

# Group 0 of this pattern is the whole header, separator included. No capture groups: matching
# without captures runs on the regex engines' fast DFA path, which matters at a million lines.
# Rust `regex` syntax (`\p{L}`), for Polars.
HEADER = (
    "^" + _MARKS + r"*\[?" + _MARKS + "*"
    + "(?:" + DATE + _JOIN + TIME + "|" + TIME + _JOIN + DATE + ")"
    + _MARKS + "*" + _END
)
DATE_IN_HEADER = DATE
# The runs of letters in a header, and those that are no day period: joining words, era letters
# (`R4`), the Buddhist era (`BE`, `พ.ศ.`).
_WORDS = "[\\p{L}\\p{M}’'\u070f\u200b][\\p{L}\\p{M}.’'/״\u070f་᠂\u200b-\u200d،\\- \u00a0\u202f\u2009]*"
_OTHER_WORDS = {"à", "klo", "um", "at", "в", "r", "h", "s", "t", "be", "พศ"}
_JOINING_WORD_AT_END = re.compile("(?:^|[\\s,،\\[])" + _JOINING_WORDS + _SP + "*$")
# What separates a marker from the date and the header's end: spaces, brackets, commas, dashes, marks.
_AROUND_MARKER = (" \t\u00a0\u202f\u2009[],،:-–_"
                  "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")

_OTHER_DIGIT = re.compile(r"(?![0-9])\d")
_FIELD = re.compile(r"([RHSTrhst]?)(\d{1,4})")
_CLOCK = re.compile(r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?")
_ERA_BASE = {"r": 2018, "h": 1988, "s": 1925, "t": 1911}  # Reiwa, Heisei, Showa, Taisho


def find_headers(lines: pl.Series) -> pl.Series:
    """Each line's header (date, time, separator), or null. A line shaped like one whose words are
    neither a day period nor a header's other words (`3/5/22, 9:41 meeting - `) has none."""
    found = lines.str.extract(HEADER, 0)
    if not found.str.contains(r"\p{L}").any():  # (24 h clocks: nothing to look at)
        return found
    # A file's headers hold a few distinct sets of words, whatever their digits.
    words = found.str.extract_all(_WORDS)
    wrong = [w for w in words.unique().drop_nulls().to_list() if not all(map(_is_header_word, w))]
    if not wrong:
        return found
    signature = words.list.join("\x00")
    wrong = ["\x00".join(w) for w in wrong]
    return pl.select(pl.when(signature.is_in(wrong)).then(None).otherwise(found)).to_series().alias(lines.name)


def _is_header_word(word: str) -> bool:
    key = period_key(word)
    return key in HOURS or key in _OTHER_WORDS


def _clock_and_marker(time_text: str) -> tuple[re.Match, str] | None:
    """The clock in a header's time part and the day period written with it (`p. m.`, or ""),
    or None if what stands around the clock is no day period."""
    clock = _CLOCK.search(time_text)
    if clock is None:
        return None
    before = _JOINING_WORD_AT_END.sub("", time_text[: clock.start()]).strip(_AROUND_MARKER)
    after = time_text[clock.end():].strip(_AROUND_MARKER)
    if before and after:
        return None
    marker = before or after
    if marker and period_key(marker) not in HOURS:
        return None
    return clock, marker


ORDERS = ("DMY", "MDY", "YMD")


def ascii_digits(text: str) -> str:
    """Arabic-Indic, Persian, Devanagari... digits become 0-9; everything else is kept."""
    if text.isascii():
        return text
    return _OTHER_DIGIT.sub(lambda digit: str(unicodedata.decimal(digit[0])), text)


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
# A reading of a file's dates is a field order, and "BE" after it where two-digit years are of
# the Buddhist era (Thai Android writes 2565 BE, that is 2022, as `65`).
BUDDHIST_SHORT_YEARS = " BE"
_TIME_ZONE_MARGIN = dt.timedelta(days=1)  # the phone's day may be ahead of UTC's
# The latest date a reading of a file's dates may give (see `infer_order`): fixed, not today.
_READING_HORIZON = dt.date(2051, 12, 31)


def latest_instant() -> dt.datetime:
    """No message is sent after the export was made, that is after now (a phone's clock ahead of
    UTC allowed for)."""
    return dt.datetime.now(dt.timezone.utc) + _TIME_ZONE_MARGIN


def _year(era: str, digits: str, buddhist: bool, short_buddhist: bool) -> int:
    value = int(digits)
    if era:
        return _ERA_BASE[era.lower()] + value
    if len(digits) <= 2:  # WhatsApp exists since 2009: a two-digit year is of this century
        return 2500 + value - 543 if short_buddhist or buddhist else 2000 + value
    if buddhist or value > 2400:
        return value - 543
    return value


def _calendar_date(parts: DateParts, reading: str) -> dt.date | None:
    """The date the fields name under a reading, if the calendar has it, whatever its year."""
    by_role = dict(zip(reading[:3], parts.fields))
    era_m, month = by_role["M"]
    era_d, day = by_role["D"]
    if era_m or era_d:
        return None
    year = _year(*by_role["Y"], parts.buddhist, reading.endswith(BUDDHIST_SHORT_YEARS))
    try:
        return dt.date(year, int(month), int(day))
    except ValueError:
        return None


def resolve_date(parts: DateParts, reading: str, latest: dt.date | None = None) -> dt.date | None:
    """The calendar date under a reading, or None if that date cannot be a message's: it does not
    exist, it is before WhatsApp (another calendar's year: Persian 1401, Hijri 1445), or after
    `latest` (a damaged year: 2922)."""
    day = _calendar_date(parts, reading)
    latest = latest or latest_instant().date()
    if day is None or day.year < FIRST_YEAR or day > latest:
        return None
    return day


def candidate_orders(parts: DateParts) -> tuple[str, ...]:
    return {"first": ("YMD",), "last": ("DMY", "MDY"), "unknown": ORDERS}[parts.year_position]


def infer_order(dates: Sequence[tuple[DateParts, int]], hint: str | None = None) -> str:
    """How to read a whole file's dates: a field order, with BUDDHIST_SHORT_YEARS or not. From all
    its distinct dates in file order with their counts, and the date order of the locale its day
    periods are in (`hint`, see `TimeOfDay`).

    The reading that leaves fewest lines with impossible dates wins: a date after 2051 is one, so
    two-digit years from 52 are Buddhist-era (2552 BE is 2009, WhatsApp's first year). Not after
    today: the same file must read the same whatever the day it is read, its ids hang on it (a
    date after today is quarantined once the reading is chosen). Among
    equals, the one whose dates move least from one to the next (a chat advances a day at a
    time, not a month); then the locale: the hint, or else the habit of the dates, unpadded
    `1/2/21` with slashes US month-first and anything else day-first.
    Year-first dates (`2019/06/20`) are read year-month-day whatever the order.
    """
    ambiguous = [(p, n) for p, n in dates if p.year_position != "first"]
    if not ambiguous:
        return "YMD"
    preference = [hint] if hint else []
    if sum(n for p, n in ambiguous if p.unpadded and p.slashed) > sum(n for p, n in ambiguous) / 2:
        preference.append("MDY")
    preference = list(dict.fromkeys([*preference, "DMY", "MDY", "YMD"]))
    preference += [order + BUDDHIST_SHORT_YEARS for order in preference]
    latest = _READING_HORIZON

    def score(reading: str) -> tuple[int, int, int]:
        invalid, moves, previous = 0, 0, None
        for parts, count in ambiguous:
            day = resolve_date(parts, reading, latest) if reading[:3] in candidate_orders(parts) else None
            if day is None:
                invalid += count
                continue
            if previous is not None:
                moves += abs((day - previous).days)
            previous = day
        return invalid, moves, preference.index(reading)

    return min(preference, key=score)


def why_not_a_date(parts: DateParts | None, reading: str) -> str:
    """Why a header's date was refused (for the quarantine)."""
    day = None if parts is None else _calendar_date(parts, _reading_of(parts, reading))
    if day is not None and day.year < FIRST_YEAR:
        return f"a year before WhatsApp ({FIRST_YEAR}), or of a calendar the hub does not read"
    if day is not None:
        return "a date after the export was made"
    return "date does not exist"


def date_for(parts: DateParts, reading: str) -> dt.date | None:
    return resolve_date(parts, _reading_of(parts, reading))


def _reading_of(parts: DateParts, reading: str) -> str:
    return "YMD" + reading[3:] if parts.year_position == "first" else reading


@dataclass(frozen=True)
class TimeOfDay:
    """A header's time as read: seconds since midnight, whether it showed them, and the date
    order of the locale whose day period it is written with (`a. m.`: day-first, `오후`:
    year-first; None for none, or an English one such as `PM`, which US phones write too)."""

    seconds: int
    with_seconds: bool
    order_hint: str | None


def read_time(text: str) -> TimeOfDay | None:
    """A time as written (`9:41:32 AM`, `下午3:04`, `٢:٠٧ م`), or None if it cannot exist."""
    found = _clock_and_marker(ascii_digits(text))
    if found is None:
        return None
    clock, marker = found
    hour, minute = _hour_24(int(clock[1]), period_key(marker)), int(clock[2])
    second = int(clock[3]) if clock[3] else 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    hint = DATE_ORDER.get(" ".join(marker.split())) if marker else None
    return TimeOfDay(hour * 3600 + minute * 60 + second, clock[3] is not None, hint)


def seconds_of_day(text: str) -> int | None:
    time = read_time(text)
    return None if time is None else time.seconds


@functools.cache
def _hour_24(hour: int, period: str) -> int:
    """The hour on a 24 h clock of `hour` said with a day period (its key: `9` `pm`, `12` `atnight`).
    A period says which half of the day, or a stretch of hours (`in the evening`); outside its
    hours, the half nearer to them is taken."""
    if not period or hour > 12:  # no period, or a 24 h clock with one all the same
        return hour
    mask = HOURS[period]
    halves = (hour % 12, hour % 12 + 12)
    return min(halves, key=lambda h: (not mask >> h & 1, _hours_away(h, mask)))


def _hours_away(hour: int, mask: int) -> int:
    return min(min(abs(hour - h), 24 - abs(hour - h)) for h in range(24) if mask >> h & 1)
