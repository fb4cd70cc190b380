"""The `hub` command: ingest exports, query the warehouse, run the demo, simulate communities."""

from __future__ import annotations

import csv
import decimal
import gc
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from hub.config import ConfigError, load_config, warehouse_of
from hub.privacy import printable
from hub.privacy import terminal_text as escape  # data never read as markup nor sent as control codes

# No :emoji: codes: stored values such as `pseudo:phone:…` are printed as they are.
out = Console(emoji=False)
err = Console(stderr=True, emoji=False)
BUSY_EXIT = 75  # EX_TEMPFAIL: the warehouse was busy; the same command may succeed later


class _Commands(TyperGroup):
    """The commands. Any that opens the warehouse can find it held by another process for longer
    than it waits: that ends the command with one line and BUSY_EXIT, whatever the command."""

    def invoke(self, ctx):
        from warehouse.db import WarehouseBusy, WarehouseMissing
        from warehouse.lake import LakeError

        try:
            return super().invoke(ctx)
        except WarehouseBusy as e:
            raise _fail(str(e), BUSY_EXIT) from None
        except WarehouseMissing as e:  # none there, or a file that is no warehouse
            raise _fail(str(e)) from None
        except ConfigError as e:  # a bad HUB_DB_WAIT, read when the warehouse is opened
            raise _fail(str(e)) from None
        except LakeError as e:  # a DuckLake warehouse that cannot be opened: what to do
            raise _fail(str(e)) from None


app = typer.Typer(cls=_Commands, help="Community Hub: one warehouse for a community's chats on every platform.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def main() -> None:
    """The `hub` command (the console script). Whatever is still alive when a command is done
    lives until the process ends: frozen, it is left out of the interpreter's last collections,
    which otherwise walk every object Dagster and the libraries made (0.5-0.8 s of each command
    that builds through Dagster)."""
    # Importing and running Dagster makes millions of objects, few of them garbage: at Python's
    # default threshold (700) the cycle collector ran about 900 times in a `hub build` over 1M
    # messages, 0.55 s in all; at 50,000 (from here on), about a hundred times, 0.1 s. (Measured on
    # Python 3.11, whose collector has three generations.)
    gc.set_threshold(50_000, 10, 10)
    try:
        app()
    finally:
        gc.freeze()


DbOption = Annotated[Optional[str], typer.Option("--db", help="Warehouse file, or DuckLake catalog (ducklake:…) \\[default: $HUB_DB, else the config's warehouse, else ./data/hub.duckdb]")]
ConfigOption = Annotated[Optional[Path], typer.Option("--config", help="Configuration file \\[default: $HUB_CONFIG, else ./hub.yaml if present]")]
ShowPhonesOption = Annotated[bool, typer.Option("--show-phones", help="Show phone numbers in full \\[default: masked]")]
PROGRESS_FROM_BYTES = 8 << 20


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Export files or folders of exports")],
    db: DbOption = None,
    config: ConfigOption = None,
    community: Annotated[Optional[str], typer.Option(help="Community slug \\[default: the configured one]")] = None,
    channel: Annotated[Optional[str], typer.Option(help="Channel name, instead of the one in the file name")] = None,
    platform: Annotated[str, typer.Option(help="auto, or a platform: whatsapp, slack, telegram, facebook, discord")] = "auto",
    tz: Annotated[Optional[str], typer.Option(help="Time zone of exports without one \\[default: the community's, else UTC]")] = None,
    force: Annotated[bool, typer.Option(help="Read files again even if already loaded unchanged")] = False,
    pseudonymise: Annotated[bool, typer.Option("--pseudonymise", help="Replace names and phone numbers by keyed hashes (key: $HUB_PSEUDONYM_KEY)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the per-file results as JSON (for scripts)")] = False,
) -> None:
    """Load export files into the warehouse: per file, records new, duplicate and quarantined."""
    from hub.prehash import Prehashed

    prehashed = Prehashed(paths)  # before the imports below, which take a second of one core
    from connectors.files import readable_name
    from hub.ingest import expand, ingest_file
    from warehouse.db import connect
    from warehouse.marts import refresh

    try:
        cfg = load_config(config)
        if tz is not None:
            from hub.config import check_timezone
            check_timezone(tz)
        if community is not None:
            cfg.community(community)
        platform = platform.lower()
        if platform != "auto":
            from connectors import reader_for
            reader_for(platform)
    except (ConfigError, ValueError) as e:
        raise _fail(str(e)) from None
    files = expand(paths)
    if not files:
        raise _fail("no files to ingest")
    table = Table("file", "platform", "channel", "new", "duplicate", "quarantined", title="Ingested")
    failures = quarantined = skipped = 0
    touched: set[str] = set()
    results: list[dict] = []
    with connect(warehouse_of(db, config)) as con:
        for path in files:
            started = time.perf_counter()
            with _progress_for(path) as progress:
                report = ingest_file(con, path, config=cfg, community=community, channel=channel,
                                     platform=platform, tz=tz, force=force, progress=progress,
                                     pseudonymise=pseudonymise, prehashed=prehashed)
            if channel and not report.error and report.platform in ("slack", "telegram") and report.channel != channel:
                report.warning = "; ".join(filter(None, [report.warning, (
                    f"--channel {channel} does not apply to {path}: a {report.platform} export "
                    "names its channels itself")]))
            results.append(_as_dict(report, time.perf_counter() - started))
            if report.warning and not report.error:  # (a file that failed has one line: why)
                err.print(f"[yellow]warning:[/yellow] {escape(readable_name(report.warning))}", highlight=False,
                          soft_wrap=True)
            if report.error:
                failures += 1
                err.print(f"[red]error:[/red] {escape(readable_name(report.error))}", highlight=False, soft_wrap=True)
                continue
            r = report.result
            skipped += report.skipped
            quarantined += r.quarantined
            # Refreshed even when the file was loaded before: a run killed between its loads and the
            # refresh below left the marts behind, and nothing in the warehouse records that.
            touched.add(report.community)
            table.add_row(escape(readable_name(str(path))), report.platform, escape(report.channel or "(every channel)"), f"{r.new:,}", f"{r.duplicate:,}",
                          f"[yellow]{r.quarantined:,}[/yellow]" if r.quarantined else "0")
        started = time.perf_counter()
        if touched:
            refresh(con, touched)
        marts_seconds = time.perf_counter() - started
    if as_json:
        sys.stdout.write(json.dumps({"files": results, "marts_seconds": round(marts_seconds, 3)}) + "\n")
    elif table.row_count:
        out.print(table)
    if skipped and not as_json:
        out.print(f"{skipped:,} file(s) loaded before, unchanged: not read again (--force reads them).")
    if quarantined and not as_json:
        out.print(f"[yellow]{quarantined:,} record(s) quarantined[/yellow]: "
                  "hub query \"SELECT * FROM quarantine\" shows where and why.")
    if failures:
        raise typer.Exit(1)


