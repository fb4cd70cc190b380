"""A simulated community as a Slack workspace: served by the fake Web API, or written as an export.

The workspace holds Slack's own JSON shapes (users, channels, messages by channel). Conversations
become threads (the starter is the parent, replies carry its `thread_ts`) or stay in the channel;
members react to messages; joins and leaves are `channel_join`/`channel_leave` messages.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections import defaultdict
from pathlib import Path

from hub.simulate import Simulation

_URL = re.compile(r"https?://\S+")
_EMOJI = ["+1", "tada", "heart", "eyes", "raised_hands", "clap::skin-tone-3", "fire", "pray"]


def workspace(sim: Simulation, *, seed: int | None = None, thread_share: float = 0.6,
              team: str = "T0SIM") -> dict:
    """The simulation as a Slack workspace (users, one channel, messages with threads and reactions)."""
    rng = random.Random(sim.seed if seed is None else seed)
    users = [{"id": f"U{i:07d}", "team_id": team, "name": m.name.lower().replace(" ", "."), "real_name": m.name,
              "deleted": False, "is_bot": False, "profile": {"display_name": m.name, "real_name": m.name}}
             for i, m in enumerate(sim.members, 1)]
    user_of = {m.name: u["id"] for m, u in zip(sim.members, users)}
    channel = {"id": "C0SIMGEN", "name": sim.name.lower().replace(" ", "-"), "is_channel": True,
               "is_member": True, "created": int(dt.datetime.combine(sim.start, dt.time()).timestamp()),
               "topic": {"value": ""}, "purpose": {"value": f"The {sim.name} community"}}
    messages, ts_of, used = [], {}, set()
    threaded = {}
    for index, m in enumerate(sim.messages):
        ts = _unique_ts(m.at, used)
        ts_of[index] = ts
        if m.kind == "system":
            kind, who, actor = m.event
            if kind in ("join", "add", "leave", "created"):
                subtype = "channel_leave" if kind == "leave" else "channel_join"
                message = {"type": "message", "subtype": subtype, "user": user_of[who], "ts": ts,
                           "text": f"<@{user_of[who]}> has {'left' if kind == 'leave' else 'joined'} the channel"}
                if kind == "add" and actor:
                    message["inviter"] = user_of[actor]
                messages.append(message)
            continue
        text = m.text or "a photo"
        if m.reply_to is not None:  # "@Ana" in the simulation is a <@U…> mention on Slack
            to = sim.messages[m.reply_to].author
            if to in user_of:
                text = text.replace(f"@{to.split(' ')[0]}", f"<@{user_of[to]}>")
        text = _URL.sub(lambda link: f"<{link.group(0)}>", text)  # Slack writes links as <https://…>
        message = {"type": "message", "user": user_of[m.author], "ts": ts, "text": text}
        if m.media:
            message["files"] = [{"id": f"F{index:08d}", "name": "photo.jpg", "mimetype": "image/jpeg"}]
        if m.reply_to is not None:
            root = _root(sim, m.reply_to)
            if root not in threaded:
                threaded[root] = rng.random() < thread_share
            if threaded[root]:
                message["thread_ts"] = ts_of[root]
                message["parent_user_id"] = user_of[sim.messages[root].author]
        reactors = [u["id"] for u in rng.sample(users, k=min(len(users), rng.choice([0, 0, 0, 1, 2, 4])))]
        if reactors:
            message["reactions"] = _reactions(rng, reactors)
        messages.append(message)
    by_ts = {m["ts"]: m for m in messages}
    for parent_ts in {m["thread_ts"] for m in messages if "thread_ts" in m}:
        by_ts[parent_ts]["thread_ts"] = parent_ts
    return {"team": {"id": team, "name": sim.name}, "users": users, "channels": [channel],
            "messages": {channel["id"]: messages}}


def _root(sim: Simulation, index: int) -> int:
    while sim.messages[index].reply_to is not None:
        index = sim.messages[index].reply_to
    return index


def _unique_ts(at: dt.datetime, used: set[str]) -> str:
    seconds = int(at.replace(tzinfo=dt.timezone.utc).timestamp())
    micro = 100
    while f"{seconds}.{micro:06d}" in used:
        micro += 100
    ts = f"{seconds}.{micro:06d}"
    used.add(ts)
    return ts


def _reactions(rng: random.Random, reactors: list[str]) -> list[dict]:
    by_emoji: dict[str, list[str]] = defaultdict(list)
    for user in reactors:
        by_emoji[rng.choice(_EMOJI)].append(user)
    return [{"name": name, "users": users, "count": len(users)} for name, users in sorted(by_emoji.items())]


def thread_fields(messages: list[dict]) -> list[dict]:
    """The messages with `thread_ts` (their own ts), `reply_count`, `reply_users`, `latest_reply` and
    `replies` on thread parents, as exports and `conversations.history` show them."""
    replies: dict[str, list[dict]] = defaultdict(list)
    for m in messages:
        if m.get("thread_ts") and m["thread_ts"] != m["ts"]:
            replies[m["thread_ts"]].append(m)
    out = []
    for m in messages:
        if m["ts"] in replies:
            rs = replies[m["ts"]]
            users = sorted({r["user"] for r in rs if r.get("user")})
            m = {**m, "thread_ts": m["ts"], "reply_count": len(rs), "reply_users": users,
                 "reply_users_count": len(users),
                 "latest_reply": max(r["ts"] for r in rs),
                 "replies": [{"user": r.get("user"), "ts": r["ts"]} for r in rs]}
        out.append(m)
    return out


def write_export(ws: dict, folder: Path, *, indent: int | None = 1) -> Path:
    """Write the workspace as Slack's export folder: users.json, channels.json, one folder per
    channel with a JSON list of messages per UTC day."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "users.json").write_text(json.dumps(ws["users"], indent=1))
    (folder / "channels.json").write_text(json.dumps([c for c in ws["channels"] if not c.get("is_private")], indent=1))
    private = [c for c in ws["channels"] if c.get("is_private")]
    if private:
        (folder / "groups.json").write_text(json.dumps(private, indent=1))
    for channel in ws["channels"]:
        days: dict[str, list[dict]] = defaultdict(list)
        for m in thread_fields(ws["messages"].get(channel["id"], [])):
            day = dt.datetime.fromtimestamp(float(m["ts"]), dt.timezone.utc).date().isoformat()
            days[day].append(m)
        for day, messages in days.items():
            path = folder / channel["name"] / f"{day}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(sorted(messages, key=lambda m: float(m["ts"])), indent=indent))
    return folder
