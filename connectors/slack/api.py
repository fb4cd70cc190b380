"""Live Slack: the Web API through `slack_sdk.WebClient`, incremental and resumable.

A sync reads `users.list` and `conversations.list`, then each channel the bot is in:

- **New messages.** `conversations.history` over the window from what is stored up to now,
  newest first, page by page. Each page is a *unit*: its messages, the replies of its threads,
  and the checkpoint "this window, this next cursor". The caller commits data and checkpoint
  together, so an interrupted backfill resumes at the page where it stopped and adds nothing
  twice. When the window is done, the channel is "done through" the window's end.
- **Threads and changes.** Replies keep arriving on old threads, and old messages get reactions
  and edits. Each sync re-reads the top-level messages of a look-back window (default 60 days).
  Threads whose `latest_reply` is newer than the newest reply stored are read again whole with
  `conversations.replies`. Of what is re-read, the messages whose text, edit or reactions differ
  from what was last sent go to the warehouse again (whose loader takes their reactions and newer
  edits); the channel's checkpoint keeps a short fingerprint of each message of the window for that.
  A deleted message stays.
- **Rate limits.** A 429's `Retry-After` is honoured by slack_sdk's `RateLimitErrorRetryHandler`.
  The wait it asked for is also kept as that method's pace for the rest of the sync, counted from
  the method's last request (the retry, after a 429), so a method limited to one request a minute
  is then called once a minute instead of being refused again.
- **Errors.** A channel the bot is not in, or that is gone, is skipped. A bad token or a missing
  scope stops the sync with a message that says which, and which scope.

This module knows nothing of the warehouse: it is given what is stored (`SyncState`) and yields
units.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from connectors.redaction import keep_out_of_logs
from connectors.slack.messages import PLATFORM, MessageFrames, Names, batches_of, channel_kind, channel_record, \
    channels_batch, frame_of, seen_times
from hub.model import Batch

_SKIP_CHANNEL = {"not_in_channel", "channel_not_found", "is_archived", "access_denied"}
_BAD_TOKEN = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
              "no_permission", "org_login_required"}
CONVERSATION_TYPES = "public_channel,private_channel,mpim,im"


# Slack pages conversations.replies 15 at a time for apps outside its Marketplace: a thread this
# long is re-read whole in one request; a longer one only from its newest reply stored.
WHOLE_THREAD_REPLIES = 15


class SlackSyncError(Exception):
    """The sync cannot go on (bad token, missing scope): the message says what to do."""


@dataclass
class ChannelProgress:
    """Where a channel's sync stands: done through a ts, maybe a window half read, and what was sent
    of the messages of the look-back window (ts -> fingerprint), so that only changes are sent again."""

    done_through: str | None = None
    window_latest: str | None = None
    cursor: str | None = None
    sent: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        # Sorted: an unchanged checkpoint gives the same text, and an idle sync writes nothing.
        return json.dumps({"done_through": self.done_through, "window_latest": self.window_latest,
                           "cursor": self.cursor, "sent": self.sent}, sort_keys=True)

    @classmethod
    def from_json(cls, value: str | None) -> "ChannelProgress":
        return cls(**json.loads(value)) if value else cls()


@dataclass
class SyncState:
    """What the warehouse already has: checkpoints by key, and each recent thread's newest reply."""

    checkpoints: dict[str, str] = field(default_factory=dict)
    latest_replies: dict[tuple[str, str], str] = field(default_factory=dict)  # (channel, thread_ts) -> ts

    def channel(self, channel: str) -> ChannelProgress:
        return ChannelProgress.from_json(self.checkpoints.get(f"channel/{channel}"))


@dataclass
class Unit:
    """What one transaction commits: data batches and the checkpoints that go with them."""

    batches: list[Batch]
    checkpoints: dict[str, str] = field(default_factory=dict)
    description: str = ""