def _as_dict(report, seconds: float) -> dict:
    from connectors.files import readable_name

    r = report.result
    return {
        "path": readable_name(str(report.path)), "platform": report.platform, "community": report.community,
        "channel": report.channel, "error": report.error and readable_name(report.error),
        "warning": report.warning and readable_name(report.warning), "skipped": report.skipped,
        "seconds": round(seconds, 3),
        **({"records": r.records, "new": r.new, "duplicate": r.duplicate, "quarantined": r.quarantined} if r else {}),
    }


class _progress_for:
    """A progress bar for files big enough to wait on, on a terminal; otherwise nothing."""

    def __init__(self, path: Path) -> None:
        big = path.is_file() and path.stat().st_size >= PROGRESS_FROM_BYTES
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                            console=err, transient=True) if big and err.is_terminal else None

    def __enter__(self):
        if self.bar is None:
            return None
        self.bar.start()
        task = self.bar.add_task("reading", total=None)
        return lambda done, total: self.bar.update(task, completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command()
def sync(
    db: DbOption = None,
    config: ConfigOption = None,
    community: Annotated[Optional[str], typer.Option(help="Only this community's live sources")] = None,
    lookback_days: Annotated[float, typer.Option(help="Re-read threads started this many days back")] = 60,
) -> None:
    """Pull what is new from every live source in hub.yaml (Slack workspaces, Telegram bots: token_env)."""
    from hub.sync import SyncError, sync_slack, sync_telegram
    from warehouse.db import connect
    from warehouse.marts import refresh

    try:
        cfg = load_config(config)
        if community is not None:
            cfg.community(community)  # (an unknown one is named, not taken for one without live sources)
    except ConfigError as e:
        raise _fail(str(e)) from None
    live = [(c, s) for c in cfg.communities if community in (None, c.slug)
            for s in c.sources if s.token_env and s.platform in ("slack", "telegram")]
    if not live:
        raise _fail("no live source to sync: add a source with platform: slack or telegram and token_env to hub.yaml")
    slack = Table("community", "source", "new messages", "channels", "skipped", "threads re-read", "rate limited",
                  title="Synced Slack")
    telegram = Table("community", "source", "updates", "new messages", "reaction changes", "chats", "rate limited",
                     "quarantined", title="Synced Telegram")
    failed, quarantined = False, 0
    with connect(warehouse_of(db, config)) as con:
        for com, source in live:
            try:
                if source.platform == "slack":
                    r = sync_slack(con, com, source, lookback_days=lookback_days)
                    skipped = ", ".join(f"{k} ({v})" for k, v in r.skipped.items()) or "-"
                    slack.add_row(r.community, r.source, f"{r.messages_new:,}", str(r.channels), skipped,
                                  str(r.threads_reread), str(r.rate_limited))
                else:
                    t = sync_telegram(con, com, source)
                    telegram.add_row(t.community, t.source, f"{t.updates:,}", f"{t.messages_new:,}",
                                     f"{t.reaction_changes:,}", str(t.chats), str(t.rate_limited),
                                     f"[yellow]{t.quarantined:,}[/yellow]" if t.quarantined else "0")
                    quarantined += t.quarantined
            except SyncError as e:
                failed = True
                err.print(f"[red]error:[/red] {escape(str(e))}", highlight=False, soft_wrap=True)
            except Exception as e:  # a defect of ours, or an answer no one foresaw: the other sources still sync
                failed = True
                said = _without_tokens(f"{type(e).__name__}: {e}", live)
                err.print(f"[red]error:[/red] {escape(com.slug)}: the {source.platform} sync stopped unexpectedly "
                          f"({escape(said)}); what it had committed is kept, the next sync goes on from there",
                          highlight=False, soft_wrap=True)
        refresh(con, [c.slug for c, _ in live])
    for table in (slack, telegram):
        if table.row_count:
            out.print(table)
    if quarantined:
        out.print(f"[yellow]{quarantined:,} update(s) quarantined[/yellow]: "
                  "hub query \"SELECT * FROM quarantine\" shows where and why.")
    if failed:
        raise typer.Exit(1)


def _without_tokens(text: str, live: list) -> str:
    """An error's text with every configured token masked (a Bot API URL holds its token), as the
    live connectors mask them in logs."""
    from connectors.redaction import keep_out_of_logs, redact

    for _, source in live:
        keep_out_of_logs(os.environ.get(source.token_env or "", ""))
    return redact(text)


@app.command()
def build(db: DbOption = None, config: ConfigOption = None) -> None:
    """Recompute every derived table (marts, persons, interactions) through the Dagster assets."""
    from hub.build import BuildError, build_derived
    from warehouse.db import WarehouseMissing, connect

    try:
        load_config(config)
        with connect(warehouse_of(db, config), existing=True):  # migrated before Dagster opens it
            pass
        built = build_derived(warehouse_of(db, config), config)
    except (ConfigError, WarehouseMissing, BuildError) as e:  # (a decisions file, a pseudonym key: the user's to mend)
        raise _fail(str(e)) from None
    from hub.incremental import describe
    from warehouse.changes import last_builds

    # A decision the build could not apply (an account id mistyped) is the reviewer's to mend.
    for warning in str((built.get("persons") or {}).get("warnings", "none")).splitlines():
        if warning != "none":
            err.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False, soft_wrap=True)
    with connect(warehouse_of(db, config), read_only=True) as con:
        for plan in last_builds(con):
            out.print(f"{plan.community}: {describe(plan)}", highlight=False)
    table = Table("derived table", "rows", title="Built")
    for name, metadata in sorted(built.items()):
        rows = metadata.get("dagster/row_count")
        table.add_row(name, "" if rows is None else f"{rows:,}")
    out.print(table)


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run (read-only)")],
    db: DbOption = None,
    format: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """Run SQL on a read-only connection to the warehouse, shut off from the file system."""
    import duckdb

    from warehouse.db import QueryRefused, WarehouseMissing, connect_for_queries, typed_query

    if format not in ("table", "csv", "json"):
        raise _fail("--format is table, csv or json")
    try:
        with connect_for_queries(db) as con:
            cursor = typed_query(con, sql)
            if cursor is None:
                raise QueryRefused("no SQL statement to run")
            names = [d[0] for d in cursor.description or []]
            rows = cursor.fetchall()
    except (WarehouseMissing, QueryRefused) as e:
        raise _fail(str(e)) from None
    except duckdb.Error as e:
        raise _fail(str(e).splitlines()[0]) from None
    if format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(names)
        writer.writerows([[v.hex() if isinstance(v, bytes) else _as_json(v) if isinstance(v, (dict, list, tuple)) else v
                           for v in r] for r in rows])
    elif format == "json":
        keys = _distinct(names)  # (a join's two `id` columns are two keys, not one overwriting the other)
        sys.stdout.write(json.dumps([dict(zip(keys, map(_json_value, r))) for r in rows], default=str,
                                    ensure_ascii=False) + "\n")
    else:
        table = Table(*names)
        for column in table.columns:  # an id is copied from here: folded over lines, never cut short
            column.overflow = "fold"
        for row in rows:
            table.add_row(*("" if v is None else escape(str(v)) for v in row))  # `[removed]` is data, not markup
        out.print(table)


