"""The Telegram Bot API, live: what a bot that is an administrator of the group receives.

A bot cannot read history (that comes from the Desktop export); it reads updates with
`getUpdates`. An update is confirmed, and gone for good, once the bot asks with a higher
`offset`, so the offset to ask with next is a checkpoint that the caller commits with the data
of the page: a crash before the commit asks for the same page again, nothing is lost, and the
loader's ids keep anything from being stored twice. Updates not read within 24 hours expire:
poll at least daily. An update that cannot be read goes to quarantine and the rest of its page
loads: the offset moves past it, since a page held back would come back, and fail, every time.

Messages are put in the shape of a Desktop export message and go through the same columns as
exports (`messages.frames`), so a message read live and from an export is the same row.
`message_reaction` is a change of one person's reactions (old set → new set) and
`message_reaction_count` the anonymous totals of a message: both are applied by the warehouse
to what it has (`reaction_changes`, `reaction_totals`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import polars as pl

# PTB 22 warns on every rate limit that `retry_after` will become a timedelta; we read both.
os.environ.setdefault("PTB_TIMEDELTA", "1")
import telegram  # noqa: E402
import telegram.error  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from connectors.files import quarantine_batch, quarantine_record
from connectors.redaction import keep_out_of_logs, redact
from connectors.telegram.messages import (PLATFORM, Chat, bare_chat_id, frame_of, frames, repair_names,
                                          _CHAT_KINDS)
from hub.model import Batch, Channel

ALLOWED_UPDATES = ["message", "edited_message", "channel_post", "edited_channel_post", "message_reaction",
                   "message_reaction_count", "chat_member"]
_MESSAGE_KINDS = ("message", "edited_message", "channel_post", "edited_channel_post")
PAGE = 100  # the most getUpdates returns at once
_ARROW = pl.CompatLevel.oldest()
_MEMBER = {"member", "administrator", "creator", "restricted"}
_MINUTE = dt.timedelta(minutes=1)
# Bot API entity types that Telegram Desktop's export names otherwise (links must be `link` to be read).
_DESKTOP_ENTITY = {"url": "link", "phone_number": "phone", "expandable_blockquote": "blockquote"}


class TelegramSyncError(Exception):
    """A sync that cannot go on; the message says what to do and never holds the token."""


@dataclass
class Unit:
    """One page of updates as canonical batches, and the offset that confirms it once committed."""

    batches: list[Batch]
    checkpoints: dict[str, str]
    updates: int


@dataclass
class Summary:
    updates: int = 0
    messages: int = 0
    reaction_changes: int = 0
    quarantined: int = 0
    rate_limited: int = 0
    chats: set[str] = field(default_factory=set)


def bot_for(token: str, base_url: str | None = None) -> telegram.Bot:
    """The real python-telegram-bot client; `base_url` points it elsewhere (a local fake in tests)."""
    keep_out_of_logs(token)  # the token is in every request URL, which httpx logs, and in the Bot's repr
    request = HTTPXRequest(connection_pool_size=2, read_timeout=60)
    return telegram.Bot(token, base_url=base_url or "https://api.telegram.org/bot", request=request,
                        get_updates_request=HTTPXRequest(read_timeout=60))


class LiveReader:
    """Pages of updates from `offset` on, until the bot has nothing more (or `max_pages`)."""

    def __init__(self, bot: telegram.Bot, community: str, offset: int | None, *, limit: int = PAGE,
                 timeout: int = 0, max_pages: int | None = None, retries: int = 5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.bot, self.community, self.offset = bot, community, offset
        self.limit, self.timeout, self.max_pages, self.retries = limit, timeout, max_pages, retries
        self.sleep = sleep
        self.summary = Summary()

    def units(self) -> Iterator[Unit]:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._call(self.bot.initialize))
            pages = 0
            while self.max_pages is None or pages < self.max_pages:
                updates = loop.run_until_complete(self._call(
                    self.bot.get_updates, offset=self.offset, limit=self.limit, timeout=self.timeout,
                    allowed_updates=ALLOWED_UPDATES))
                if not updates:
                    return
                pages += 1
                raw = [u.to_dict() for u in updates]
                self.offset = max(u["update_id"] for u in raw) + 1
                self.summary.updates += len(raw)
                yield Unit(self.page(raw), {"offset": str(self.offset)}, len(raw))
        finally:
            try:
                loop.run_until_complete(self.bot.shutdown())
            finally:
                loop.close()

    async def _call(self, method, **kwargs):
        for attempt in range(self.retries + 1):
            try:
                return await method(**kwargs)
            except telegram.error.RetryAfter as e:
                self.summary.rate_limited += 1
                if attempt == self.retries:
                    raise TelegramSyncError(f"still rate limited after {self.retries} waits: try again later") from None
                self.sleep(_seconds(e))
            except telegram.error.InvalidToken:
                raise TelegramSyncError("the bot token was rejected (401): check the token in the environment "
                                        "variable the source names") from None
            except telegram.error.Conflict as e:
                raise TelegramSyncError(f"Telegram refused getUpdates ({redact(e.message)}): another process polls "
                                        "this bot, or a webhook is set (delete it with deleteWebhook)") from None
            except telegram.error.Forbidden as e:
                raise TelegramSyncError(f"Telegram refused the bot (403, {redact(e.message)}): check with @BotFather "
                                        "that the bot still exists and the token is its current one") from None
            except (telegram.error.TimedOut, telegram.error.NetworkError) as e:
                if attempt == self.retries:
                    raise TelegramSyncError(f"the Bot API cannot be reached: {redact(e.message)}") from None
                self.sleep(min(30, 2 ** attempt))
            except telegram.error.TelegramError as e:
                raise TelegramSyncError(f"Telegram answered with an error: {redact(e.message)}") from None

    # -- one page of updates into canonical batches -----------------------------------------

    def page(self, updates: list[dict]) -> list[Batch]:
        prefix = f"{PLATFORM}:{self.community}:"
        page = _Page()
        for update in updates:
            try:
                page.add(_converted(update, prefix))
            except Exception as e:  # noqa: BLE001 - an update left unread would block every later page
                page.bad.append(quarantine_record(f"update {update.get('update_id')}", _reason(e), update))
        self.summary.chats |= set(page.chats)
        return self._batches(page)

    def _batches(self, page: _Page) -> list[Batch]:
        prefix = f"{PLATFORM}:{self.community}:"
        out = [Batch.of("channels", [Channel(channel_id=f"{prefix}{c.native_id}", platform=PLATFORM,
                                             community=self.community, name=c.name, kind=c.kind)
                                     for c in page.chats.values()])] if page.chats else []
        seen = []
        for native, messages in page.messages.items():
            f = frames(page.frame(f"{prefix}{native}", messages.values()), page.chats[native], self.community,
                       "UTC", 0)
            f.messages = f.messages.with_columns(position=pl.lit(None, pl.Int64))
            self.summary.messages += f.messages.height
            seen.append(f.messages.select("author_id", "sent_at"))
            # Membership comes from chat_member updates, which Telegram sends for the same joins.
            for stream, frame in (("messages", repair_names(f.messages)),
                                  ("mentions", f.mentions), ("links", f.links)):
                if stream == "messages" or not frame.is_empty():
                    out.append(Batch.conform(stream, frame.to_arrow(compat_level=_ARROW)))
        edits = [e for e in page.edits if e["message_id"] not in page.unread]
        if edits:
            out.append(Batch.conform("message_edits", pl.DataFrame(edits, schema=_EDITS).to_arrow(compat_level=_ARROW)))
        rows = [{"message_id": m, "reactor_id": r, "emoji": e, "was": e in was, "now": e in now, "at": at}
                for (m, r), (was, now, at) in page.changes.items() for e in sorted(was | now)]
        if rows:
            self.summary.reaction_changes += len(rows)
            out.append(Batch.conform("reaction_changes", pl.DataFrame(rows, schema=_CHANGES).to_arrow()))
        # An empty list of totals still clears the message's anonymous reactions: a row of total 0 says so.
        rows = [{"message_id": m, "emoji": e, "total": n, "at": at}
                for m, (counts, at) in page.totals.items() for e, n in (counts or [("", 0)])]
        if rows:
            out.append(Batch.conform("reaction_totals", pl.DataFrame(rows, schema=_TOTALS).to_arrow()))
        # A join shown by a service message also comes as a chat_member update: the service message's
        # is kept, with the id an export of the chat gives it.
        # (A service message set aside takes its events with it: they would name a message not stored.)
        events = _one_per_minute([e for e in page.shown if e["message_id"] not in page.unread] + page.members)
        if events:
            out.append(Batch.conform("membership_events", pl.DataFrame(events, schema=_EVENTS).to_arrow()))
        if page.people:
            out.append(self._accounts(page.people, seen))
        if page.bad:
            self.summary.quarantined += len(page.bad)
            out.append(quarantine_batch(page.bad))
        return out

    def _accounts(self, people: dict[str, dict], seen: list[pl.DataFrame]) -> Batch:
        prefix = f"{PLATFORM}:{self.community}:"
        rows = pl.DataFrame([{"native_id": k, **v} for k, v in people.items()], schema=_PEOPLE)
        times = pl.concat(seen).drop_nulls("author_id").group_by("author_id").agg(
            first_seen_at=pl.col("sent_at").min(), last_seen_at=pl.col("sent_at").max()) if seen else None
        rows = rows.with_columns(account_id=pl.lit(prefix) + pl.col("native_id"), platform=pl.lit(PLATFORM),
                                 community=pl.lit(self.community))
        if times is not None:
            rows = rows.join(times, left_on="account_id", right_on="author_id", how="left")
        return Batch.conform("accounts", rows.to_arrow(compat_level=_ARROW))


@dataclass
class _Update:
    """What one update brings to its page, converted whole before any of it is kept."""

    raw: dict
    chat: Chat | None = None
    people: dict[str, dict] = field(default_factory=dict)
    message: dict | None = None  # in the shape of a Desktop export message
    edit: dict | None = None
    shown: list[dict] = field(default_factory=list)  # membership events of a service message
    member: dict | None = None  # the membership event of a chat_member update
    change: tuple[tuple[str, str], set[str], set[str], dt.datetime] | None = None  # (message, reactor), old, new
    total: tuple[str, list[tuple[str, int]], dt.datetime] | None = None


@dataclass
class _Page:
    """A page's updates gathered, and those set aside with why (quarantine records)."""

    chats: dict[str, Chat] = field(default_factory=dict)
    people: dict[str, dict] = field(default_factory=dict)
    # chat -> message id -> (message, its update): a page may hold a message and its edit, the last wins
    messages: dict[str, dict[int, tuple[dict, dict]]] = field(default_factory=dict)
    edits: list[dict] = field(default_factory=list)
    changes: dict[tuple[str, str], tuple[set[str], set[str], dt.datetime]] = field(default_factory=dict)
    totals: dict[str, tuple[list[tuple[str, int]], dt.datetime]] = field(default_factory=dict)
    shown: list[dict] = field(default_factory=list)
    members: list[dict] = field(default_factory=list)
    bad: list[dict] = field(default_factory=list)
    unread: set[str] = field(default_factory=set)  # ids of messages set aside: their edits go too

    def add(self, u: _Update) -> None:
        if u.chat is not None:
            self.chats.setdefault(u.chat.native_id, u.chat)
        self.people.update(u.people)
        if u.message is not None:
            self.messages.setdefault(u.chat.native_id, {})[u.message["id"]] = (u.message, u.raw)
        if u.edit is not None:
            self.edits.append(u.edit)
        self.shown += u.shown
        if u.member is not None:
            self.members.append(u.member)
        if u.change is not None:
            key, old, new, at = u.change
            was = self.changes[key][0] if key in self.changes else old  # a page's first old set, its last new set
            self.changes[key] = (was, new, at)
        if u.total is not None:
            message_id, counts, at = u.total
            self.totals[message_id] = (counts, at)

    def frame(self, channel_id: str, messages: Iterable[tuple[dict, dict]]) -> pl.DataFrame:
        """One chat's messages as a RAW frame; one that does not fit it is set aside, not the chat."""
        messages = list(messages)

        def rejected(i: int, message: dict, why: str) -> None:
            raw = messages[i][1]
            self.bad.append(quarantine_record(f"update {raw.get('update_id')}", why, raw))
            self.unread.add(f"{channel_id}/{message['id']}")

        return frame_of((m for m, _ in messages), rejected)


