"""Where a WhatsApp chat's text is (a `.txt`, or inside a `.zip`) and what the chat is called."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from connectors.files import (UnreadableExport, check_not_empty_or_binary, open_member, open_zip, refused_members,
                              readable_name, refused_note, zip_members)
import polars as pl

from connectors.whatsapp.header import find_headers

# "Export chat" names the file after the chat, in the phone's language.
_EXPORT_PREFIXES = re.compile(
    r"^(?:WhatsApp Chat with |WhatsApp Chat - |WhatsApp Chat mit |Chat de WhatsApp con |"
    r"Conversa do WhatsApp com |Discussion WhatsApp avec |Chat WhatsApp con |WhatsApp-chat met |"
    r"Чат WhatsApp с |WhatsApp Sohbeti: )"
)
_COPY_SUFFIX = re.compile(r" ?\(\d+\)$")


@dataclass(frozen=True)
class ChatFile:
    path: Path
    chat_name: str
    member: str | None  # the text file inside a zip
    size: int  # bytes of text to read, for progress
    # Entries of the zip that are never read (see `files.refusal`), with why.
    refused: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        if self.member is None:
            with open(self.path, "rb") as f:
                yield f
        else:
            with open_zip(self.path) as archive:
                # Not `getinfo`: of entries sharing the name (a hostile zip), it gives the last, maybe a refused one.
                member = next(m for m in zip_members(archive) if m.filename == self.member)
                with open_member(archive, member) as f:
                    yield f


def chat_name_from(path: Path) -> str:
    """`WhatsApp Chat with Makers.txt` -> `Makers`; an iOS `_chat.txt` is named by its zip or folder."""
    stem = path.stem
    if stem == "_chat" and path.parent.name:
        stem = path.parent.name
    stem = readable_name(stem)
    return _COPY_SUFFIX.sub("", _EXPORT_PREFIXES.sub("", stem)).strip() or stem


def locate(path: Path) -> ChatFile:
    """The chat text of an export file, or UnreadableExport saying why there is none."""
    if not path.is_file():
        raise UnreadableExport(path, "no such file", "check the path")
    if zipfile.is_zipfile(path):
        with open_zip(path) as archive:
            texts = [m for m in zip_members(archive) if m.filename.lower().endswith(".txt")]
            chat = _the_chat(archive, texts, path)
            if chat is None:
                raise UnreadableExport(path, f"the zip holds {len(texts)} text files and none is the chat"
                                       + refused_note(refused_members(archive)), "pass the chat's .txt itself")
            with open_member(archive, chat) as f:
                check_not_empty_or_binary(path, f.read(65536))
            return ChatFile(path, chat_name_from(path.with_suffix(".txt")) if Path(chat.filename).name == "_chat.txt"
                            else chat_name_from(Path(chat.filename)), chat.filename, chat.file_size,
                            refused_members(archive))
    with open(path, "rb") as f:
        head = f.read(65536)
    check_not_empty_or_binary(path, head)
    return ChatFile(path, chat_name_from(path), None, path.stat().st_size)


def _the_chat(archive: zipfile.ZipFile, texts: list[zipfile.ZipInfo], path: Path) -> zipfile.ZipInfo | None:
    """The chat among a zip's text files: iOS's `_chat.txt`, or the one named as the export (or
    the zip) is; else the only one, or the only one that reads as a chat (a shared .txt beside it)."""
    for named in (lambda n: n == "_chat.txt", lambda n: Path(n).stem == path.stem, _EXPORT_PREFIXES.match):
        found = [m for m in texts if named(Path(m.filename).name)]
        if len(found) == 1:
            return found[0]
    if len(texts) == 1:
        return texts[0]
    chats = []
    for member in texts[:50]:
        with open_member(archive, member) as f:
            if looks_like_whatsapp(f.read(16384)):
                chats.append(member)
    return chats[0] if len(chats) == 1 else None


def looks_like_whatsapp(head: bytes) -> bool:
    """True if a text's first lines are WhatsApp message lines (for `--platform auto`): a quarter
    of its first 40, or its first and one more (a chat may open with a long message)."""
    lines = [ln for ln in head.decode("utf-8", "replace").splitlines() if ln.strip()]
    if not lines:
        return False
    lines[0] = lines[0].lstrip("\ufeff\u200e\u200f")
    headers = find_headers(pl.Series(lines, dtype=pl.String)).is_not_null()
    if headers.head(40).sum() >= max(1, len(lines[:40]) // 4):
        return True
    return bool(headers[0] and headers.slice(1).any())


def sniff(path: Path) -> bool:
    try:
        chat = locate(path)
    except UnreadableExport:
        return False
    with chat.open() as f:
        return looks_like_whatsapp(f.read(16384))


def head_of(chat: ChatFile, size: int = 65536) -> bytes:
    with chat.open() as f:
        return f.read(size)