def _distinct(names: list[str]) -> list[str]:
    """Column names as distinct keys: a repeated one gets `_1`, `_2`… as DuckDB names them in a table."""
    seen: dict[str, int] = {}
    keys = []
    for name in names:
        n = seen.get(name, 0)
        seen[name] = n + 1
        keys.append(name if n == 0 else f"{name}_{n}")
    return keys


def _json_value(value):
    """A value as JSON has it: numbers stay numbers (DECIMAL too), NaN and infinities are null, bytes hex."""
    if isinstance(value, decimal.Decimal):  # a number, unless a float would change it: then its exact text
        exact = int(value) if value == value.to_integral_value() else float(value)
        return exact if decimal.Decimal(str(exact)) == value else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value


def _as_json(value) -> str:
    """A nested value (a STRUCT, a LIST) in one CSV cell: as JSON, not as Python writes it."""
    return json.dumps(_json_value(value), default=str, ensure_ascii=False)


@app.command()
def report(
    db: DbOption = None,
    community: Annotated[Optional[str], typer.Option(help="Community: its slug or name, or part of it")] = None,
    out_file: Annotated[Optional[Path], typer.Option("--out", help="Write the report here (HTML, Markdown, or a folder of CSV)")] = None,
    format: Annotated[Optional[str], typer.Option("--format", help="html, md or csv \\[default: from --out's suffix, else html]")] = None,
    start: Annotated[Optional[str], typer.Option("--from", help="First day, YYYY-MM-DD \\[default: the first week]")] = None,
    end: Annotated[Optional[str], typer.Option("--to", help="Last day, YYYY-MM-DD \\[default: the latest week]")] = None,
    config: ConfigOption = None,
    show_phones: ShowPhonesOption = False,
) -> None:
    """The cross-platform report: in the terminal, or (--out) one offline HTML page, Markdown or CSV.

    The HTML page is self-contained; the Markdown has SVG charts; CSV is a folder of tables."""
    from hub.report import print_report
    from hub.views import ViewError, community as find
    from warehouse.db import WarehouseMissing, connect

    if out_file is None:
        if format or start or end:
            raise _fail("--format, --from and --to go with --out FILE")
        try:
            with connect(warehouse_of(db, config), read_only=True) as con:
                print_report(con, out, community=find(con, community) if community else None,
                             show_phones=show_phones)
        except (WarehouseMissing, ViewError) as e:
            raise _fail(str(e)) from None
        return
    if out_file.is_dir() and (format or out_file.suffix.lower()) not in ("csv", ".csv"):
        raise _fail(f"--out {out_file} is a folder: name the file to write (e.g. {out_file / 'report.html'})")
    written = _write_report(db, config, community, out_file, format, start, end, show_phones)
    out.print(f"report written to {written}", highlight=False, soft_wrap=True)


