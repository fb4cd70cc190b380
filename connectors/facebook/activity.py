"""A member's own group activity from "Download Your Information" JSON.

Format (under `groups/`, or `your_activity_across_facebook/groups/` in newer exports; older ones
wrap the list in an object, e.g. `{"group_posts": {"activity_log_data": [...]}}`):
- `your_posts_in_groups.json`: `{"group_posts_v2": [{timestamp, title, data: [{post}, {update_timestamp}],
  attachments: [{data: [{media: {uri}} | {external_context: {url}} | {poll: {question}}]}]}]}`
- `your_comments_in_groups.json`: `{"group_comments_v2": [{timestamp, title,
  data: [{comment: {timestamp, comment, author, group}}]}]}`
- `your_group_membership_activity.json`: `{"groups_joined_v2": [{timestamp, title, data: [{name}]}]}`
- reactions (`comments_and_reactions/posts_and_comments.json`): `{"reactions_v2": [{timestamp, title,
  data: [{reaction: {reaction, actor}}]}]}`
Timestamps are seconds; titles are sentences in the exporter's language ("X posted in Makers.").

Mapping:
- **Groups** have no id in these files: a group is the channel `group:name:<group name>`. The
  group of a comment and of a membership change is written out; a post's is read from its title:
  the English "… in <group>." if that is a known group, else the longest known group the title
  names, else that English reading, else `--channel`, else the only group the dump knows. A post
  whose group cannot be told goes to quarantine.
- **The member** whose dump it is: the name in `profile_information.json` of the same dump,
  else the author most of its comments and reactions name, else the name its English titles
  start with ("Alice Martin posted in …"), else `@exporter`.
- **Posts and comments** are messages of that member (`has_media` for media attachments; the
  URLs of shared links go to `links`; a post's `update_timestamp` is its `edited_at`). Which post
  a comment answers is not in the file: `reply_to_id` stays empty.
- **Membership**: a leave where the title says so ("left", "stopped being a member", "removed",
  "no longer"), otherwise a join (the file lists the groups the member joined).
- **Reactions** name neither the post nor the comment reacted to, so they cannot be attached to
  a message: those whose title names a group of the dump go to quarantine with that reason;
  the rest (the reactions file covers all of Facebook) are not group activity and are only counted.
- **Ids** are derived from group + author + timestamp + a hash of the content
  (`group:name:<g>/p<digest>` for posts, `c<digest>` for comments, `.2` … for identical ones in
  one file), so several members' dumps of one group combine, and the same dump read twice adds
  nothing.
"""

from __future__ import annotations

import re
from collections import Counter

from connectors.facebook.common import Part, as_int, bad, digest, emoji_of, listed, name_id, ranked
from connectors.mojibake import Repairer

KEYS = {"group_posts": "posts", "group_comments": "comments", "groups_joined": "membership", "reactions": "reactions"}
_SECTIONS = {"groups", "your_activity_across_facebook", "your_facebook_activity", "messages", "comments_and_reactions",
             "likes_and_reactions", "profile_information", "personal_information", "connections"}
_IN_GROUP = re.compile(r" in (.+?)\.?$")
_LEAVE = re.compile(r"\b(left|leave|stopped being a member|no longer a member|removed)\b", re.IGNORECASE)
_TITLE_AUTHOR = re.compile(r"^(.+?) (?:posted|shared|wrote|updated|created|added|commented|replied|reacted|likes|"
                           r"liked|joined|left|became|is|was)\b")
EXPORTER = "@exporter"


def entries(data: object) -> tuple[str, list] | None:
    """(kind, entries) of a group activity file, whatever its export year."""
    if not isinstance(data, dict):
        return None
    for key, value in data.items():
        kind = KEYS.get(key.removesuffix("_v2"))
        if kind is None:
            continue
        if isinstance(value, dict):  # older exports: {"group_posts": {"activity_log_data": [...]}}
            value = next((v for v in value.values() if isinstance(v, list)), [])
        return kind, value if isinstance(value, list) else []
    return None


def dump_root(name: str) -> str:
    """The folder of one person's dump that holds this file (files of several dumps can be together)."""
    folders = name.split("/")[:-1]
    for i, folder in enumerate(folders):
        if folder in _SECTIONS:
            return "/".join(folders[:i])
    return "/".join(folders)


