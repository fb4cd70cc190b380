"""Group feeds saved from the Graph API (before Facebook closed the Groups API in April 2024).

Format: pages of `{"data": [post, …], "paging": {"previous", "next"}}` (a file holds one page, or
a list of pages), where a post is `{id: "<group>_<post>", message, story, created_time:
"2019-05-01T10:00:00+0000", from: {name, id}, to: {data: [{name, id}]}, link, attachments,
message_tags: [{id, name, type}], comments: {data: [comment, …]}, reactions: {data: [{id, name, type}]},
likes: {data: [{id, name}]}}` and a comment has the same fields, its replies under `comments`.
It is the only Facebook dump that holds a whole group's posts, comments and who reacted.

Mapping:
- **Channel** `group:<group id>`, the id being the part of a post's id before `_` (or `to`'s
  id); its name is `--channel`, else `to`'s name, else "Facebook group <id>".
- **Messages** keep Graph ids (`group:<g>/<post or comment id>`). A post's `thread_id` is itself
  (every post roots a comment thread); a comment's `reply_to_id` is what it answers (the post, or
  the comment it replies to) and its `thread_id` the post. The text is `message`, else `story`.
  Attachments, `full_picture` and photo or video posts set `has_media`; `link` goes to `links`;
  `message_tags` of people go to `mentions`. Posts without `from` (hidden by privacy) have no author.
- **Accounts** are Graph user ids (`from.id`), or `name:<name>` where a page gives only a name.
- **Reactions**: one row per listed reactor, the type as an emoji (`common.REACTION_EMOJI`;
  `likes` of older API versions are LIKE). Reactors beyond what a page lists (its `paging`) were
  never saved and are not counted.
- A post or comment without an id or a readable `created_time` goes to quarantine; its replies
  are still read.

Reading: Polars reads a file whole (`pl.read_json`, posts with two levels of comments, as the
Graph API nests them) and every later step is column-wise. A file it cannot read that way (a value
of another type, a missing date or id, deeper nesting: the number of `"created_time"` keys in the
file tells) is walked in Python into the same frame, with bad records set aside.
"""

from __future__ import annotations

import datetime as dt
import io

import orjson
import polars as pl

from connectors.facebook.common import REACTION_EMOJI, Part, bad, listed
from connectors.mojibake import repair_series

_BOM = b"\xef\xbb\xbf"
_PERSON = pl.Struct({"id": pl.String, "name": pl.String})
_REACTOR = pl.Struct({"id": pl.String, "name": pl.String, "type": pl.String})
_TAG = pl.Struct({"id": pl.String, "name": pl.String, "type": pl.String})
_FIELDS = {"id": pl.String, "message": pl.String, "story": pl.String, "created_time": pl.String, "from": _PERSON,
           "to": pl.Struct({"data": pl.List(_PERSON)}), "link": pl.String, "type": pl.String,
           "full_picture": pl.String, "picture": pl.String,
           "attachments": pl.Struct({"data": pl.List(pl.Struct({"type": pl.String}))}),
           "attachment": pl.Struct({"type": pl.String}), "message_tags": pl.List(_TAG),
           "reactions": pl.Struct({"data": pl.List(_REACTOR)}), "likes": pl.Struct({"data": pl.List(_PERSON)})}
_REPLY = pl.Struct(_FIELDS)
_COMMENT = pl.Struct({**_FIELDS, "comments": pl.Struct({"data": pl.List(_REPLY)})})
_POST = pl.Struct({**_FIELDS, "comments": pl.Struct({"data": pl.List(_COMMENT)})})
# One row per post or comment, whichever way the file was read; strings as written (repaired later).
ITEM = {"id": pl.String, "text": pl.String, "sent_ms": pl.Int64, "from_id": pl.String, "from_name": pl.String,
        "link": pl.String, "media": pl.Boolean, "parent": pl.String, "thread": pl.String, "gid": pl.String,
        "gname": pl.String, "reactions": pl.List(_REACTOR), "tags": pl.List(_PERSON)}