class Pace:
    """The slowest rate each API method has asked for during this sync (from 429 Retry-After), counted
    from the method's last request."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._sleep = sleep
        self._lock = threading.Lock()

    def learn(self, method: str, retry_after: float) -> None:
        with self._lock:
            self.interval[method] = max(self.interval.get(method, 0.0), retry_after)

    @contextmanager
    def turn(self, method: str) -> Iterator[None]:
        """One call of `method`, made once its interval has passed since its last request ended.
        Counted from the end: a rate-limited call's last request is the retry slack_sdk made after
        sleeping Retry-After, and the limit runs from that one, not from the first attempt."""
        self._wait(method)
        try:
            yield
        finally:
            with self._lock:
                self._last[method] = time.monotonic()

    def _wait(self, method: str) -> None:
        with self._lock:
            interval, last = self.interval.get(method, 0.0), self._last.get(method)
        if interval and last is not None:
            delay = last + interval - time.monotonic()
            if delay > 0:
                self._sleep(delay)


class PacedRateLimitHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (sleep Retry-After, retry), which also tells the pace about it."""

    def __init__(self, pace: Pace, max_retry_count: int = 5) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pace = pace
        self.rate_limited = 0

    def prepare_for_next_attempt(self, *, state, request, response=None, error=None) -> None:
        if response is not None:
            self.rate_limited += 1
            retry_after = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
            self.pace.learn(request.url.rstrip("/").rsplit("/", 1)[-1], float(retry_after[0]))
        super().prepare_for_next_attempt(state=state, request=request, response=response, error=error)


def client_for(token: str, base_url: str | None = None, *, pace: Pace | None = None,
               max_retries: int = 5) -> WebClient:
    """A WebClient that honours rate limits. The token is never logged by us nor kept in errors."""
    keep_out_of_logs(token)  # slack_sdk masks its Authorization header; this covers any other log line
    client = WebClient(token=token, base_url=base_url or "https://slack.com/api/")
    client.retry_handlers.append(PacedRateLimitHandler(pace or Pace(), max_retry_count=max_retries))
    return client


@dataclass
class Summary:
    messages: int = 0
    channels: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # channel -> why
    threads_reread: int = 0
    rate_limited: int = 0