def _converted(update: dict, prefix: str) -> _Update:
    """One update's part of its page. Raises for an update it cannot read (the page quarantines it)."""
    u = _Update(update)
    kind = next((k for k in ALLOWED_UPDATES if k in update), None)
    if kind in _MESSAGE_KINDS:
        _message(u, update[kind], prefix, edited=kind.startswith("edited_"))
    elif kind == "message_reaction":
        _reaction(u, update[kind], prefix)
    elif kind == "message_reaction_count":
        _reaction_count(u, update[kind], prefix)
    elif kind == "chat_member":
        _membership(u, update[kind], prefix)
    else:
        kinds = ", ".join(sorted(update.keys() - {"update_id"}))
        raise ValueError(f"an update of a kind the hub does not read: {kinds}")
    return u


def _message(u: _Update, message: dict, prefix: str, edited: bool) -> None:
    u.chat = _chat(message["chat"])
    channel_id = f"{prefix}{u.chat.native_id}"
    u.message = desktop_message(message, u.people)
    u.shown = _service_events(message, channel_id, prefix)
    if edited:
        u.edit = {"message_id": f"{channel_id}/{message['message_id']}", "text": u.message["_plain"],
                  "edited_at": _time(message.get("edit_date") or message["date"])}


def _reaction(u: _Update, r: dict, prefix: str) -> None:
    u.chat = _chat(r["chat"])
    reactor = _person(r.get("user"), u.people) or _sender_chat(r.get("actor_chat"), u.people)
    if reactor is None:
        raise ValueError("a reaction by no one: it has neither user nor actor_chat")
    u.change = ((f"{prefix}{u.chat.native_id}/{r['message_id']}", f"{prefix}{reactor}"),
                {_emoji(t) for t in r.get("old_reaction") or []}, {_emoji(t) for t in r.get("new_reaction") or []},
                _time(r["date"]))


