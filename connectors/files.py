"""Reading export files: what every file-based connector shares.

An export arrives as a file, a folder or a `.zip`. These helpers open it, say clearly when it
cannot be read, and stream a text file as chunks of decoded lines, so that memory stays bounded
whatever the file's size and one undecodable line does not stop the rest.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import polars as pl

CHUNK_BYTES = 8 << 20  # ~100,000 lines: big enough for column-wise work, small enough for memory
_BOM = b"\xef\xbb\xbf"


class UnreadableExport(Exception):
    """A file that cannot be ingested at all. The message names the file and says what to do."""

    def __init__(self, path: str | Path, problem: str, advice: str) -> None:
        self.path = str(path)
        super().__init__(f"{path}: {problem} — {advice}")


def require_export(path: Path, looks_right: Callable[[Path], bool], what: str, advice: str) -> None:
    """Fail, naming the file and what to do, unless `path` exists and is this connector's export."""
    if not (path.is_dir() or path.is_file()):
        raise UnreadableExport(path, "no such file or folder", "check the path")
    if not looks_right(path):
        raise UnreadableExport(path, f"not {what}", advice)


def sha256_of(path: str | Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def check_not_empty_or_binary(path: Path, head: bytes) -> None:
    """Refuse empty and binary files early, with a message a person can act on."""
    if not head.strip(b" \t\r\n" + _BOM):
        raise UnreadableExport(path, "the file is empty", "export the chat again and pass the new file")
    sample = head[:8192]
    if sample.count(b"\x00") > len(sample) // 100 or _control_share(sample) > 0.05:
        raise UnreadableExport(path, "this is a binary file, not a chat export",
                               "pass the .txt, .json or .zip file the platform's export wrote")


def _control_share(sample: bytes) -> float:
    """Share of bytes that no text file has (C0 controls other than tab, newlines and form feed)."""
    controls = sample.translate(None, delete=bytes(range(32, 256)) + b"\t\n\r\x0c")
    return len(controls) / max(1, len(sample))


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
    lines: pl.Series
    bad: dict[int, tuple[str, str]] = field(default_factory=dict)
    bytes_done: int = 0
    last: bool = False  # no more lines after these


def read_line_chunks(stream: BinaryIO, chunk_bytes: int = CHUNK_BYTES) -> Iterator[LineChunk]:
    """Decoded lines in chunks cut at line ends; CRLF becomes LF and a leading BOM is dropped."""
    pending, line_no, done, first = b"", 1, 0, True
    block = stream.read(chunk_bytes)
    while block:
        done += len(block)
        ahead = stream.read(chunk_bytes)  # one block of look-ahead tells the last chunk apart
        buf = pending + block
        pending = b""
        if ahead:
            cut = buf.rfind(b"\n")
            if cut < 0:  # a line longer than a chunk: keep reading
                pending, block = buf, ahead
                continue
            buf, pending = buf[: cut + 1], buf[cut + 1:]
        if first:
            buf, first = buf.removeprefix(_BOM), False
        if buf:
            lines, bad = _split(buf)
            yield LineChunk(line_no, lines, bad, done, last=not ahead)
            line_no += len(lines)
        block = ahead


_CONTROL = bytes(range(32)).translate(None, b"\t\n\r") + b"\x7f"
_NOT_CONTROL = bytes(range(256)).translate(None, _CONTROL)


def _split(buf: bytes) -> tuple[pl.Series, dict[int, tuple[str, str]]]:
    """The lines of a chunk (CRLF or LF); lines that are not UTF-8 or hold control bytes are set aside."""
    if not buf.translate(None, _NOT_CONTROL):
        try:
            # Polars' CSV reader splits lines in parallel: one column, a separator that cannot occur
            # (a control byte, and there are none), no quoting.
            return pl.read_csv(io.BytesIO(buf), has_header=False, separator="\x1f", quote_char=None,
                               new_columns=["line"], schema={"line": pl.String}, empty_string_is_null=False,
                               encoding="utf8", infer_schema=False, raise_if_empty=False)["line"], {}
        except pl.exceptions.ComputeError:
            pass  # not valid UTF-8 somewhere: find the lines one by one
    lines, bad = [], {}
    for i, raw in enumerate(buf.removesuffix(b"\n").split(b"\n")):
        raw = raw.removesuffix(b"\r")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            lines.append("")
            bad[i] = (f"invalid UTF-8 at byte {e.start + 1} of the line", raw.decode("utf-8", "backslashreplace"))
            continue
        if raw.translate(None, _NOT_CONTROL):
            lines.append("")
            bad[i] = ("control characters in the line", line)
        else:
            lines.append(line)
    return pl.Series("line", lines, dtype=pl.String), bad


def unsafe_name(name: str) -> bool:
    """A zip entry name that would lead out of the archive if it were extracted (`../x`, `/etc/x`, `C:x`)."""
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name) is not None