class LiveReader:
    """Reads what is new in a workspace since `state`; iterate `units()`."""

    platform = PLATFORM
    lists_all_reactions = True  # each message sent with all its reactions (warehouse.load.SourceFile)

    def __init__(self, client: WebClient, community: str, state: SyncState, *, lookback_days: float = 60,
                 page_size: int = 200, now: float | None = None) -> None:
        self.client = client
        self.community = community
        self.state = state
        self.lookback = lookback_days * 86400
        self.page_size = page_size
        self.now = now if now is not None else time.time()
        self.summary = Summary()
        self.names = Names(community)
        handlers = [h for h in client.retry_handlers if isinstance(h, PacedRateLimitHandler)]
        self._handler = handlers[0] if handlers else None
        self.pace = self._handler.pace if self._handler else Pace()

    def units(self) -> Iterator[Unit]:
        team = self._call("auth_test")
        yield self._directory(team)
        for conversation in self._conversations:
            channel = conversation["id"]
            try:
                yield from self._channel(channel)
            except SlackApiError as e:
                error = e.response.get("error")
                if error not in _SKIP_CHANNEL:
                    raise
                self.summary.skipped[channel] = error
        if self._handler:
            self.summary.rate_limited = self._handler.rate_limited

    # -- users and channels ------------------------------------------------------------------

    def _directory(self, team: dict) -> Unit:
        for page in self._pages("users_list", "members", limit=self.page_size):
            for user in page:
                self.names.add_user(user)
        conversations = []
        for page in self._pages("conversations_list", "channels", types=CONVERSATION_TYPES, limit=self.page_size):
            conversations.extend(page)
        self._conversations = [c for c in conversations if c.get("is_member", True) or c.get("is_im")]
        for c in conversations:
            if c not in self._conversations:
                self.summary.skipped[c["id"]] = "not_in_channel"
        self.summary.channels = len(self._conversations)
        channels = channels_batch([channel_record(self.community, c, channel_kind(c)) for c in conversations])
        return Unit([channels, self.names.batch(None)],
                    description=f"{len(self.names.accounts)} users, {len(conversations)} channels of {team.get('team')}")

    # -- one channel -------------------------------------------------------------------------

    def _channel(self, channel: str) -> Iterator[Unit]:
        key = f"channel/{channel}"
        stored = self.state.checkpoints.get(key)
        progress = self.state.channel(channel)
        started_from, resumed = progress.done_through, progress.cursor is not None
        # What was sent goes with the channel's last page only: written with every page of a long
        # backfill, the map of the window's messages made the checkpoints grow with the square.
        # (A sync stopped before the last page sends those messages again, once: they are duplicates.)
        sent_before = dict(progress.sent)
        if progress.window_latest is None:
            progress.window_latest = _ts(self.now)
        seen_tops: set[str] = set()
        while True:
            page = self._call("conversations_history", channel=channel, oldest=progress.done_through or "0",
                              latest=progress.window_latest, inclusive=False, limit=self.page_size,
                              cursor=progress.cursor)
            messages = _with_ts(page.get("messages", []))
            seen_tops.update(m["ts"] for m in messages)
            columns = MessageFrames(self.names)
            self._add_changed(columns, channel, messages, progress.sent)
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor:
                progress.cursor = cursor
            elif seen_tops or resumed:
                progress = ChannelProgress(done_through=progress.window_latest, sent=progress.sent)
            else:  # nothing new: the checkpoint stays as it was, so an idle sync writes nothing
                progress = ChannelProgress(done_through=started_from, sent=progress.sent)
            last = cursor is None
            if last and (len(columns) or progress.sent != sent_before):  # written anyway: old ones go
                progress.sent = self._recent(progress.sent)
            checkpoint = (progress if last else replace(progress, sent=sent_before)).to_json()
            if len(columns) or checkpoint != stored:
                stored = checkpoint
                yield self._unit(columns, {key: stored}, f"{channel}: {len(messages)} messages")
            if last:
                break
        if started_from is not None and float(started_from) > self.now - self.lookback:
            yield from self._look_back(channel, key, progress, started_from, seen_tops)

    def _look_back(self, channel: str, key: str, progress: ChannelProgress, done_through: str,
                   seen_tops: set[str]) -> Iterator[Unit]:
        """Re-read the recent top-level messages stored before this sync, for those changed since
        (reactions, edits) and threads whose newest reply moved. (A first sync, or one after a long
        pause, read them all in its window.)"""
        oldest = _ts(self.now - self.lookback)
        written = dict(progress.sent)  # (as with the pages: what was sent is written once, at the end)
        for page in self._pages("conversations_history", "messages", channel=channel, oldest=oldest,
                                latest=done_through, inclusive=True, limit=self.page_size):
            columns = MessageFrames(self.names)
            self._add_changed(columns, channel, [m for m in _with_ts(page) if m["ts"] not in seen_tops],
                              progress.sent)
            if len(columns):
                yield self._unit(columns, {key: replace(progress, sent=written).to_json()},
                                 f"{channel}: changes on older messages")
        if progress.sent != written:
            progress.sent = self._recent(progress.sent)
            yield self._unit(MessageFrames(self.names), {key: progress.to_json()}, f"{channel}: what was sent")

    def _add_changed(self, columns: MessageFrames, channel: str, messages: list[dict],
                     sent: dict[str, str]) -> None:
        """The messages not sent before or changed since, and the same of the threads that moved."""
        changed = self._changed(messages, sent)
        if changed:
            columns.add(channel, frame_of(changed))
        for message in messages:
            if self._replies_moved(channel, message):
                self._add_replies(columns, channel, message, sent)

    def _changed(self, messages: list[dict], sent: dict[str, str]) -> list[dict]:
        """Those of `messages` whose fingerprint is not the one last sent; `sent` learns theirs.
        Only the look-back window's are kept: older messages are never read again."""
        oldest = self.now - self.lookback
        prints = {m["ts"]: _fingerprint(m) for m in messages}
        changed = [m for m in messages if sent.get(m["ts"]) != prints[m["ts"]]]
        sent.update((m["ts"], prints[m["ts"]]) for m in changed if _seconds(m["ts"]) >= oldest)
        return changed

    def _recent(self, sent: dict[str, str]) -> dict[str, str]:
        """The fingerprints of the look-back window's messages (older ones are never read again)."""
        oldest = self.now - self.lookback
        return {ts: f for ts, f in sent.items() if _seconds(ts) >= oldest}

    def _replies_moved(self, channel: str, message: dict) -> bool:
        latest = message.get("latest_reply")
        if not latest or message.get("thread_ts", message.get("ts")) != message.get("ts"):
            return False
        known = self.state.latest_replies.get((channel, message["ts"]))
        return known is None or float(latest) > float(known)

    def _add_replies(self, columns: MessageFrames, channel: str, parent: dict, sent: dict[str, str]) -> None:
        """The replies of a thread that moved: its new ones, and its older ones changed since when
        the thread fits in one page of the smallest tier. A longer one is read from its newest reply
        stored: at one request of 15 a minute, re-reading 300 replies on each new one takes 20 minutes."""
        self.summary.threads_reread += 1
        known = self.state.latest_replies.get((channel, parent["ts"]))
        whole = known is None or (parent.get("reply_count") or 0) <= WHOLE_THREAD_REPLIES
        for page in self._pages("conversations_replies", "messages", channel=channel, ts=parent["ts"],
                                oldest=parent["ts"] if whole else known, inclusive=False, limit=self.page_size):
            replies = self._changed([r for r in _with_ts(page) if r["ts"] != parent["ts"]], sent)
            if replies:
                columns.add(channel, frame_of(replies))
        self.state.latest_replies[(channel, parent["ts"])] = parent["latest_reply"]

    def _unit(self, columns: MessageFrames, checkpoints: dict[str, str], description: str) -> Unit:
        batches: list[Batch] = []
        if len(columns):
            frames = columns.frames()
            self.summary.messages += frames[0].height
            # Accounts first: a message whose author's name was not known yet takes it from them.
            batches.append(self.names.batch(seen_times([frames[0].select("author_id", "sent_at")],
                                                       self.names.account_id("")), only_new=True))
            batches.extend(batches_of(frames))
        return Unit(batches, checkpoints, description)

    # -- calls -------------------------------------------------------------------------------

    def _call(self, method: str, **params) -> dict:
        with self.pace.turn(method.replace("_", ".")):
            return self._request(method, **params)

    def _request(self, method: str, **params) -> dict:
        try:
            return getattr(self.client, method)(**{k: v for k, v in params.items() if v is not None}).data
        except SlackApiError as e:
            _raise_if_fatal(method, e)
            if e.response.get("error") in _SKIP_CHANNEL:
                raise  # one channel the bot cannot read: units() skips it
            raise SlackSyncError(f"Slack answered {method.replace('_', '.')} with HTTP {e.response.status_code} "
                                 f"({e.response.get('error') or 'no error code'}): the sync stopped there; what it "
                                 "loaded is kept, run it again later") from None
        except OSError as e:  # urllib's URLError, timeouts, resets: after slack_sdk's own retries
            reason = getattr(e, "reason", None) or e
            raise SlackSyncError(f"the Slack Web API cannot be reached ({reason}) on {method.replace('_', '.')} at "
                                 f"{self.client.base_url}: the sync stopped there; what it loaded is kept, run it "
                                 "again later") from None

    def _pages(self, method: str, key: str, **params) -> Iterator[list[dict]]:
        cursor = None
        while True:
            page = self._call(method, cursor=cursor, **params)
            yield page.get(key, [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return


def _raise_if_fatal(method: str, e: SlackApiError) -> None:
    error = e.response.get("error")
    name = method.replace("_", ".")
    if error == "missing_scope":
        raise SlackSyncError(f"the Slack app lacks the scope {e.response.get('needed')!r}, needed by {name}: "
                             "add it under OAuth & Permissions and reinstall the app") from None
    if error in _BAD_TOKEN:
        raise SlackSyncError(f"Slack refused the token ({error}) on {name}: check the bot token in the "
                             "environment variable named by token_env") from None


def _ts(seconds: float) -> str:
    return f"{seconds:.6f}"


def _with_ts(messages: list[dict]) -> list[dict]:
    """The messages that have a text `ts` (no other can be stored or compared)."""
    return [m for m in messages if isinstance(m.get("ts"), str)]


def _seconds(ts: str) -> float:
    """A ts in seconds; one that is no number counts as long ago (it is sent, never remembered)."""
    try:
        return float(ts)
    except ValueError:
        return float("-inf")


def _fingerprint(message: dict) -> str:
    """What the loader takes again of a stored message: its text and edit, and its reactions."""
    what = json.dumps([message.get("text"), message.get("edited"), message.get("reactions")], sort_keys=True)
    return hashlib.blake2b(what.encode(), digest_size=6).hexdigest()
