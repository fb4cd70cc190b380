"""A fake Telegram Bot API on 127.0.0.1 that speaks Telegram's own wire protocol.

The real client works against it unchanged::

    with serve(sample_updates()) as fake:
        async with Bot(fake.token, base_url=f"{fake.url}/bot") as bot:   # or fake.bot_client()
            updates = await bot.get_updates(offset=0, limit=100, allowed_updates=[...])

The state is a queue of updates, plain dicts in the Bot API's shapes (see `sample_updates`), served
by `getUpdates` with Telegram's offset/limit/allowed_updates/timeout semantics and 24-hour expiry
(measured with `fake.clock`, which tests may replace). Tests may queue more updates at any time
with `fake.add_updates` (this also wakes a long poll), and inject failures with `fail_next` (429
flood control) and `error_next` (any `ok: false` answer). Only the standard library is used and
nothing but 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import traceback
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import parse_qsl, urlsplit

DEFAULT_TOKEN = "7000000001:AAFakeTokenForTestsOnly-0123456789ab"
DEFAULT_BOT = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Hub Bot",
    "username": "community_hub_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
EXPIRY_SECONDS = 24 * 3600  # Telegram keeps unconfirmed updates for 24 hours
FIRST_UPDATE_ID = 500000001
# Telegram: an empty `allowed_updates` (and the default) means every type except these.
OPT_IN_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class TelegramError(Exception):
    """An `ok: false` answer: `{"ok": false, "error_code": code, "description": ...}` with HTTP status `code`."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


