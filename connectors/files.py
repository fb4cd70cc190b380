"""Reading export files: what every file-based connector shares.

An export arrives as a file, a folder or a `.zip`. These helpers open it, say clearly when it
cannot be read, and stream a text file as chunks of decoded lines, so that memory stays bounded
whatever the file's size and one undecodable line does not stop the rest.

Zips come from anywhere, so they are read in place and never extracted (nothing is ever written
to disk), and an archive is checked before any entry is read:
- an entry that is not a plain file we can read safely is *refused*: never opened, and listed
  with the reason for the connector to quarantine (a name leading out of the archive, a symbolic
  link, a device, pipe or socket, a password-protected entry, a compression other than deflate);
- a zip bomb fails the whole archive: more than `HUB_MAX_UNZIPPED_BYTES` in all, or an entry or
  the archive unpacking to more than `HUB_MAX_ZIP_RATIO` times its packed size. These use the
  sizes the archive declares; reading then never yields more than an entry declares, so a lying
  header cannot get past them.
In a folder export, symbolic links are not followed and devices, pipes and sockets not read.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson
import polars as pl

from hub.model import Batch
from hub.prehash import file_digest

CHUNK_BYTES = 8 << 20  # ~100,000 lines: big enough for column-wise work, small enough for memory
MAX_LINE_BYTES = 16 << 20  # a WhatsApp message holds at most 65,536 characters: a longer line is no chat
_SHOWN_BYTES = 4000  # of a line set aside, what the quarantine keeps
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
    if path.is_file() and zipfile.is_zipfile(path):
        open_zip(path).close()  # a damaged zip or a zip bomb says so, rather than "not a … export"
    if not looks_right(path):
        raise UnreadableExport(path, f"not {what}", advice)


def sha256_of(path: str | Path) -> str:
    return file_digest(path)[0]


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


# Zip bomb limits. Real exports can be several GB (a Facebook or Slack export with years of
# media), so the total allows 20 GiB. They pack 1.5-15:1 (chat text ~3-5:1, JSON ~5-15:1, media
# ~1:1, and the most repetitive JSON seldom passes 30:1), while deflate's ceiling, where bombs sit,
# is ~1030:1: 200:1 leaves real exports ten times the room they need and still stops a bomb.
# Entries under 1 MiB are not held to the ratio: they can do no harm, and tiny files pack oddly.
MAX_UNZIPPED_BYTES = 20 << 30
MAX_ZIP_RATIO = 200
_RATIO_FROM_BYTES = 1 << 20
_READ_STEP = 8 << 20  # bytes decompressed per read at most, whatever a caller asks for

_TRAVERSAL = "a zip entry whose path leads out of the archive (path traversal): not read"
_SYMLINK = "a symbolic link: not followed"
_SPECIAL = "a device, named pipe or socket, not a file: not read"
_ENCRYPTED = "a password-protected entry: not read"
_METHODS = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA", 9: "Deflate64"}


def open_zip(path: Path) -> zipfile.ZipFile:
    """A zip archive, once its central directory shows no zip bomb; UnreadableExport otherwise."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
        raise UnreadableExport(path, "damaged or incomplete zip archive",
                               "download or export it again, or unzip it and pass the folder") from None
    try:
        _refuse_bombs(path, archive)
    except BaseException:
        archive.close()
        raise
    for member in archive.infolist():
        member.filename = _zip_name(member)
    archive.NameToInfo = {m.filename: m for m in archive.infolist()}
    return archive


def _zip_name(member: zipfile.ZipInfo) -> str:
    """A member's name as its writer meant it. Zips made on Linux and macOS (Info-ZIP, Finder) hold
    UTF-8 names without the flag that says so, and Python reads them as IBM 437 ("café" becomes
    "caf├⌐"): a flagless name that is valid UTF-8 is read as UTF-8, as 7-Zip and macOS do. (The
    original stays in `orig_filename`, which reading a member checks against.)"""
    if member.flag_bits & 0x800 or member.filename.isascii():
        return member.filename
    try:
        return member.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        return member.filename