def _write_report(db, config, community, out_file: Path, format, start, end, show_phones: bool) -> Path:
    from hub.html_report import FORMATS, ReportError, write_report
    from hub.views import ViewError, community as find
    from warehouse.db import WarehouseMissing, connect

    kind = format or {".md": "md", ".csv": "csv"}.get(out_file.suffix.lower(), "html")
    if kind not in FORMATS:
        raise _fail(f"--format is html, md or csv, not {format!r}")
    first, last = _date_option("--from", start), _date_option("--to", end)
    try:
        settings = load_config(config)
        with connect(warehouse_of(db, config), read_only=True) as con:
            return write_report(con, settings, find(con, community), out_file, kind, start=first, end=last,
                                show_phones=show_phones)
    except (ConfigError, WarehouseMissing, ViewError, ReportError) as e:
        raise _fail(str(e)) from None
    except OSError as e:  # a folder where a file goes, a path that cannot be made
        raise _fail(f"cannot write the report to {out_file}: {e.strerror or e}") from None


def _date_option(option: str, text: str | None):
    """A YYYY-MM-DD option's date; years far outside any chat's (whose weeks around would not exist) refused."""
    import datetime as dt

    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise _fail(f"{option} is a date, YYYY-MM-DD, not {text!r}") from None
    if not 1900 <= day.year <= 2999:
        raise _fail(f"{option} {text}: give a date between 1900-01-01 and 2999-12-31")
    return day


