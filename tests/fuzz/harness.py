"""What the fuzz tests share: the inputs (seeds, real exports), the ways to damage them, the contract
every ingest must keep, and a tally of what was tried.

The contract, checked at the level a user hits (`hub.ingest.ingest_file`, as `hub ingest` calls it,
into a real warehouse file): an input either loads (the warehouse checks still hold, and what was set
aside is in `quarantine` with its location and reason) or fails as a whole with `UnreadableExport`,
whose one-line message names the file and says what to do, and leaves the warehouse as it was. Any
other exception escapes `ingest_file` and fails the test: that is a bug in a connector.

Mutations are tuples (`("flip", 0.5, 3)`: the name of a function below and its arguments), so that
Hypothesis can draw and shrink them, Atheris and plain loops can make them, and a failure prints as
something one can read and replay.
"""

from __future__ import annotations

import json
import resource
import time
import traceback
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from connectors.facebook.export import kind_of
from hub.config import HubConfig
from hub.ingest import FileReport, ingest_file
from warehouse import checks

FUZZ = Path(__file__).resolve().parent
SEEDS = FUZZ / "seeds"
REGRESSIONS = FUZZ / "regressions"
PLATFORMS = ("whatsapp", "slack", "telegram", "discord", "facebook")
# Exports that may be a folder as well as a zip (a WhatsApp zip is always a zip).
FOLDER_PLATFORMS = ("slack", "telegram", "facebook")


@dataclass(frozen=True)
class Sample:
    """An export as a user passes it: one file (`content` is its bytes) or a set of files (`content`
    maps relative paths to bytes) that is a folder or, `zipped`, a zip, under the name it came with."""

    platform: str
    parser: str  # which reader reads it: "whatsapp txt", "telegram html", "facebook feed" …
    name: str
    content: bytes | dict[str, bytes]
    zipped: bool = False

    @property
    def is_tree(self) -> bool:
        return isinstance(self.content, dict)

    def __str__(self) -> str:
        return f"{self.platform}/{self.name}"


def parser_of(platform: str, path: Path, content: bytes | dict[str, bytes]) -> str:
    """The reader a sample exercises, for the tally (one platform can have several)."""
    if platform == "whatsapp":
        return "whatsapp zip" if path.suffix == ".zip" else "whatsapp txt"
    if platform == "telegram":
        if path.suffix == ".html":
            return "telegram html"
        return "telegram folder/zip" if isinstance(content, dict) else "telegram json"
    if platform == "facebook":
        if isinstance(content, dict):
            return "facebook dump"
        return f"facebook {kind_of(content[:65536]) or 'json'}"
    return platform