def readable_name(name: str) -> str:
    """A file name as text a table can hold. Python keeps the bytes of a name that is not UTF-8 as
    lone surrogates, which no UTF-8 column takes: such bytes are shown as \\xNN escapes."""
    if name.isascii():
        return name
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _file_entries(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Members that are not folders, without macOS resource forks (`__MACOSX/`, `._name`)."""
    return [
        m for m in archive.infolist()
        if not m.is_dir() and not m.filename.startswith("__MACOSX/") and not Path(m.filename).name.startswith("._")
    ]


def zip_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The members that are files and may be read (see `refusal`)."""
    return [m for m in _file_entries(archive) if refusal(m) is None]


def refused_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Members that are never read, by name, with why."""
    return {m.filename: reason for m in _file_entries(archive) if (reason := refusal(m)) is not None}


def refusal(member: zipfile.ZipInfo) -> str | None:
    """Why a zip member is not read, or None if it may be. Nothing is extracted, but a name that
    leads outside or a link would do harm to whoever unzips the file, and is no chat data."""
    if unsafe_name(member.filename):
        return _TRAVERSAL
    kind = stat.S_IFMT(member.external_attr >> 16)  # Unix mode, as zip tools on Unix store it
    if kind == stat.S_IFLNK:
        return _SYMLINK
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return _SPECIAL
    if member.flag_bits & 0x1:
        return _ENCRYPTED
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # Not only unusual: bzip2 and LZMA decompress without a bound on the output of one read.
        method = _METHODS.get(member.compress_type, f"method {member.compress_type}")
        return f"compressed with {method}, not deflate: not read (unzip the export and pass the folder)"
    return None


def _refuse_bombs(path: Path, archive: zipfile.ZipFile) -> None:
    max_bytes = _limit("HUB_MAX_UNZIPPED_BYTES", MAX_UNZIPPED_BYTES)
    max_ratio = _limit("HUB_MAX_ZIP_RATIO", MAX_ZIP_RATIO)
    members = zip_members(archive)
    total = sum(m.file_size for m in members)
    if total > max_bytes:
        raise UnreadableExport(path, f"the zip would unpack to {_size(total)}, more than the {_size(max_bytes)} "
                                     "allowed (a zip bomb, or a very big export)",
                               "unzip it yourself and pass the folder, or raise HUB_MAX_UNZIPPED_BYTES")
    for m in members:
        if m.file_size >= _RATIO_FROM_BYTES and m.file_size > max_ratio * max(m.compress_size, 1):
            raise UnreadableExport(path, f"the entry {m.filename!r} would unpack to {_size(m.file_size)} from "
                                         f"{_size(m.compress_size)} ({m.file_size / max(m.compress_size, 1):,.0f}:1, "
                                         f"more than the {max_ratio:,}:1 allowed): a zip bomb",
                                   "unzip it yourself and pass the folder, or raise HUB_MAX_ZIP_RATIO")
    # Entries can share their packed bytes (overlapping entries): measured against the file itself.
    packed = path.stat().st_size
    if total >= _RATIO_FROM_BYTES and total > max_ratio * max(packed, 1):
        raise UnreadableExport(path, f"the zip would unpack to {_size(total)} from {_size(packed)} "
                                     f"({total / max(packed, 1):,.0f}:1, more than the {max_ratio:,}:1 allowed): "
                                     "a zip bomb", "unzip it yourself and pass the folder, or raise HUB_MAX_ZIP_RATIO")


def _limit(variable: str, default: int) -> int:
    """A limit from the environment: a whole number, for sizes with an optional K, M, G or T (powers of 1024)."""
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    found = re.fullmatch(r"(\d+)\s*([KMGT]?)i?B?", value, re.IGNORECASE)
    if found is None or int(found.group(1)) == 0:
        raise UnreadableExport(f"${variable}", f"{value!r} is not a limit",
                               "set it to a whole number such as 200, or a size such as 20G")
    return int(found.group(1)) << _UNIT_SHIFT[found.group(2).upper()]


_UNIT_SHIFT = {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):,.1f} {unit}"
    return f"{n:,} bytes"


def open_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> BinaryIO:
    """A member as a stream that yields at most the size the archive declares for it, a few MB
    at a time, and says which file and entry are damaged instead of raising zipfile's errors."""
    where = archive.filename or "zip archive"
    try:
        return _BoundedMember(archive.open(member), member, where)
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError, zlib.error,
            OSError) as e:  # OSError: an offset the damage moved before the file's start (found by fuzzing)
        raise _damaged(where, member, e) from None


