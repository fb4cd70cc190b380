"""Telegram messages in canonical form, whether they come from a Desktop export or the Bot API.

Everything is first put in the shape of a Telegram Desktop export message (the Bot API reader
translates its updates to it), read into a frame of the fields the hub uses (`RAW`), and every
step after that is column-wise.

Ids, scoped by community: a chat is its bare id (`1700000001`; the Bot API's `-1001700000001`
is the same supergroup), an account is Telegram's peer id as the export writes it (`user42`,
`channel7`), a message is `<chat>/<message id>`. Messages of supergroups and channels have the
same ids for everyone, so a message read from an export and from a bot is one row. Exports of
old tools without ids get ids derived from the message's content (`h<hash>`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import orjson
import polars as pl

from connectors.frames import detached
from connectors.mojibake import repair, repair_series
from hub.model import Batch, Channel

PLATFORM = "telegram"
_ARROW = pl.CompatLevel.oldest()
# The warehouse's reaction count is an INTEGER: a count past it is no count (a damaged export's).
MAX_COUNT = 2 ** 31 - 1
Rejected = Callable[[int, dict, str], None]  # a message left out: its index, itself, why
_FIRST_SECOND, _LAST_SECOND = -62135596800, 253402300799  # the years 1 to 9999, in epoch seconds

_ENTITY = pl.Struct({"type": pl.String, "text": pl.String, "href": pl.String, "user_id": pl.Int64})
_RECENT = pl.Struct({"from": pl.String, "from_id": pl.String, "date": pl.String})
# The fields of a Desktop export message that the hub reads; everything else is skipped.
RAW = {
    "id": pl.String, "type": pl.String, "date": pl.String, "date_unixtime": pl.String,
    "from": pl.String, "from_id": pl.String, "actor": pl.String, "actor_id": pl.String,
    "action": pl.String, "members": pl.List(pl.String), "title": pl.String,
    "text_entities": pl.List(_ENTITY), "reply_to_message_id": pl.Int64, "reply_to_peer_id": pl.String,
    "edited": pl.String, "edited_unixtime": pl.String,
    "forwarded_from": pl.String, "forwarded_from_id": pl.String, "saved_from": pl.String,
    "photo": pl.String, "file": pl.String, "media_type": pl.String, "sticker_emoji": pl.String,
    # (Only whether there is one is read. Not a poll's question: Desktop writes it as text, a list of
    # entities once formatted, which a String refuses, and with it the whole block.)
    "poll": pl.Struct({"closed": pl.Boolean}), "location_information": pl.Struct({"latitude": pl.Float64}),
    "paid_stars_amount": pl.Int64, "todo_list": pl.Struct({"others_can_append": pl.Boolean}),
    "game_title": pl.String, "invoice_information": pl.Struct({"currency": pl.String}),
    "contact_information": pl.Struct({"first_name": pl.String}),
    "reactions": pl.List(pl.Struct({"type": pl.String, "count": pl.Int64, "emoji": pl.String,
                                    "document_id": pl.String, "recent": pl.List(_RECENT)})),
}
_MEDIA = ["photo", "file", "media_type", "poll", "location_information", "contact_information", "paid_stars_amount",
          "todo_list", "game_title", "invoice_information"]
_JOINS = {"join_group_by_link": "join", "join_group_by_request": "join"}
_MEMBER_LISTS = {"invite_members": ("join", "add"), "create_group": ("join", "add"),
                 "remove_members": ("leave", "remove")}
_CHAT_KINDS = {"personal_chat": "direct", "bot_chat": "direct", "saved_messages": "direct",
               "private_group": "group", "private_supergroup": "group", "public_supergroup": "group",
               "private_channel": "channel", "public_channel": "channel",
               "private": "direct", "group": "group", "supergroup": "group", "channel": "channel"}
_UNNAMED = {"saved_messages": "Saved Messages", "replies": "Replies"}  # chats Telegram Desktop writes no name for


@dataclass(frozen=True)
class Chat:
    native_id: str
    name: str
    kind: str

    @classmethod
    def of(cls, meta: dict, fallback_name: str) -> "Chat":
        """A chat from an export's `{name, type, id}` (any of them may be missing in old tools' files,
        or be of another type in a damaged one: then they count as missing)."""
        kind = _text(meta.get("type")) or ""
        name = repair(_text(meta.get("name")) or "") or _UNNAMED.get(kind) or fallback_name
        native = _text(meta.get("id")) or f"name:{name}"
        return cls(native, name, _CHAT_KINDS.get(kind, "group"))


def bare_chat_id(bot_api_id: int) -> str:
    """The Bot API's chat id as exports write it: -100… (supergroups, channels) and -… (groups) lose their sign."""
    text = str(bot_api_id)
    return text[4:] if text.startswith("-100") else text.lstrip("-")