def read_feed(pages: list[tuple[str, bytes]], part: Part, *, channel_option: str | None, fallback: str,
              first_position: int, strict: bool = False) -> int:
    """Add the posts of Graph API files (name, bytes) to `part`; returns the next position. A file
    that is not JSON is quarantined, or (`strict`) raises ValueError."""
    raws = [(name, raw.removeprefix(_BOM)) for name, raw in pages]
    # Pages of one page each (what tools saved) are read by Polars together, as a list of pages.
    together = _whole(b"[" + b",".join(raw for _, raw in raws) + b"]") \
        if len(raws) > 1 and all(raw.lstrip().startswith(b"{") for _, raw in raws) else None
    frames = [together] if together is not None else []
    for name, raw in raws if together is None else ():
        items = _whole(raw)
        if items is None:
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError as e:
                if strict:
                    raise
                part.quarantine.append(bad(name, f"not valid JSON ({e}): the file is cut short or damaged",
                                           raw[:4000].decode("utf-8", "backslashreplace")))
                continue
            items = _walked(name, data, part)
        frames.append(items)
    items = pl.concat(frames) if frames else pl.DataFrame(schema=ITEM)
    items = items.with_columns(gname=pl.coalesce(pl.lit(channel_option, pl.String), "gname",
                                                 pl.when(pl.col("gid").is_not_null())
                                                 .then(pl.lit("Facebook group ") + pl.col("gid")), pl.lit(fallback)))
    _add_items(items, part, first_position)
    return first_position + items.height


def _whole(raw: bytes) -> pl.DataFrame | None:
    """The file's posts and comments read by Polars, or None if it must be walked instead."""
    try:
        pages = pl.read_json(io.BytesIO(raw), schema={"data": pl.List(_POST)})
    except Exception:
        return None
    levels, expected = [], 0
    outer = pages.select(item=pl.col("data"), parent=pl.lit(None, pl.String), thread=pl.lit(None, pl.String),
                         gid=pl.lit(None, pl.String), gname=pl.lit(None, pl.String))
    to = pl.col("to").struct.field("data").list.first()
    for depth in range(3):  # posts, comments, replies
        expected += int(outer["item"].list.len().fill_null(0).sum())
        level = outer.explode("item").drop_nulls("item").unnest("item")
        if level.height == 0:
            break
        if depth == 0:  # a post's group: the part of its id before "_", else its `to`
            level = level.with_columns(
                gid=pl.coalesce(pl.col("id").str.extract(r"^([^_]+)_"), to.struct.field("id")),
                gname=to.struct.field("name"))
        level = level.with_columns(
            sent=pl.col("created_time").str.to_datetime("%Y-%m-%dT%H:%M:%S%z", strict=False, time_unit="ms"))
        levels.append(level)
        if "comments" not in level.columns:
            break
        outer = level.select(item=pl.col("comments").struct.field("data"), parent="id",
                             thread=pl.coalesce("thread", "id"), gid="gid", gname="gname")
    if not levels:
        return pl.DataFrame(schema=ITEM)
    items = pl.concat([_item_columns(level) for level in levels])
    if items.height != expected or items.height != raw.count(b'"created_time"') \
            or items.select(pl.col("id").is_null() | pl.col("sent_ms").is_null()).to_series().any():
        return None  # a null entry, deeper replies, a missing id or date: walked one by one
    return items