def _reaction_count(u: _Update, r: dict, prefix: str) -> None:
    u.chat = _chat(r["chat"])
    u.total = (f"{prefix}{u.chat.native_id}/{r['message_id']}",
               [(_emoji(c["type"]), c["total_count"]) for c in r.get("reactions") or []], _time(r["date"]))


def _membership(u: _Update, update: dict, prefix: str) -> None:
    u.chat = _chat(update["chat"])
    account = _person(update["new_chat_member"]["user"], u.people)
    actor = _person(update.get("from"), u.people)
    before, after = _is_member(update["old_chat_member"]), _is_member(update["new_chat_member"])
    if before == after:
        return  # a change of rights, not of membership
    by_other = actor is not None and actor != account
    event = ("add" if by_other else "join") if after else ("remove" if by_other else "leave")
    u.member = {"event_id": f"{prefix}{u.chat.native_id}/member/{account}/{update['date']}",
                "channel_id": f"{prefix}{u.chat.native_id}", "account_id": f"{prefix}{account}", "event": event,
                "at": _time(update["date"]), "actor_id": f"{prefix}{actor}" if by_other else None, "message_id": None}


def _chat(chat: dict) -> Chat:
    name = chat.get("title") or " ".join(filter(None, [chat.get("first_name"), chat.get("last_name")]))
    native = bare_chat_id(chat["id"])
    return Chat(native, name or native, _CHAT_KINDS.get(chat.get("type", ""), "group"))