def read_activity(files: list[tuple[str, str, list]], profiles: dict[str, str], part: Part, fix: Repairer, *,
                  channel_option: str | None, first_position: int) -> tuple[int, int]:
    """Add the group activity files (name, kind, entries) to `part`. Returns the next position and
    the number of reactions outside groups."""
    known = {g for _, kind, items in files for e in items if kind != "reactions" for g in [_group_named(e, kind, fix)]
             if g}
    if channel_option:
        known.add(channel_option)
    owners = _owners(files, profiles, fix)
    position, outside = first_position, 0
    for name, kind, items in files:
        owner = owners.get(dump_root(name)) or EXPORTER
        rows, keys = [], []
        for i, e in enumerate(items):
            where = f"{name}: {kind}[{i}]"
            try:
                if not isinstance(e, dict):
                    raise ValueError("not a JSON object")
                title = fix(e.get("title")) or ""
                if kind == "reactions":
                    group = _known_in(title, known)
                    if group is None:
                        outside += 1
                    else:
                        part.quarantine.append(bad(where, f"a {_reaction_emoji(e)} reaction in {group}: Facebook's "
                                                   "download names no post or comment it is on, so it cannot be "
                                                   "attached to one", e))
                    continue
                ts = as_int(e.get("timestamp"))
                if kind == "membership":
                    group = _group_named(e, kind, fix) or _known_in(title, known) or channel_option
                    if not group:
                        raise ValueError("a membership change that names no group")
                    left = _LEAVE.search(title.replace(group, " "))  # (a group may be "Left-Handed Guitarists")
                    _membership(part, group, owner, "leave" if left else "join", ts)
                    continue
                # (older dumps list comments among posts: `your_posts_and_comments_in_groups.json`)
                row = _comment(e, fix, owner, ts) if kind == "comments" or _has_comment(e) else _post(e, fix, owner, ts)
                row["group"] = row["group"] or _post_group(title, known, channel_option)
                if not row["group"]:
                    raise ValueError("a post whose group its title does not name (pass the group with --channel)")
            except (ValueError, TypeError, AttributeError) as err:
                part.quarantine.append(bad(where, str(err), e))
                continue
            rows.append(row)
            keys.append(digest(row["group"], row["author"], row["ts"], row["text"], row["media"], row["links"]))
        for row, key in zip(rows, ranked(keys)):
            channel = f"group:name:{row['group']}"
            part.channels[channel] = (row["group"], "group")
            message_id = f"{channel}/{row['letter']}{key}"
            part.messages.add(message_id, channel, name_id(row["author"]) if row["author"] != EXPORTER else EXPORTER,
                              row["author"] if row["author"] != EXPORTER else None, row["ts"] * 1000, "message",
                              row["text"], None, None, row["has_media"], row["edited"], position)
            part.people.add(*_person(row["author"]), row["ts"] * 1000)
            for url in row["links"]:
                part.links.add(position, message_id, url)
            position += 1
    return position, outside


def _post(e: dict, fix: Repairer, owner: str, ts: int) -> dict:
    data = [d for d in listed(e.get("data"), "data") if isinstance(d, dict)]
    text = next((fix(d["post"]) for d in data if d.get("post") is not None), None)
    updated = next((as_int(d["update_timestamp"]) for d in data if d.get("update_timestamp")), None)
    media, links, poll = _attachments(e, fix)
    return {"letter": "p", "ts": ts, "author": owner, "text": text if text is not None else poll or "", "group": None,
            "has_media": bool(media), "media": media, "links": links,
            "edited": updated * 1000 if updated and updated > ts else None}


def _comment(e: dict, fix: Repairer, owner: str, ts: int) -> dict:
    comment = next((d["comment"] for d in listed(e.get("data"), "data")
                    if isinstance(d, dict) and isinstance(d.get("comment"), dict)), None)
    if comment is None:
        raise ValueError("a comment entry without its comment")
    media, links, _ = _attachments(e, fix)
    return {"letter": "c", "ts": as_int(comment["timestamp"]) if comment.get("timestamp") is not None else ts,
            "author": fix(comment.get("author")) or owner, "text": fix(comment.get("comment")) or "",
            "group": fix(comment.get("group")), "has_media": bool(media), "media": media, "links": links,
            "edited": None}