def peer_id(value: object) -> str | None:
    """`user42` / `channel7` as exports write them; old exports' bare integers are users."""
    if value is None:
        return None
    text = str(value)
    return f"user{text}" if text.lstrip("-").isdigit() else text


def normalise(message: dict) -> dict:
    """A message of an odd shape (old exports, other tools) as a RAW-shaped dict, in Python.
    ValueError says why for a message whose ids, times or members are not numbers or text."""
    m = dict(message)
    if "text_entities" not in m or not isinstance(m.get("text_entities"), list):
        m["text_entities"] = _entities(m.get("text"))
    for key in ("from_id", "actor_id", "forwarded_from_id"):
        if m.get(key) is not None:
            m[key] = peer_id(_scalar(m[key], key))
    for key in ("id", "date_unixtime", "edited_unixtime", "reply_to_peer_id"):
        if m.get(key) is not None:
            m[key] = _scalar(m[key], key)
    for key in ("forwarded_from", "saved_from"):  # a forward whose sender shows no name: a forward still
        if key in m and m[key] is None:
            m[key] = "hidden"
    if m.get("members") is not None:
        if not isinstance(m["members"], list):
            raise ValueError("members is not a list")
        m["members"] = [_scalar(x, "a member") for x in m["members"] if x is not None]
    return {k: m.get(k) for k in RAW}


def _text(value: object) -> str | None:
    """A number or a text as text; None for anything else (a list, an object, true…)."""
    try:
        return _scalar(value, "")
    except ValueError:
        return None


def _scalar(value: object, what: str) -> str:
    # str() of anything else would make an id of a list, or recurse through a deeply nested one.
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # ValueError for an integer of thousands of digits
    raise ValueError(f"{what} is not a number or a text")


def _entities(text: object) -> list[dict]:
    if isinstance(text, str):
        return [{"type": "plain", "text": text}] if text else []
    if isinstance(text, list):
        return [{"type": "plain", "text": part} if isinstance(part, str) else
                {"type": part.get("type"), "text": part.get("text"), "href": part.get("href"),
                 "user_id": part.get("user_id")}
                for part in text if isinstance(part, (str, dict))]
    return []


# What Polars raises for values that do not fit RAW (a list where text belongs, an integer past 64 bits).
_SHAPE_ERRORS = (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError)


def frame_of(messages: Iterable[dict], rejected: Rejected | None = None) -> pl.DataFrame:
    """Messages as a RAW frame. With `rejected`, a message that does not fit is passed to it (its
    index, the message, why) and left out, and the others are kept; without, the error is raised."""
    messages = list(messages)
    rows, kept = [], []
    for i, m in enumerate(messages):
        try:
            rows.append(normalise(m))
            kept.append(i)
        except ValueError as e:
            if rejected is None:
                raise
            rejected(i, m, str(e))
    if rejected is None:
        return pl.DataFrame(rows, schema=RAW, strict=False)
    parts = _fitting(rows, kept, lambda i, why: rejected(i, messages[i], why))
    return pl.concat(parts) if parts else pl.DataFrame(schema=RAW)


def _fitting(rows: list[dict], indexes: list[int], rejected: Callable[[int, str], None]) -> list[pl.DataFrame]:
    """Frames of the rows that fit RAW, found by halving (a few bad rows cost a few dozen tries)."""
    try:
        return [pl.DataFrame(rows, schema=RAW, strict=False)]
    except _SHAPE_ERRORS as e:
        if len(rows) == 1:
            rejected(indexes[0], f"a message of an unexpected shape: {str(e).splitlines()[0]}")
            return []
    half = len(rows) // 2
    return _fitting(rows[:half], indexes[:half], rejected) + _fitting(rows[half:], indexes[half:], rejected)