def _reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"an update without the field {error.args[0]!r}"
    return f"an update the hub cannot read: {redact(str(error)) or type(error).__name__}"


def _one_per_minute(events: list[dict]) -> list[dict]:
    """The rule the warehouse applies across loads, within a page: the same person entering (or
    leaving) the same channel within a minute of an event kept is the same change, seen twice.
    Earlier events in the list are kept first."""
    kept: dict[tuple[str, str, bool], list[dt.datetime]] = {}
    out = []
    for e in events:
        times = kept.setdefault((e["channel_id"], e["account_id"], e["event"] in ("join", "add")), [])
        if any(abs(e["at"] - t) <= _MINUTE for t in times):
            continue
        times.append(e["at"])
        out.append(e)
    return out


def desktop_message(message: dict, people: dict[str, dict]) -> dict:
    """A Bot API Message in the shape of a Telegram Desktop export message."""
    sender = _person(message.get("from"), people) if not message.get("sender_chat") else None
    sender = sender or _sender_chat(message.get("sender_chat") or (message["chat"] if message["chat"].get("type") ==
                                                                   "channel" else None), people)
    text = message.get("text") or message.get("caption") or ""
    parts = entities(text, message.get("entities") or message.get("caption_entities") or [], people)
    m = {"id": message["message_id"], "type": "message", "date_unixtime": str(message["date"]),
         "from": (people.get(sender) or {}).get("display_name"), "from_id": sender,
         "text_entities": parts, "_plain": "".join(p["text"] for p in parts)}
    if message.get("reply_to_message"):
        m["reply_to_message_id"] = message["reply_to_message"]["message_id"]
    if message.get("edit_date"):
        m["edited_unixtime"] = str(message["edit_date"])
    origin = message.get("forward_origin")
    if origin:
        m["forwarded_from"] = _origin_name(origin)
    for key, media in (("photo", "photo"), ("document", "file"), ("sticker", "media_type"),
                       ("voice", "media_type"), ("video", "media_type"), ("animation", "media_type"),
                       ("audio", "media_type"), ("video_note", "media_type"), ("poll", "poll"),
                       ("location", "location_information"), ("contact", "contact_information")):
        if message.get(key):
            m[media] = {"poll": {"question": message[key].get("question") if key == "poll" else None},
                        "location_information": {"latitude": 0.0},
                        "contact_information": {"first_name": ""}}.get(media, key)
    service = _service(message, people, sender)
    if service:
        m.update(service, type="service", text_entities=[])
    return m