def read_sample(platform: str, path: Path) -> Sample:
    """A file, a folder, or a zip (read as the files it holds, so that they can be damaged one by one)."""
    if path.is_dir():
        files = {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
        return Sample(platform, parser_of(platform, path, files), path.name, files)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            files = {m.filename: archive.read(m) for m in archive.infolist() if not m.is_dir()}
        parser = "whatsapp zip" if platform == "whatsapp" else parser_of(platform, path, files)
        return Sample(platform, parser, path.name, files, zipped=True)
    content = path.read_bytes()
    return Sample(platform, parser_of(platform, path, content), path.name, content)


def seed_samples(platform: str | None = None) -> list[Sample]:
    """The synthetic seeds in tests/fuzz/seeds/<platform>/ (see make_seeds.py)."""
    return [read_sample(p, path) for p in PLATFORMS if platform in (None, p)
            for path in sorted((SEEDS / p).iterdir()) if not path.name.startswith(".")]


# Real exports of ../shared/corpus worth damaging, by platform: small enough to ingest many times a
# second, and between them every layout each reader has. Read in place, never copied into the repo.
CORPUS_FILES = {
    "whatsapp": ["whatsapp/lucasrodes__whatstk/tests/chats/example-12h.txt",
                 "whatsapp/starkdmi__whats_json/languages/russian_android.txt",
                 "whatsapp/starkdmi__whats_json/languages/french_ios.txt",
                 "whatsapp/joweich__chat-miner/test_yyyymmdd_24hrs.txt",
                 "whatsapp/sodascience__port-whatsapp-datadonation/whatsapp_chat.zip"],
    "slack": ["slack/langchain-ai__langchain-community/slack_export.zip",
              "slack/hfaran__slack-export-viewer/testarchive.zip"],
    "telegram": ["telegram/langchain-ai__langchain-community/chat_loaders/data/telegram_chat_json/result.json",
                 "telegram/langchain-ai__langchain-community/chat_loaders/data/telegram_chat_html/messages.html",
                 "telegram/langchain-ai__langchain-community/document_loaders/test_docs/telegram.json",
                 "telegram/langchain-ai__langchain-community/document_loaders/test_docs/telegram_channel.json",
                 "telegram/joweich__chat-miner/test_single_export.json",
                 "telegram/joweich__chat-miner/test_batch_export.json"],
    "discord": ["discord/zulip__zulip/zulip-discord server - Text Channels - general [1519311538035490958].json",
                "discord/zulip__zulip/zulip-discord server - Text Channels - general-2 [1519313380647764018].json"],
    "facebook": ["facebook/langchain-ai__langchain-community/facebook_chat.json",
                 "facebook/joweich__chat-miner/test_export.json"],
}


def corpus_samples(corpus: Path, platform: str | None = None) -> list[Sample]:
    return [read_sample(p, corpus / name) for p, names in CORPUS_FILES.items() if platform in (None, p)
            for name in names if (corpus / name).exists()]


# -- writing an input where a user would have it -------------------------------------------------------

def write(sample: Sample, content: bytes | dict[str, bytes], folder: Path, *, as_zip: bool | None = None) -> Path:
    """`content` (the sample's, or a damaged copy) written in `folder` as the sample came: a file, or
    its files as a zip or a folder (`as_zip` chooses, for the platforms that take both)."""
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path = folder / sample.name
        path.write_bytes(content)
        return path
    if sample.platform not in FOLDER_PLATFORMS or as_zip is None:
        as_zip = sample.zipped
    stem = sample.name.removesuffix(".zip")
    if as_zip:
        path = folder / f"{stem}.zip"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in content.items():
                archive.writestr(name, data)
        return path
    root = folder / stem
    for name, data in content.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


# -- mutations -----------------------------------------------------------------------------------------

def _at(data: bytes, where: float) -> int:
    """A position in `data` from a fraction in [0, 1]."""
    return min(len(data), max(0, int(where * len(data))))


def flip(data: bytes, where: float, mask: int) -> bytes:
    i = _at(data, where)
    if i >= len(data) or not mask & 0xFF:
        return data
    return data[:i] + bytes([data[i] ^ (mask & 0xFF)]) + data[i + 1:]


def insert(data: bytes, where: float, chunk: bytes) -> bytes:
    i = _at(data, where)
    return data[:i] + chunk + data[i:]


def delete(data: bytes, where: float, count: int) -> bytes:
    i = _at(data, where)
    return data[:i] + data[i + count:]


def truncate(data: bytes, where: float) -> bytes:
    return data[:_at(data, where)]


def duplicate(data: bytes, where: float, count: int) -> bytes:
    """A stretch of the file written twice (an export pasted into itself, a block copied twice)."""
    i = _at(data, where)
    return data[:i + count] + data[i:]


ENCODINGS = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "utf-8-sig", "shift_jis")


def reencode(data: bytes, encoding: str) -> bytes:
    """The same text saved in another encoding (what an editor, or an old tool, does to an export)."""
    return data.decode("utf-8", "replace").encode(encoding, "replace")


def huge_line(data: bytes, where: float, length: int) -> bytes:
    """`length` bytes without a line break, put into the file."""
    return insert(data, where, b"a" * length)


