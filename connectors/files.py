"""Reading export files: what every file-based connector shares.

An export arrives as a file, a folder or a `.zip`. These helpers open it, say clearly when it
cannot be read, and stream a text file as chunks of decoded lines, so that memory stays bounded
whatever the file's size and one undecodable line does not stop the rest.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

CHUNK_BYTES = 16 << 20
_BOM = b"\xef\xbb\xbf"


class UnreadableExport(Exception):
    """A file that cannot be ingested at all. The message names the file and says what to do."""

    def __init__(self, path: str | Path, problem: str, advice: str) -> None:
        self.path = str(path)
        super().__init__(f"{path}: {problem} — {advice}")


def sha256_of(path: str | Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def check_not_empty_or_binary(path: Path, head: bytes) -> None:
    """Refuse empty and binary files early, with a message a person can act on."""
    if not head.strip(b" \t\r\n" + _BOM):
        raise UnreadableExport(path, "the file is empty", "export the chat again and pass the new file")
    if b"\x00" in head[:8192]:
        raise UnreadableExport(path, "this is a binary file, not a chat export",
                               "pass the .txt, .json or .zip file the platform's export wrote")


def open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise UnreadableExport(path, "damaged or incomplete zip archive",
                               "download or export it again, or unzip it and pass the folder") from None


def zip_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Members that are files, without macOS resource forks (`__MACOSX/`, `._name`)."""
    return [
        m for m in archive.infolist()
        if not m.is_dir() and not m.filename.startswith("__MACOSX/") and not Path(m.filename).name.startswith("._")
    ]


@dataclass
class LineChunk:
    """Consecutive lines of a text file. Lines that could not be decoded are '' in `lines` and
    listed in `bad` by their index in the chunk, with the reason and the raw bytes escaped."""

    first_line: int
    lines: list[str]
    bad: dict[int, tuple[str, str]] = field(default_factory=dict)
    bytes_done: int = 0


def read_line_chunks(stream: BinaryIO, chunk_bytes: int = CHUNK_BYTES) -> Iterator[LineChunk]:
    """Decoded lines in chunks cut at line ends; CRLF becomes LF and a leading BOM is dropped."""
    leftover, line_no, done, first = b"", 1, 0, True
    while True:
        data = stream.read(chunk_bytes)
        done += len(data)
        buf = leftover + data
        if data:
            cut = buf.rfind(b"\n")
            if cut < 0:
                leftover = buf
                continue
            buf, leftover = buf[: cut + 1], buf[cut + 1:]
        if first:
            buf, first = buf.removeprefix(_BOM), False
        if not buf:
            return
        text, bad = _decode(buf)
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        yield LineChunk(line_no, lines, bad, done)
        line_no += len(lines)
        if not data:
            return


def _decode(buf: bytes) -> tuple[str, dict[int, tuple[str, str]]]:
    try:
        return buf.decode("utf-8"), {}
    except UnicodeDecodeError:
        pass
    lines, bad = [], {}
    for i, raw in enumerate(buf.split(b"\n")):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            lines.append("")
            bad[i] = (f"invalid UTF-8 at byte {e.start} of the line", raw.decode("utf-8", "backslashreplace"))
    return "\n".join(lines), bad
