"""A fake Slack Web API on 127.0.0.1 that speaks Slack's own wire protocol.

The real client works against it unchanged::

    with serve(sample_workspace(), page_limit=15) as fake:
        client = WebClient(token=fake.token, base_url=f"{fake.url}/api/")
        for page in client.conversations_history(channel="C01GENERAL", limit=200):
            ...

The data is a "workspace" of plain dicts in Slack's shapes (see `sample_workspace`). Thread fields
are derived when a request is answered, so tests may append messages or replies between calls
(under `fake.lock`, or with `fake.add_message`). Only the standard library is used and nothing but
127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import threading
import time
import traceback
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator
from urllib.parse import parse_qsl, urlsplit

DEFAULT_TOKEN = "xoxb-test-token"
DEFAULT_LIMIT = 100  # Slack's default page size for cursor-paginated methods
MAX_LIMIT = 1000  # Slack's documented maximum
GRANTED_SCOPES = (
    "channels:history,channels:read,groups:history,groups:read,im:history,im:read,"
    "mpim:history,mpim:read,users:read,users:read.email,team:read"
)
CONVERSATION_TYPES = ("public_channel", "private_channel", "mpim", "im")


class SlackError(Exception):
    """An application error: Slack answers these with HTTP 200 and `{"ok": false, "error": ...}`."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class FakeSlack:
    """One fake workspace behind a local HTTP server, with knobs for Slack's failure modes.

    Knobs may be changed at any time, also while a client is paginating:

    - `token`: the bot token expected in `Authorization: Bearer ...` (or a `token` form field).
      A different token gets `invalid_auth`, no token at all `not_authed`, as on Slack.
    - `rate_limit_every`: every Nth request, counted over all methods from when the knob was set,
      gets HTTP 429 with `Retry-After: <retry_after>` and `{"ok": false, "error": "ratelimited"}`.
    - `min_interval`: method -> seconds; like Slack's tiers (one request a minute for some), that
      method takes one request per interval, and one sooner gets HTTP 429 with the wait left, in
      whole seconds rounded up, as `Retry-After`.
    - `page_limit`: cap on items per page whatever `limit` asks, like the 15-item tier Slack
      imposes on `conversations.history`/`replies` for non-Marketplace apps.
    - `missing_scopes`: method -> scope; that method answers `missing_scope` with `needed`/`provided`.
    - `fail_after`: after that many successful calls (counted from when it was set) every request
      gets HTTP 500, as if the remote crashed; set it back to None to "restart".

    Records: `calls` holds `(method, params)` for every request received (query and form merged,
    token removed), `responses` holds `(method, http_status, error_or_None)` for each answer.
    """

    def __init__(
        self,
        workspace: dict,
        *,
        token: str = DEFAULT_TOKEN,
        rate_limit_every: int | None = None,
        retry_after: int = 1,
        page_limit: int | None = None,
        missing_scopes: dict[str, str] | None = None,
        fail_after: int | None = None,
        min_interval: dict[str, float] | None = None,
    ) -> None:
        self.workspace = workspace
        self.lock = threading.RLock()
        self.token = token
        self.retry_after = retry_after
        self.page_limit = page_limit
        self.missing_scopes: dict[str, str] = dict(missing_scopes or {})
        self.min_interval: dict[str, float] = dict(min_interval or {})
        self._accepted_at: dict[str, float] = {}  # method -> when min_interval last let a request through
        self.scopes = GRANTED_SCOPES
        self.calls: list[tuple[str, dict]] = []
        self.responses: list[tuple[str, int, str | None]] = []
        self.url = ""
        self._received = 0
        self._succeeded = 0
        self.rate_limit_every = rate_limit_every
        self.fail_after = fail_after
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._methods: dict[str, Callable[[dict], dict]] = {
            "auth.test": self._auth_test,
            "conversations.list": self._conversations_list,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.list": self._users_list,
            "users.info": self._users_info,
            "chat.postMessage": self._chat_post_message,
        }

    # -- knobs whose counting starts when they are set ---------------------------------------

    @property
    def rate_limit_every(self) -> int | None:
        return self._rate_limit_every

    @rate_limit_every.setter
    def rate_limit_every(self, n: int | None) -> None:
        with self.lock:
            self._rate_limit_every = n
            self._rate_base = self._received

    @property
    def fail_after(self) -> int | None:
        return self._fail_after

    @fail_after.setter
    def fail_after(self, n: int | None) -> None:
        with self.lock:
            self._fail_after = n
            self._fail_base = self._succeeded

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Listen on a free port of 127.0.0.1 in a daemon thread; sets `url`."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- conveniences for tests ----------------------------------------------------------------

    def client(self, token: str | None = None, **kwargs: Any):
        """A real `slack_sdk.WebClient` pointed at this server."""
        from slack_sdk import WebClient

        return WebClient(token=self.token if token is None else token, base_url=f"{self.url}/api/", **kwargs)

    def add_message(self, channel_id: str, message: dict) -> None:
        """Append a message (or a thread reply, with `thread_ts`) to a channel, thread-safely."""
        with self.lock:
            self.workspace.setdefault("messages", {}).setdefault(channel_id, []).append(message)

    def count_status(self, status: int) -> int:
        """How many answers had this HTTP status (e.g. 429)."""
        with self.lock:
            return sum(1 for _, s, _ in self.responses if s == status)

    # -- one request ---------------------------------------------------------------------------

    def handle(self, method: str, params: dict, authorization: str = "") -> tuple[int, dict, dict]:
        """Answer one API call: `(http_status, extra_headers, json_body)`."""
        token = params.pop("token", None)
        if authorization.startswith("Bearer "):
            token = authorization[len("Bearer ") :]
        with self.lock:
            self.calls.append((method, dict(params)))
            self._received += 1
            status, headers, body = self._answer(method, params, token)
            if status == 200 and body.get("ok"):
                self._succeeded += 1
            self.responses.append((method, status, body.get("error")))
            return status, headers, body

    def _answer(self, method: str, params: dict, token: str | None) -> tuple[int, dict, dict]:
        if self._fail_after is not None and self._succeeded - self._fail_base >= self._fail_after:
            return 500, {}, {"ok": False, "error": "fatal_error"}
        n = self._rate_limit_every
        if n and (self._received - self._rate_base) % n == 0:
            # Slack: HTTP 429, Retry-After in seconds, body {"ok": false, "error": "ratelimited"}.
            return 429, {"Retry-After": str(self.retry_after)}, {"ok": False, "error": "ratelimited"}
        wait = self._too_soon(method)
        if wait:
            return 429, {"Retry-After": str(wait)}, {"ok": False, "error": "ratelimited"}
        try:
            if not token:
                raise SlackError("not_authed")
            if token != self.token:
                raise SlackError("invalid_auth")
            handler = self._methods.get(method)
            if handler is None:
                raise SlackError("unknown_method", req_method=method)
            if method in self.missing_scopes:
                needed = self.missing_scopes[method]
                provided = ",".join(s for s in self.scopes.split(",") if s != needed)
                raise SlackError("missing_scope", needed=needed, provided=provided)
            return 200, {"X-OAuth-Scopes": self.scopes}, {"ok": True, **handler(params)}
        except SlackError as e:
            return 200, {}, {"ok": False, "error": e.error, **e.extra}

    def _too_soon(self, method: str) -> int:
        """Whole seconds left before `method` may be called again under `min_interval`; 0 lets the
        request through, and the interval starts again from it."""
        interval, now = self.min_interval.get(method), time.monotonic()
        last = self._accepted_at.get(method)
        if interval and last is not None and now - last < interval:
            return max(1, math.ceil(interval - (now - last)))
        self._accepted_at[method] = now
        return 0

    # -- lookups -------------------------------------------------------------------------------

    def _channel(self, params: dict, *, read_messages: bool = False) -> dict:
        """Slack: unknown id -> `channel_not_found`; reading a channel the bot is not in -> `not_in_channel`."""
        channel_id = params.get("channel")
        channel = next((c for c in self.workspace.get("channels", []) if c.get("id") == channel_id), None)
        if channel is None:
            raise SlackError("channel_not_found")
        if read_messages and channel.get("is_member") is False:
            raise SlackError("not_in_channel")
        return channel

    def _messages(self, channel_id: str) -> list[dict]:
        """All messages of a channel, replies included, oldest first."""
        return sorted(self.workspace.get("messages", {}).get(channel_id, []), key=lambda m: _ts(m["ts"]))

    def _with_thread_fields(self, message: dict, messages: list[dict]) -> dict:
        """A copy of `message`; a thread parent gets `reply_count`, `reply_users`, `latest_reply` from its replies."""
        out = copy.deepcopy(message)
        replies = _replies_of(message["ts"], messages)
        if replies:
            users = list(dict.fromkeys(r["user"] for r in replies if r.get("user")))
            out.update(
                thread_ts=message["ts"],
                reply_count=len(replies),
                reply_users=users,
                reply_users_count=len(users),
                latest_reply=replies[-1]["ts"],
            )
        return out

    def _limit(self, params: dict) -> int:
        """Slack: `limit` defaults to 100, at most 1000; `page_limit` models a throttled tier."""
        try:
            limit = int(params.get("limit") or DEFAULT_LIMIT)
        except ValueError:
            raise SlackError("invalid_limit") from None
        limit = min(limit if limit > 0 else DEFAULT_LIMIT, MAX_LIMIT)
        return min(limit, self.page_limit) if self.page_limit else limit

    def _page(
        self, items: list[dict], params: dict, kind: str, key: Callable[[dict], str], start_of: Callable[[str], int]
    ) -> tuple[list[dict], str]:
        """One page of `items` and the next cursor ("" after the last page).

        Like Slack's, the cursor is opaque base64 of "<kind>:<key of the next page's first item>"
        (Slack's look like base64 "user:U0G9WFXNZ" or "next_ts:1512085861000543"), so it stays
        valid while the data does not change, and also when newer messages are appended.
        """
        limit = self._limit(params)
        start = start_of(_decode_cursor(params["cursor"], kind)) if params.get("cursor") else 0
        page, rest = items[start : start + limit], items[start + limit :]
        return page, (_encode_cursor(kind, key(rest[0])) if rest else "")

    def _id_page(self, items: list[dict], params: dict, kind: str) -> tuple[list[dict], str]:
        def start_of(item_id: str) -> int:
            for i, item in enumerate(items):
                if item.get("id") == item_id:
                    return i
            raise SlackError("invalid_cursor")

        return self._page(items, params, kind, lambda item: item["id"], start_of)

    # -- methods -------------------------------------------------------------------------------

    def _auth_test(self, params: dict) -> dict:
        """`auth.test`: who the token is (the first bot user of the workspace)."""
        team = self.workspace.get("team", {})
        bot = next((u for u in self.workspace.get("users", []) if u.get("is_bot")), {})
        domain = team.get("domain") or str(team.get("name", "workspace")).lower().replace(" ", "-")
        return {
            "url": f"https://{domain}.slack.com/",
            "team": team.get("name"),
            "user": bot.get("name", "bot"),
            "team_id": team.get("id"),
            "user_id": bot.get("id"),
            "bot_id": bot.get("profile", {}).get("bot_id"),
            "is_enterprise_install": False,
        }

    def _conversations_list(self, params: dict) -> dict:
        """`conversations.list`: `types` (default public_channel), `exclude_archived`, cursor paging.

        As for a bot token on Slack, private channels, mpims and ims are listed only if the bot is a member.
        """
        types = [t.strip() for t in (params.get("types") or "public_channel").split(",") if t.strip()]
        if any(t not in CONVERSATION_TYPES for t in types):
            raise SlackError("invalid_types")
        channels = [
            c
            for c in self.workspace.get("channels", [])
            if _conversation_type(c) in types
            and not (_truthy(params.get("exclude_archived")) and c.get("is_archived"))
            and (_conversation_type(c) == "public_channel" or c.get("is_member") is not False)
        ]
        page, cursor = self._id_page(channels, params, "channel")
        return {"channels": copy.deepcopy(page), "response_metadata": {"next_cursor": cursor}}

    def _conversations_info(self, params: dict) -> dict:
        """`conversations.info`: one channel object; works without membership, as on Slack."""
        return {"channel": copy.deepcopy(self._channel(params))}

    def _conversations_history(self, params: dict) -> dict:
        """`conversations.history`: top-level messages (replies only if broadcast), newest first.

        `oldest`/`latest` are exclusive unless `inclusive` is true; thread parents carry reply fields.
        """
        channel = self._channel(params, read_messages=True)
        messages = self._messages(channel["id"])
        top = [m for m in reversed(messages) if _is_top_level(m) and _in_range(m["ts"], params)]

        def start_of(ts: str) -> int:
            return next((i for i, m in enumerate(top) if _ts(m["ts"]) <= _ts(ts)), len(top))

        page, cursor = self._page(top, params, "next_ts", lambda m: m["ts"], start_of)
        return {
            "messages": [self._with_thread_fields(m, messages) for m in page],
            "has_more": bool(cursor),
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def _conversations_replies(self, params: dict) -> dict:
        """`conversations.replies`: the parent, then its replies oldest first.

        `ts` may name the parent or any reply of the thread; unknown -> `thread_not_found`.
        `oldest`/`latest` filter the replies; as on Slack the first page always starts with the
        parent, and continuation pages hold replies only.
        """
        channel = self._channel(params, read_messages=True)
        messages = self._messages(channel["id"])
        found = next((m for m in messages if m["ts"] == params.get("ts")), None)
        if found is None:
            raise SlackError("thread_not_found")
        root_ts = found.get("thread_ts") or found["ts"]
        parent = next((m for m in messages if m["ts"] == root_ts), found)
        replies = [copy.deepcopy(r) for r in _replies_of(parent["ts"], messages) if _in_range(r["ts"], params)]
        for reply in replies:
            reply.setdefault("parent_user_id", parent.get("user"))
        thread = [self._with_thread_fields(parent, messages), *replies]

        def start_of(ts: str) -> int:
            return next((i for i, m in enumerate(thread) if i > 0 and _ts(m["ts"]) >= _ts(ts)), len(thread))

        page, cursor = self._page(thread, params, "next_ts", lambda m: m["ts"], start_of)
        return {"messages": page, "has_more": bool(cursor), "response_metadata": {"next_cursor": cursor}}

    def _users_list(self, params: dict) -> dict:
        """`users.list`: all members (deleted and bots included), cursor paging."""
        page, cursor = self._id_page(self.workspace.get("users", []), params, "user")
        return {
            "members": copy.deepcopy(page),
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": cursor},
        }

    def _users_info(self, params: dict) -> dict:
        """`users.info`: one user object, or `user_not_found`."""
        user = next((u for u in self.workspace.get("users", []) if u.get("id") == params.get("user")), None)
        if user is None:
            raise SlackError("user_not_found")
        return {"user": copy.deepcopy(user)}

    def _chat_post_message(self, params: dict) -> dict:
        """`chat.postMessage`: `no_text` without text; `not_in_channel` where the bot is not a member;
        the message is added to the channel as the bot's, with a `ts` after the channel's latest."""
        if not params.get("text"):
            raise SlackError("no_text")
        channel = self._channel(params, read_messages=True)
        latest = max((_ts(m["ts"]) for m in self._messages(channel["id"])), default=Decimal(int(time.time())))
        message = {"type": "message", "subtype": "bot_message", "bot_id": "B0HUB", "text": params["text"],
                   "ts": f"{latest + Decimal('0.000100'):.6f}"}
        self.add_message(channel["id"], message)
        return {"channel": channel["id"], "ts": message["ts"], "message": copy.deepcopy(message)}


@contextmanager
def serve(workspace: dict, **knobs: Any) -> Iterator[FakeSlack]:
    """Run a `FakeSlack` for the duration of a `with` block."""
    fake = FakeSlack(workspace, **knobs)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


# -- HTTP ---------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """`/api/<method>` by GET or POST, like slack.com.

    slack_sdk 3.x always POSTs, whatever verb a method is documented with: the arguments go in an
    application/x-www-form-urlencoded body (booleans as "1"/"0"), the token in `Authorization:
    Bearer`; a call without arguments has an empty body labelled application/json. Pages after
    the first re-send every argument plus `cursor`. Other clients may GET with a query string, so
    the query and the body are merged, the body winning.
    """

    server_version = "FakeSlack/1.0"

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _serve(self, body: bytes) -> None:
        url = urlsplit(self.path)
        if not url.path.startswith("/api/"):
            self._send(404, {}, {"ok": False, "error": "not_found"})
            return
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        params.update(_parse_body(body, self.headers.get("Content-Type") or ""))
        fake: FakeSlack = self.server.fake  # type: ignore[attr-defined]
        method = url.path[len("/api/") :]
        try:
            status, headers, payload = fake.handle(method, params, self.headers.get("Authorization") or "")
        except Exception as e:  # a bug in the fake or malformed workspace data: say so, loudly
            traceback.print_exc()
            status, headers, payload = 500, {}, {"ok": False, "error": f"fake_slack_bug: {e!r}"}
        self._send(status, headers, payload)

    def _send(self, status: int, headers: dict, payload: dict) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence per-request logging
        pass


def _parse_body(body: bytes, content_type: str) -> dict[str, str]:
    """Form-encoded or JSON body -> str params (JSON booleans/numbers as their JSON text)."""
    text = body.decode("utf-8").strip()
    if not text:
        return {}
    if "json" in content_type and text.startswith("{"):
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in json.loads(text).items()}
    return dict(parse_qsl(text, keep_blank_values=True))


# -- helpers ------------------------------------------------------------------------------------


def _ts(value: str, error: str = "invalid_arguments") -> Decimal:
    """Slack timestamps are decimal strings; compare them as decimals, never as floats or text."""
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        raise SlackError(error) from None
    if not parsed.is_finite():
        raise SlackError(error)
    return parsed


def _truthy(value: str | None) -> bool:
    """slack_sdk sends booleans as "1"/"0"; Slack also accepts "true"/"false"."""
    return str(value).lower() in ("1", "true")


def _in_range(ts: str, params: dict) -> bool:
    """`oldest` and `latest` are exclusive bounds unless `inclusive` is true."""
    t, inclusive = _ts(ts), _truthy(params.get("inclusive"))
    if params.get("oldest"):
        oldest = _ts(params["oldest"], "invalid_ts_oldest")
        if t < oldest or (t == oldest and not inclusive):
            return False
    if params.get("latest"):
        latest = _ts(params["latest"], "invalid_ts_latest")
        if t > latest or (t == latest and not inclusive):
            return False
    return True


def _is_top_level(message: dict) -> bool:
    """In history: not a reply, or a reply also sent to the channel (`thread_broadcast`)."""
    thread_ts = message.get("thread_ts")
    return not thread_ts or thread_ts == message["ts"] or message.get("subtype") == "thread_broadcast"


def _replies_of(parent_ts: str, messages: list[dict]) -> list[dict]:
    """The replies of a thread, oldest first (`messages` is sorted)."""
    return [m for m in messages if m.get("thread_ts") == parent_ts and m["ts"] != parent_ts]


def _conversation_type(channel: dict) -> str:
    if channel.get("is_im"):
        return "im"
    if channel.get("is_mpim"):
        return "mpim"
    if channel.get("is_private") or channel.get("is_group"):
        return "private_channel"
    return "public_channel"


def _encode_cursor(kind: str, value: str) -> str:
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def _decode_cursor(cursor: str, kind: str) -> str:
    try:
        found, _, value = base64.b64decode(cursor, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise SlackError("invalid_cursor") from None
    if found != kind or not value:
        raise SlackError("invalid_cursor")
    return value


# -- sample data --------------------------------------------------------------------------------


def _user(uid: str, name: str, real_name: str, email: str | None, **extra: Any) -> dict:
    profile = {"display_name": name, "real_name": real_name, "email": email, "image_72": ""}
    profile.update(extra.pop("profile", {}))
    return {
        "id": uid,
        "team_id": "T1",
        "name": name,
        "real_name": real_name,
        "deleted": False,
        "is_bot": False,
        "is_app_user": False,
        "tz": "Europe/Paris",
        "profile": profile,
        **extra,
    }


def _conversation(cid: str, name: str, created: int, *, private: bool = False, member: bool = True) -> dict:
    return {
        "id": cid,
        "name": name,
        "is_channel": not private,
        "is_group": private,
        "is_private": private,
        "is_im": False,
        "is_mpim": False,
        "is_archived": False,
        "is_general": name == "general",
        "is_member": member,
        "created": created,
        "creator": "U01ALICE",
        "topic": {"value": f"All about {name}", "creator": "U01ALICE", "last_set": created},
        "purpose": {"value": f"The {name} channel", "creator": "U01ALICE", "last_set": created},
        "num_members": 3 if member else 2,
    }


def sample_workspace() -> dict:
    """3 users (1 bot), 3 channels (1 the bot is not in), 30 messages with 2 threads.

    C01GENERAL has joins, reactions, an edit, a bot_message, a file, and two threads: one of 3
    replies and one of 2 whose last reply is a `thread_broadcast`.
    """
    alice, bob, bot = "U01ALICE", "U02BOB", "U03BOT"
    users = [
        _user(alice, "alice", "Alice Martin", "alice@example.org"),
        _user(bob, "bob", "Bob Chen", "bob@example.org"),
        _user(bot, "hubbot", "Hub Bot", None, is_bot=True, profile={"bot_id": "B01HUB", "always_active": True}),
    ]
    channels = [
        _conversation("C01GENERAL", "general", 1699990000),
        _conversation("G01CORE", "core-team", 1699990100, private=True),
        _conversation("C03ANNOUNCE", "announcements", 1699990200, member=False),
    ]
    clock = iter(range(1700000000, 1800000000, 60))

    def msg(user: str | None, text: str, **extra: Any) -> dict:
        m = {"type": "message", "user": user, "text": text, "ts": f"{next(clock)}.000100", **extra}
        if user is None:
            del m["user"]
        return m

    general = [
        msg(alice, f"<@{alice}> has joined the channel", subtype="channel_join"),
        msg(bob, f"<@{bob}> has joined the channel", subtype="channel_join"),
        msg(alice, "Hello everyone!", reactions=[{"name": "wave", "count": 1, "users": [bob]}]),
        msg(bob, "Hi Alice :wave:"),
    ]
    meetup = msg(
        alice,
        "Who's coming to the meetup on Friday?",
        reactions=[{"name": "raised_hands", "count": 2, "users": [alice, bob]}],
    )
    general.append(meetup)
    general += [
        msg(bob, "Me!", thread_ts=meetup["ts"]),
        msg(alice, "Great, see you there", thread_ts=meetup["ts"]),
        msg(None, "Weekly digest: 12 messages", subtype="bot_message", bot_id="B01HUB", username="hubbot"),
        msg(bob, "Can I bring a friend?", thread_ts=meetup["ts"]),
        msg(bob, "The venue is the usual one", edited={"user": bob, "ts": "1700000600.000200"}),
    ]
    agenda = msg(
        alice,
        "Draft agenda attached",
        files=[{"id": "F01AGENDA", "name": "agenda.pdf", "mimetype": "application/pdf", "size": 12345}],
    )
    general.append(agenda)
    general += [
        msg(bob, "Looks good", thread_ts=agenda["ts"]),
        msg(alice, "Agenda is final", thread_ts=agenda["ts"], subtype="thread_broadcast"),
    ]
    general += [msg(alice if i % 2 else bob, f"general chatter {i}") for i in range(7)]
    core = [msg(alice if i % 2 else bob, f"core topic {i}") for i in range(6)]
    core[0]["reactions"] = [{"name": "+1", "count": 1, "users": [alice]}]
    announce = [msg(alice, f"announcement {i}") for i in range(4)]
    return {
        "team": {"id": "T1", "name": "Makers", "domain": "makers"},
        "users": users,
        "channels": channels,
        "messages": {"C01GENERAL": general, "G01CORE": core, "C03ANNOUNCE": announce},
    }