def _service_events(message: dict, channel_id: str, prefix: str) -> list[dict]:
    """Membership events of a service message, with the ids the same message has in an export."""
    message_id = f"{channel_id}/{message['message_id']}"
    actor = (message.get("from") or {}).get("id")
    listed = [(u, "join", "add") for u in message.get("new_chat_members") or []]
    if message.get("left_chat_member"):
        listed.append((message["left_chat_member"], "leave", "remove"))
    return [{"event_id": f"{message_id}#{k}", "channel_id": channel_id, "account_id": f"{prefix}user{u['id']}",
             "event": own if u["id"] == actor else by_other, "at": _time(message["date"]),
             "actor_id": None if u["id"] == actor or actor is None else f"{prefix}user{actor}",
             "message_id": message_id}
            for k, (u, own, by_other) in enumerate(listed)]


def _service(message: dict, people: dict[str, dict], sender: str | None) -> dict | None:
    actor = (people.get(sender) or {}).get("display_name")
    base = {"actor": actor, "actor_id": sender}
    if message.get("new_chat_members"):
        joined = [_person(u, people) for u in message["new_chat_members"]]
        if joined == [sender]:
            # The Bot API does not say how one joined; Desktop writes a self-join as one by link.
            return {**base, "action": "join_group_by_link"}
        return {**base, "action": "invite_members", "members": [_full_name(u) for u in message["new_chat_members"]]}
    if message.get("left_chat_member"):
        _person(message["left_chat_member"], people)
        return {**base, "action": "remove_members", "members": [_full_name(message["left_chat_member"])]}
    if message.get("new_chat_title"):
        return {**base, "action": "edit_group_title", "title": message["new_chat_title"]}
    if message.get("pinned_message"):
        return {**base, "action": "pin_message"}
    for key in ("group_chat_created", "supergroup_chat_created", "migrate_to_chat_id", "new_chat_photo",
                "delete_chat_photo", "forum_topic_created", "video_chat_started", "video_chat_ended"):
        if message.get(key):
            return {**base, "action": key}
    return None


