"""Telegram Desktop's HTML chat export read into the shape of its JSON export of one chat.

A chat folder holds `messages.html`, `messages2.html`, … (1000 messages a page). `read_html(page)`
gives `{"name": <chat title>, "messages": [...]}` whose messages carry Desktop-JSON keys, so the
JSON pipeline serves both: `id`, `type`, `date` (local, as written), `date_unixtime` (only when the
page states its UTC offset, as newer exports do: `title="23.08.2023 13:11:23 UTC+03:00"`), `from`,
`via_bot`, `forwarded_from`, `reply_to_message_id`, `photo` / `file` / `file_name` / `media_type`,
`author` (a channel post's signature), `text` and `text_entities`. Read the pages of a chat one by
one and concatenate in page order (messages9 before messages10): every page starts a fresh author
block, so nothing carries over between pages.

The page does not carry: `from_id` (authors are display names only), `edited`, reactions, the
`action` of service messages (only their sentence), nor any time for service messages (they have no
date element). Date dividers ("23 August 2023") are service rows with negative ids and are skipped.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import lxml.etree
import lxml.html

NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"

_ID = re.compile(r"message(\d+)")  # date dividers are message-1, message-2, …: no match
_DATE = re.compile(r"(\d\d)\.(\d\d)\.(\d{4}) (\d\d):(\d\d):(\d\d)(?: UTC([+-])(\d\d):?(\d\d))?")
_TARGET = re.compile(r"go_to_message(\d+)|GoToMessage\((\d+)\)")
_VIA = re.compile(r"(.*) via (@\w+)", re.S)
_COORDS = re.compile(r"(-?\d+(?:\.\d+)?), (-?\d+(?:\.\d+)?)")
_FORMAT = {"strong": "bold", "em": "italic", "code": "code", "pre": "pre", "u": "underline",
           "s": "strikethrough", "blockquote": "blockquote"}
_ONCLICK = {"ShowHashtag": "hashtag", "ShowBotCommand": "bot_command", "ShowCashtag": "cashtag",
            "ShowMentionName": "mention_name", "Emoji": "custom_emoji"}
# Media: the thumbnail wraps, then the generic `media media_*` block (by class, else by its title).
_WRAPS = {"photo_wrap": "photo", "sticker_wrap": "sticker", "animated_wrap": "animation",
          "video_file_wrap": "video_file"}
_BY_CLASS = {"media_voice_message": "voice_message", "media_audio_file": "audio_file", "media_file": "file",
             "media_contact": "contact", "media_location": "location", "media_live_location": "live_location",
             "media_venue": "venue", "media_game": "game", "media_invoice": "invoice", "media_call": "phone_call"}
_BY_TITLE = {"Photo": "photo", "Self-destructing photo": "photo", "Sticker": "sticker", "Animation": "animation",
             "Video file": "video_file", "Self-destructing video": "video_file", "Video message": "video_message"}
_FILES = {"sticker", "animation", "video_file", "video_message", "voice_message", "audio_file", "file"}


def looks_like_html_export(data: bytes) -> bool:
    """Is this a page of a Telegram Desktop HTML chat export? Looks at the first 8 KB only."""
    head = data[:8192]
    return b'class="page_wrap"' in head and (b'class="history"' in head or b"chat_page" in head)


def read_html(data: bytes) -> dict:
    """One `messagesN.html` page as `{"name", "messages"}`, the messages shaped as Desktop's JSON.
    ValueError if there is no HTML to read (lxml reads anything else, however broken)."""
    try:
        root = lxml.html.document_fromstring(data, parser=lxml.html.HTMLParser(encoding="utf-8"))
    except lxml.etree.ParserError as e:  # "Document is empty": nothing but blanks or a comment
        raise ValueError(f"not an HTML page ({e})") from None
    header = [t for h in root.find_class("page_header") for t in h.find_class("text")]
    messages: list[dict] = []
    previous = None  # the message a `joined` one continues (same author, within 15 minutes)
    for history in root.find_class("history")[:1]:
        for div in history:
            if not _is(div, "message") or not (m := _ID.fullmatch(div.get("id", ""))):
                continue
            if _is(div, "service"):
                messages.append({"id": int(m[1]), "type": "service", "text": _child_text(div, "body")})
                previous = None
            else:
                previous = _message(div, int(m[1]), previous if _is(div, "joined") else None)
                messages.append(previous)
    return {"name": _flat(header[0]).strip() if header else None, "messages": messages}


def _message(div, mid: int, joined_to: dict | None) -> dict:
    msg: dict = {"id": mid, "type": "message"}
    body = _child(div, "body")
    if body is None:
        return msg
    if (date := _child(body, "date")) is not None:
        msg.update(_date(date.get("title", "")))
    if (who := _child(body, "from_name")) is not None:
        msg["from"], via = _name(who)
    else:
        msg["from"], via = (joined_to or {}).get("from"), (joined_to or {}).get("via_bot")
    content = body
    if (fwd := _child(body, "forwarded", "body")) is not None:  # holds reply, media and text too
        content = fwd
        if (who := _child(fwd, "from_name")) is not None:
            msg["forwarded_from"], fwd_via = _name(who)
            via = fwd_via or via
        else:
            msg["forwarded_from"] = (joined_to or {}).get("forwarded_from")
    if via:
        msg["via_bot"] = via
    if (reply := _child(content, "reply_to")) is not None:
        for a in reply.iter("a"):
            if target := _TARGET.search(a.get("href", "") + " " + a.get("onclick", "")):
                msg["reply_to_message_id"] = int(target[1] or target[2])
                break
    if (media := _child(content, "media_wrap")) is not None:
        msg.update(_media(media))
    if (sig := _child(content, "signature")) is not None:
        msg["author"] = _flat(sig).strip()
    text = _child(content, "text")
    entities = [] if text is None else _entities(text)
    msg["text"] = "".join(e["text"] for e in entities)
    msg["text_entities"] = entities
    return msg


def _date(title: str) -> dict:
    if not (m := _DATE.search(title)):
        return {}
    day, month, year, hour, minute, second, sign, oh, om = m.groups()
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
        out = {"date": local.isoformat()}
        if sign:
            offset = timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
            out["date_unixtime"] = str(int(local.replace(tzinfo=timezone(offset)).timestamp()))
    except (ValueError, OverflowError):  # a date or offset that cannot exist (a damaged page): no time
        return {}
    return out


def _name(who) -> tuple[str, str | None]:
    """A from_name block: the name (text before any child, e.g. a forward's date) and its "via @bot"."""
    name = (who.text or "").strip()
    m = _VIA.fullmatch(name)
    return (m[1].strip(), m[2]) if m else (name, None)


def _media(wrap) -> dict:
    for el in wrap.iter("a", "div"):
        classes = el.get("class", "").split()
        if "media_poll" in classes:
            return {"media_type": "poll", "poll": {"question": _child_text(el, "question")}}
        kind = next((_WRAPS[c] for c in classes if c in _WRAPS), None)
        title = status = ""
        if kind is None and "media" in classes:
            body = _child(el, "body")
            title, status = _child_text(body, "title"), _child_text(body, "status")
            kind = next((_BY_CLASS[c] for c in classes if c in _BY_CLASS), None) or _BY_TITLE.get(title, "file")
        if kind is None:
            continue
        path = (el.get("href") if el.tag == "a" else None) or NOT_INCLUDED
        if kind == "photo":
            return {"photo": path}
        out = {"file": path, "media_type": kind} if kind in _FILES else {"media_type": kind}
        if kind == "file" and title:
            out["file_name"] = title
        if kind in ("location", "live_location") and (m := _COORDS.search(status)):
            out["location_information"] = {"latitude": float(m[1]), "longitude": float(m[2])}
        return out
    return {}


def _entities(div) -> list[dict]:
    """The parts of a div.text as JSON text_entities; adjacent plain text merged, <br> as newline."""
    out: list[dict] = []

    def add(kind: str, text: str, **extra) -> None:
        if kind == "plain" and out and out[-1]["type"] == "plain":
            out[-1]["text"] += text
        elif text:
            out.append({"type": kind, "text": text, **extra})

    add("plain", div.text or "")
    for child in div:
        if isinstance(child.tag, str):
            if child.tag == "br":
                add("plain", "\n")
            else:
                kind, extra = _entity(child)
                add(kind, _flat(child), **extra)
        add("plain", child.tail or "")
    # The export's own layout: a newline after <div class="text">, a newline and indent before </div>
    # (newlines of the message itself are <br>).
    if out and out[0]["type"] == "plain":
        out[0]["text"] = re.sub(r"^\n[ \t]*", "", out[0]["text"])
    if out and out[-1]["type"] == "plain":
        out[-1]["text"] = re.sub(r"\n[ \t]*$", "", out[-1]["text"])
    return [e for e in out if e["text"]]


def _entity(el) -> tuple[str, dict]:
    if el.tag != "a":
        return ("spoiler" if _is(el, "spoiler") else _FORMAT.get(el.tag, "plain")), {}
    href, onclick, text = el.get("href", ""), el.get("onclick", ""), _flat(el)
    if kind := next((k for marker, k in _ONCLICK.items() if marker in onclick), None):
        return kind, {}
    if text.startswith("@") and href.rstrip("/").endswith(text[1:]):  # href is https://t.me/<name>
        return "mention", {}
    if href.startswith(("mailto:", "tel:")):
        return ("email" if href.startswith("mailto:") else "phone"), {}
    if href == text:
        return "link", {}
    if href and "://" not in href:  # a custom emoji's image inside the export
        return "custom_emoji", {}
    return "text_link", {"href": href}


def _flat(el) -> str:
    """An element's text with <br> as newline."""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str):
            parts.append("\n" if child.tag == "br" else _flat(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _is(el, cls: str) -> bool:
    return isinstance(el.tag, str) and cls in el.get("class", "").split()


def _child(el, *classes: str):
    """The first direct child element that has all these classes."""
    return next((c for c in el if all(_is(c, cls) for cls in classes)), None)


def _child_text(el, cls: str) -> str:
    child = None if el is None else _child(el, cls)
    return "" if child is None else _flat(child).strip()
