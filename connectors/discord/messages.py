"""DiscordChatExporter messages in canonical form, column-wise.

A DCE JSON export is one channel: `{guild, channel, dateRange, exportedAt, messages, messageCount}`.
Each message is `{id, type, timestamp, timestampEdited, content, author, attachments, embeds,
stickers, reactions, mentions, reference?, forwardedMessage?, ...}`. `export.py` cuts the messages
array into blocks that Polars parses with the `RAW` schema (everything else is skipped); every step
after that is a Polars expression over a block.

Ids, scoped by community: a channel (thread, DM) is `discord:<community>:<channel id>`, a message
`discord:<community>:<channel id>/<message id>`, an account `discord:<community>:<user id>`.
Discord's ids are snowflakes, unique across Discord, so the `[part N]` files of one channel (DCE's
`--partition`) and later exports of it land in the same channel without duplicates.

Choices:
- kind: what a person wrote (`Default`, `Reply`, slash-command and context-menu replies) is a
  message; every other type (joins, pins, calls, renames, boosts, `ThreadCreated`, ...) is a system
  message, as DCE itself renders them. A system message has no author_id: its text is
  "<author>: <content>" so that who pinned or renamed stays readable.
- Forwards (`reference.type == "Forward"`): the text is the forwarded message's, `forwarded_from`
  is the id the original has in this warehouse (`discord:<community>:<channel>/<message>`): join it
  to `messages` to find who wrote it. DCE does not say who wrote a forwarded message.
- Reactions: a Unicode emoji is keyed by the emoji itself; a custom emoji by `custom:<emoji id>`
  (its name can change and is not unique across servers; as Telegram's custom emoji). Each listed
  user is a row with count 1; when `count` exceeds the users listed, one row without a reactor holds
  the rest. DCE gives no reaction times.
- Mentions come from `mentions[]` (users only: `@everyone`, roles and channels are not accounts);
  like the Slack and Telegram readers, an author naming themself is not a mention.
- Links: the URLs Discord itself turns into links, that is `http(s)://` text, by the rule of
  Discord's client markdown (simple-markdown's `url` rule; `<url>` links too), but for a final `?`
  or `!`, taken as the sentence's (connectors/links.py). Bare domains such as `chat.zulip.org` are
  not links on Discord and are not taken.
- has_media: attachments, embeds or stickers, the forwarded message's included.
- Threads (`GuildPublicThread`, `GuildPrivateThread`, `GuildNewsThread`): DCE names the parent
  channel in `categoryId`; a thread's messages get `thread_id` = the parent channel's message the
  thread was started from (Discord gives a thread the id of that message, or of its
  `ThreadCreated` notice).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from connectors.frames import detached
from connectors.links import links_in
from hub.model import Batch, Channel

PLATFORM = "discord"
_ARROW = pl.CompatLevel.oldest()
# The warehouse's reaction count is an INTEGER: a count past it is no count (a damaged export's).
MAX_COUNT = 2 ** 31 - 1
_UTC = pl.Datetime("us", "UTC")

_USER = pl.Struct({"id": pl.String, "name": pl.String, "discriminator": pl.String, "nickname": pl.String,
                   "globalName": pl.String, "isBot": pl.Boolean})
_ITEMS = pl.List(pl.Struct({"id": pl.String}))
_EMBEDS = pl.List(pl.Struct({"url": pl.String}))
# The fields of a DCE message the hub reads; everything else (avatars, roles, colours) is skipped.
RAW = {
    "id": pl.String, "type": pl.String, "timestamp": pl.String, "timestampEdited": pl.String,
    "content": pl.String, "author": _USER, "attachments": _ITEMS, "embeds": _EMBEDS, "stickers": _ITEMS,
    "reactions": pl.List(pl.Struct({"emoji": pl.Struct({"id": pl.String, "name": pl.String}), "count": pl.Int64,
                                    "users": pl.List(_USER)})),
    "mentions": pl.List(_USER),
    "reference": pl.Struct({"type": pl.String, "messageId": pl.String, "channelId": pl.String,
                            "guildId": pl.String}),
    "forwardedMessage": pl.Struct({"content": pl.String, "attachments": _ITEMS, "embeds": _EMBEDS,
                                   "stickers": _ITEMS}),
}
# What a person wrote; DCE writes types it has no name for as Discord's number.
_PERSON_TYPES = ["Default", "Reply", "ChatInputCommand", "ContextMenuCommand", "0", "19", "20", "23"]
# DCE's ChannelKind names -> the hub's channel kinds.
_CHANNEL_KINDS = {"DirectTextChat": "direct", "DirectGroupTextChat": "group", "GuildPublicThread": "thread",
                  "GuildPrivateThread": "thread", "GuildNewsThread": "thread"}
_TIMES = ("%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.fZ")


@dataclass(frozen=True)
class Conversation:
    """The exported channel, from the export's `channel` object (and `guild`)."""

    native_id: str
    name: str
    kind: str
    parent_id: str | None  # a thread's parent channel

    @classmethod
    def of(cls, header: dict, name: str | None = None) -> "Conversation":
        c = header.get("channel") if isinstance(header.get("channel"), dict) else {}
        kind = _CHANNEL_KINDS.get(str(c.get("type")), "channel")
        parent = c.get("categoryId") if kind == "thread" else None
        return cls(str(c["id"]), name or c.get("name") or str(c["id"]), kind, str(parent) if parent else None)

    def batch(self, community: str) -> Batch:
        return Batch.of("channels", [Channel(channel_id=f"{PLATFORM}:{community}:{self.native_id}",
                                             platform=PLATFORM, community=community, name=self.name, kind=self.kind)])