def _has_comment(e: dict) -> bool:
    return isinstance(e.get("data"), list) and any(isinstance(d, dict) and isinstance(d.get("comment"), dict)
                                                   for d in e["data"])


def _attachments(e: dict, fix: Repairer) -> tuple[list[str], list[str], str | None]:
    """Media file names, shared URLs and a poll's question."""
    media, links, poll = [], [], None
    for attachment in listed(e.get("attachments"), "attachments"):
        for d in listed(attachment.get("data"), "attachments.data") if isinstance(attachment, dict) else []:
            if not isinstance(d, dict):
                continue
            if isinstance(d.get("media"), dict):
                media.append((fix(d["media"].get("uri")) or "").rsplit("/", 1)[-1])
            if isinstance(d.get("external_context"), dict) and d["external_context"].get("url"):
                links.append(fix(d["external_context"]["url"]))
            if isinstance(d.get("poll"), dict):
                poll = fix(d["poll"].get("question"))
    return media, links, poll


def _membership(part: Part, group: str, owner: str, event: str, ts: int) -> None:
    channel = f"group:name:{group}"
    part.channels[channel] = (group, "group")
    native, name = _person(owner)
    part.events.add(None, f"{channel}/event:{digest(group, owner, event, ts)}", channel, native, event, ts * 1000,
                    None, None)
    part.people.add(native, name, None)


def _person(author: str) -> tuple[str, str | None]:
    return (EXPORTER, None) if author == EXPORTER else (name_id(author), author)


def _group_named(e: object, kind: str, fix: Repairer) -> str | None:
    """The group a comment or membership entry writes out."""
    if not isinstance(e, dict) or not isinstance(e.get("data"), list):
        return None
    for d in e["data"]:
        if isinstance(d, dict):
            value = d["comment"].get("group") if isinstance(d.get("comment"), dict) else \
                d.get("name") if kind == "membership" else None
            if isinstance(value, str) and value:
                return fix(value)
    return None


def _known_in(title: str, known: set[str]) -> str | None:
    """The longest known group the title names."""
    for group in sorted(known, key=len, reverse=True):
        if re.search(rf"(?<!\w){re.escape(group)}(?!\w)", title):
            return group
    return None


def _post_group(title: str, known: set[str], channel_option: str | None) -> str | None:
    found = _IN_GROUP.search(title)
    said = found.group(1) if found else None
    known_here = _known_in(title, known)
    if said in known or said and known_here and known_here in said:  # "Berlin Makers", not the known "Berlin"
        return said
    return known_here or said or channel_option or (next(iter(known)) if len(known) == 1 else None)


def _owners(files: list[tuple[str, str, list]], profiles: dict[str, str], fix: Repairer) -> dict[str, str]:
    """The member of each dump (see the module docstring)."""
    named: dict[str, Counter] = {}
    titled: dict[str, Counter] = {}
    for name, kind, items in files:
        root = dump_root(name)
        for e in items:
            if not isinstance(e, dict):
                continue
            for d in e.get("data") if isinstance(e.get("data"), list) else []:
                for key, field in (("comment", "author"), ("reaction", "actor")):
                    inner = d.get(key) if isinstance(d, dict) else None
                    who = inner.get(field) if isinstance(inner, dict) else None
                    if isinstance(who, str) and who:
                        named.setdefault(root, Counter())[fix(who)] += 1
            if kind in ("posts", "membership") and isinstance(e.get("title"), str):
                found = _TITLE_AUTHOR.match(fix(e["title"]))
                if found and found.group(1) not in ("You", "you"):
                    titled.setdefault(root, Counter())[found.group(1)] += 1
    roots = {dump_root(name) for name, _, _ in files}
    return {root: profiles.get(root) or _top(named.get(root)) or _top(titled.get(root)) for root in roots}


def _top(counts: Counter | None) -> str | None:
    return counts.most_common(1)[0][0] if counts else None


def _reaction_emoji(e: dict) -> str:
    for d in e.get("data") if isinstance(e.get("data"), list) else []:
        reaction = d.get("reaction") if isinstance(d, dict) else None
        if isinstance(reaction, dict) and isinstance(reaction.get("reaction"), str):
            return emoji_of(reaction["reaction"])
    return "?"