class ExportTree:
    """An export that is a set of files: a folder, or a zip (read in place, never extracted).

    Names are relative paths with `/`. A zip whose files all sit in one top folder (as when a
    folder is zipped) is read from inside that folder. Entries whose names lead out of the archive
    are left out and listed in `unsafe`, for the connector to report.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip = open_zip(path) if path.is_file() else None
        self.unsafe: list[str] = []  # zip entries whose names lead out of the archive: never read
        if self._zip is not None:
            members = {m.filename: m for m in zip_members(self._zip)}
            self.unsafe = sorted(n for n in members if unsafe_name(n))
            members = {n: m for n, m in members.items() if n not in self.unsafe}
            top = {n.split("/", 1)[0] for n in members}
            self._root = next(iter(top)) + "/" if len(top) == 1 and all("/" in n for n in members) else ""
            self._members = {n[len(self._root):]: m for n, m in members.items()}
        else:
            self._members = {
                p.relative_to(path).as_posix(): p for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            }

    def names(self) -> list[str]:
        return sorted(self._members)

    def __contains__(self, name: str) -> bool:
        return name in self._members

    def read(self, name: str) -> bytes:
        member = self._members[name]
        if self._zip is not None:
            return self._zip.read(member)
        return member.read_bytes()

    def open(self, name: str) -> BinaryIO:
        """A member as a stream, for files too big to read at once."""
        member = self._members[name]
        return self._zip.open(member) if self._zip is not None else open(member, "rb")

    def size(self) -> int:
        if self._zip is not None:
            return sum(m.file_size for m in self._members.values())
        return sum(p.stat().st_size for p in self._members.values())

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> "ExportTree":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def content_digest(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, or of a folder's files (names and bytes, in name order)."""
    if path.is_file():
        return sha256_of(path), path.stat().st_size
    digest, size = hashlib.sha256(), 0
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        name = p.relative_to(path).as_posix().encode()
        data = p.read_bytes()
        digest.update(len(name).to_bytes(4, "big") + name + len(data).to_bytes(8, "big"))
        digest.update(data)
        size += len(data)
    return digest.hexdigest(), size


def pretty_array_blocks(buf: bytes, stream: BinaryIO, indent: bytes,
                        block_bytes: int) -> Generator[bytes, None, tuple[bytes, bool]]:
    """Blocks of whole objects of a pretty-printed JSON array, read from `stream` a few MB at a time.

    `buf` starts at the array's first `{`, which sits at `indent` on its own line, as every object
    of the array does (Telegram Desktop and DiscordChatExporter write this way). A JSON string
    cannot hold a raw newline, so the text `\\n<indent>},` only ever ends one of these objects: a
    block is the text of consecutive objects cut there, commas between them included, brackets
    not. Returns what follows the array and True, or, for a stream that ends inside the array,
    what follows the last whole object and False.
    """
    between = b"\n" + indent + b"},"
    end = re.compile(rb"\n" + re.escape(indent) + rb"\}\s*\]")
    done = False
    while True:
        cut = buf.rfind(between)
        closing = end.search(buf, max(0, cut))  # the array can only end after its last separator
        if closing is not None:
            yield buf[:closing.start() + len(indent) + 2]
            return buf[closing.end():], True
        if cut > 0:
            yield buf[:cut + len(indent) + 2]
            buf = buf[cut + len(between):].lstrip(b" \t\r\n")
        if done:
            return buf, False
        data = stream.read(block_bytes)
        done = not data
        buf += data


def split_objects(block: bytes, indent: bytes) -> list[bytes]:
    """The objects of a `pretty_array_blocks` block, one by one (for a block a parser refused)."""
    between = b"\n" + indent + b"},"
    pieces = block.split(between)
    return [p + b"}" for p in pieces[:-1]] + pieces[-1:]