@dataclass
class Frames:
    """One block's canonical frames, and the people it showed (for accounts, made at the end)."""

    messages: pl.DataFrame
    reactions: pl.DataFrame
    mentions: pl.DataFrame
    links: pl.DataFrame
    events: pl.DataFrame
    people: pl.DataFrame  # native, handle, display, is_bot, first, last, rank
    bad: pl.DataFrame  # position, id: rows without an id or a readable timestamp


def frames(raw: pl.DataFrame, conversation: Conversation, community: str) -> Frames:
    """Canonical frames of a block of RAW messages that has a `position` column."""
    prefix = f"{PLATFORM}:{community}:"
    channel_id = prefix + conversation.native_id
    ref = pl.col("reference").struct
    forwarded = pl.col("forwardedMessage").struct
    m = raw.with_columns(
        sent_at=_time("timestamp"), edited_at=_time("timestampEdited"),
        system=~pl.col("type").fill_null("Default").is_in(_PERSON_TYPES),
        forward=(ref.field("type") == "Forward").fill_null(False),
        message_id=pl.lit(channel_id + "/") + pl.col("id"),
        author_native=pl.col("author").struct.field("id"),
        author_display=_display(pl.col("author")),
    )
    bad = m.filter(pl.col("sent_at").is_null() | pl.col("id").is_null()).select("position", "id")
    m = m.filter(pl.col("sent_at").is_not_null() & pl.col("id").is_not_null())
    content = pl.col("content").fill_null("")
    own_and_forwarded = pl.concat_str([content, forwarded.field("content").fill_null("")], separator="\n")
    text = (pl.when("system").then(pl.concat_str([pl.col("author_display").fill_null("?"), pl.lit(": "),
                                                   pl.when(content != "").then(content).otherwise("type")]))
            .when("forward").then(pl.when(content != "").then(own_and_forwarded)
                                  .otherwise(forwarded.field("content").fill_null("")))
            .otherwise(content))
    messages = m.select(
        "message_id", channel_id=pl.lit(channel_id),
        author_id=pl.when(~pl.col("system") & pl.col("author_native").is_not_null())
        .then(pl.lit(prefix) + pl.col("author_native")),
        author_name=pl.when(~pl.col("system")).then("author_display"),
        sent_at="sent_at", kind=pl.when("system").then(pl.lit("system")).otherwise(pl.lit("message")),
        text=text,
        reply_to_id=pl.when((pl.col("type") == "Reply") & ref.field("messageId").is_not_null())
        .then(pl.lit(prefix) + pl.coalesce(ref.field("channelId"), pl.lit(conversation.native_id)) + pl.lit("/")
              + ref.field("messageId")),
        thread_id=pl.lit(f"{prefix}{conversation.parent_id}/{conversation.native_id}"
                         if conversation.parent_id else None, pl.String),
        has_media=pl.any_horizontal(_has_items(pl.col(c)) | _has_items(forwarded.field(c))
                                    for c in ("attachments", "embeds", "stickers")),
        edited_at="edited_at", position="position",
        forwarded_from=pl.when(pl.col("forward") & ref.field("messageId").is_not_null())
        .then(pl.lit(prefix) + pl.coalesce(ref.field("channelId"), pl.lit(conversation.native_id)) + pl.lit("/")
              + ref.field("messageId")),
    )
    named = m.select("message_id", "author_native", "system", u="mentions").explode("u").drop_nulls("u") \
        .unnest("u").drop_nulls("id")  # system messages name who was added or removed: accounts, not mentions
    mentioned = named.filter(~pl.col("system") & (pl.col("id") != pl.col("author_native").fill_null(""))) \
        .unique(["message_id", "id"], maintain_order=True)
    links = links_in(messages)
    reactions, reactors = _reactions(m, prefix)
    people = pl.concat([
        _people(m.select(u="author", at="sent_at"), 2),
        _people(named.select(u=pl.struct(*(f.name for f in _USER.fields)), at=pl.lit(None, _UTC)), 1),
        _people(reactors.select(u="u", at=pl.lit(None, _UTC)), 0),
    ]).drop_nulls("native")
    return Frames(
        messages=messages, reactions=reactions,
        mentions=mentioned.select("message_id", account_id=pl.lit(prefix) + pl.col("id")),
        links=links, events=_events(m, channel_id, prefix), people=people, bad=bad,
    )


