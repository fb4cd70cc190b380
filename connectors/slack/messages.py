"""Slack messages, users and channels in canonical form, whether they come from an export or the API.

Both sources give the same JSON objects (a day file of an export is a list of the messages
`conversations.history` returns), so one path serves both: messages are read into a frame of the
fields we use (`RAW`, by Polars' JSON reader for day files, from dicts for API pages), and every
step after that is column-wise. Python only sees the few distinct bots and unknown users.

Ids: Slack's own, scoped by community: `slack:<community>:<U…|B…|C…>`; a message is
`<channel id>/<ts>` (`ts` is unique within a channel only).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import orjson
import polars as pl

from connectors.frames import SeenIds
from connectors.links import links_in
from hub.model import Batch, Channel

PLATFORM = "slack"
Rejected = Callable[[int, dict, str], None]  # a message left out: its index, itself, why

# What Slack writes (joins, topic changes, pins...) rather than what a person wrote.
SYSTEM_SUBTYPES = [
    "channel_join", "channel_leave", "group_join", "group_leave", "channel_topic", "channel_purpose",
    "channel_name", "channel_archive", "channel_unarchive", "group_topic", "group_purpose", "group_name",
    "group_archive", "group_unarchive", "pinned_item", "unpinned_item", "bot_add", "bot_remove", "bot_enable",
    "bot_disable", "reminder_add", "sh_room_created", "sh_room_shared", "channel_convert_to_private",
    "channel_convert_to_public", "huddle_thread", "channel_posting_permissions",
]
_JOIN = {"channel_join": "join", "group_join": "join", "channel_leave": "leave", "group_leave": "leave"}
MENTION = r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>"
# Slack writes a link in its markup, `<https://…>` or `<https://…|label>`, with `&`, `<` and `>`
# escaped as `&amp;`, `&lt;` and `&gt;`.
LINK = r"(?i)<(https?://[^|>\s]+)(?:\|[^>]*)?>"
_BOT_NAME = re.compile(r"services/(B[A-Z0-9]+)\|([^>]+)>")
_ARROW = pl.CompatLevel.oldest()
# The warehouse's reaction count is an INTEGER: a count past it is no count (a damaged export's).
MAX_COUNT = 2 ** 31 - 1

# The fields of a Slack message that the hub reads; everything else in the JSON is skipped.
RAW = {
    "ts": pl.String, "type": pl.String, "subtype": pl.String, "user": pl.String, "bot_id": pl.String,
    "username": pl.String, "text": pl.String, "thread_ts": pl.String, "inviter": pl.String,
    "bot_profile": pl.Struct({"name": pl.String}),
    "user_profile": pl.Struct({"real_name": pl.String, "display_name": pl.String, "name": pl.String}),
    "edited": pl.Struct({"ts": pl.String}),
    "comment": pl.Struct({"user": pl.String}),  # legacy file comments carry their author here
    "file": pl.Struct({"id": pl.String}),
    "files": pl.List(pl.Struct({"id": pl.String})),
    "attachments": pl.List(pl.Struct({"fallback": pl.String, "text": pl.String})),
    "reactions": pl.List(pl.Struct({"name": pl.String, "count": pl.Int64, "users": pl.List(pl.String)})),
}


def read_messages(raw: bytes, rejected: Rejected) -> pl.DataFrame:
    """A day file (a JSON list of messages) as a frame of `index` (each message's place in the list)
    and the RAW fields; ValueError if it is not one. A message that is not an object, or whose
    fields have shapes Slack never writes, is left out and passed to `rejected` (index, itself, why)."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")  # (an editor's BOM, which orjson refuses)
    if not raw.lstrip(b" \t\r\n").startswith(b"["):  # Polars would read an object as one message
        raise ValueError("expected a JSON list of messages")
    try:
        return pl.read_json(io.BytesIO(raw), schema=RAW).with_row_index("index")
    except Exception:  # Polars refuses odd shapes (a non-object in the list...): read them one by one
        data = orjson.loads(raw)  # JSONDecodeError is a ValueError: the caller quarantines the file
        if not isinstance(data, list):
            raise ValueError("expected a JSON list of messages") from None
    numbered = []
    for i, m in enumerate(data):
        if isinstance(m, dict):
            numbered.append({**m, "index": i})
        else:
            rejected(i, m, "not a JSON object")
    parts = _fitting(numbered, rejected)
    return pl.concat(parts) if parts else pl.DataFrame(schema=_NUMBERED)