def _item_columns(level: pl.DataFrame) -> pl.DataFrame:
    likes = pl.col("likes").struct.field("data").fill_null([]).list.eval(
        pl.struct(id=pl.element().struct.field("id"), name=pl.element().struct.field("name"), type=pl.lit("LIKE")))
    tags = pl.col("message_tags").fill_null([]).list.eval(
        pl.element().filter(pl.element().struct.field("type").fill_null("user") == "user")).list.eval(
        pl.struct(id=pl.element().struct.field("id"), name=pl.element().struct.field("name")))
    return level.select(
        "id", text=pl.coalesce("message", "story", pl.lit("")), sent_ms=pl.col("sent").dt.epoch("ms"),
        from_id=pl.col("from").struct.field("id"), from_name=pl.col("from").struct.field("name"), link="link",
        media=(pl.col("attachments").struct.field("data").list.len().fill_null(0) > 0)
        | pl.col("attachment").is_not_null() | pl.col("full_picture").is_not_null() | pl.col("picture").is_not_null()
        | pl.col("type").is_in(["photo", "video"]).fill_null(False),
        parent="parent", thread="thread", gid="gid", gname="gname",
        reactions=pl.concat_list(pl.col("reactions").struct.field("data").fill_null([]), likes), tags=tags)


def _walked(name: str, data: object, part: Part) -> pl.DataFrame:
    """A file's posts and comments, one by one: bad ones quarantined, their replies still read."""
    rows: list[dict] = []
    for where, post in posts_of(data):
        group = _group_of(post)
        _walk(post, f"{name}: {where}", part, group, None, None, rows)
    return pl.DataFrame(rows, schema=ITEM)


def posts_of(data: object) -> list[tuple[str, object]]:
    """(JSON path, post) of every post in a file: one page, or a list of pages (or of posts)."""
    pages = data if isinstance(data, list) else [data]
    out = []
    for p, page in enumerate(pages):
        where = f"[{p}]." if isinstance(data, list) else ""
        if isinstance(page, dict) and "data" in page:
            try:
                out.extend((f"{where}data[{i}]", post) for i, post in enumerate(listed(page["data"], "data")))
            except ValueError as e:
                out.append((f"{where}data", e))
        else:
            out.append((where.rstrip(".") or "$", page))
    return out


def _group_of(post: object) -> tuple[str | None, str | None]:
    """(group id, group name) of a post, as far as it tells."""
    post = post if isinstance(post, dict) else {}
    to = post.get("to") if isinstance(post.get("to"), dict) else {}
    listed_to = to.get("data") if isinstance(to.get("data"), list) else []
    first = next((t for t in listed_to if isinstance(t, dict)), {})
    pid = str(post.get("id") or "")
    name = first.get("name") if isinstance(first.get("name"), str) else None
    return (pid.split("_", 1)[0] if "_" in pid else _id(first.get("id"))), name


def _walk(item: object, where: str, part: Part, group: tuple, parent: str | None, thread: str | None,
          rows: list[dict]) -> None:
    own = None
    try:
        if isinstance(item, Exception):
            raise item
        if not isinstance(item, dict):
            raise ValueError("not a JSON object")
        own = _id(item.get("id"))
        if own is None:
            raise ValueError("no id")
        author = item.get("from") if isinstance(item.get("from"), dict) else {}
        rows.append({
            "id": own, "text": _text(item.get("message")) or _text(item.get("story")) or "",
            "sent_ms": _ms(item.get("created_time")), "from_id": _id(author.get("id")),
            "from_name": _text(author.get("name")), "link": _text(item.get("link")),
            "media": bool(item.get("attachments") or item.get("attachment") or item.get("full_picture")
                          or item.get("picture") or item.get("type") in ("photo", "video")),
            "parent": parent, "thread": thread, "gid": group[0], "gname": group[1],
            "reactions": [{"id": _id(r.get("id")), "name": _text(r.get("name")), "type": _text(r.get("type")) or "LIKE"}
                          for key in ("reactions", "likes") for r in _data(item.get(key), key) if isinstance(r, dict)],
            "tags": [{"id": _id(t.get("id")), "name": _text(t.get("name"))} for t in _tags(item.get("message_tags"))]})
    except (ValueError, TypeError, AttributeError) as e:
        part.quarantine.append(bad(where, str(e), item if not isinstance(item, Exception) else None))
    if isinstance(item, dict):
        try:
            replies = _data(item.get("comments"), "comments")
        except ValueError as e:
            part.quarantine.append(bad(f"{where}.comments", str(e), item.get("comments")))
            return
        for i, reply in enumerate(replies):
            _walk(reply, f"{where}.comments.data[{i}]", part, group, own or parent, thread or own or parent, rows)


