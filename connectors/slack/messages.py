"""Slack messages, users and channels in canonical form, whether they come from an export or the API.

Both sources give the same JSON objects (a day file of an export is a list of the messages
`conversations.history` returns), so one builder serves both. Python touches each message once, to
pick its fields into columns; everything else (ids, times, kinds, mentions) is column-wise.

Ids: Slack's own, scoped by community: `slack:<community>:<U…|B…|C…>`; a message is
`<channel id>/<ts>` (`ts` is unique within a channel only).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import polars as pl

from hub.model import Batch

PLATFORM = "slack"

# What Slack writes (joins, topic changes, pins...) rather than what a person wrote.
SYSTEM_SUBTYPES = frozenset({
    "channel_join", "channel_leave", "group_join", "group_leave", "channel_topic", "channel_purpose",
    "channel_name", "channel_archive", "channel_unarchive", "group_topic", "group_purpose", "group_name",
    "group_archive", "group_unarchive", "pinned_item", "unpinned_item", "bot_add", "bot_remove", "bot_enable",
    "bot_disable", "reminder_add", "sh_room_created", "sh_room_shared", "channel_convert_to_private",
    "channel_convert_to_public", "huddle_thread", "channel_posting_permissions",
})
_JOIN = {"channel_join": "join", "group_join": "join", "channel_leave": "leave", "group_leave": "leave"}
MENTION = r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>"
_BOT_NAME = re.compile(r"services/(B[A-Z0-9]+)\|([^>]+)>")
_ARROW = pl.CompatLevel.oldest()


@dataclass
class Names:
    """Who is who in a workspace: user and bot accounts by Slack id."""

    community: str
    accounts: dict[str, dict] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)  # added or renamed since the last batch

    def account_id(self, native: str) -> str:
        return f"{PLATFORM}:{self.community}:{native}"

    def add_user(self, user: dict) -> None:
        profile = user.get("profile") or {}
        self.touched.add(user["id"])
        self.accounts[user["id"]] = {
            "account_id": self.account_id(user["id"]), "platform": PLATFORM, "community": self.community,
            "native_id": user["id"],
            "display_name": profile.get("display_name") or profile.get("real_name") or user.get("real_name")
            or user.get("name"),
            "handle": user.get("name"), "email": profile.get("email") or None, "phone": profile.get("phone") or None,
            "is_bot": bool(user.get("is_bot") or user.get("id") == "USLACKBOT"),
            "first_seen_at": None, "last_seen_at": None,
        }

    def see(self, native: str, *, name: str | None = None, bot: bool = False, profile: dict | None = None) -> None:
        """An author or mention seen in a message: an account even if users.json does not list it."""
        known = self.accounts.get(native)
        if known is None:
            self.add_user({"id": native, "name": name, "is_bot": bot, "profile": profile or {}})
        elif name and known["display_name"] in (None, native):
            known["display_name"] = name
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
    return {"channel_id": f"{PLATFORM}:{community}:{conversation['id']}", "platform": PLATFORM,
            "community": community, "name": conversation.get("name") or conversation["id"], "kind": kind}


def channel_kind(conversation: dict) -> str:
    if conversation.get("is_im"):
        return "direct"
    if conversation.get("is_mpim"):
        return "group"
    return "channel"


@dataclass
class MessageColumns:
    """Messages of one or more channels picked into columns, ready for `frames()`."""

    names: Names
    cols: dict[str, list] = field(default_factory=lambda: {k: [] for k in _MESSAGE_FIELDS})
    reactions: dict[str, list] = field(default_factory=lambda: {k: [] for k in _REACTION_FIELDS})

    def add(self, channel: str, message: dict, position: int | None) -> None:
        """One Slack message object (export or API). `channel` is the Slack channel id."""
        c = self.cols
        ts = message["ts"]
        subtype = message.get("subtype")
        user = message.get("user") or (message.get("comment") or {}).get("user")  # legacy file comments
        bot = message.get("bot_id")
        if subtype == "bot_message" or (bot and not user):
            user = bot
            self.names.see(bot, name=message.get("username") or (message.get("bot_profile") or {}).get("name"),
                           bot=True)
        elif user:
            self.names.see(user, profile=message.get("user_profile"), name=(message.get("user_profile") or {})
                           .get("real_name"))
        if subtype == "bot_add" and message.get("text"):
            for bot_id, bot_name in _BOT_NAME.findall(message["text"]):
                self.names.see(bot_id, name=bot_name, bot=True)
        text = message.get("text") or ""
        if not text and message.get("attachments"):
            text = "\n".join(a.get("fallback") or a.get("text") or "" for a in message["attachments"])
        c["channel"].append(channel)
        c["ts"].append(ts)
        c["user"].append(user)
        c["subtype"].append(subtype)
        c["text"].append(text)
        c["thread_ts"].append(message.get("thread_ts"))
        c["edited_ts"].append((message.get("edited") or {}).get("ts"))
        # A legacy file_comment carries the commented file: the comment itself shares nothing.
        c["has_media"].append(bool(message.get("files") or subtype == "file_share"
                                   or (message.get("file") and subtype != "file_comment")))
        c["inviter"].append(message.get("inviter"))
        c["position"].append(position)
        for reaction in message.get("reactions") or ():
            users = reaction.get("users") or []
            r = self.reactions
            for who in users:
                r["channel"].append(channel), r["ts"].append(ts), r["emoji"].append(reaction["name"])
                r["user"].append(who), r["count"].append(1)
            rest = (reaction.get("count") or len(users)) - len(users)
            if rest > 0:  # big messages list only some reactors: keep the rest as an anonymous count
                r["channel"].append(channel), r["ts"].append(ts), r["emoji"].append(reaction["name"])
                r["user"].append(None), r["count"].append(rest)

    def __len__(self) -> int:
        return len(self.cols["ts"])

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """(messages, reactions, mentions, membership events) in canonical columns."""
        prefix = f"{PLATFORM}:{self.names.community}:"
        raw = pl.DataFrame(self.cols, schema=_MESSAGE_FIELDS)
        channel_id = pl.lit(prefix) + pl.col("channel")
        message_id = channel_id + pl.lit("/") + pl.col("ts")
        system = pl.col("subtype").is_in(list(SYSTEM_SUBTYPES)).fill_null(False)
        m = raw.with_columns(
            message_id=message_id,
            channel_id=channel_id,
            author_id=pl.when(~system & pl.col("user").is_not_null()).then(pl.lit(prefix) + pl.col("user")),
            sent_at=_ts_to_time("ts"),
            edited_at=_ts_to_time("edited_ts"),
            kind=pl.when(system).then(pl.lit("system")).otherwise(pl.lit("message")),
            thread_id=pl.when(pl.col("thread_ts").is_not_null()).then(channel_id + pl.lit("/") + pl.col("thread_ts")),
            reply_to_id=pl.when(pl.col("thread_ts").is_not_null() & (pl.col("thread_ts") != pl.col("ts")))
            .then(channel_id + pl.lit("/") + pl.col("thread_ts")),
        ).unique("message_id", keep="first", maintain_order=True)
        names = {k: v["display_name"] for k, v in self.names.accounts.items()}
        messages = m.select(
            "message_id", "channel_id", "author_id",
            author_name=pl.when(pl.col("author_id").is_not_null())
            .then(pl.col("user").replace_strict(names, default=pl.col("user"), return_dtype=pl.String)),
            sent_at="sent_at", kind="kind", text="text", reply_to_id="reply_to_id", thread_id="thread_id",
            has_media="has_media", edited_at="edited_at", position="position",
        )
        mentions = m.filter(pl.col("kind") == "message").select(
            "message_id", "user", mentioned=pl.col("text").str.extract_all(MENTION)) \
            .explode("mentioned").drop_nulls("mentioned") \
            .with_columns(mentioned=pl.col("mentioned").str.extract(MENTION, 1)) \
            .filter(pl.col("mentioned") != pl.col("user").fill_null("")) \
            .unique(["message_id", "mentioned"], maintain_order=True) \
            .select("message_id", account_id=pl.lit(prefix) + pl.col("mentioned"))
        for native in mentions["account_id"].str.strip_prefix(prefix).unique().to_list():
            self.names.see(native)
        events = m.filter(pl.col("subtype").is_in(list(_JOIN)) & pl.col("user").is_not_null()).select(
            event_id=pl.col("message_id") + pl.lit("#0"), channel_id="channel_id",
            account_id=pl.lit(prefix) + pl.col("user"),
            event=pl.when(pl.col("inviter").is_not_null()).then(pl.lit("add"))
            .otherwise(pl.col("subtype").replace_strict(_JOIN, return_dtype=pl.String)),
            at="sent_at",
            actor_id=pl.when(pl.col("inviter").is_not_null()).then(pl.lit(prefix) + pl.col("inviter")),
            message_id="message_id",
        )
        r = pl.DataFrame(self.reactions, schema=_REACTION_FIELDS)
        reactions = r.select(
            message_id=pl.lit(prefix) + pl.col("channel") + pl.lit("/") + pl.col("ts"),
            reactor_id=pl.when(pl.col("user").is_not_null()).then(pl.lit(prefix) + pl.col("user")),
            emoji="emoji", reacted_at=pl.lit(None, pl.Datetime("us", "UTC")), count="count",
        )
        for native in r["user"].drop_nulls().unique().to_list():
            self.names.see(native)
        return messages, reactions, mentions, events


_MESSAGE_FIELDS = {
    "channel": pl.String, "ts": pl.String, "user": pl.String, "subtype": pl.String, "text": pl.String,
    "thread_ts": pl.String, "edited_ts": pl.String, "has_media": pl.Boolean, "inviter": pl.String,
    "position": pl.Int64,  # order in an export; None from the API
}
_REACTION_FIELDS = {"channel": pl.String, "ts": pl.String, "emoji": pl.String, "user": pl.String,
                    "count": pl.Int64}


def _ts_to_time(column: str) -> pl.Expr:
    """Slack's `"1700000000.000123"` to a UTC timestamp, exactly (no float rounding)."""
    parts = pl.col(column).str.split_exact(".", 1)
    micros = parts.struct.field("field_0").cast(pl.Int64) * 1_000_000 \
        + parts.struct.field("field_1").fill_null("0").str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64)
    return micros.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def batches_of(frames: tuple[pl.DataFrame, ...]) -> Iterator[Batch]:
    """Canonical batches of `MessageColumns.frames()` (accounts come once, at the end of a source)."""
    for stream, frame in zip(("messages", "reactions", "mentions", "membership_events"), frames):
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
