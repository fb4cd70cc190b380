"""Who is who: the pieces of identity that connectors and identity resolution share."""

from __future__ import annotations

import re

_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-\u00a0\u202f]{7,}$")


def phone_of(name: str | None) -> str | None:
    """E.164 form of a name that is a phone number (WhatsApp shows unknown contacts by number)."""
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
