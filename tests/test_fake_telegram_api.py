"""The fake Telegram Bot API, driven by the real `telegram.Bot` of python-telegram-bot (no mocks).

PTB is async and there is no pytest-asyncio here, so each test runs its coroutine with `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import threading
import time
import urllib.error
import urllib.request

import pytest
import telegram
from fakes.telegram_api import DEFAULT_TOKEN, EXPIRY_SECONDS, sample_updates, serve
from telegram.error import BadRequest, Conflict, EndPointNotFound, InvalidToken, RetryAfter

ALL_TYPES = ["message", "edited_message", "message_reaction", "message_reaction_count", "chat_member"]


def run(fake, body, token: str | None = None):
    """Run `await body(bot)` with a real, initialized `telegram.Bot` pointed at the fake."""

    async def main():
        async with telegram.Bot(token or fake.token, base_url=f"{fake.url}/bot") as bot:
            return await body(bot)

    return asyncio.run(main())


def ids(updates) -> list[int]:
    return [u.update_id for u in updates]


def test_get_me_and_the_request_log_never_holds_the_token():
    with serve() as fake:
        me = run(fake, lambda bot: bot.get_me())
        assert (me.id, me.is_bot, me.username, me.can_join_groups) == (7000000001, True, "community_hub_bot", True)
        assert [m for m, _ in fake.requests] == ["getMe", "getMe"]  # `async with` calls getMe too
        assert DEFAULT_TOKEN not in repr(fake.requests) + repr(fake.responses)


def test_ptb_parses_every_sample_update():
    with serve(sample_updates()) as fake:
        updates = run(fake, lambda bot: bot.get_updates(allowed_updates=ALL_TYPES))
    message, reply, edited, reaction, count, member = updates
    assert ids(updates) == list(range(updates[0].update_id, updates[0].update_id + 6))
    assert message.message.text == "hi" and message.message.chat.type == "supergroup"
    assert message.message.from_user.username == "annlee" and message.message.chat.title == "Makers"
    assert reply.message.reply_to_message.message_id == 7
    assert edited.edited_message.text == "hello Ann!" and edited.edited_message.edit_date is not None
    assert reaction.message_reaction.new_reaction[0].emoji == "👍"
    assert reaction.message_reaction.old_reaction == () and reaction.message_reaction.user.id == 1002
    assert count.message_reaction_count.reactions[0].total_count == 3
    assert count.message_reaction_count.reactions[0].type.emoji == "👍"
    assert member.chat_member.new_chat_member.status == "member"
    assert member.chat_member.old_chat_member.status == "left"


def test_offset_confirms_and_rereading_without_it_repeats():
    with serve(sample_updates()[:3]) as fake:
        first = fake.pending()[0]["update_id"]

        async def body(bot):
            again = [ids(await bot.get_updates()) for _ in range(2)]
            confirmed = ids(await bot.get_updates(offset=first + 2))
            return again, confirmed

        again, confirmed = run(fake, body)
        assert again == [[first, first + 1, first + 2]] * 2
        assert confirmed == [first + 2]
        assert [u["update_id"] for u in fake.pending()] == [first + 2]
        assert fake.requests[-1] == ("getUpdates", {"offset": str(first + 2)})

        fake.add_updates([{"message": {**sample_updates()[0]["message"], "message_id": 9}}] * 2)
        assert run(fake, lambda bot: bot.get_updates(offset=-1))[0].message.message_id == 9
        assert [u["update_id"] for u in fake.pending()] == [first + 4]  # -1: all but the last forgotten
        assert run(fake, lambda bot: bot.get_updates(offset=first + 5)) == ()
        assert fake.pending() == []


def test_limit_and_explicit_ids():
    with serve() as fake:
        n = 900_000_000
        assert fake.add_updates([{"update_id": n, "message": sample_updates()[0]["message"]}]) == [n]
        assert fake.add_updates(sample_updates()[:2]) == [n + 1, n + 2]  # numbering continues after it
        assert ids(run(fake, lambda bot: bot.get_updates(limit=2))) == [n, n + 1]
        assert ids(run(fake, lambda bot: bot.get_updates(offset=n + 1, limit=1))) == [n + 1]
        assert ids(run(fake, lambda bot: bot.get_updates(limit=100))) == [n + 1, n + 2]


def test_reactions_and_members_only_when_named_and_the_setting_is_remembered():
    with serve(sample_updates()) as fake:
        default = run(fake, lambda bot: bot.get_updates())
        assert [u.effective_message.message_id for u in default] == [7, 8, 8]
        assert all(u.message_reaction is None and u.chat_member is None for u in default)
        assert len(fake.pending()) == 3  # the opt-in types were dropped, as Telegram never creates them

    with serve(sample_updates()) as fake:

        async def body(bot):
            named = await bot.get_updates(allowed_updates=["message_reaction"])
            fake.add_updates(sample_updates())
            remembered = await bot.get_updates()  # no allowed_updates: the last setting holds
            fake.add_updates(sample_updates())
            empty = await bot.get_updates(offset=remembered[-1].update_id + 1, allowed_updates=[])
            return named, remembered, empty

        named, remembered, empty = run(fake, body)
        assert [u.message_reaction.new_reaction[0].emoji for u in named] == ["👍"]
        assert len(remembered) == 2 and all(u.message_reaction for u in remembered)
        assert [u.effective_message.text for u in empty] == ["hi", "hello Ann", "hello Ann!"]
        # PTB form-encodes lists as JSON text
        assert fake.requests[1] == ("getUpdates", {"allowed_updates": '["message_reaction"]'})


def test_updates_expire_after_24_hours_of_the_fake_clock():
    now = [1_700_000_000.0]
    with serve(sample_updates()[:1], clock=lambda: now[0]) as fake:
        fake.add_updates(sample_updates()[1:2], queued_at=now[0] - EXPIRY_SECONDS - 1)
        fake.add_updates(sample_updates()[2:3], queued_at=now[0] - EXPIRY_SECONDS + 60)
        assert [u.effective_message.text for u in run(fake, lambda bot: bot.get_updates())] == ["hi", "hello Ann!"]
        now[0] += 59
        assert len(run(fake, lambda bot: bot.get_updates())) == 2
        now[0] += 2
        assert [u.effective_message.text for u in run(fake, lambda bot: bot.get_updates())] == ["hi"]
        now[0] += EXPIRY_SECONDS
        assert run(fake, lambda bot: bot.get_updates()) == ()
        assert fake.pending() == []


def test_flood_control_is_retry_after_and_confirms_nothing(monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 22: retry_after as a timedelta, without a warning
    with serve(sample_updates()[:2]) as fake:
        first = fake.pending()[0]["update_id"]
        fake.fail_next("getUpdates", n=2, retry_after=5)

        async def body(bot):
            errors = []
            for _ in range(2):
                with pytest.raises(RetryAfter) as caught:
                    await bot.get_updates(offset=first + 2)
                errors.append(caught.value)
            return errors, await bot.get_updates()

        errors, updates = run(fake, body)
        assert [e.retry_after for e in errors] == [dtm.timedelta(seconds=5)] * 2
        assert ids(updates) == [first, first + 1]
        assert fake.responses[1:] == [
            ("getUpdates", 429, "Too Many Requests: retry after 5"),
            ("getUpdates", 429, "Too Many Requests: retry after 5"),
            ("getUpdates", 200, None),
        ]


def test_injected_errors_map_to_ptb_exceptions():
    with serve() as fake:
        fake.error_next("getUpdates", 409, "Conflict: terminated by other getUpdates request")
        fake.error_next("getupdates", 400, "Bad Request: wrong offset")

        async def body(bot):
            with pytest.raises(Conflict, match="terminated by other getUpdates"):
                await bot.get_updates()
            with pytest.raises(BadRequest, match="Wrong offset"):
                await bot.get_updates()
            with pytest.raises(EndPointNotFound):
                await bot.do_api_request("noSuchMethod")
            assert await bot.delete_webhook() is True
            return await bot.get_webhook_info(), await bot.get_updates()

        info, updates = run(fake, body)
        assert (info.url, info.pending_update_count, updates) == ("", 0, ())


def test_wrong_token_is_invalid_token():
    with serve() as fake:
        with pytest.raises(InvalidToken, match="was rejected by the server"):
            run(fake, lambda bot: bot.get_me(), token="123:wrong")
        assert fake.responses == [("getMe", 401, "Unauthorized")]


def test_long_poll_wakes_on_a_new_update_and_is_capped():
    with serve(long_poll_cap=0.5) as fake:
        started = time.monotonic()
        assert run(fake, lambda bot: bot.get_updates(timeout=30)) == ()
        assert 0.4 < time.monotonic() - started < 5

        timer = threading.Timer(0.1, fake.add_updates, [sample_updates()[:1]])
        fake.long_poll_cap = 10
        started = time.monotonic()
        timer.start()
        updates = run(fake, lambda bot: bot.get_updates(timeout=30))
        assert [u.message.text for u in updates] == ["hi"] and time.monotonic() - started < 5


def _raw(url: str, data: bytes | None = None, content_type: str = "application/json"):
    """A plain HTTP call, never through a proxy: `(status, json_body)`."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_wire_format_json_bodies_query_strings_and_errors():
    with serve(sample_updates()) as fake:
        base = f"{fake.url}/bot{fake.token}"
        status, body = _raw(f"{base}/getUpdates?limit=1", json.dumps({"allowed_updates": []}).encode())
        assert status == 200 and body["ok"] is True and len(body["result"]) == 1
        assert fake.requests[-1] == ("getUpdates", {"limit": "1", "allowed_updates": "[]"})
        assert _raw(f"{base}/getme")[1]["result"]["username"] == "community_hub_bot"  # case-insensitive
        assert _raw(f"{fake.url}/bot123:nope/getMe") == (
            401,
            {"ok": False, "error_code": 401, "description": "Unauthorized"},
        )
        assert _raw(f"{base}/sendRocket") == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
        fake.fail_next("getMe", retry_after=7)
        assert _raw(f"{base}/getMe") == (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7},
            },
        )
        status, body = _raw(f"{base}/getUpdates", b"allowed_updates=message", "application/x-www-form-urlencoded")
        assert (status, body["description"]) == (400, "Bad Request: can't parse allowed updates")