def _damaged(where: str, member: zipfile.ZipInfo, error: Exception) -> UnreadableExport:
    return UnreadableExport(where, f"the zip entry {member.filename!r} is damaged ({error})",
                            "download or export it again, or unzip it and pass the folder")


class _BoundedMember(io.RawIOBase):
    """Reads of a zip member, bounded. zipfile stops at the declared size too, but one `read()`
    would first inflate everything the entry holds into memory (GBs for a bomb with a lying header)."""

    def __init__(self, stream: BinaryIO, member: zipfile.ZipInfo, where: str) -> None:
        self._stream, self._member, self._where = stream, member, where
        self._left = member.file_size

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        data = self._read(min(size, _READ_STEP))
        while len(data) < size and (more := self._read(min(size - len(data), _READ_STEP))):
            data += more
        return data

    def readall(self) -> bytes:
        parts = []
        while part := self._read(_READ_STEP):
            parts.append(part)
        return b"".join(parts)

    def readinto(self, buffer) -> int:
        data = self._read(min(len(buffer), _READ_STEP))
        buffer[:len(data)] = data
        return len(data)

    def _read(self, size: int) -> bytes:
        # One byte more than declared is asked for, to see if there is more than declared.
        try:
            data = self._stream.read(min(size, self._left + 1))
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as e:
            raise _damaged(self._where, self._member, e) from None
        self._left -= len(data)
        if self._left < 0:
            raise UnreadableExport(self._where, f"the zip entry {self._member.filename!r} holds more than the "
                                                f"{_size(self._member.file_size)} its header declares",
                                   "a damaged or hostile archive: do not use it, export it again")
        return data

    def close(self) -> None:
        self._stream.close()
        super().close()


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
    """Decoded lines in chunks cut at line ends; CRLF becomes LF and a leading BOM is dropped.
    A line longer than MAX_LINE_BYTES is not kept (memory would grow with it): it stays one line,
    empty and listed in `bad` with its first bytes."""
    pending, line_no, done, first = b"", 1, 0, True
    long_line: bytes | None = None  # the start of a line too long to keep, while the rest of it is skipped
    block = stream.read(chunk_bytes)
    while block:
        done += len(block)
        ahead = stream.read(chunk_bytes)  # one block of look-ahead tells the last chunk apart
        if long_line is not None:
            end = block.find(b"\n")
            if end < 0 and ahead:  # still inside the long line
                block = ahead
                continue
            block = b"\n" + (block[end + 1:] if end >= 0 else b"")  # an empty line stands for it
        buf = pending + block
        pending = b""
        if ahead:
            cut = buf.rfind(b"\n")
            if cut < 0:  # a line longer than a chunk: keep reading
                if len(buf) > MAX_LINE_BYTES:
                    long_line = buf[:_SHOWN_BYTES]
                else:
                    pending = buf
                block = ahead
                continue
            buf, pending = buf[: cut + 1], buf[cut + 1:]
        if first:
            buf, first = buf.removeprefix(_BOM), False
        if buf:
            lines, bad = _split(buf)
            if long_line is not None:
                bad[0] = (f"a line longer than {MAX_LINE_BYTES >> 20} MB: not read",
                          long_line.decode("utf-8", "backslashreplace") + " …")
                long_line = None
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
            lines = pl.read_csv(io.BytesIO(buf), has_header=False, separator="\x1f", quote_char=None,
                                new_columns=["line"], schema={"line": pl.String}, empty_string_is_null=False,
                                encoding="utf8", infer_schema=False, raise_if_empty=False)["line"]
            if buf.startswith(_BOM):  # the CSV reader drops a BOM that starts its input: here it starts a line
                lines = lines.scatter(0, "\ufeff" + lines[0])
            return lines, {}
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
    folder is zipped) is read from inside that folder. Entries that are not read (see `refusal`;
    in a folder: symbolic links, devices, pipes, sockets) are left out and listed in `refused`,
    by name with the reason, for the connector to quarantine.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip = open_zip(path) if path.is_file() else None
        self.refused: dict[str, str] = {}
        if self._zip is not None:
            self.refused = refused_members(self._zip)
            members = {m.filename: m for m in zip_members(self._zip)}
            top = {n.split("/", 1)[0] for n in members}
            self._root = next(iter(top)) + "/" if len(top) == 1 and all("/" in n for n in members) else ""
            self._members = {n[len(self._root):]: m for n, m in members.items()}
        else:
            self._members = {}
            for p, mode in folder_entries(path):
                name = readable_name(p.relative_to(path).as_posix())
                if any(part.startswith(".") for part in p.relative_to(path).parts):
                    continue
                if stat.S_ISREG(mode):
                    self._members[name] = p
                else:
                    self.refused[name] = _SYMLINK if stat.S_ISLNK(mode) else _SPECIAL

    def names(self) -> list[str]:
        return sorted(self._members)

    def __contains__(self, name: str) -> bool:
        return name in self._members

    def read(self, name: str) -> bytes:
        with self.open(name) as f:
            return f.read()

    def open(self, name: str) -> BinaryIO:
        """A member as a stream, for files too big to read at once."""
        member = self._members[name]
        return open_member(self._zip, member) if self._zip is not None else open(member, "rb")

    def size(self) -> int:
        return sum(self.size_of(name) for name in self._members)

    def size_of(self, name: str) -> int:
        member = self._members[name]
        return member.file_size if self._zip is not None else member.stat().st_size

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> "ExportTree":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


