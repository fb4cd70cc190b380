"""The canonical model: what every connector produces, whatever the platform.

Each record type is a pydantic model, which documents it and validates the few records that are
made one at a time (channels, sources, configuration). Message-sized streams never build a model
per record: connectors hand the warehouse Arrow tables whose schema is derived from these models
(`arrow_schema`), so the model stays the single definition of the canonical shape.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict

Platform = Literal["whatsapp", "slack", "telegram", "facebook", "discord"]
MessageKind = Literal["message", "system"]
ChannelKind = Literal["group", "direct", "channel", "thread"]
MembershipEvent = Literal["join", "leave", "add", "remove"]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Channel(Record):
    channel_id: str
    platform: Platform
    community: str
    name: str
    kind: ChannelKind


class Account(Record):
    """One identity on one platform (a person with three platforms has three accounts)."""

    account_id: str
    platform: Platform
    community: str
    native_id: str
    display_name: str | None = None
    handle: str | None = None
    email: str | None = None
    phone: str | None = None
    is_bot: bool = False
    first_seen_at: dt.datetime | None = None
    last_seen_at: dt.datetime | None = None


class Message(Record):
    """`kind='message'` is what a person wrote (media and deleted placeholders included);
    `kind='system'` is what the platform wrote. `position` is the record's line or offset in its source."""

    message_id: str
    channel_id: str
    author_id: str | None
    author_name: str | None
    sent_at: dt.datetime
    kind: MessageKind
    text: str | None
    reply_to_id: str | None = None
    thread_id: str | None = None
    has_media: bool = False
    edited_at: dt.datetime | None = None
    position: int | None = None
    forwarded_from: str | None = None  # a forward: who wrote it first (not the forwarder's own words)


class Reaction(Record):
    message_id: str
    reactor_id: str | None
    emoji: str
    reacted_at: dt.datetime | None = None
    count: int = 1


class Mention(Record):
    """An account named in a message's text (`<@U123>` on Slack, `@name` elsewhere)."""

    message_id: str
    account_id: str


class Link(Record):
    """A URL in a message's text or entities."""

    message_id: str
    url: str


class ReactionChange(Record):
    """One account's reactions to a message changed (Telegram's `message_reaction`): for each emoji
    in the old or new set, whether the account had it before (`was`) and has it now (`now`)."""

    message_id: str
    reactor_id: str
    emoji: str
    was: bool
    now: bool
    at: dt.datetime | None = None


class ReactionTotal(Record):
    """The anonymous reactions to a message, as a total per emoji (Telegram's `message_reaction_count`)."""

    message_id: str
    emoji: str
    total: int
    at: dt.datetime | None = None


class MessageEdit(Record):
    """A message's new text, from a live edit: applied to the stored message if it is older."""

    message_id: str
    text: str | None
    edited_at: dt.datetime


class Membership(Record):
    """A join, leave, add or remove; `message_id` is the system line it was read from, if any."""

    event_id: str
    channel_id: str
    account_id: str
    event: MembershipEvent
    at: dt.datetime
    actor_id: str | None = None
    message_id: str | None = None


class Checkpoint(Record):
    """Where a live source's sync stands, committed with the data it describes."""

    key: str
    value: str  # JSON


class Quarantined(Record):
    """Input that could not be read: where it was, why, and the raw text (bytes escaped)."""

    location: str
    reason: str
    raw: str | None


_ARROW = {
    str: pa.large_string(),  # what Polars produces: no cast between the connector and DuckDB
    int: pa.int64(),
    bool: pa.bool_(),
    dt.datetime: pa.timestamp("us", tz="UTC"),
}


def _arrow_type(annotation: object) -> pa.DataType:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _arrow_type(inner)
    if typing.get_origin(annotation) is Literal:
        return pa.string()
    return _ARROW[annotation]


def arrow_schema(model: type[Record]) -> pa.Schema:
    """The Arrow schema of a record type's batches: same fields, same order, same nullability."""
    # Every field is nullable on the Arrow side: the warehouse's NOT NULL constraints are the check.
    return pa.schema([pa.field(name, _arrow_type(f.annotation)) for name, f in model.model_fields.items()])


# Stream name -> record type. A connector yields Batch(stream, table) with the stream's schema.
STREAMS: dict[str, type[Record]] = {
    "channels": Channel,
    "accounts": Account,
    "messages": Message,
    "reactions": Reaction,
    "mentions": Mention,
    "links": Link,
    "reaction_changes": ReactionChange,
    "reaction_totals": ReactionTotal,
    "message_edits": MessageEdit,
    "membership_events": Membership,
    "quarantine": Quarantined,
    "sync_state": Checkpoint,
}


@dataclass(frozen=True)
class Batch:
    """A slice of one stream from one source, as an Arrow table in the stream's canonical schema."""

    stream: str
    table: pa.Table

    def __post_init__(self) -> None:
        expected = arrow_schema(STREAMS[self.stream])
        if not self.table.schema.equals(expected, check_metadata=False):
            raise TypeError(f"{self.stream} batch does not have the canonical schema:\n"
                            f"{self.table.schema}\nexpected:\n{expected}")

    @classmethod
    def conform(cls, stream: str, table: pa.Table) -> "Batch":
        """A batch from a table with the stream's columns, cast to the canonical types and order."""
        model = STREAMS[stream]
        schema = arrow_schema(model)
        for name in schema.names:  # optional fields a connector has nothing for (e.g. forwards on WhatsApp)
            if name not in table.column_names and model.model_fields[name].default is None:
                table = table.append_column(name, pa.nulls(table.num_rows, schema.field(name).type))
        table = table.select(schema.names)
        return cls(stream, table if table.schema.equals(schema) else table.cast(schema))

    @classmethod
    def of(cls, stream: str, records: list[Record]) -> "Batch":
        """A batch from a few records (channels, accounts): never used for message-sized streams."""
        schema = arrow_schema(STREAMS[stream])
        return cls(stream, pa.Table.from_pylist([r.model_dump() for r in records], schema=schema))

    def __len__(self) -> int:
        return self.table.num_rows