CommunityOption = Annotated[Optional[str], typer.Option("--community", help="Community: its slug or name, or part of it")]
PlatformOption = Annotated[Optional[str], typer.Option("--platform", help="One platform \\[default: all together]")]


def _view(db: Optional[str], show) -> None:
    """Run a terminal view on a read-only connection; a name that matches nothing or too much is an error."""
    from hub.views import ViewError
    from warehouse.db import WarehouseMissing, connect

    try:
        with connect(db, read_only=True) as con:
            show(con)
    except (WarehouseMissing, ViewError) as e:
        raise _fail(str(e)) from None


@app.command()
def communities(db: DbOption = None) -> None:
    """The communities in the warehouse: platforms, members, messages, stage, ambassadors."""
    from hub.views import show_communities

    _view(db, lambda con: show_communities(con, out))


@app.command()
def members(
    community: CommunityOption = None,
    top: Annotated[int, typer.Option(help="How many members", min=1)] = 20,
    level: Annotated[Optional[str], typer.Option(help="Only this level: observer, participant, contributor, ambassador")] = None,
    db: DbOption = None,
    show_phones: ShowPhonesOption = False,
) -> None:
    """A community's members by reputation in the latest week, with level, platforms and flags."""
    from hub.views import show_members

    _view(db, lambda con: show_members(con, out, community, top, level, show_phones))


@app.command()
def member(
    name: Annotated[str, typer.Argument(help="The member's name, or part of it")],
    community: CommunityOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
    show_phones: ShowPhonesOption = False,
) -> None:
    """One member: their accounts, reputation part by part, level over 12 weeks, flags and why."""
    from hub.views import show_member

    try:
        settings = load_config(config)
    except ConfigError as e:
        raise _fail(str(e)) from None
    _view(warehouse_of(db, config), lambda con: show_member(con, out, name, community, settings, show_phones))


@app.command()
def stage(
    community: CommunityOption = None,
    platform: PlatformOption = None,
    weeks: Annotated[int, typer.Option(help="How many weeks back", min=1)] = 12,
    db: DbOption = None,
) -> None:
    """The community's stage now and week by week, with the indicators that put it there."""
    from hub.views import show_stage

    _view(db, lambda con: show_stage(con, out, community, platform, weeks))


@app.command()
def health(
    community: CommunityOption = None,
    platform: PlatformOption = None,
    weeks: Annotated[int, typer.Option(help="How many weeks back", min=1)] = 12,
    db: DbOption = None,
) -> None:
    """Weekly health: members, active, contributors, newcomers and their activation, answers, 1 %."""
    from hub.views import show_health

    _view(db, lambda con: show_health(con, out, community, platform, weeks))