QUARANTINE = {"location": pl.String, "reason": pl.String, "raw": pl.String}


def quarantine_record(location: str, reason: str, raw: object) -> dict:
    """A quarantine record: where, why, and what was read there as text (a parsed value as JSON),
    its first 4,000 characters."""
    try:
        text = raw if isinstance(raw, str) or raw is None else \
            bytes(raw).decode("utf-8", "backslashreplace") if isinstance(raw, (bytes, bytearray, memoryview)) else \
            orjson.dumps(raw, default=str).decode("utf-8", "backslashreplace")
    except TypeError:  # orjson writes at most 254 levels of nesting, and integers of 64 bits
        try:
            text = json.dumps(raw, default=str, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError):
            text = "(a value nested too deep to show)"
    return {"location": location, "reason": reason, "raw": None if text is None else text[:4000]}


def quarantine_batch(records: list[dict]) -> Batch:
    return Batch.conform("quarantine", pl.DataFrame(records, schema=QUARANTINE).to_arrow())


def refused_records(refused: dict[str, str]) -> list[dict]:
    """Quarantine records (location, reason, raw) for entries of an export that were not read."""
    return [{"location": name, "reason": reason, "raw": None} for name, reason in sorted(refused.items())]


def refused_note(refused: dict[str, str]) -> str:
    """For a message saying an export holds nothing readable: what was refused in it, if anything."""
    if not refused:
        return ""
    name, reason = min(refused.items())
    more = f" and {len(refused) - 1} more" if len(refused) > 1 else ""
    what = reason.split(":")[0]
    return f"; {name!r}{more} not read: {what}"


def folder_entries(root: Path) -> list[tuple[Path, int]]:
    """Everything under a folder but subfolders, in path order, with its own mode (`lstat`: a link
    is a link). `**` never enters a linked folder, so nothing outside `root` is listed."""
    found = []
    for p in sorted(root.rglob("*")):
        try:
            mode = p.lstat().st_mode
        except FileNotFoundError:  # gone since it was listed
            continue
        if not stat.S_ISDIR(mode):
            found.append((p, mode))
    return found