def nest(data: bytes, where: float, depth: int, opener: bytes = b"[") -> bytes:
    closer = {b"[": b"]", b"{": b"}"}.get(opener, b"")
    return insert(data, where, opener * depth + closer * depth)


NESTED = "\x00nest\x00"  # in a value given to `json_value`: stands for 100,000 nested `[`


def first_message(data: bytes) -> int:
    """For `json_value`: the number of the first message of a JSON export (the first item of its
    first `messages` or `data` list, or of the document if it is a list); 0 if there is none."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return 0
    slots = list(_slots(doc))
    lists = [value for _, key, value in slots if key in ("messages", "data") and isinstance(value, list) and value]
    items = doc if isinstance(doc, list) else lists[0] if lists else None
    return next((i for i, (parent, key, _) in enumerate(slots) if parent is items and key == 0), 0)


def json_value(data: bytes, which: int, value: object) -> bytes:
    """The JSON document with its `which`-th value (every value counts, in document order, modulo
    their number) replaced by `value`, written in the document's own indentation (Telegram's and
    DCE's readers go by the layout). A document that does not parse is returned unchanged."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return data
    slots = list(_slots(doc))
    parent, key, _ = slots[which % len(slots)]
    if parent is None:
        doc = value
    else:
        parent[key] = value
    text = json.dumps(doc, indent=_indent_of(data), ensure_ascii=False).encode("utf-8", "surrogatepass")
    return text.replace(json.dumps(NESTED).encode(), b"[" * 100_000 + b"]" * 100_000)


def _slots(doc: object) -> Iterator[tuple[object, object, object]]:
    """(container, key, value) of every value of the document, breadth first, the document itself
    first as (None, None, document)."""
    todo: list[tuple[object, object, object]] = [(None, None, doc)]
    while todo:
        parent, key, value = todo.pop(0)
        yield parent, key, value
        if isinstance(value, dict):
            todo += [(value, k, v) for k, v in value.items()]
        elif isinstance(value, list):
            todo += [(value, i, v) for i, v in enumerate(value)]


def _indent_of(data: bytes) -> int | None:
    """The indentation of a pretty-printed JSON document (Telegram Desktop uses 1, DCE and Facebook 2)."""
    lines = data.split(b"\n", 2)
    if len(lines) < 2:
        return None
    return len(lines[1]) - len(lines[1].lstrip(b" ")) or None


OPERATIONS: dict[str, Callable[..., bytes]] = {
    "flip": flip, "insert": insert, "delete": delete, "truncate": truncate, "duplicate": duplicate,
    "reencode": reencode, "huge_line": huge_line, "nest": nest, "json_value": json_value,
}
Mutation = tuple  # (name in OPERATIONS, *arguments)


def mutated(data: bytes, mutations: list[Mutation]) -> bytes:
    for name, *arguments in mutations:
        data = OPERATIONS[name](data, *arguments)
    return data


def damaged(sample: Sample, mutations: list[Mutation], member: int | None = None) -> bytes | dict[str, bytes]:
    """The sample's content with the mutations applied: to the file, or to one file of a set
    (`member`, modulo their number; by default the biggest, the chat text or a day of messages)."""
    if isinstance(sample.content, bytes):
        return mutated(sample.content, mutations)
    files = dict(sample.content)
    name = max(files, key=lambda n: len(files[n])) if member is None else sorted(files)[member % len(files)]
    files[name] = mutated(files[name], mutations)
    return files


# -- the contract ----------------------------------------------------------------------------------------

@dataclass
class Outcome:
    loaded: bool
    records: int = 0
    quarantined: int = 0
    error: str | None = None
    source_id: str | None = None


def _counts(con: duckdb.DuckDBPyConnection) -> tuple[int, ...]:
    return con.execute("SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM accounts), "
                       "(SELECT count(*) FROM quarantine), (SELECT count(*) FROM sources)").fetchone()


