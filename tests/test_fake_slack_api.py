"""The fake Slack Web API, driven by the real `slack_sdk.WebClient` (no mocks)."""

from __future__ import annotations

import copy
import json
import urllib.error
import urllib.request
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from fakes.slack_api import DEFAULT_TOKEN, sample_workspace, serve
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

GENERAL, CORE, ANNOUNCE = "C01GENERAL", "G01CORE", "C03ANNOUNCE"


@pytest.fixture
def fake():
    with serve(sample_workspace()) as server:
        yield server


def _top_level(workspace: dict, channel: str) -> list[dict]:
    """What history must return, newest first, computed independently of the fake."""
    msgs = [
        m
        for m in workspace["messages"][channel]
        if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
    ]
    return sorted(msgs, key=lambda m: Decimal(m["ts"]), reverse=True)


def _pages(response) -> list[dict]:
    """Snapshot each page: slack_sdk's iteration yields the same SlackResponse, mutated in place."""
    return [copy.deepcopy(page.data) for page in response]


def _collect(pages, key: str) -> list[dict]:
    return [item for page in pages for item in page[key]]


def test_sample_workspace_shape():
    ws = sample_workspace()
    assert len(ws["users"]) == 3 and sum(u["is_bot"] for u in ws["users"]) == 1
    assert len(ws["channels"]) == 3 and [c["is_member"] for c in ws["channels"]].count(False) == 1
    assert sum(len(v) for v in ws["messages"].values()) == 30


def test_auth_test(fake):
    resp = fake.client().auth_test()
    assert resp["ok"] is True
    assert (resp["team_id"], resp["team"], resp["user_id"]) == ("T1", "Makers", "U03BOT")
    assert resp["url"] == "https://makers.slack.com/"
    assert fake.calls == [("auth.test", {})]  # the token is never recorded


def test_conversations_list_paginates_each_once(fake):
    client = fake.client()
    pages = _pages(client.conversations_list(types="public_channel,private_channel,mpim,im", limit=1))
    assert len(pages) == 3
    assert [c["id"] for c in _collect(pages, "channels")] == [GENERAL, CORE, ANNOUNCE]
    assert [p["response_metadata"]["next_cursor"] == "" for p in pages] == [False, False, True]
    # default types is public_channel only
    assert [c["id"] for c in client.conversations_list()["channels"]] == [GENERAL, ANNOUNCE]
    # the cursor is opaque and stable while the data does not change
    first, again = client.conversations_list(limit=1), client.conversations_list(limit=1)
    assert first["response_metadata"]["next_cursor"] == again["response_metadata"]["next_cursor"] != ""
    with pytest.raises(SlackApiError) as e:
        client.conversations_list(cursor="not-a-cursor")
    assert e.value.response["error"] == "invalid_cursor"


def test_exclude_archived(fake):
    fake.workspace["channels"][2]["is_archived"] = True
    client = fake.client()
    assert [c["id"] for c in client.conversations_list(exclude_archived=True)["channels"]] == [GENERAL]
    assert len(client.conversations_list(exclude_archived=False)["channels"]) == 2


def test_users_list_with_page_limit(fake):
    fake.page_limit = 2
    pages = _pages(fake.client().users_list(limit=1000))
    assert [len(p["members"]) for p in pages] == [2, 1]
    assert [u["id"] for u in _collect(pages, "members")] == ["U01ALICE", "U02BOB", "U03BOT"]
    assert fake.client().users_info(user="U03BOT")["user"]["is_bot"] is True


def test_history_paginates_top_level_newest_first(fake):
    expected = [m["ts"] for m in _top_level(fake.workspace, GENERAL)]
    assert len(expected) == 16
    for knobs, limit in (({}, 4), ({"page_limit": 5}, 1000)):
        fake.page_limit = knobs.get("page_limit")
        pages = _pages(fake.client().conversations_history(channel=GENERAL, limit=limit))
        assert [m["ts"] for m in _collect(pages, "messages")] == expected
        assert [p["has_more"] for p in pages] == [True] * (len(pages) - 1) + [False]
    # every page after the first sent the cursor (slack_sdk sends it as a form body)
    assert all("cursor" in params for method, params in fake.calls[-3:])