def entities(text: str, found: list[dict], people: dict[str, dict]) -> list[dict]:
    """Bot API entities (UTF-16 offsets over the text) as Desktop text entities (consecutive parts,
    which together are the whole text)."""
    units = text.encode("utf-16-le", "surrogatepass")
    parts, at = [], 0
    for e in sorted(found, key=lambda x: x["offset"]):
        start, end = _cut(units, e["offset"]), _cut(units, e["offset"] + e["length"])
        if start < at or end <= start:
            continue  # nested formatting inside an entity already taken, or nothing left to mark
        if start > at:
            parts.append({"type": "plain", "text": _decoded(units[at:start])})
        parts.append(_entity(e, _decoded(units[start:end]), people))
        at = end
    if at < len(units):
        parts.append({"type": "plain", "text": _decoded(units[at:])})
    return parts


def _entity(e: dict, text: str, people: dict[str, dict]) -> dict:
    """One Bot API entity as Desktop's export writes it (its links are what `links` reads)."""
    if e["type"] == "text_link":
        return {"type": "text_link", "text": text, "href": e.get("url")}
    if e["type"] == "text_mention" and e.get("user"):
        _person(e["user"], people)
        return {"type": "mention_name", "text": text, "user_id": e["user"]["id"]}
    return {"type": _DESKTOP_ENTITY.get(e["type"], e["type"]), "text": text}


def _cut(units: bytes, offset: int) -> int:
    """The byte where a UTF-16 offset falls, within the text. An offset inside a surrogate pair (a
    client that counted code points) moves past the pair, so that no character is split."""
    at = min(max(offset, 0), len(units) // 2) * 2
    if 0 < at < len(units) and 0xD800 <= int.from_bytes(units[at - 2:at], "little") <= 0xDBFF:
        at += 2
    return at


def _decoded(units: bytes) -> str:
    # A lone surrogate in the text would stop the whole page at the UTF-8 columns: it becomes U+FFFD.
    return units.decode("utf-16-le", "replace")


def _person(user: dict | None, people: dict[str, dict]) -> str | None:
    if not user:
        return None
    native = f"user{user['id']}"
    people[native] = {"display_name": _full_name(user), "handle": user.get("username"),
                      "is_bot": bool(user.get("is_bot"))}
    return native


def _sender_chat(chat: dict | None, people: dict[str, dict]) -> str | None:
    if not chat:
        return None
    native = f"channel{bare_chat_id(chat['id'])}"
    people[native] = {"display_name": chat.get("title"), "handle": chat.get("username"), "is_bot": False}
    return native


def _full_name(user: dict) -> str:
    return " ".join(filter(None, [user.get("first_name"), user.get("last_name")]))


def _origin_name(origin: dict) -> str:
    if origin.get("sender_user"):
        return _full_name(origin["sender_user"])
    chat = origin.get("sender_chat") or origin.get("chat") or {}
    return origin.get("sender_user_name") or chat.get("title") or "hidden"


def _emoji(reaction: dict) -> str:
    kind = reaction.get("type")
    if kind == "custom_emoji":
        return f"custom:{reaction.get('custom_emoji_id')}"
    return "paid" if kind == "paid" else reaction.get("emoji", "?")


def _is_member(member: dict) -> bool:
    status = member.get("status")
    return status in _MEMBER and (status != "restricted" or bool(member.get("is_member")))


def _time(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc)


def _seconds(error: telegram.error.RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after becomes a timedelta
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


_UTC = pl.Datetime("us", "UTC")
_EDITS = {"message_id": pl.String, "text": pl.String, "edited_at": _UTC}
_CHANGES = {"message_id": pl.String, "reactor_id": pl.String, "emoji": pl.String, "was": pl.Boolean,
            "now": pl.Boolean, "at": _UTC}
_TOTALS = {"message_id": pl.String, "emoji": pl.String, "total": pl.Int64, "at": _UTC}
_EVENTS = {"event_id": pl.String, "channel_id": pl.String, "account_id": pl.String, "event": pl.String,
           "at": _UTC, "actor_id": pl.String, "message_id": pl.String}
_PEOPLE = {"native_id": pl.String, "display_name": pl.String, "handle": pl.String, "is_bot": pl.Boolean}
