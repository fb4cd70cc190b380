"""Who is who: the pieces of identity that connectors and identity resolution share."""

from __future__ import annotations

import functools
import re
from importlib import resources

_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-\u00a0\u202f]{7,}$")


def phone_of(name: str | None) -> str | None:
    """E.164 form of a name that is a phone number (WhatsApp shows unknown contacts by number).

    WhatsApp account ids are built from it, so it keeps what it returned when ids were first
    stored (digits of a number without "+" as they are); to compare phones, use `normalise_phone`."""
    if not name or not _PHONE_LIKE.match(name):
        return None
    digits = re.sub(r"\D", "", name)
    if not name.startswith("+"):
        return None if len(digits) < 7 else digits
    import phonenumbers  # only names that look like numbers pay for its start-up

    try:
        number = phonenumbers.parse(name, None)
    except phonenumbers.NumberParseException:
        return "+" + digits
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_phone(phone: str | None, region: str | None = None) -> str | None:
    """E.164 form of a phone number as people write it: `+33 6 12 34 56 78`, `0033612345678`,
    `+33612345678` are all `+33612345678`. A national number (`06 12 34 56 78`) needs the
    community's country (`region`, from its time zone); without one it cannot be compared."""
    text = (phone or "").strip()
    if text.startswith("pseudo:phone:"):  # hub/pseudonyms.py made it from the number's E.164 form
        return text
    digits = re.sub(r"\D", "", text)
    if len(digits) < 7:
        return None
    if text.startswith("+"):
        candidate, region = text, None
    elif digits.startswith("00"):  # the international prefix of most of the world
        candidate, region = "+" + digits[2:], None
    elif region:
        candidate = text
    else:
        return None
    import phonenumbers  # only accounts with a phone pay for its start-up

    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.cache
def _zone_countries() -> dict[str, str]:
    """Zone -> country, old names included (`America/Montreal`, `Asia/Calcutta` are links to zones)."""
    try:
        zones = resources.files("tzdata.zoneinfo")
        tab = zones.joinpath("zone.tab").read_text(encoding="utf-8")
        links = zones.joinpath("tzdata.zi").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return {}
    rows = (line.split("\t") for line in tab.splitlines() if line and not line.startswith("#"))
    countries = {row[2]: row[0] for row in rows if len(row) >= 3}
    for line in links.splitlines():  # "L <zone> <old name>"
        parts = line.split()
        if len(parts) == 3 and parts[0] == "L" and parts[1] in countries:
            countries.setdefault(parts[2], countries[parts[1]])
    return countries


def region_of(timezone: str | None) -> str | None:
    """The country of an IANA time zone (`Europe/Paris` → `FR`); None for UTC and the like."""
    return _zone_countries().get(timezone or "")