def derive_ids(messages: list[dict], chat: Chat, seen: dict[str, int] | None = None) -> None:
    """Ids for messages an old tool wrote without one: a hash of what they say, and their rank
    among identical messages, so that the same export read twice gives the same ids. `seen`
    counts the digests met so far (the chat's, when it is read in parts)."""
    seen = {} if seen is None else seen
    for m in messages:
        if m.get("id") is None:
            try:
                key = orjson.dumps([chat.native_id, m.get("date_unixtime") or m.get("date"), m.get("from"),
                                    m.get("text")], option=orjson.OPT_NON_STR_KEYS)
            except TypeError:  # nested too deep to write out: no id, so it is set aside as unreadable
                continue
            digest = hashlib.sha256(key).hexdigest()[:16]
            seen[digest] = seen.get(digest, 0) + 1
            m["id"] = derived_id(digest, seen[digest])


def derived_id(digest: str, rank: int) -> str:
    return f"h{digest}" + (f".{rank}" if rank > 1 else "")


@dataclass
class Frames:
    """One chunk's canonical frames, and what the chunk taught about people (for accounts)."""

    messages: pl.DataFrame
    reactions: pl.DataFrame
    mentions: pl.DataFrame
    links: pl.DataFrame
    events: pl.DataFrame  # membership, members still named: resolved by `People.resolve_events`
    people: pl.DataFrame  # native_id, name, first, last
    bad: pl.DataFrame  # rows without a readable date: position, id