def test_history_thread_fields_are_computed_at_serve_time(fake):
    client = fake.client()
    meetup = next(m for m in client.conversations_history(channel=GENERAL)["messages"] if "meetup" in m["text"])
    assert meetup["reply_count"] == 3 and meetup["reply_users"] == ["U02BOB", "U01ALICE"]
    assert meetup["thread_ts"] == meetup["ts"]
    late = {"type": "message", "user": "U03BOT", "text": "late", "ts": "1700099999.000100", "thread_ts": meetup["ts"]}
    fake.add_message(GENERAL, late)
    again = next(m for m in client.conversations_history(channel=GENERAL)["messages"] if m["ts"] == meetup["ts"])
    assert again["reply_count"] == 4 and again["latest_reply"] == "1700099999.000100"
    assert again["reply_users"] == ["U02BOB", "U01ALICE", "U03BOT"]
    assert "reply_count" not in fake.workspace["messages"][GENERAL][4]  # stored data is not touched


def test_history_oldest_latest_inclusive(fake):
    client = fake.client()
    ts = [m["ts"] for m in _top_level(fake.workspace, GENERAL)]  # newest first
    oldest, latest = ts[10], ts[3]
    got = [m["ts"] for m in client.conversations_history(channel=GENERAL, oldest=oldest, latest=latest)["messages"]]
    assert got == ts[4:10]
    resp = client.conversations_history(channel=GENERAL, oldest=oldest, latest=latest, inclusive=True)
    got = [m["ts"] for m in resp["messages"]]
    assert got == ts[3:11]
    assert [m["ts"] for m in client.conversations_history(channel=GENERAL, oldest=ts[2])["messages"]] == ts[:2]


def test_newer_messages_between_pages_are_not_duplicated(fake):
    client = fake.client()
    first = client.conversations_history(channel=GENERAL, limit=10)
    fake.add_message(GENERAL, {"type": "message", "user": "U01ALICE", "text": "new", "ts": "1800000000.000100"})
    rest = client.conversations_history(channel=GENERAL, limit=10, cursor=first["response_metadata"]["next_cursor"])
    seen = [m["ts"] for m in first["messages"] + rest["messages"]]
    assert len(seen) == len(set(seen)) == 16 and not rest["has_more"]


def test_replies_parent_first_then_oldest_first(fake):
    client = fake.client()
    parent = next(m for m in fake.workspace["messages"][GENERAL] if "meetup" in m["text"])
    pages = _pages(client.conversations_replies(channel=GENERAL, ts=parent["ts"], limit=2))
    msgs = _collect(pages, "messages")
    assert len(pages) == 2
    assert msgs[0]["ts"] == parent["ts"] and msgs[0]["reply_count"] == 3
    assert [m["text"] for m in msgs[1:]] == ["Me!", "Great, see you there", "Can I bring a friend?"]
    assert all(m["thread_ts"] == parent["ts"] and m["parent_user_id"] == "U01ALICE" for m in msgs[1:])
    # the ts of a reply names the same thread; oldest filters replies but the parent still comes first
    by_reply = client.conversations_replies(channel=GENERAL, ts=msgs[2]["ts"])["messages"]
    assert [m["ts"] for m in by_reply] == [m["ts"] for m in msgs]
    newer = client.conversations_replies(channel=GENERAL, ts=parent["ts"], oldest=msgs[2]["ts"])["messages"]
    assert [m["ts"] for m in newer] == [parent["ts"], msgs[3]["ts"]]
    with pytest.raises(SlackApiError) as e:
        client.conversations_replies(channel=GENERAL, ts="1.000000")
    assert e.value.response["error"] == "thread_not_found"


