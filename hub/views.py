"""Terminal views of the derived tables for promoters: communities, members, one member, the
stage and the health of a community. Rich tables that fit 80 columns; names may be partial.

The numbers come from warehouse/views.py; this module resolves names and lays them out.
"""

from __future__ import annotations

import duckdb
from rich.console import Console
from rich.table import Table

from hub.config import HubConfig
from hub.privacy import masked, shown
from hub.report import members_table, sparkline
from hub.rules import LEVELS, STAGES
from warehouse import views


class ViewError(Exception):
    """A name that matches nothing, or too much: the message says which and what to type."""


def community(con: duckdb.DuckDBPyConnection, text: str | None) -> str:
    """The one community `text` names (part of its slug or name); with no text, the only one."""
    found = views.find_communities(con, text)
    if len(found) == 1:
        return found[0][0]
    if not found:
        raise ViewError(f"no community matches {text!r}" if text else "the warehouse has no community yet")
    names = ", ".join(slug for slug, _ in found)
    raise ViewError(f"{'several communities match ' + repr(text) if text else 'several communities'}: {names}; "
                    "name one with --community")


def show_communities(con: duckdb.DuckDBPyConnection, console: Console) -> None:
    table = Table("community", "platforms", "members\nmessages", "stage\n[dim]week[/dim]", "ambassadors",
                  title="Communities, each in its latest week", title_justify="left")
    table.columns[0].no_wrap = table.columns[3].no_wrap = True
    for slug, name, platforms, persons, messages, week, stage, ambassadors in views.communities(con):
        label = f"{slug}\n[dim]{shown(name)}[/dim]" if name and name != slug else slug
        where = f"{stage} {STAGES[stage]}\n[dim]{week:%Y-%m-%d}[/dim]" if stage else "[dim]not built[/dim]"
        table.add_row(label, shown(platforms), f"{persons:,}\n{messages:,}", where, f"{ambassadors:,}")
    console.print(table)


def show_members(con: duckdb.DuckDBPyConnection, console: Console, text: str | None, top: int,
                 level: str | None, show_phones: bool = False) -> None:
    if level is not None and level not in LEVELS:
        raise ViewError(f"--level is one of {', '.join(LEVELS)}, not {level!r}")
    slug = community(con, text)
    rows = views.members(con, slug, top, level)
    title = f"Members of {slug}, latest week" + (f" ({level})" if level else "")
    console.print(members_table(rows, title, show_phones) if rows else f"No member of {slug} is scored yet: run hub build.")


def show_member(con: duckdb.DuckDBPyConnection, console: Console, text: str, community_text: str | None,
                config: HubConfig, show_phones: bool = False) -> None:
    slug = community(con, community_text) if community_text else None
    found = views.find_members(con, text, slug)
    if not found and not views.has_persons(con):
        raise ViewError("no persons yet: run hub build, which joins accounts into persons")
    if not found:
        raise ViewError(f"no member matches {text!r}" + (f" in {slug}" if slug else ""))
    if len(found) > 1:
        listed = "; ".join(f"{masked(name, show_phones)} ({c}, {where}: {person})"  # (escaped by the error's printer)
                           for person, name, c, where in found[:10])
        more = f" and {len(found) - 10} more" if len(found) > 10 else ""
        raise ViewError(f"{len(found)} members match {text!r}: {listed}{more}. Type more of the name, or the person id.")
    person, name, slug, _ = found[0]
    console.print(f"[bold]{shown(name, show_phones)}[/bold]  [dim]{slug} · {shown(person)}[/dim]")
    accounts = Table("platform", "shown as", "handle", "tied by", title="Accounts", title_justify="left")
    for platform, name_there, handle, method, confidence in views.member_accounts(con, person):
        accounts.add_row(platform, shown(name_there, show_phones), shown(handle), f"{method} ({confidence:.2f})")
    console.print(accounts)
    row = views.member_score(con, person)
    if row is None:
        console.print("Not scored yet: run hub build.")
        return
    weights = config.rules(slug).scoring.weights
    history = views.member_levels(con, person, 12)
    parts = Table("part", "decayed", "weight", "points",
                  title=f"Reputation {row['reputation']:,.1f} ({row['level']}), week of {row['week']:%Y-%m-%d}; "
                        f"last 12 weeks {sparkline([round(r) for _, _, r in history])}",
                  title_justify="left")
    for part, weight in weights.items():
        parts.add_row(part.replace("_", " "), f"{row[part]:,.2f}", f"{weight:g}", f"{row[part] * weight:,.1f}")
    console.print(parts)
    for flag, evidence in views.member_flags(con, person):
        console.print(f"[bold]{flag.replace('_', ' ')}[/bold]: {shown(evidence, show_phones)}")


def _platform(con: duckdb.DuckDBPyConnection, slug: str, platform: str | None) -> str | None:
    """The --platform asked for, if the community is on it."""
    if platform is None:
        return None
    known = views.platforms(con, slug)
    if platform.lower() not in known:
        raise ViewError(f"{slug} has no messages on {platform!r}: its platforms are {', '.join(known) or 'none yet'}")
    return platform.lower()


def show_stage(con: duckdb.DuckDBPyConnection, console: Console, text: str | None, platform: str | None,
               weeks: int) -> None:
    slug = community(con, text)
    platform = _platform(con, slug, platform)
    rows = views.stages(con, slug, platform, weeks)
    if not rows:
        console.print(f"No stage for {slug}" + (f" on {platform}" if platform else "") + " yet: run hub build.")
        return
    week, stage, reason = next(r for r in reversed(rows) if r[1] is not None)
    console.print(f"[bold]{slug}[/bold]" + (f" on {platform}" if platform else ", all platforms")
                  + f": stage {stage}, {STAGES[stage]} (week of {week:%Y-%m-%d})\n{shown(reason)}")
    table = Table("week", "stage", "why", title=f"Last {len(rows)} weeks", title_justify="left")
    table.columns[0].no_wrap = True
    for week, stage, reason in reversed(rows):
        table.add_row(f"{week:%Y-%m-%d}", f"{stage} {STAGES[stage]}" if stage else "—", shown(reason))
    console.print(table)


def show_health(con: duckdb.DuckDBPyConnection, console: Console, text: str | None, platform: str | None,
                weeks: int) -> None:
    slug = community(con, text)
    platform = _platform(con, slug, platform)
    rows = views.health(con, slug, platform, weeks)
    if not rows:
        console.print(f"No health figures for {slug} yet: run hub build.")
        return
    table = Table("week", "members", "active", "contrib.", "new\n(active)", "answered", "reply\nmin", "top\n1 %",
                  title=f"Health of {slug}" + (f" on {platform}" if platform else ", all platforms"),
                  title_justify="left")
    table.columns[0].no_wrap = True
    for week, members, active, contributors, new, activated, questions, answered, minutes, top in rows:
        table.add_row(f"{week:%Y-%m-%d}", f"{members:,}", f"{active:,}", f"{contributors:,}", f"{new:,} ({activated:,})",
                      f"{answered}/{questions}", "" if minutes is None else f"{minutes:,.0f}",
                      "" if top is None else f"{top:.0%}")
    console.print(table)