def content_digest(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, or of a folder's files (names and bytes, in name order; links
    are not followed, devices and pipes not read)."""
    if path.is_file():
        return sha256_of(path), path.stat().st_size
    digest, size = hashlib.sha256(), 0
    for p, mode in folder_entries(path):
        if not stat.S_ISREG(mode):
            continue
        name = os.fsencode(p.relative_to(path).as_posix())  # a name not in UTF-8: its own bytes
        with open(p, "rb") as f:
            length = os.fstat(f.fileno()).st_size
            digest.update(len(name).to_bytes(4, "big") + name + length.to_bytes(8, "big"))
            # Streamed, so a big file does not sit in memory; bytes beyond the size measured (a file
            # still being written) are left for the next look.
            left = length
            while left and (block := f.read(min(left, CHUNK_BYTES))):
                digest.update(block)
                left -= len(block)
        size += length
    return digest.hexdigest(), size


def pretty_array_blocks(buf: bytes, stream: BinaryIO, indent: bytes, block_bytes: int,
                        boundary: bytes | None = None) -> Generator[bytearray, None, tuple[bytes, bool]]:
    """Blocks of whole objects of a pretty-printed JSON array, read from `stream` a few MB at a time.

    `buf` starts at the array's first `{`, which sits at `indent` on its own line, as every object
    of the array does (Telegram Desktop and DiscordChatExporter write this way). A JSON string
    cannot hold a raw newline, so the text `\\n<indent>},` only ever ends one of these objects: a
    block is the text of consecutive objects cut there, commas between them included, brackets
    not. Returns what follows the array and True, or, for a stream that ends inside the array,
    what follows the last whole object and False.

    The array's end is looked for after the last separator read, which is cheap. Another array
    at the same indentation may follow this one (the next chat of a Telegram account export),
    whose separators are not this array's: `boundary` is text that always stands between the two
    (its key, `"messages"`); a read holding it is searched whole for the end.

    A block is the buffer it was read into, cut short (a bytearray, no longer touched here): each
    byte of the export is copied once, by the read. (Read, joined to what was left and sliced
    out, each byte went through three fresh buffers: a 500 MB Telegram export took 100,000 more
    page faults, 0.3 s of system time.)
    """
    between = b"\n" + indent + b"},"
    end = re.compile(rb"\n" + re.escape(indent) + rb"\}\s*\]")
    buf, done, unseen = bytearray(buf), False, 0  # buf[:unseen] holds no boundary
    while True:
        cut = buf.rfind(between)
        if boundary is not None and buf.find(boundary, unseen) >= 0:
            closing = end.search(buf)
        else:
            closing = end.search(buf, max(0, cut))
        if closing is not None:
            after = bytes(buf[closing.end():])
            del buf[closing.start() + len(indent) + 2:]
            yield buf
            return after, True
        if cut > 0:
            rest = buf[cut + len(between):].lstrip(b" \t\r\n")
            del buf[cut + len(indent) + 2:]
            yield buf
            buf = rest
        unseen = max(0, len(buf) - len(boundary or b"") + 1)
        if done:
            return bytes(buf), False
        buf, done = _read_after(buf, stream, block_bytes)


def _read_after(kept: bytearray, stream: BinaryIO, size: int) -> tuple[bytearray, bool]:
    """`kept` and up to `size` bytes more of the stream, read into one new buffer; and whether the
    stream had nothing more."""
    buf = bytearray(len(kept) + size)
    buf[:len(kept)] = kept
    if hasattr(stream, "readinto"):
        got = 0
        with memoryview(buf) as view:  # (a zip member gives a few MB a call: read on until full)
            while got < size and (n := stream.readinto(view[len(kept) + got:])):
                got += n
    else:
        data = stream.read(size)
        buf[len(kept):len(kept) + len(data)] = data
        got = len(data)
    del buf[len(kept) + got:]
    return buf, got == 0


def object_runs(block: bytes | bytearray, indent: bytes, size: int) -> Iterator[memoryview]:
    """A `pretty_array_blocks` block as runs of whole objects of about `size` bytes (an object
    longer than that is a run of its own), commas between runs left out; views, not copies."""
    between, view, start = b"\n" + indent + b"},", memoryview(block), 0
    while len(block) - start > size:
        cut = block.rfind(between, start, start + size)
        if cut <= start:  # (an object longer than size)
            cut = block.find(between, start + size)
        if cut < 0:
            break
        end = cut + len(between) - 1  # the object's "}", not the comma
        yield view[start:end]
        start = end + 1
    yield view[start:]


def split_objects(block: bytes, indent: bytes) -> list[bytes]:
    """The objects of a `pretty_array_blocks` block, one by one (for a block a parser refused)."""
    between = b"\n" + indent + b"},"
    pieces = block.split(between)
    return [p + b"}" for p in pieces[:-1]] + pieces[-1:]