def test_replies_include_broadcasts_with_page_limit(fake):
    fake.page_limit = 1
    parent = next(m for m in fake.workspace["messages"][GENERAL] if m["text"].startswith("Draft agenda"))
    pages = _pages(fake.client().conversations_replies(channel=GENERAL, ts=parent["ts"], limit=50))
    texts = [m["text"] for m in _collect(pages, "messages")]
    assert texts == ["Draft agenda attached", "Looks good", "Agenda is final"]


def test_invalid_auth(fake):
    with pytest.raises(SlackApiError) as e:
        fake.client(token="xoxb-wrong").conversations_list()
    assert e.value.response["error"] == "invalid_auth"
    assert e.value.response.status_code == 200


def test_not_in_channel_and_channel_not_found(fake):
    client = fake.client()
    for call in (
        lambda: client.conversations_history(channel=ANNOUNCE),
        lambda: client.conversations_replies(channel=ANNOUNCE, ts="1700000000.000100"),
    ):
        with pytest.raises(SlackApiError) as e:
            call()
        assert e.value.response["error"] == "not_in_channel"
    assert client.conversations_info(channel=ANNOUNCE)["channel"]["is_member"] is False
    with pytest.raises(SlackApiError) as e:
        client.conversations_history(channel="C999")
    assert e.value.response["error"] == "channel_not_found"


def test_missing_scope(fake):
    fake.missing_scopes["users.list"] = "users:read"
    with pytest.raises(SlackApiError) as e:
        fake.client().users_list()
    assert e.value.response["error"] == "missing_scope"
    assert e.value.response["needed"] == "users:read"
    assert "users:read" not in e.value.response["provided"].split(",")


def test_unknown_method(fake):
    with pytest.raises(SlackApiError) as e:
        fake.client().api_call("conversations.nope")
    assert e.value.response["error"] == "unknown_method"


def test_rate_limit_with_retry_handler_completes(fake):
    fake.rate_limit_every = 3
    fake.retry_after = 1
    client = fake.client()
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=5))
    pages = _pages(client.conversations_history(channel=GENERAL, limit=3))  # 6 pages; requests 3 and 6 get 429
    assert len(pages) == 6
    assert [m["ts"] for m in _collect(pages, "messages")] == [m["ts"] for m in _top_level(fake.workspace, GENERAL)]
    assert fake.count_status(429) == 2 and len(fake.calls) == 8


def test_rate_limit_without_handler_raises(fake):
    fake.rate_limit_every = 1
    with pytest.raises(SlackApiError) as e:
        fake.client().users_list()
    assert e.value.response.status_code == 429
    assert e.value.response["error"] == "ratelimited"
    assert e.value.response.headers["Retry-After"] == "1"


def test_fail_after_then_restart(fake):
    client = fake.client()
    fake.fail_after = 2
    pages = client.users_list(limit=1)
    next(iter(pages))
    with pytest.raises(SlackApiError) as e:
        list(pages)  # page 2 succeeds, page 3 meets the "crashed" server
    assert e.value.response.status_code == 500
    fake.fail_after = None
    assert client.users_list()["ok"] is True


def test_raw_get_and_post_with_token_field(fake):
    """Slack accepts GET query params and POST form bodies, and a `token` field instead of the header."""
    query = urlencode({"token": DEFAULT_TOKEN, "user": "U01ALICE"})
    with urllib.request.urlopen(f"{fake.url}/api/users.info?{query}") as r:
        assert json.load(r)["user"]["name"] == "alice"
    body = urlencode({"token": DEFAULT_TOKEN, "channel": GENERAL}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{fake.url}/api/conversations.info", data=body)) as r:
        assert json.load(r)["channel"]["name"] == "general"
    with urllib.request.urlopen(f"{fake.url}/api/auth.test") as r:
        assert json.load(r) == {"ok": False, "error": "not_authed"}
    assert fake.calls[:2] == [("users.info", {"user": "U01ALICE"}), ("conversations.info", {"channel": GENERAL})]
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{fake.url}/elsewhere")