def frames(raw: pl.DataFrame, chat: Chat, community: str, tz: str, first_position: int) -> Frames:
    """Canonical frames of one chat's RAW messages (positions count on from `first_position`)."""
    prefix = f"{PLATFORM}:{community}:"
    chat_id = f"{prefix}{chat.native_id}"
    if "position" not in raw.columns:  # (a reader that set some messages aside numbers the rest itself)
        raw = raw.with_columns(position=pl.int_range(raw.height, dtype=pl.Int64) + first_position)
    raw = raw.with_columns(from_id=_peer("from_id"), actor_id=_peer("actor_id"))
    m = raw.with_columns(
        sent_at=_time(raw, "date_unixtime", "date", tz),
        edited_at=_time(raw, "edited_unixtime", "edited", tz),
        system=(pl.col("type") == "service").fill_null(False),
        message_id=pl.lit(chat_id + "/") + pl.col("id"),
    )
    unreadable = pl.col("sent_at").is_null() | pl.col("id").is_null()
    bad = m.select("position", "id", unreadable=unreadable).filter("unreadable").drop("unreadable")
    m = m.lazy()  # every frame below is one query: Polars reads only the columns each needs, once
    if not bad.is_empty():
        m = m.filter(~unreadable)
    author = pl.coalesce("from_id", pl.lit("name:") + pl.col("from"))
    text = pl.col("text_entities").list.eval(pl.element().struct.field("text").fill_null("")).list.join("")
    messages = m.select(
        "message_id", channel_id=pl.lit(chat_id),
        author_id=pl.when(~pl.col("system") & author.is_not_null()).then(pl.lit(prefix) + author),
        author_name=pl.when(~pl.col("system")).then("from"),
        sent_at="sent_at", kind=pl.when("system").then(pl.lit("system")).otherwise(pl.lit("message")),
        text=pl.when(pl.col("system") & pl.col("action").is_null() & (text.fill_null("") != ""))
        .then(text)  # (an HTML export's service message: the sentence the page shows)
        .when("system").then(_service_text()).otherwise(text.fill_null("")),
        # A reply to another chat's message (reply_to_peer_id, `channel123`) points into that chat.
        reply_to_id=pl.when(pl.col("reply_to_message_id").is_not_null())
        .then(pl.lit(prefix) + pl.coalesce(pl.col("reply_to_peer_id").str.extract(r"(\d+)$"), pl.lit(chat.native_id))
              + pl.lit("/") + pl.col("reply_to_message_id").cast(pl.String)),
        thread_id=pl.lit(None, pl.String),
        has_media=pl.any_horizontal([pl.col(c).is_not_null() for c in _MEDIA]),
        edited_at="edited_at", position="position",
        number=pl.col("id").cast(pl.Int64, strict=False),  # Telegram's own, rising (None for derived ids)
        forwarded_from=pl.coalesce("forwarded_from", "forwarded_from_id", "saved_from"),
    )
    entities = m.select("message_id", "system", e="text_entities", from_id=author).filter(~pl.col("system")) \
        .drop("system").explode("e").drop_nulls("e").unnest("e")
    mentions = entities.filter(pl.col("type").is_in(["mention", "mention_name"])).select(
        "message_id", native=pl.when(pl.col("type") == "mention_name")  # (an HTML page's has no user id:
        .then(pl.coalesce(pl.lit("user") + pl.col("user_id").cast(pl.String),  # its authors are names too)
                          pl.lit("name:") + pl.col("text")))
        .otherwise(pl.col("text").str.to_lowercase()),
        name=pl.when(pl.col("type") == "mention_name").then("text"), author="from_id",
    ).filter(pl.col("native") != pl.col("author").fill_null("")).unique(["message_id", "native"], maintain_order=True)
    links = entities.filter(pl.col("type").is_in(["link", "text_link"])).select(
        "message_id", url=pl.coalesce("href", "text")).drop_nulls("url").unique(maintain_order=True)
    reactions, reactors = _reactions(m, prefix, tz)
    # Each name an account shows, with when: `People` keeps the best one (a plain grouping here is cheaper)
    people = (pl.concat([
        m.filter(~pl.col("system") & author.is_not_null()).select(native=author, name="from", at="sent_at",
                                                                  rank=pl.lit(_OWN, pl.Int8)),
        m.filter(pl.col("actor_id").is_not_null()).select(native="actor_id", name="actor", at="sent_at",
                                                          rank=pl.lit(_ACTOR, pl.Int8)),
        mentions.filter(pl.col("name").is_not_null()).select("native", "name", at=pl.lit(None, _UTC),
                                                             rank=pl.lit(_MENTIONED, pl.Int8)),
        reactors.select("native", "name", at=pl.lit(None, _UTC), rank=pl.lit(_OTHERS, pl.Int8)),
    ]).group_by("native", "name", "rank", maintain_order=True).agg(first=pl.col("at").min(), last=pl.col("at").max()))
    # The in-memory engine: the default (streaming) one costs a third more on a block of a few MB,
    # mostly in starting its pipelines, which a 1M-message export does some thirty times over.
    out = pl.collect_all([messages, reactions,
                          mentions.select("message_id", account_id=pl.lit(prefix) + pl.col("native")),
                          links, _events(m, chat_id), people], engine="in-memory")
    return Frames(*out, bad=bad)