_NUMBERED = {"index": pl.UInt32, **RAW}
# What Polars raises for values that do not fit RAW (a list where text belongs, an integer past 64 bits).
_SHAPE_ERRORS = (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError)


def _fitting(messages: list[dict], rejected: Rejected) -> list[pl.DataFrame]:
    """Frames of the messages that fit RAW, found by halving: a few bad ones cost a few dozen tries."""
    try:
        return [pl.DataFrame(messages, schema=_NUMBERED, strict=False)]
    except _SHAPE_ERRORS as e:
        if len(messages) == 1:
            message = {k: v for k, v in messages[0].items() if k != "index"}
            rejected(messages[0]["index"], message, f"a message of an unexpected shape: {str(e).splitlines()[0]}")
            return []
    half = len(messages) // 2
    return _fitting(messages[:half], rejected) + _fitting(messages[half:], rejected)


def frame_of(messages: list[dict]) -> pl.DataFrame:
    """API pages (lists of message dicts) as a frame of RAW fields."""
    return pl.DataFrame(messages, schema=RAW, strict=False)


def _named(text: pl.Expr | str) -> pl.Expr:
    """The text, or null when it is empty (Slack writes `"username": ""`)."""
    text = pl.col(text) if isinstance(text, str) else text
    return pl.when(text != "").then(text)


# A bot's native id: its bot_id; an old integration's message (an incoming webhook before bot
# users) has none, only the name it posted under, which is then its account, as a name-only one.
_BOT = pl.coalesce("bot_id", pl.when((pl.col("subtype") == "bot_message").fill_null(False))
                   .then(pl.lit("name:") + _named("username")))


@dataclass
class Names:
    """Who is who in a workspace: user and bot accounts by Slack id."""

    community: str
    accounts: dict[str, dict] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)  # added or renamed since the last batch

    def account_id(self, native: str) -> str:
        return f"{PLATFORM}:{self.community}:{native}"

    def add_user(self, user: dict) -> None:
        """A user object with a text `id`; its other fields count only where they are text."""
        profile = {k: v for k, v in user["profile"].items() if isinstance(v, str)} \
            if isinstance(user.get("profile"), dict) else {}
        user = {k: v for k, v in user.items() if isinstance(v, str) or k == "is_bot"}
        self.touched.add(user["id"])
        account = {
            "account_id": self.account_id(user["id"]), "platform": PLATFORM, "community": self.community,
            "native_id": user["id"],
            "display_name": profile.get("display_name") or profile.get("real_name") or user.get("real_name")
            or user.get("name"),
            "handle": user.get("name"), "email": profile.get("email") or None, "phone": profile.get("phone") or None,
            "is_bot": bool(user.get("is_bot") or user.get("id") == "USLACKBOT"),
            "first_seen_at": None, "last_seen_at": None,
        }
        # Listed twice (users.json and Enterprise Grid's org_users.json): what one leaves out, the other may give.
        known = self.accounts.get(user["id"], {})
        self.accounts[user["id"]] = {k: known.get(k) if v in (None, "") else v for k, v in account.items()} \
            | {"is_bot": account["is_bot"] or bool(known.get("is_bot"))}

    def see(self, native: str, *, name: str | None = None, handle: str | None = None, bot: bool = False) -> None:
        """An author, mention or inviter seen in a message: an account even if users.json does not
        list it. What a message tells of it fills what is missing, whichever message tells it first."""
        known = self.accounts.get(native)
        if known is None:
            self.add_user({"id": native, "is_bot": bot})  # (named below, from what the message tells)
            known = self.accounts[native]
        if name and known["display_name"] in (None, "", native):
            known["display_name"] = name
            self.touched.add(native)
        if handle and not known["handle"]:
            known["handle"] = handle
            self.touched.add(native)

    def batch(self, seen: pl.DataFrame | None, *, only_new: bool = False) -> Batch:
        """Accounts with their first and last message times (`seen`: native_id, first, last).
        With `only_new`, just those added or renamed since the last batch, and those who wrote."""
        wanted = self.accounts.values()
        if only_new:
            wrote = set() if seen is None else set(seen["native_id"].to_list())
            wanted = [a for k, a in self.accounts.items() if k in self.touched or k in wrote]
        self.touched.clear()
        rows = pl.DataFrame(list(wanted), schema=_ACCOUNT_SCHEMA)
        if seen is not None and not seen.is_empty():
            rows = rows.drop("first_seen_at", "last_seen_at").join(seen, on="native_id", how="left")
        return Batch.conform("accounts", rows.to_arrow(compat_level=_ARROW))


