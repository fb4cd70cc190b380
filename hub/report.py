"""The cross-platform summary a promoter reads in the terminal (`hub report`, end of `make demo`).

All numbers come from the warehouse's SQL (`warehouse/reports.py`); this module only lays them out.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import duckdb
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from hub.privacy import shown
from hub.rules import STAGES
from warehouse import reports, views

_BARS = " ▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    top = max(values, default=0)
    if not top:
        return " " * len(values)
    return "".join(_BARS[round(v / top * (len(_BARS) - 1))] for v in values)


def print_report(con: duckdb.DuckDBPyConnection, console: Console, *, community: str | None = None,
                 weeks: int = 16, show_phones: bool = False) -> None:
    communities = reports.communities(con, community)
    if not communities:
        console.print("The warehouse holds no messages yet: ingest an export first (hub ingest FILE).")
        return
    for slug, name, tz in communities:
        console.print(Panel.fit(f"[bold]{shown(name)}[/bold]  ({slug}, times in {tz})", border_style="cyan"))
        _platforms(con, console, slug, tz)
        _weekly(con, console, slug, weeks)
        if _standing(con, console, slug, show_phones):
            _reputation(con, console, slug, show_phones)
        else:
            _members(con, console, slug, show_phones, tz)
        _quarantine(con, console, slug)


def _day(at, tz: str) -> str:
    """The day of a time as the community lives it (the header says in which zone)."""
    return f"{at.astimezone(ZoneInfo(tz)):%Y-%m-%d}" if at is not None else ""


def _platforms(con, console: Console, slug: str, tz: str) -> None:
    table = Table("platform", "channels", "messages", "writers", "media", "first", "last",
                  title="Across platforms", title_justify="left")
    for row in reports.platform_totals(con, slug):
        platform, channels, messages, members, media, first, last = row
        style = "bold" if platform == "all platforms" else None
        table.add_row(platform, f"{channels:,}", f"{messages:,}", f"{members:,}", f"{media:,}",
                      _day(first, tz), _day(last, tz), style=style)
    console.print(table)


def _weekly(con, console: Console, slug: str, weeks: int) -> None:
    series = reports.weekly_activity(con, slug, weeks)
    if not series:
        return
    table = Table("platform", f"messages per week, last {weeks} weeks", "this week", "active members",
                  title="Activity", title_justify="left")
    for platform, values, active in series:
        table.add_row(platform, sparkline(values), f"{values[-1]:,}", f"{active[-1]:,}")
    console.print(table)


def _standing(con, console: Console, slug: str, show_phones: bool) -> bool:
    """Stage, people across platforms and flags of the latest scored week; False before `hub build`."""
    latest = views.stages(con, slug, None, 1)
    if not latest:
        console.print("[dim]Stage, reputation and ambassadors come with the derived tables: run hub build.[/dim]")
        return False
    week, stage, reason = latest[0]
    console.print(f"[bold]Stage {stage}, {STAGES[stage]}[/bold] across platforms, week of {week:%Y-%m-%d}: {shown(reason)}",
                  highlight=False)
    each = [(p, views.stages(con, slug, p, 1)) for p in views.platforms(con, slug)]
    per_platform = [f"{p} {rows[0][1]}" for p, rows in each if rows]
    if per_platform:
        console.print("Stage per platform: " + ", ".join(per_platform), highlight=False)
    accounts, persons, across, proposed = reports.people(con, slug)
    console.print(f"People: {persons:,} persons from {accounts:,} accounts, {across:,} of them on several platforms"
                  + (f"; {proposed:,} likely matches to review (hub persons suggest)" if proposed else ""),
                  highlight=False)
    for flag, count, names in reports.flagged(con, slug, 5):
        more = ", …" if count > len(names) else ""
        console.print(f"[bold]{flag.replace('_', ' ')}[/bold] {count:,}: "
                      + ", ".join(shown(n, show_phones) for n in names) + more, highlight=False)
    return True


def _reputation(con, console: Console, slug: str, show_phones: bool) -> None:
    console.print(members_table(views.members(con, slug, 10, None), "Members by reputation (latest week)", show_phones))


def members_table(rows: list[tuple], title: str, show_phones: bool) -> Table:
    """Members by reputation (rows of `warehouse.views.members`), as `hub members` and the report show them."""
    table = Table("member", "level", "reputation", "platforms", "flags", title=title, title_justify="left")
    table.columns[0].overflow = "fold"
    for name, level, reputation, platforms, flags, _ in rows:
        table.add_row(shown(name, show_phones), level, f"{reputation:,.1f}", shown(platforms), flags.replace("_", " "))
    return table


def _members(con, console: Console, slug: str, show_phones: bool, tz: str) -> None:
    table = Table("member", "platforms", "messages", "weeks active", "last seen",
                  title="Most active members (all time)", title_justify="left")
    for name, platforms, messages, weeks, last in reports.top_members(con, slug, 10):
        table.add_row(shown(name, show_phones), shown(platforms), f"{messages:,}", f"{weeks:,}", _day(last, tz))
    console.print(table)


def _quarantine(con, console: Console, slug: str) -> None:
    count = reports.quarantined(con, slug)
    if count:
        console.print(f"[yellow]{count:,} record(s) in quarantine[/yellow] "
                      "(hub query \"SELECT * FROM quarantine\" shows where and why)")