def _reactions(m: pl.DataFrame, prefix: str, tz: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row per listed reactor, one anonymous row for the rest of the count."""
    r = m.select("message_id", r="reactions").filter(pl.col("r").list.len() > 0) \
        .explode("r").drop_nulls("r").unnest("r").with_columns(
        emoji=pl.when(pl.col("type") == "custom_emoji").then(pl.lit("custom:") + pl.col("document_id"))
        .when(pl.col("type") == "paid").then(pl.lit("paid"))
        .otherwise(pl.col("emoji")),
        recent=pl.col("recent").fill_null([]),
    ).drop_nulls("emoji")
    named = r.select("message_id", "emoji", x="recent").explode("x").drop_nulls("x").unnest("x").with_columns(
        reactor=_peer("from_id")).drop_nulls("reactor").unique(["message_id", "emoji", "reactor"], maintain_order=True)
    listed = named.group_by("message_id", "emoji").agg(listed=pl.len())
    rest = r.join(listed, on=["message_id", "emoji"], how="left").with_columns(
        rest=pl.when(pl.col("count").is_between(0, MAX_COUNT)).then("count").fill_null(0)  # else: no count
        - pl.col("listed").fill_null(0)).filter(pl.col("rest") > 0)
    reactions = pl.concat([
        named.select("message_id", reactor_id=pl.lit(prefix) + pl.col("reactor"), emoji="emoji",
                     reacted_at=_local("date", tz), count=pl.lit(1, pl.Int64)),
        rest.select("message_id", reactor_id=pl.lit(None, pl.String), emoji="emoji",
                    reacted_at=pl.lit(None, pl.Datetime("us", "UTC")), count="rest"),
    ])
    return reactions, named.select(native="reactor", name="from")


def _events(m: pl.DataFrame, chat_id: str) -> pl.DataFrame:
    """Joins, adds, leaves and removes from service messages; members listed by name are resolved later."""
    service = m.select("message_id", "system", "action", "actor", "actor_id", "members", "sent_at") \
        .filter(pl.col("system") & pl.col("action").is_not_null())
    joins = service.filter(pl.col("action").is_in(list(_JOINS)) & pl.col("actor_id").is_not_null()).select(
        event_id=pl.col("message_id") + pl.lit("#0"), native="actor_id", name="actor", event=pl.lit("join"),
        at="sent_at", actor_id=pl.lit(None, pl.String), message_id="message_id")
    listed = service.filter(pl.col("action").is_in(list(_MEMBER_LISTS))).with_columns(
        member=pl.col("members").fill_null([])).with_columns(k=pl.int_ranges(pl.col("member").list.len())) \
        .explode("member", "k").drop_nulls("member")
    self_event = pl.col("member") == pl.col("actor").fill_null("")
    listed = listed.select(
        event_id=pl.col("message_id") + pl.lit("#") + pl.col("k").cast(pl.String),
        native=pl.when(self_event).then("actor_id"), name="member",
        event=pl.when(self_event).then(pl.col("action").replace_strict({k: v[0] for k, v in _MEMBER_LISTS.items()}))
        .otherwise(pl.col("action").replace_strict({k: v[1] for k, v in _MEMBER_LISTS.items()})),
        at="sent_at", actor_id=pl.when(~self_event).then("actor_id"), message_id="message_id")
    return pl.concat([joins, listed]).with_columns(channel_id=pl.lit(chat_id))


def _service_text() -> pl.Expr:
    details = pl.coalesce(pl.col("members").list.join(", "), "title", pl.lit(""))
    return pl.concat_str([pl.coalesce("actor", pl.lit("")), pl.lit(": "), pl.col("action").fill_null("service"),
                          pl.when(details != "").then(pl.lit(" ") + details).otherwise(pl.lit(""))])


def _peer(column: str) -> pl.Expr:
    c = pl.col(column)
    return pl.when(c.str.contains(r"^-?\d+$")).then(pl.lit("user") + c).otherwise(c)


def _unix(column: str) -> pl.Expr:
    """Epoch seconds as a time; null for what is not a number of seconds within the years 1 to 9999
    (a damaged export's: beyond, the microseconds would overflow)."""
    seconds = pl.col(column).cast(pl.Int64, strict=False)
    seconds = pl.when(seconds.is_between(_FIRST_SECOND, _LAST_SECOND)).then(seconds)
    return (seconds * 1_000_000).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _time(raw: pl.DataFrame, unix: str, local: str, tz: str) -> pl.Expr:
    """Epoch seconds where the export has them (since 2021), else its wall-clock time."""
    if not (raw[unix].is_null() & raw[local].is_not_null()).any():
        return _unix(unix)  # no wall-clock time to parse (the costly part)
    return pl.coalesce(_unix(unix), _local(local, tz))


def _local(column: str, tz: str) -> pl.Expr:
    """The exporter's wall-clock time (old exports have no zone): read in the community's zone."""
    local = pl.col(column).str.slice(0, 19).str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S", strict=False)
    # A time the zone skips (clocks forward; the exporter's zone may not have) is read with the offset
    # of before, the instant of an hour later on the clock. (Null would set the message aside as undated.)
    def zoned(at: pl.Expr) -> pl.Expr:
        return at.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")

    return pl.coalesce(zoned(local), zoned(local + pl.duration(hours=1))).dt.convert_time_zone("UTC")


# Where a name was seen, best first: what people call themselves when they write, then as actors of
# service messages, then as others mention them, then as reactors or members listed by name.
_OWN, _ACTOR, _MENTIONED, _OTHERS = range(4)
_UTC = pl.Datetime("us", "UTC")
_PEOPLE = {"native": pl.String, "name": pl.String, "rank": pl.Int8, "first": _UTC, "last": _UTC}


def merge_people(people: pl.DataFrame) -> pl.DataFrame:
    """One row per account: its name the best-ranked one, the latest of that rank; its first and
    last times. The same whatever order the rows come in (blocks cut anywhere give one result),
    but for ties, where the later row wins."""
    named = pl.col("name").is_not_null()
    return people.group_by("native").agg(
        name=pl.col("name").sort_by(["rank", "last"], descending=[True, False], nulls_last=False,
                                    maintain_order=True).drop_nulls().last(),
        rank=pl.col("rank").filter(named).min(), first=pl.col("first").min(), last=pl.col("last").max())


@dataclass
class People:
    """Who the export shows, gathered over its chunks: accounts at the end, and names resolved."""

    community: str
    seen: list[pl.DataFrame] = field(default_factory=list)

    def add(self, people: pl.DataFrame) -> None:
        self.seen.append(detached(people))
        if len(self.seen) > 16:
            self._all()

    def _all(self) -> pl.DataFrame:
        if not self.seen:
            return pl.DataFrame(schema=_PEOPLE)
        merged = detached(merge_people(pl.concat(self.seen)))
        self.seen = [merged]
        return merged

    def accounts(self) -> Batch:
        people = self._all()
        prefix = f"{PLATFORM}:{self.community}:"
        return Batch.conform("accounts", people.select(
            account_id=pl.lit(prefix) + pl.col("native"), platform=pl.lit(PLATFORM),
            community=pl.lit(self.community), native_id="native",
            display_name=repair_series(people["name"]),
            handle=pl.when(pl.col("native").str.starts_with("@")).then(pl.col("native").str.slice(1)),
            is_bot=pl.col("native").str.ends_with("bot") & pl.col("native").str.starts_with("@"),
            first_seen_at="first", last_seen_at="last",
        ).to_arrow(compat_level=_ARROW))

    def resolve_events(self, events: pl.DataFrame) -> pl.DataFrame:
        """Members named in service messages get the account of the person of that name, if seen."""
        prefix = f"{PLATFORM}:{self.community}:"
        by_name = self._all().drop_nulls("name").sort("last", nulls_last=False).unique("name", keep="last") \
            .select(name="name", known="native")
        resolved = events.join(by_name, on="name", how="left").with_columns(
            native=pl.coalesce("native", "known", pl.lit("name:") + pl.col("name")))
        unknown = resolved.filter(pl.col("known").is_null() & pl.col("native").str.starts_with("name:"))
        if not unknown.is_empty():
            self.add(unknown.select("native", "name", rank=pl.lit(_OTHERS, pl.Int8), first=pl.lit(None, _UTC),
                                    last=pl.lit(None, _UTC)))
        return resolved.select("event_id", "channel_id", account_id=pl.lit(prefix) + pl.col("native"), event="event",
                               at="at", actor_id=pl.when(pl.col("actor_id").is_not_null())
                               .then(pl.lit(prefix) + pl.col("actor_id")), message_id="message_id")


def repair_names(messages: pl.DataFrame) -> pl.DataFrame:
    """Author names, texts and who a forward is from with their mojibake undone, each text on its own: what is repaired
    does not depend on what else the export (or the block) holds. Distinct suspect strings only."""
    return messages.with_columns(author_name=repair_series(messages["author_name"]),
                                 text=repair_series(messages["text"]),
                                 forwarded_from=repair_series(messages["forwarded_from"]))


def channel_batch(community: str, chats: Iterable[Chat]) -> Batch:
    return Batch.of("channels", [Channel(channel_id=f"{PLATFORM}:{community}:{c.native_id}", platform=PLATFORM,
                                         community=community, name=c.name, kind=c.kind) for c in chats])


def batches_of(f: Frames, people: People) -> list[Batch]:
    """The canonical batches of one chunk (accounts and membership come once, at the end)."""
    people.add(f.people)
    out = [Batch.conform("messages", repair_names(f.messages).to_arrow(compat_level=_ARROW))]
    for stream, frame in (("reactions", f.reactions), ("mentions", f.mentions), ("links", f.links)):
        if not frame.is_empty():
            out.append(Batch.conform(stream, frame.to_arrow(compat_level=_ARROW)))
    return out