_ACCOUNT_SCHEMA = {
    "account_id": pl.String, "platform": pl.String, "community": pl.String, "native_id": pl.String,
    "display_name": pl.String, "handle": pl.String, "email": pl.String, "phone": pl.String, "is_bot": pl.Boolean,
    "first_seen_at": pl.Datetime("us", "UTC"), "last_seen_at": pl.Datetime("us", "UTC"),
}


def channel_record(community: str, conversation: dict, kind: str) -> dict:
    """A conversation object with a text `id`; a name that is not text counts as missing."""
    name = conversation.get("name") if isinstance(conversation.get("name"), str) else None
    return {"channel_id": f"{PLATFORM}:{community}:{conversation['id']}", "platform": PLATFORM,
            "community": community, "name": name or conversation["id"], "kind": kind}


def channels_batch(records: list[dict]) -> Batch:
    """The `channels` batch of some `channel_record`s."""
    return Batch.of("channels", [Channel(**r) for r in records])


def channel_kind(conversation: dict) -> str:
    if conversation.get("is_im"):
        return "direct"
    if conversation.get("is_mpim"):
        return "group"
    return "channel"


@dataclass
class MessageFrames:
    """Messages of one or more channels gathered as RAW frames, ready for `frames()`."""

    names: Names
    seen: "SeenIds | None" = None  # ids given by earlier frames of the same export (export reader)
    parts: list[pl.DataFrame] = field(default_factory=list)
    channels: list[tuple[str, int, int | None]] = field(default_factory=list)  # (channel, rows, first position)
    rows: int = 0

    def add(self, channel: str, messages: pl.DataFrame, first_position: int | None = None) -> None:
        """Messages of one channel (RAW frame). Positions count on from `first_position` (exports)."""
        self.parts.append(messages)
        self.channels.append((channel, messages.height, first_position))
        self.rows += messages.height

    def __len__(self) -> int:
        return self.rows

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """(messages, reactions, mentions, links, membership events) in canonical columns."""
        prefix = f"{PLATFORM}:{self.names.community}:"
        raw = pl.concat(self.parts, how="vertical_relaxed") if self.parts else pl.DataFrame(schema=RAW)
        spans = pl.DataFrame(self.channels, schema={"channel": pl.String, "n": pl.Int64, "first": pl.Int64},
                             orient="row")
        spread = spans.select(pl.col("channel").repeat_by("n").explode(),
                              pl.col("first").repeat_by("n").explode()).drop_nulls("channel")
        raw = raw.with_columns(
            channel=spread["channel"],
            position=spread["first"] + pl.int_range(raw.height, dtype=pl.Int64, eager=True)
            - spans.select(pl.col("n").cum_sum().shift(1, fill_value=0).repeat_by("n").explode())["n"])
        self._learn_names(raw)
        bot = (pl.col("subtype") == "bot_message").fill_null(False) \
            | (pl.col("bot_id").is_not_null() & pl.col("user").is_null())
        system = pl.col("subtype").is_in(SYSTEM_SUBTYPES).fill_null(False)
        channel_id = pl.lit(prefix) + pl.col("channel")
        fallbacks = pl.col("attachments").list.eval(
            pl.coalesce(pl.element().struct.field("fallback"), pl.element().struct.field("text"))).list.join("\n")
        m = raw.with_columns(
            author=pl.when(bot).then(_BOT).otherwise(pl.coalesce("user", pl.col("comment").struct.field("user"))),
            text=pl.when((pl.col("text").fill_null("") == "") & pl.col("attachments").list.len().gt(0).fill_null(False))
            .then(fallbacks).otherwise(pl.col("text").fill_null("")),
            has_media=pl.col("files").list.len().gt(0).fill_null(False) | (pl.col("subtype") == "file_share").fill_null(False)
            | (pl.col("file").is_not_null() & (pl.col("subtype") != "file_comment").fill_null(True)),
        ).with_columns(
            message_id=channel_id + pl.lit("/") + pl.col("ts"),
            channel_id=channel_id,
            author_id=pl.when(~system & pl.col("author").is_not_null()).then(pl.lit(prefix) + pl.col("author")),
            sent_at=_ts_to_time("ts"),
            edited_at=_ts_to_time(pl.col("edited").struct.field("ts")),
            kind=pl.when(system).then(pl.lit("system")).otherwise(pl.lit("message")),
            thread_id=pl.when(pl.col("thread_ts").is_not_null()).then(channel_id + pl.lit("/") + pl.col("thread_ts")),
            reply_to_id=pl.when(pl.col("thread_ts").is_not_null() & (pl.col("thread_ts") != pl.col("ts")))
            .then(channel_id + pl.lit("/") + pl.col("thread_ts")),
        )
        if m["message_id"].is_duplicated().any():  # a broadcast reply is in history and in its thread
            m = m.unique("message_id", keep="first", maintain_order=True)
        if self.seen is not None:  # ... or in two day files, which may fall in two batches
            m = m.filter(~self.seen.repeated(m["message_id"]))
        names = {k: v["display_name"] for k, v in self.names.accounts.items()}
        messages = m.select(
            "message_id", "channel_id", "author_id",
            author_name=pl.when(pl.col("author_id").is_not_null())
            .then(pl.col("author").replace_strict(names, default=None, return_dtype=pl.String)),  # (see _messages)
            sent_at="sent_at", kind="kind", text="text", reply_to_id="reply_to_id", thread_id="thread_id",
            has_media="has_media", edited_at="edited_at", position="position",
        )
        mentions = m.filter(pl.col("kind") == "message").select(
            "message_id", "author", mentioned=pl.col("text").str.extract_all(MENTION)) \
            .explode("mentioned").drop_nulls("mentioned") \
            .with_columns(mentioned=pl.col("mentioned").str.extract(MENTION, 1),
                          mentioned_name=_named(pl.col("mentioned").str.extract(MENTION, 2))) \
            .filter(pl.col("mentioned") != pl.col("author").fill_null("")) \
            .unique(["message_id", "mentioned"], maintain_order=True)
        links = links_in(m, pl.col("text").str.extract_all(LINK).list.eval(
            pl.element().str.extract(LINK, 1).str.replace_all("&lt;", "<", literal=True)
            .str.replace_all("&gt;", ">", literal=True).str.replace_all("&amp;", "&", literal=True)))
        events = m.filter(pl.col("subtype").is_in(list(_JOIN)).fill_null(False) & pl.col("user").is_not_null()).select(
            event_id=pl.col("message_id") + pl.lit("#0"), channel_id="channel_id",
            account_id=pl.lit(prefix) + pl.col("user"),
            event=pl.when(pl.col("inviter").is_not_null()).then(pl.lit("add"))
            .otherwise(pl.col("subtype").replace_strict(_JOIN, return_dtype=pl.String)),
            at="sent_at",
            actor_id=pl.when(pl.col("inviter").is_not_null()).then(pl.lit(prefix) + pl.col("inviter")),
            message_id="message_id",
        )
        reactions = _reactions(m.select("message_id", "reactions"))
        for native, name in mentions.select("mentioned", "mentioned_name").unique().iter_rows():
            self.names.see(native, handle=name)  # `<@U7|seven>`: seven is the username
        for native in set(reactions["user"].drop_nulls().to_list()):
            self.names.see(native)
        reactions = reactions.select(
            "message_id", reactor_id=pl.when(pl.col("user").is_not_null()).then(pl.lit(prefix) + pl.col("user")),
            emoji="emoji", reacted_at=pl.lit(None, pl.Datetime("us", "UTC")), count="count")
        mentions = mentions.select("message_id", account_id=pl.lit(prefix) + pl.col("mentioned"))
        return messages, reactions, mentions, links, events

    def _learn_names(self, raw: pl.DataFrame) -> None:
        """Bots and users the users file does not list get accounts, named as the messages name them."""
        bots = raw.select(_BOT.alias("bot_id"), "subtype", "user", "username", "bot_profile") \
            .filter(pl.col("bot_id").is_not_null() & ((pl.col("subtype") == "bot_message").fill_null(False)
                                                      | pl.col("user").is_null())) \
            .group_by("bot_id").agg(name=pl.coalesce(_named("username"), _named(pl.col("bot_profile").struct
                                                                                .field("name"))).drop_nulls().first())
        for bot_id, name in bots.iter_rows():
            self.names.see(bot_id, name=name, handle=name, bot=True)
        for text in raw.select("subtype", "text").filter(pl.col("subtype") == "bot_add")["text"].drop_nulls().to_list():
            for bot_id, name in _BOT_NAME.findall(text):
                self.names.see(bot_id, name=name, bot=True)
        profile = pl.col("user_profile").struct
        people = raw.select("user", "user_profile", "inviter").drop_nulls("user").group_by("user").agg(
            name=pl.coalesce(_named(profile.field("display_name")), _named(profile.field("real_name")))
            .drop_nulls().first(),
            handle=_named(profile.field("name")).drop_nulls().first())
        for user, name, handle in people.iter_rows():
            self.names.see(user, name=name, handle=handle)
        for inviter in raw["inviter"].drop_nulls().unique().to_list():  # (an actor of events: an account too)
            self.names.see(inviter)
        for user in raw["comment"].struct.field("user").drop_nulls().unique().to_list():
            self.names.see(user)


