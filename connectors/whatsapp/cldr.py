"""The day periods of 12-hour clocks (`AM`, `a. m.`, `ਬਾ.ਦੁ.`, `in the evening`, `晚上`), from CLDR.

WhatsApp writes a phone's time in its locale's pattern, whose day period comes from CLDR: the
AM/PM pair (`h:mm a`) or, in some locales, the flexible periods (`h:mm B`: "in the morning",
"at night"). `day_periods.py` holds every locale's spellings and the hours each stands for; it is
generated from Babel's copy of CLDR, so that reading a file needs no Babel and no locale loading:

    .venv/bin/pip install babel && .venv/bin/python connectors/whatsapp/cldr.py

Narrow forms (`a`, `p`, `n`) are left out: phones' time patterns do not use them, and a single
letter after a clock would take lines that are no header for one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

_IGNORED = re.compile("[\\s._\u00a0\u202f\u2009,،\\-–\\[\\]:\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_HALF_DAY = range(12)


def period_key(written: str) -> str:
    """A day period as looked up: without spaces, dots, marks, in lower case (`a.\u202fm.` -> `am`)."""
    return _IGNORED.sub("", written).lower()


def _rule_hours(rule: dict) -> set[int]:
    if "at" in rule:
        return {rule["at"] // 3600}
    start, end = rule["from"] // 3600, -(-rule["before"] // 3600)  # (a period ends on the hour)
    return set(range(start, end)) if start < end else set(range(start, 24)) | set(range(end))


def _period_hours(period: str, rules: dict) -> set[int]:
    if period == "am":
        return set(range(12))
    if period == "pm":
        return set(range(12, 24))
    return set().union(*(_rule_hours(r) for r in rules.get(period, [])))


# Spellings and rules of earlier CLDR releases that phones not updated since still write, as
# _locale_periods gives them.
_EARLIER = [
    ("bn", "DMY", "পূর্বাহ্ণ", set(range(12))),
    ("bn", "DMY", "অপরাহ্ণ", set(range(12, 24))),
    ("en", "MDY", "at night", {21, 22, 23, 0, 1, 2, 3, 4, 5}),  # night1 ran 21:00-06:00; now 21:00-24:00
]


def collect() -> tuple[list[str], dict[str, int], dict[str, str]]:
    """Every spelling, and for each key a mask of the 24 h clock's hours it stands for.

    Where languages disagree on a key (Turkish `ÖÖ` is AM, Estonian `öö` night; Finnish `ip.` is
    PM, Inari Sami `ip.` AM), each hour goes to the half of the day the language more people
    speak gives it, weighted by CLDR's share of speakers in each territory.

    Also, for each spelling no English locale writes, the order of the date's fields (DMY, MDY,
    YMD) most locales writing it have: `a. m.` is day-first, `오후` year-first."""
    periods = [*_locale_periods(), *_EARLIER]
    weights = _speakers()
    votes: dict[str, Counter] = {}
    meanings = {(language, period_key(text), frozenset(hours)) for language, _, text, hours in periods}
    for language, key, hours in meanings:
        votes.setdefault(key, Counter()).update(dict.fromkeys(hours, weights.get(language, 0.0) + 1e-6))
    orders: dict[str, Counter] = {}
    for _, order, text, _ in periods:
        orders.setdefault(text, Counter())[order] += 1
    english = {text for language, _, text, _ in periods if language == "en"}
    hints = {text: orders[text].most_common(1)[0][0] for text in sorted(orders) if text not in english}
    spellings = sorted({text for _, _, text, _ in periods}, key=lambda s: (-len(s), s))
    return spellings, {k: _mask(v) for k, v in sorted(votes.items())}, hints


def _locale_periods() -> Iterator[tuple[str, str, str, set[int]]]:
    """(language, its short date's field order, a day period as written, its hours) for every
    locale's every day period but the narrow ones."""
    from babel import Locale, localedata

    for ident in localedata.locale_identifiers():
        locale = Locale.parse(ident)
        rules = (locale._data.get("day_period_rules") or {}).get(None, {})  # (no public accessor)
        order = _date_order(locale.date_formats["short"].pattern)
        for widths in locale.day_periods.values():
            for width, periods in widths.items():
                for period, text in periods.items() if width != "narrow" else ():
                    text, hours = " ".join(text.split()), _period_hours(period, rules)
                    if hours and period_key(text) and not any(c.isdigit() for c in text):  # (Anii's `1ka`)
                        yield locale.language, order, text, hours


def _date_order(pattern: str) -> str:
    """`dd/MM/y` -> DMY, `yy. M. d.` -> YMD."""
    pattern = re.sub("'[^']*'", "", pattern)  # quoted literals
    return "".join(sorted("YMD", key=lambda field: pattern.find({"Y": "y", "M": "M", "D": "d"}[field])))


def _speakers() -> dict[str, float]:
    """A language's weight: its share of speakers summed over the territories where CLDR lists it."""
    from babel.core import get_global

    weights: Counter = Counter()
    for languages in get_global("territory_languages").values():
        for language, info in languages.items():
            weights[language.split("_")[0]] += info.get("population_percent") or 0.0
    return weights


def _mask(votes: Counter) -> int:
    mask = 0
    for hour in _HALF_DAY:
        am, pm = votes[hour], votes[hour + 12]
        if am or pm:
            mask |= 1 << (hour if am >= pm else hour + 12)
    return mask


def main() -> None:
    import babel

    spellings, hours, hints = collect()
    target = Path(__file__).with_name("day_periods.py")
    lines = [
        f'"""Day periods of every CLDR locale (Babel {babel.__version__}). Generated by',
        '`python connectors/whatsapp/cldr.py`: do not edit."""',
        "",
        "# As written (any run of spaces as one), longest first.",
        "SPELLINGS = (",
        *(f"    {s!r}," for s in spellings),
        ")",
        "# period_key(spelling) -> the hours of the 24 h clock it stands for (bit n: hour n).",
        "HOURS = {",
        *(f"    {k!r}: 0x{m:06x}," for k, m in hours.items()),
        "}",
        "# A spelling no English locale writes -> the date order most locales writing it have.",
        "DATE_ORDER = {",
        *(f"    {k!r}: {v!r}," for k, v in hints.items()),
        "}",
        "",
    ]
    target.write_text("\n".join(lines), encoding="utf-8")
    print(f"{target}: {len(spellings)} spellings, {len(hours)} keys")


if __name__ == "__main__":
    main()