def ingest_checked(con: duckdb.DuckDBPyConnection, path: Path, platform: str = "auto") -> Outcome:
    """Ingest `path` as `hub ingest` does, assert the contract, and say how it went."""
    before = _counts(con)
    report = ingest_file(con, path, config=HubConfig(), platform=platform, force=True)
    if report.error is not None:
        assert_clear_error(report, path)
        assert _counts(con) == before, "a file that failed left rows behind"
        return Outcome(False, error=report.error)
    assert report.result is not None
    assert_warehouse_consistent(con)
    quarantined = con.execute("SELECT location, reason FROM quarantine WHERE source_id = ?",
                              [report.result.source_id]).fetchall()
    assert len(quarantined) == report.result.quarantined, (len(quarantined), report.result.quarantined)
    for location, reason in quarantined:
        assert location and reason, f"a quarantined record without its location or reason: {location!r}, {reason!r}"
    return Outcome(True, report.result.records, report.result.quarantined, source_id=report.result.source_id)


def assert_clear_error(report: FileReport, path: Path) -> None:
    """One line: the file, what went wrong and, after a dash, what to do."""
    message = report.error
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message and "Traceback" not in message, message
    problem, _, advice = message.partition(" — ")
    assert problem.strip() and advice.strip(), f"no advice in: {message}"


def assert_warehouse_consistent(con: duckdb.DuckDBPyConnection) -> None:
    for check in (checks.unique_message_ids, checks.no_orphan_authors):
        passed, details = check(con)
        assert passed, f"{check.__name__}: {details}"


# -- what was tried --------------------------------------------------------------------------------------

# How far one input may raise the test process's memory high-water mark: far above what a small
# export takes, far below what an input that blows memory up reaches.
RSS_GROWTH_MB = 1536


def peak_rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10


@dataclass
class Tally:
    """Inputs tried per parser: how each ended, the crashes, and the slowest input."""

    outcomes: dict[str, Counter] = field(default_factory=dict)
    slowest: dict[str, tuple[float, str]] = field(default_factory=dict)
    crashes: list[str] = field(default_factory=list)

    def ingest(self, con: duckdb.DuckDBPyConnection, path: Path, parser: str, what: str,
               platform: str = "auto") -> Outcome:
        """`ingest_checked`, counted; a crash is counted and raised again."""
        started, peak = time.perf_counter(), peak_rss_mb()
        counts = self.outcomes.setdefault(parser, Counter())
        counts["tried"] += 1
        try:
            outcome = ingest_checked(con, path, platform)
        except BaseException as error:
            counts["crashes"] += 1
            self.crashes.append(f"{parser}: {what}: {''.join(traceback.format_exception_only(error)).strip()}")
            raise
        finally:
            seconds = time.perf_counter() - started
            if seconds > self.slowest.get(parser, (0.0, ""))[0]:
                self.slowest[parser] = (seconds, what)
        counts["loaded" if outcome.loaded else "refused"] += 1
        counts["quarantined some"] += outcome.quarantined > 0
        assert peak_rss_mb() - peak < RSS_GROWTH_MB, f"memory grew by {peak_rss_mb() - peak} MB on {what}"
        return outcome

    def report(self) -> list[str]:
        lines = [f"{'parser':<22} {'tried':>6} {'loaded':>7} {'with quarantine':>16} {'refused':>8} {'crashes':>8}"
                 "  slowest input"]
        for parser in sorted(self.outcomes):
            c = self.outcomes[parser]
            seconds, what = self.slowest.get(parser, (0.0, ""))
            lines.append(f"{parser:<22} {c['tried']:>6} {c['loaded']:>7} {c['quarantined some']:>16} "
                         f"{c['refused']:>8} {c['crashes']:>8}  {seconds:.2f} s: {what}")
        total = sum(c["tried"] for c in self.outcomes.values())
        lines.append(f"{total} inputs, {len(self.crashes)} crashes, peak memory {peak_rss_mb()} MB")
        lines += [f"  crash: {c}" for c in self.crashes[:20]]
        return lines
