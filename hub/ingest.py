"""Ingest export files: pick the connector, read, load into the warehouse, say what happened.

Used by the `hub ingest` command and by the Dagster assets alike, so both behave the same.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import duckdb

from connectors import detect_platform, is_export_folder, reader_for
from connectors.files import UnreadableExport, content_digest, readable_name
from hub.config import ConfigError, HubConfig, Source
from hub.model import Batch
from hub.prehash import Prehashed
from hub.landing import delete_raw_copies
from hub.pseudonyms import Pseudonymiser, PseudonymKeyError
from warehouse.load import LoadResult, PseudonymMismatch, SourceFile, load, loaded_zone, source_loaded

Progress = Callable[[int, int], None]
TRUTH_SUFFIX = ".truth.json"  # what `hub simulate` planted, beside the export it wrote


@dataclass
class FileReport:
    path: Path
    platform: str | None = None
    community: str | None = None
    channel: str | None = None
    result: LoadResult | None = None
    skipped: bool = False  # the same file was already loaded: nothing read
    error: str | None = None
    warning: str | None = None


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Exports to ingest: the files given, the files inside folders given (not hidden ones, nor the
    ground truth `hub simulate` writes beside its exports), and folders that are exports as a whole
    (a Slack export)."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir() and not is_export_folder(p):
            for child in sorted(p.iterdir()):
                if not child.name.startswith(".") and not child.name.endswith(TRUTH_SUFFIX):
                    files.extend(expand([child]))
        else:
            files.append(p)
    return files


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, *, config: HubConfig, community: str | None = None,
                channel: str | None = None, platform: str = "auto", tz: str | None = None, force: bool = False,
                progress: Progress | None = None, origin: Path | None = None,
                pseudonymise: bool = False, prehashed: Prehashed | None = None) -> FileReport:
    """Read one export file into the warehouse. An unreadable file is reported, not raised.

    `origin` is where the file was found when `path` is its copy in the raw store: the
    configuration is matched against it, and it is what `sources.path` records. Names and phone
    numbers are pseudonymised if asked, or if the community's configuration says so.
    `prehashed` may hold the file's digest, computed while the command started up.
    """
    report = FileReport(origin or path)
    try:
        configured = config.source_for(origin or path)
        target = config.community(community or (configured[0].slug if configured else None))
        source_cfg = configured[1] if configured else None
        report.platform = platform_of(path, source_cfg) if platform == "auto" else platform
        module = reader_for(report.platform)
        options = module.Options(
            community=target.slug,
            channel=channel or (source_cfg.channel if source_cfg else None),
            tz=tz or (source_cfg.timezone if source_cfg else None) or target.timezone,
            **({"origin": origin} if origin and "origin" in {f.name for f in fields(module.Options)} else {}),
        )
        reader = module.ExportReader(path, options, progress=progress)
        report.community, report.channel = target.slug, reader.channel_name
        report.warning = getattr(reader, "warning", None)
        if report.warning and origin:  # (said of the copy in the raw store: of the file as found)
            report.warning = report.warning.replace(str(path), str(origin))
        pseudonyms = Pseudonymiser.from_env(report.platform, target.timezone) \
            if pseudonymise or target.pseudonymise else None
        digest, size = (prehashed and prehashed.digest(path)) or content_digest(path)
        source = SourceFile(
            platform=report.platform, community=target.slug, path=readable_name(str(origin or path)), sha256=digest,
            bytes=size, channel_id=reader.channel_id,
            community_name=target.display_name, community_timezone=target.timezone,
            options={"tz": options.tz, "channel": reader.channel_name},
            pseudonym_check=pseudonyms.check() if pseudonyms else None,
            reactions_whole=getattr(reader, "lists_all_reactions", False),
        )
        zone = loaded_zone(con, source)
        if zone is not None and zone != options.tz:
            # Ids do not depend on the zone: read again, the file would give the same messages, kept
            # at the times of their first reading. Say so rather than record a zone not applied.
            said = (f"was loaded with the time zone {zone}: its messages keep those times, and --tz {options.tz} "
                    "changes nothing")
            if force:
                raise UnreadableExport(origin or path, said, "read it into a new warehouse to have it in another zone")
            report.warning = "; ".join(filter(None, [report.warning, f"{origin or path} {said}"]))
        previous = None if force else source_loaded(con, source)
        if previous is not None:
            report.skipped = True
            report.result = LoadResult(source.source_id, records=previous[0], new=0, quarantined=previous[1])
            return report
        report.result = _load_with_final_date_order(con, module, path, options, source, progress, pseudonyms)
        if report.result.forgotten is not None:  # it held someone forgotten: no copy of it is kept
            report.result.forgotten.raw_deleted = delete_raw_copies(report.result.forgotten.raw_copies)
    except (UnreadableExport, PseudonymKeyError, PseudonymMismatch, ConfigError) as e:
        # A file the configuration cannot place is one failure among the files, not the end of the run.
        report.error = f"{origin or path}: {e}" if not isinstance(e, UnreadableExport) else str(e)
    return report


def platform_of(path: Path, source: Source | None) -> str:
    """A file's platform: its configured source's, else what its content shows (UnreadableExport
    if it shows none). The CLI and the pipeline read a file alike."""
    if source is not None and source.platform != "auto":
        return source.platform
    return detect_platform(path)


def _load_with_final_date_order(con, module, path, options, source, progress, pseudonyms) -> LoadResult:
    def batches(reader) -> Iterator[Batch]:
        read = _described(reader, source)
        return _read_ahead(pseudonyms.batches(read) if pseudonyms else read)

    def attempt() -> LoadResult:
        if pseudonyms:
            pseudonyms.learn(module.ExportReader(path, options).batches())
        return load(con, source, batches(module.ExportReader(path, options, progress=progress)))

    try:
        return attempt()
    except getattr(module, "DateOrderChanged", ()) as changed:
        # The first chunk's dates misled the reader; the load was rolled back. Read again, decided.
        options.date_order = changed.order
        return attempt()


def _read_ahead(batches: Iterator[Batch], depth: int = 2) -> Iterator[Batch]:
    """The same batches, parsed in a background thread while the warehouse loads the previous ones.

    Parsing (Polars) and loading (DuckDB) both release the GIL, so on two cores they overlap.
    An error in the reader reaches the loader, which rolls back; if the loader stops, the reader does too.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in batches:
                if not offer(batch):
                    return
            offer(done)
        except BaseException as error:  # handed over to the consumer, which re-raises it
            offer(error)

    worker = threading.Thread(target=produce, name="read-ahead", daemon=True)
    worker.start()
    try:
        while (item := slots.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _described(reader, source: SourceFile) -> Iterator[Batch]:
    """The reader's batches; once read, what it learnt about the file goes into the source's options."""
    yield from reader.batches()
    summary = reader.summary
    if getattr(summary, "date_order", None):
        source.options["date_order"] = summary.date_order