@app.command()
def digest(
    community: CommunityOption = None,
    week: Annotated[Optional[str], typer.Option(help="Monday of the week, YYYY-MM-DD \\[default: the latest]")] = None,
    post: Annotated[bool, typer.Option("--post", help="Send it to the community's digest: channel or chat")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
    show_phones: ShowPhonesOption = False,
) -> None:
    """The weekly digest for members: whom others valued, who was welcomed, the member of the month.

    Printed only (a dry run) unless --post."""
    from hub.digest import DigestError, compose
    from hub.digest import post as send
    from hub.views import ViewError, community as find
    from warehouse.db import WarehouseMissing, connect

    day = _date_option("--week", week)
    try:
        settings = load_config(config)
        with connect(warehouse_of(db, config), read_only=True) as con:
            made = compose(con, settings, find(con, community), day, show_phones=show_phones)
    except (ConfigError, WarehouseMissing, ViewError, DigestError) as e:
        raise _fail(str(e)) from None
    out.print(printable(made.text), highlight=False, markup=False, soft_wrap=True)
    if not post:
        err.print("(dry run: nothing sent; --post sends it to the channel named by digest: in hub.yaml)")
        return
    try:
        where = send(settings.community(made.community), made)
    except DigestError as e:
        raise _fail(str(e)) from None
    err.print(f"posted to {where}")


@app.command()
def forget(
    person: Annotated[str, typer.Argument(help="A person id, an account id, or a name only one person has")],
    community: CommunityOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    build: Annotated[bool, typer.Option(help="Recompute the derived tables afterwards")] = True,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Erase a person from every table and the raw store, and keep them out of later loads."""
    from hub.forget import ForgetError, find, forget_person, still_named_in
    from hub.persons import refresh_persons
    from hub.pseudonyms import PseudonymKeyError
    from hub.views import ViewError, community as find_community
    from warehouse.db import WarehouseMissing, connect

    try:
        settings = load_config(config)
        with connect(warehouse_of(db, config), existing=True) as con:
            slug = find_community(con, community) if community else None
            # Persons as the accounts now stand (a load since the last build may have joined one to them).
            refresh_persons(con, settings, [slug] if slug else None)
            who = find(con, person, slug, settings)
            out.print(escape(f"{who.label} in {who.community}: {len(who.accounts)} account(s): {', '.join(who.accounts)}"),
                      highlight=False)
            if not yes and not typer.confirm("Forget them? This cannot be undone", default=False):
                raise typer.Exit(1)
            done = forget_person(con, who)
    except (WarehouseMissing, ViewError, ForgetError, ConfigError, PseudonymKeyError) as e:
        raise _fail(str(e)) from None
    out.print(f"forgotten: {len(done.accounts)} account(s); {done.messages:,} message(s) now [removed], "
              f"{done.reactions:,} reaction(s) made anonymous, {done.events:,} membership event(s), "
              f"{done.values_scrubbed:,} other value(s) naming them; {done.raw_deleted} raw copy(ies) deleted",
              highlight=False, markup=False)
    for account in who.maybe_same:
        out.print(f"not forgotten, proposed as the same person: {account} (hub forget {account})", highlight=False)
    for where in still_named_in(settings, who):
        out.print(f"still named in the configuration: {where}", highlight=False)
    if build:
        from hub.build import BuildError, build_derived

        try:
            build_derived(warehouse_of(db, config), config)
        except (ConfigError, BuildError) as e:  # forgotten all the same: only the recompute waits
            raise _fail(f"forgotten, but the derived tables were not recomputed: {e}; mend it and run hub build",
                        1) from None
        out.print("derived tables recomputed without them")
    else:
        out.print("run hub build to recompute the derived tables without them")


@app.command()
def simulate(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the export and its ground truth into")],
    members: Annotated[int, typer.Option(help="Members in the community", min=2)] = 60,
    days: Annotated[int, typer.Option(help="Days of history", min=1)] = 180,
    messages: Annotated[Optional[int], typer.Option(help="About this many messages (scales activity)", min=1)] = None,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same community")] = 1,
    variant: Annotated[str, typer.Option(help="Export variant, e.g. android_en_gb, ios_en_us, ios_de")] = "android_en_gb",
    name: Annotated[str, typer.Option(help="Chat name")] = "Makers",
) -> None:
    """Generate a community with known roles and stages, written as a WhatsApp export."""
    from hub.ingest import TRUTH_SUFFIX
    from hub.simulate import simulate as run
    from hub.simulate.whatsapp import VARIANTS, write_export

    if variant not in VARIANTS:
        raise _fail(f"unknown variant {variant!r}: known are {', '.join(VARIANTS)}")
    sim = run(members=members, days=days, seed=seed, messages=messages, name=name)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = write_export(sim, out_dir, variant)
    (out_dir / f"{path.stem}{TRUTH_SUFFIX}").write_text(json.dumps(sim.truth(), indent=1, default=str))
    out.print(f"wrote {len(sim.messages):,} messages by {len(sim.members)} members to {path}")


@app.command()
def demo(
    db: Annotated[str, typer.Option(help="Warehouse file for the demo (started afresh), or a DuckLake catalog (ducklake:…)")] = "data/demo.duckdb",
    workdir: Annotated[Path, typer.Option(help="Where the sample exports are written (emptied first)")] = Path("data/demo"),
) -> None:
    """Simulate a community on every platform, run the whole Dagster pipeline, print the report."""
    from hub.demo import NotADemo, run_demo
    from warehouse.db import as_target

    try:
        run_demo(db=as_target(db), workdir=workdir, console=out)
    except NotADemo as e:
        raise _fail(str(e)) from None


from hub.persons_cli import persons_app  # noqa: E402  (a sub-app: `hub persons …`)
app.add_typer(persons_app, name="persons")