def _reactions(m: pl.DataFrame) -> pl.DataFrame:
    """One row per reacting user, and one anonymous row for reactors a big message does not list."""
    r = m.explode("reactions").drop_nulls("reactions").select(
        "message_id", emoji=pl.col("reactions").struct.field("name").fill_null("?"),  # (as Discord's nameless emoji)
        users=pl.col("reactions").struct.field("users").fill_null([]),
        total=pl.when(pl.col("reactions").struct.field("count").is_between(0, MAX_COUNT))  # else: no count
        .then(pl.col("reactions").struct.field("count")))
    named = r.explode("users").drop_nulls("users").select("message_id", "emoji", user="users",
                                                         count=pl.lit(1, pl.Int64))
    rest = r.with_columns(rest=pl.coalesce("total", pl.col("users").list.len()) - pl.col("users").list.len()) \
        .filter(pl.col("rest") > 0).select("message_id", "emoji", user=pl.lit(None, pl.String), count="rest")
    return pl.concat([named, rest])


def _ts_to_time(column: str | pl.Expr) -> pl.Expr:
    """Slack's `"1700000000.000123"` to a UTC timestamp, exactly (no float rounding); null for what
    is not such a time (a damaged `edited.ts`: message times are checked before)."""
    parts = (pl.col(column) if isinstance(column, str) else column).str.split_exact(".", 1)
    micros = parts.struct.field("field_0").cast(pl.Int64, strict=False) * 1_000_000 \
        + parts.struct.field("field_1").fill_null("0").str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64, strict=False)
    return micros.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def batches_of(frames: tuple[pl.DataFrame, ...]) -> Iterator[Batch]:
    """Canonical batches of `MessageFrames.frames()` (accounts come once, at the end of a source)."""
    for stream, frame in zip(("messages", "reactions", "mentions", "links", "membership_events"), frames):
        if stream == "messages" or not frame.is_empty():
            yield Batch.conform(stream, frame.to_arrow(compat_level=_ARROW))


def seen_times(frames: list[pl.DataFrame], prefix: str) -> pl.DataFrame | None:
    """native_id -> first and last message time, over frames of (author_id, sent_at)."""
    if not frames:
        return None
    return pl.concat(frames).drop_nulls("author_id").group_by("author_id").agg(
        first_seen_at=pl.col("sent_at").min(), last_seen_at=pl.col("sent_at").max(),
    ).select(native_id=pl.col("author_id").str.strip_prefix(prefix), first_seen_at="first_seen_at",
             last_seen_at="last_seen_at")