class FakeTelegram:
    """One bot's update queue behind a local HTTP server, with knobs for Telegram's failure modes.

    - `token`: the token expected in the path `/bot<token>/<method>`; another one gets 401.
    - `bot`: the User object `getMe` answers.
    - `clock`: `() -> epoch seconds`, for queueing times and the 24 h expiry (default `time.time`).
    - `long_poll_cap`: at most this many real seconds are spent waiting in a long poll, whatever
      `timeout` asks, so tests stay fast.
    - `allowed_updates`: the remembered setting (None until a call names one).
    - `chats`: the Chat objects the bot is in, where `sendMessage` may post (what it sent is in `sent`).

    Records: `requests` holds `(method, params)` for every call (query and body merged; the token,
    which is part of the path, never appears), `responses` holds `(method, http_status, description)`.
    """

    def __init__(
        self,
        updates: Iterable[dict] = (),
        *,
        token: str = DEFAULT_TOKEN,
        bot: dict | None = None,
        clock: Callable[[], float] = time.time,
        long_poll_cap: float = 2.0,
        chats: Iterable[dict] = (),
    ) -> None:
        self.lock = threading.RLock()
        self._arrived = threading.Condition(self.lock)
        self.token = token
        self.bot = dict(bot or DEFAULT_BOT)
        self.clock = clock
        self.long_poll_cap = long_poll_cap
        self.allowed_updates: list[str] | None = None
        self.chats = {str(c["id"]): dict(c) for c in chats}  # where sendMessage may post
        self.sent: list[dict] = []
        self._sent = 0
        self.requests: list[tuple[str, dict]] = []
        self.responses: list[tuple[str, int, str | None]] = []
        self.url = ""
        self._queue: list[tuple[dict, float]] = []  # (update, queued_at), by update_id
        self._next_id = FIRST_UPDATE_ID
        self._injected: dict[str, list[TelegramError]] = {}
        self._stopping = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._methods: dict[str, Callable[[dict], Any]] = {
            "getMe": lambda params: copy.deepcopy(self.bot),
            "getUpdates": self._get_updates,
            "deleteWebhook": lambda params: True,
            "sendMessage": self._send_message,
            "getWebhookInfo": lambda params: {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": len(self.pending()),
            },
        }
        self.add_updates(updates)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        """Listen on a free port of 127.0.0.1 in a daemon thread; sets `url`."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server, self._stopping = server, False
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-telegram", daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        return self

    def stop(self) -> None:
        with self.lock:
            self._stopping = True
            self._arrived.notify_all()  # end long polls now
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- conveniences for tests ----------------------------------------------------------------

    def bot_client(self, token: str | None = None, **kwargs: Any):
        """A real `telegram.Bot` pointed at this server (use it as `async with fake.bot_client() as bot`)."""
        from telegram import Bot

        return Bot(self.token if token is None else token, base_url=f"{self.url}/bot", **kwargs)

    def add_updates(self, updates: Iterable[dict], *, queued_at: float | None = None) -> list[int]:
        """Queue copies of `updates`, giving increasing `update_id`s to those without; returns the ids.

        Each remembers `queued_at` (default: `clock()` now) for the 24 h expiry. Wakes long polls.
        """
        ids = []
        with self.lock:
            when = self.clock() if queued_at is None else queued_at
            for update in updates:
                update = copy.deepcopy(update)
                update.setdefault("update_id", self._next_id)
                self._next_id = max(self._next_id, update["update_id"] + 1)
                self._queue.append((update, when))
                ids.append(update["update_id"])
            self._queue.sort(key=lambda item: item[0]["update_id"])
            self._arrived.notify_all()
        return ids

    def pending(self) -> list[dict]:
        """Copies of the updates still queued: unconfirmed, not expired, not dropped as disallowed."""
        with self.lock:
            self._expire()
            return [copy.deepcopy(u) for u, _ in self._queue]

    def fail_next(self, method: str, n: int = 1, retry_after: int = 1) -> None:
        """The next `n` calls of `method` get flood control: 429 with `parameters.retry_after`."""
        error = TelegramError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        self._inject(method, error, n)

    def error_next(self, method: str, code: int, description: str, n: int = 1) -> None:
        """The next `n` calls of `method` answer `ok: false` with this code (e.g. 409 "Conflict: ...")."""
        self._inject(method, TelegramError(code, description), n)

    def _inject(self, method: str, error: TelegramError, n: int) -> None:
        with self.lock:
            self._injected.setdefault(method.lower(), []).extend([error] * n)

    # -- one request ---------------------------------------------------------------------------

    def handle(self, token: str, method: str, params: dict) -> tuple[int, dict]:
        """Answer one API call: `(http_status, json_body)`. Method names are case-insensitive, as on Telegram."""
        name = next((m for m in self._methods if m.lower() == method.lower()), method)
        with self.lock:
            self.requests.append((name, dict(params)))
            try:
                if token != self.token:
                    raise TelegramError(401, "Unauthorized")
                if name not in self._methods:
                    raise TelegramError(404, "Not Found")
                injected = self._injected.get(name.lower())
                if injected:
                    raise injected.pop(0)
                status, body = 200, {"ok": True, "result": self._methods[name](params)}
            except TelegramError as e:
                status, body = e.code, {"ok": False, "error_code": e.code, "description": e.description}
                if e.parameters:
                    body["parameters"] = e.parameters
            self.responses.append((name, status, body.get("description") if status != 200 else None))
            return status, body

    def _expire(self) -> None:
        cutoff = self.clock() - EXPIRY_SECONDS
        self._queue = [(u, t) for u, t in self._queue if t > cutoff]

    def _get_updates(self, params: dict) -> list[dict]:
        """`getUpdates`: confirm below `offset` (negative: keep only the last -offset), then up to `limit`.

        `allowed_updates` is remembered; updates of other types are dropped from the queue (Telegram
        never creates them; the fake drops them when polled, so tests may queue before polling).
        `timeout` > 0 waits for an update, at most `long_poll_cap` real seconds.
        """
        offset = _int(params, "offset", 0)
        limit = min(max(_int(params, "limit", 100), 1), 100)
        timeout = max(_int(params, "timeout", 0), 0)
        if params.get("allowed_updates") not in (None, ""):
            try:
                allowed = json.loads(params["allowed_updates"])
            except ValueError:
                allowed = None
            if not isinstance(allowed, list) or not all(isinstance(t, str) for t in allowed):
                raise TelegramError(400, "Bad Request: can't parse allowed updates")
            self.allowed_updates = allowed
        deadline = time.monotonic() + min(timeout, self.long_poll_cap)
        while True:
            self._expire()
            self._queue = [(u, t) for u, t in self._queue if self._allowed(u)]
            if offset < 0:
                self._queue = self._queue[offset:]
            elif offset > 0:
                self._queue = [(u, t) for u, t in self._queue if u["update_id"] >= offset]
            left = deadline - time.monotonic()
            if self._queue or left <= 0 or self._stopping:
                return [copy.deepcopy(u) for u, _ in self._queue[:limit]]
            self._arrived.wait(left)

    def _send_message(self, params: dict) -> dict:
        """`sendMessage`: the Message the bot sent; `chats` (chat id -> chat) are those the bot is in,
        any other chat is "chat not found", as Telegram answers."""
        chat = self.chats.get(str(params.get("chat_id")))
        if chat is None:
            raise TelegramError(400, "Bad Request: chat not found")
        if not params.get("text"):
            raise TelegramError(400, "Bad Request: message text is empty")
        self._sent += 1
        message = {"message_id": self._sent, "date": int(self.clock()), "chat": copy.deepcopy(chat),
                   "from": copy.deepcopy(self.bot), "text": params["text"]}
        self.sent.append(message)
        return message

    def _allowed(self, update: dict) -> bool:
        kind = next((k for k in update if k != "update_id"), None)
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in OPT_IN_TYPES


@contextmanager
def serve(updates: Iterable[dict] = (), **knobs: Any) -> Iterator[FakeTelegram]:
    """Run a `FakeTelegram` for the duration of a `with` block."""
    fake = FakeTelegram(updates, **knobs)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


# -- HTTP ---------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """`/bot<token>/<method>` by GET or POST, like api.telegram.org.

    python-telegram-bot 22 always POSTs an application/x-www-form-urlencoded body (httpx `data=`)
    whose values are strings, non-strings JSON-encoded (`limit=100`, `allowed_updates=["message"]`);
    parameters that are None are left out, so a call without any has an empty body. Telegram also
    accepts a query string and application/json bodies, so all three are read and merged, the body
    winning; JSON values that are not strings are kept as their JSON text.
    """

    server_version = "FakeTelegram/1.0"

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _serve(self, body: bytes) -> None:
        url = urlsplit(self.path)
        prefix, _, method = url.path.lstrip("/").partition("/")
        if not prefix.startswith("bot") or not method or "/" in method:
            self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        fake: FakeTelegram = self.server.fake  # type: ignore[attr-defined]
        try:
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            params.update(_parse_body(body, self.headers.get("Content-Type") or ""))
            status, payload = fake.handle(prefix[len("bot") :], method, params)
        except ValueError:
            status, payload = 400, {"ok": False, "error_code": 400, "description": "Bad Request: can't parse body"}
        except Exception as e:  # a bug in the fake: say so, loudly
            traceback.print_exc()
            status, payload = 500, {"ok": False, "error_code": 500, "description": f"fake_telegram_bug: {e!r}"}
        self._send(status, payload)

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence per-request logging
        pass


def _parse_body(body: bytes, content_type: str) -> dict[str, str]:
    """Form-encoded or JSON body -> str params (JSON non-strings as their JSON text)."""
    text = body.decode("utf-8").strip()
    if not text:
        return {}
    if "json" in content_type:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a JSON body must be an object")
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    return dict(parse_qsl(text, keep_blank_values=True))


def _int(params: dict, name: str, default: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(float(value))
    except ValueError:
        raise TelegramError(400, f"Bad Request: invalid {name} specified") from None


# -- sample data --------------------------------------------------------------------------------

CHAT = {"id": -1001700000001, "type": "supergroup", "title": "Makers"}
ANN = {"id": 1001, "is_bot": False, "first_name": "Ann", "last_name": "Lee", "username": "annlee"}
BOB = {"id": 1002, "is_bot": False, "first_name": "Bob", "username": "bobchen", "language_code": "en"}


def sample_updates() -> list[dict]:
    """Six updates of one supergroup, without `update_id` (the fake numbers them):

    a message, a reply to it, an edit of the reply, a `message_reaction` and a
    `message_reaction_count` on the first message, and a `chat_member` (Bob joins).
    """
    first = {"message_id": 7, "from": ANN, "chat": CHAT, "date": 1700000000, "text": "hi"}
    reply = {"message_id": 8, "from": BOB, "chat": CHAT, "date": 1700000060, "text": "hello Ann"}
    reply["reply_to_message"] = first
    return copy.deepcopy(
        [
            {"message": first},
            {"message": reply},
            {"edited_message": {**reply, "text": "hello Ann!", "edit_date": 1700000090}},
            {
                "message_reaction": {
                    "chat": CHAT,
                    "message_id": 7,
                    "user": BOB,
                    "date": 1700000120,
                    "old_reaction": [],
                    "new_reaction": [{"type": "emoji", "emoji": "👍"}],
                }
            },
            {
                "message_reaction_count": {
                    "chat": CHAT,
                    "message_id": 7,
                    "date": 1700000180,
                    "reactions": [{"type": {"type": "emoji", "emoji": "👍"}, "total_count": 3}],
                }
            },
            {
                "chat_member": {
                    "chat": CHAT,
                    "from": BOB,
                    "date": 1700000240,
                    "old_chat_member": {"status": "left", "user": BOB},
                    "new_chat_member": {"status": "member", "user": BOB},
                }
            },
        ]
    )
