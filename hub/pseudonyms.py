"""Pseudonymisation at ingest: names and phone numbers never reach the warehouse.

A community with `pseudonymise: true` (or `hub ingest --pseudonymise`) has every name, handle,
e-mail and phone number in its batches replaced by a keyed hash (HMAC-SHA256, the key from
`$HUB_PSEUDONYM_KEY`) before they are loaded. The same input always gives the same pseudonym, so
the analytics still work: a member is `Member 3fa9c2d1` on every platform where they use the same
name, and two accounts with the same e-mail or phone still merge. Ids made from names (WhatsApp's
account and message ids) become keyed hashes too. What is kept: channel and group names, URLs,
emoji, times, and the platforms' opaque ids inside message text (Slack's `<@U024BE7LH>`).

Names inside message text are replaced where they stand as whole words: every name the export
shows as an author, an account or a forwarder (an export file is read once to learn them, then
loaded; a live sync learns them as it goes), every phone number written with its country code
(`+33 6 …`), and every e-mail address (as the same pseudonym as that address in a profile). A
first name alone is left: other members share it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Callable, Iterable, Iterator

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from hub.config import ConfigError
from hub.identity import normalise_phone, region_of
from hub.model import Batch
from hub.privacy import EMAIL, EMAIL_ANYWHERE, PHONE

KEY_ENV = "HUB_PSEUDONYM_KEY"
PHONE_PREFIX = "pseudo:phone:"  # hub.identity compares these as they are: they are already one form
EMAIL_DOMAIN = "@pseudonymised.invalid"
_MIN_KEY_BYTES = 16


class PseudonymKeyError(ConfigError):
    """No usable key in the environment: the message says what to set (a configuration error, so
    every command that reads the configuration reports it in one line)."""


# What each column of each stream holds, for the ones that can name a person.
_COLUMNS: dict[str, dict[str, str]] = {
    "accounts": {"account_id": "id", "native_id": "native", "display_name": "name", "handle": "handle",
                 "email": "email", "phone": "phone"},
    "messages": {"message_id": "message", "reply_to_id": "message", "thread_id": "message", "author_id": "id",
                 "author_name": "name", "forwarded_from": "name", "text": "text"},
    "reactions": {"message_id": "message", "reactor_id": "id"},
    "mentions": {"message_id": "message", "account_id": "id"},
    "links": {"message_id": "message"},
    "reaction_changes": {"message_id": "message", "reactor_id": "id"},
    "reaction_totals": {"message_id": "message"},
    "message_edits": {"message_id": "message", "text": "text"},
    "membership_events": {"event_id": "message", "account_id": "id", "actor_id": "id", "message_id": "message"},
    "quarantine": {"raw": "text"},
}
# Names are learnt before text is rewritten, so a batch's own authors are replaced in its text.
_ORDER = {"name": 0, "native": 1, "handle": 1, "email": 1, "phone": 1, "id": 1, "message": 1, "text": 2}
# Platforms whose exports have no message ids, so the connector makes them from the author's name.
# Other platforms' message ids are the platform's own, and the live readers parse them back
# (a Slack thread's ts): they are kept.
NAMED_MESSAGE_IDS = {"whatsapp", "facebook"}


class Pseudonymiser:
    """Replaces names, handles, e-mails, phones and name-bearing ids in canonical batches."""

    def __init__(self, key: bytes, platform: str = "", timezone: str | None = None) -> None:
        self._key = key
        # A national number (06 12 34 56 78) is read in the community's country, as identity
        # resolution reads it: its pseudonym is then the international number's.
        self._region = region_of(timezone)
        self._hash_message_ids = platform in NAMED_MESSAGE_IDS
        self._names: dict[str, str] = {}  # every name seen so far -> its pseudonym
        self._pattern: re.Pattern | None = None

    @classmethod
    def from_env(cls, platform: str = "", timezone: str | None = None) -> "Pseudonymiser":
        key = os.environ.get(KEY_ENV, "")
        if len(key.encode()) < _MIN_KEY_BYTES:
            raise PseudonymKeyError(
                f"pseudonymising needs a secret key of at least {_MIN_KEY_BYTES} characters in ${KEY_ENV} "
                f"(e.g. export {KEY_ENV}=$(python3 -c 'import secrets; print(secrets.token_hex(32))')); "
                "keep it: the same key must be used for every later load of the community")
        return cls(key.encode(), platform, timezone)

    def check(self) -> str:
        """A fingerprint of the key, stored with the community, that tells a changed key apart."""
        return self._digest("key-check", "")[:16]

    def batches(self, batches: Iterable[Batch]) -> Iterator[Batch]:
        for batch in batches:
            yield self.batch(batch)

    def learn(self, batches: Iterable[Batch]) -> None:
        """Learn every name a source holds, so that its texts are rewritten from the first line on
        (a member can be named in a text, "Ann added Bob", long before they write or the export
        lists them). An export file is read once for this, then again to load it."""
        for batch in batches:
            for column, kind in _COLUMNS.get(batch.stream, {}).items():
                if kind in ("name", "handle", "id") and column in batch.table.column_names:
                    self._column(batch.table[column], kind)

    def batch(self, batch: Batch) -> Batch:
        columns = _COLUMNS.get(batch.stream)
        if not columns or batch.table.num_rows == 0:
            return batch
        table = batch.table
        for column, kind in sorted(columns.items(), key=lambda item: _ORDER[item[1]]):
            if column in table.column_names:
                index = table.column_names.index(column)
                table = table.set_column(index, table.field(index), self._column(table[column], kind))
        return Batch(batch.stream, table)

    # -- what each kind of value becomes

    def name(self, value: str) -> str:
        if (known := self._names.get(value)) is None:
            known = self._names[value] = self._name_of(value)
            self._pattern = None
        return known

    def native(self, value: str) -> str:
        if value.startswith("name:"):
            # An account an export knew only by its name stays recognisable as one, under the name's
            # pseudonym: identity resolution joins it to the account going by that pseudonym, and
            # `hub forget` keeps it out (hub/persons.py, warehouse/forget.py).
            return f"name:{self.name(value.removeprefix('name:'))}"
        return f"p{self._digest('id', value)[:16]}"

    def _id(self, value: str) -> str:
        """`platform:community:rest` keeps its prefix (loaders and views read the platform from it)."""
        parts = value.split(":", 2)
        if len(parts) < 3:
            return self.native(value)
        if parts[2].startswith("@"):  # a mention of a username no account showed: a handle all the same
            self._handle(parts[2])
        return f"{parts[0]}:{parts[1]}:{self.native(parts[2])}"

    def _handle(self, value: str) -> str:
        """A handle's pseudonym; `@handle` in texts (a mention) becomes `@` and the same pseudonym."""
        bare = value.lstrip("@")
        pseudonym = f"h{self._digest('handle', bare.casefold())[:12]}"
        for written in {bare, bare.casefold()}:
            if f"@{written}" not in self._names:
                self._names[f"@{written}"] = f"@{pseudonym}"
                self._pattern = None
        return pseudonym

    def _email(self, value: str) -> str:
        if value.endswith(EMAIL_DOMAIN):  # already one (a text read twice)
            return value
        return f"{self._digest('email', value.strip().casefold())[:16]}{EMAIL_DOMAIN}"

    def phone(self, value: str) -> str:
        return PHONE_PREFIX + self._digest("phone", normalise_phone(value, self._region) or value.strip())[:16]

    def text(self, value: str) -> str:
        value = EMAIL.sub(lambda m: self._email(m.group()), value)  # the pseudonym of the same address in a profile
        value = PHONE.sub(lambda m: self._names.get(m.group()) or self._name_of(m.group()), value)
        if self._pattern is None:
            self._pattern = _alternation(self._names)
        return self._pattern.sub(lambda m: self._names[m.group()], value) if self._pattern else value

    def _name_of(self, value: str) -> str:
        """A name's pseudonym, not learnt (a phone number in a text is no member's name)."""
        return f"Member {self._digest('name', value.strip())[:8]}"

    # -- columns

    def _column(self, column: pa.ChunkedArray, kind: str) -> pa.ChunkedArray:
        if kind == "text":
            return self._text_column(column)
        if kind == "message" and not self._hash_message_ids:
            return column
        mapping: Callable[[str], str] = {"name": self.name, "native": self.native, "id": self._id, "message": self._id,
                                         "handle": self._handle, "email": self._email, "phone": self.phone}[kind]
        unique = pc.unique(column).drop_null()
        if len(unique) == 0:
            return column
        values = unique.to_pylist()
        replaced = pa.array([mapping(v) for v in values], type=column.type)
        return pc.take(replaced, pc.index_in(column, value_set=unique))

    def _text_column(self, column: pa.ChunkedArray) -> pa.ChunkedArray:
        series = pl.from_arrow(column)
        needles = list(self._names)
        hit = series.str.contains(PHONE.pattern) | series.str.contains(EMAIL_ANYWHERE.pattern)
        if needles:
            hit = hit | series.str.contains_any(needles)
        if not hit.any():
            return column
        rows = hit.fill_null(False).arg_true()
        changed = pl.Series([self.text(v) for v in series.gather(rows).to_list()], dtype=series.dtype)
        return series.scatter(rows, changed).to_arrow().cast(column.type)

    def _digest(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()


def _alternation(names: dict[str, str]) -> re.Pattern | None:
    """Any known name standing as a word of its own (not inside a longer word), longest first."""
    usable = sorted((n for n in names if len(n.strip()) >= 2), key=len, reverse=True)
    if not usable:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, usable)) + r")(?!\w)")


def as_stored(promoters: list, timezone: str | None = None) -> list:
    """The configuration's promoters (hub.config.Promoter) as a pseudonymised community stores them:
    a name becomes its pseudonym; an account its id's pseudonym, or its phone number's."""
    p = Pseudonymiser.from_env(timezone=timezone)
    found = []
    for promoter in promoters:
        if promoter.name:
            found.append(promoter.model_copy(update={"name": p.name(promoter.name)}))
        if promoter.account:
            for account in (p.native(promoter.account), p.phone(promoter.account), p._handle(promoter.account)):
                found.append(promoter.model_copy(update={"name": None, "account": account}))
    return found