def _reactions(m: pl.DataFrame, prefix: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row per listed reactor (count 1), one anonymous row for the rest of each count."""
    emoji = pl.col("emoji").struct
    r = m.select("message_id", r="reactions").explode("r").drop_nulls("r").unnest("r").with_columns(
        emoji=pl.when(emoji.field("id").fill_null("") != "").then(pl.lit("custom:") + emoji.field("id"))
        .otherwise(pl.coalesce(emoji.field("name"), pl.lit("?"))),
        users=pl.col("users").fill_null([]),
    )
    named = r.select("message_id", "emoji", u="users").explode("u").drop_nulls("u") \
        .with_columns(reactor=pl.col("u").struct.field("id")).drop_nulls("reactor") \
        .unique(["message_id", "emoji", "reactor"], maintain_order=True)
    listed = named.group_by("message_id", "emoji").agg(listed=pl.len())
    count = pl.when(pl.col("count").is_between(0, MAX_COUNT)).then("count")  # else: no count, the listed users only
    rest = r.group_by("message_id", "emoji", maintain_order=True).agg(count=count.max()) \
        .join(listed, on=["message_id", "emoji"], how="left", maintain_order="left") \
        .with_columns(rest=pl.col("count").fill_null(0) - pl.col("listed").fill_null(0)).filter(pl.col("rest") > 0)
    reactions = pl.concat([
        named.select("message_id", reactor_id=pl.lit(prefix) + pl.col("reactor"), emoji="emoji",
                     reacted_at=pl.lit(None, _UTC), count=pl.lit(1, pl.Int64)),
        rest.select("message_id", reactor_id=pl.lit(None, pl.String), emoji="emoji", reacted_at=pl.lit(None, _UTC),
                    count="rest"),
    ])
    return reactions, named.select("u")


def _events(m: pl.DataFrame, channel_id: str, prefix: str) -> pl.DataFrame:
    """Joins (`GuildMemberJoin`), adds and removes (`RecipientAdd`, `RecipientRemove`: the author acts
    on the first user mentioned; removing oneself, or no one named, is leaving). An add that names no
    one gives no event (its system message stays)."""
    first = pl.col("mentions").list.first().struct.field("id")
    member = pl.when(pl.col("type") == "GuildMemberJoin").then("author_native") \
        .when(pl.col("type") == "RecipientAdd").then(first).otherwise(pl.coalesce(first, "author_native"))
    own = (member == pl.col("author_native")).fill_null(False)
    events = m.filter(pl.col("type").is_in(["GuildMemberJoin", "RecipientAdd", "RecipientRemove"])).select(
        event_id=pl.col("message_id") + pl.lit("#0"), channel_id=pl.lit(channel_id),
        account_id=pl.lit(prefix) + member,
        event=pl.when(pl.col("type") == "GuildMemberJoin").then(pl.lit("join"))
        .when(pl.col("type") == "RecipientAdd").then(pl.when(own).then(pl.lit("join")).otherwise(pl.lit("add")))
        .when(own).then(pl.lit("leave")).otherwise(pl.lit("remove")),
        at="sent_at", actor_id=pl.when(~own).then(pl.lit(prefix) + pl.col("author_native")),
        message_id="message_id",
    )
    return events.drop_nulls("account_id")


def edit_time_unread() -> pl.Expr:
    return _time("timestampEdited").is_null()


def _time(column: str) -> pl.Expr:
    """ISO 8601 with an offset, as DCE writes (`2026-06-24T19:19:57.92+07:00`), or with `Z`."""
    c = pl.col(column)
    return pl.coalesce(*(c.str.to_datetime(f, time_zone="UTC", time_unit="us", strict=False) for f in _TIMES))


def _display(user: pl.Expr) -> pl.Expr:
    """The name Discord shows: the server nickname, else the global display name, else the username."""
    u = user.struct
    return pl.coalesce(*(pl.when(u.field(f) != "").then(u.field(f)) for f in ("nickname", "globalName", "name")))


def _has_items(column: pl.Expr) -> pl.Expr:
    return column.list.len().fill_null(0) > 0


def _people(frame: pl.DataFrame, rank: int) -> pl.DataFrame:
    """native, handle, display, is_bot, first, last, rank of the users in the struct column `u`. The handle is
    the username, with its discriminator for the legacy `name#1234` accounts."""
    u = pl.col("u").struct
    discriminator = u.field("discriminator").fill_null("0")
    return frame.select(
        native=u.field("id"),
        handle=pl.when(discriminator.is_in(["0", "0000"])).then(u.field("name"))
        .otherwise(u.field("name") + pl.lit("#") + discriminator),
        display=_display(pl.col("u")), is_bot=u.field("isBot").fill_null(False), first="at", last="at",
        rank=pl.lit(rank, pl.Int8),
    )


@dataclass
class People:
    """Everyone an export shows, over its blocks. Names come from the latest message a user wrote,
    else from a mention, else from a reaction (DCE writes reactors with their global name only)."""

    community: str
    seen: list[pl.DataFrame] = field(default_factory=list)

    def add(self, people: pl.DataFrame) -> None:
        self.seen.append(detached(people))
        if len(self.seen) > 16:
            self.seen = [detached(self._merged())]

    def _merged(self) -> pl.DataFrame:
        order = ["rank", "last"]
        return pl.concat(self.seen).group_by("native").agg(
            handle=pl.col("handle").sort_by(order, nulls_last=False).drop_nulls().last(),
            display=pl.col("display").sort_by(order, nulls_last=False).drop_nulls().last(),
            is_bot=pl.col("is_bot").any(), first=pl.col("first").min(), last=pl.col("last").max(),
            rank=pl.col("rank").max(),
        )

    def accounts(self) -> Batch | None:
        if not self.seen:
            return None
        prefix = f"{PLATFORM}:{self.community}:"
        return Batch.conform("accounts", self._merged().select(
            account_id=pl.lit(prefix) + pl.col("native"), platform=pl.lit(PLATFORM),
            community=pl.lit(self.community), native_id="native", display_name="display", handle="handle",
            is_bot="is_bot", first_seen_at="first", last_seen_at="last",
        ).to_arrow(compat_level=_ARROW))


def batches_of(f: Frames) -> list[Batch]:
    """The canonical batches of one block (accounts and membership events come once, at the end)."""
    out = []
    for stream, frame in (("messages", f.messages), ("reactions", f.reactions), ("mentions", f.mentions),
                          ("links", f.links)):
        if not frame.is_empty():
            out.append(Batch.conform(stream, frame.to_arrow(compat_level=_ARROW)))
    return out