def _add_items(items: pl.DataFrame, part: Part, first: int) -> None:
    """Posts and comments (ITEM rows) into canonical rows, column by column."""
    for column in ("text", "from_name", "link", "gname"):
        items = items.with_columns(repair_series(items[column]))
    channel = pl.lit("group:") + pl.coalesce("gid", pl.lit("name:") + pl.col("gname"))
    items = items.with_columns(position=pl.int_range(items.height, dtype=pl.Int64) + first, channel=channel,
                               author=pl.coalesce("from_id", pl.lit("name:") + pl.col("from_name")))

    def ref(column: str) -> pl.Expr:
        return pl.when(pl.col(column).is_not_null()).then(pl.col("channel") + pl.lit("/") + pl.col(column))

    items = items.with_columns(message_id=ref("id"))
    for native, name in items.select("channel", "gname").unique("channel", maintain_order=True).iter_rows():
        part.channels[native] = (name, "group")
    part.messages.extend(items.select(
        "message_id", channel_id="channel", author="author", author_name="from_name", sent_ms="sent_ms",
        kind=pl.lit("message"), text="text", reply_to_id=ref("parent"),
        thread_id=pl.coalesce(ref("thread"), "message_id"), has_media="media", edited_ms=pl.lit(None, pl.Int64),
        position="position"))
    people = [items.select(native="author", name="from_name", at_ms="sent_ms").drop_nulls("native")]
    for column, rows in (("reactions", part.reactions), ("tags", part.mentions)):
        found = items.select("position", "message_id", x=column).explode("x").drop_nulls("x").unnest("x")
        found = found.with_columns(name=repair_series(found["name"])).with_columns(
            native=pl.coalesce("id", pl.lit("name:") + pl.col("name"))).drop_nulls("native")
        if column == "reactions":
            kind = pl.col("type").fill_null("LIKE")
            rows.extend(found.select("position", "message_id", reactor="native", emoji=kind.str.to_uppercase()
                                     .replace_strict(REACTION_EMOJI, default=kind)))
        else:
            rows.extend(found.select("position", "message_id", account="native"))
        people.append(found.select("native", "name", at_ms=pl.lit(None, pl.Int64)))
    part.links.extend(items.filter(pl.col("link").is_not_null()).select("position", "message_id", url="link"))
    part.people.extend(pl.concat(people))


def _ms(value: object) -> int:
    """`created_time` ("2019-05-01T10:00:00+0000") as epoch milliseconds; without a zone it is UTC."""
    if not isinstance(value, str):
        raise ValueError("no created_time")
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"unreadable created_time {value!r}") from None
    return int((at if at.tzinfo else at.replace(tzinfo=dt.UTC)).timestamp() * 1000)


def _id(value: object) -> str | None:
    return None if value in (None, "") or isinstance(value, (dict, list, bool)) else str(value)


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"a {type(value).__name__} where text was expected")


def _data(value: object, key: str) -> list:
    """The `data` list of an edge (`{"data": [...]}`), or a bare list."""
    if isinstance(value, dict):
        return listed(value.get("data"), f"{key}.data")
    return listed(value, key)


def _tags(value: object) -> list:
    """`message_tags` of people: a list, or (older API) an object of lists by offset."""
    tags = [t for v in value.values() for t in (v if isinstance(v, list) else [v])] if isinstance(value, dict) \
        else value if isinstance(value, list) else []
    return [t for t in tags if isinstance(t, dict) and t.get("type") in (None, "user")]
