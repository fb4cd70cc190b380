"""`hub persons`: who is who across platforms; review the proposed matches, merge and split."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from hub.config import ConfigError, HubConfig, load_config, warehouse_of
from hub.privacy import terminal_text as escape  # data never read as markup nor sent as control codes

persons_app = typer.Typer(help="People across platforms: one person, several accounts.",
                          no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
# No :emoji: codes: stored values such as `pseudo:phone:…` are printed as they are.
out = Console(emoji=False)
err = Console(stderr=True, emoji=False)

# The same options as the other `hub` commands (hub.cli imports this module, so they are not shared).
DbOption = Annotated[Optional[str], typer.Option("--db", help="Warehouse file, or DuckLake catalog (ducklake:…) \\[default: $HUB_DB, else the config's warehouse, else ./data/hub.duckdb]")]
ConfigOption = Annotated[Optional[Path], typer.Option("--config", help="Configuration file \\[default: $HUB_CONFIG, else ./hub.yaml if present]")]
CommunityOption = Annotated[Optional[str], typer.Option(help="Community slug \\[default: every community, or the accounts' own]")]


def _table(*columns: str, title: str) -> Table:
    # Ids are what the reviewer copies into `hub persons merge`: wrapped on narrow terminals, never cut.
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _config(path: Path | None) -> HubConfig:
    try:
        return load_config(path)
    except ConfigError as e:
        raise _fail(str(e)) from None


def _refresh(con, cfg: HubConfig, communities: list[str] | None):
    from hub.persons import refresh_persons

    try:
        refreshed = refresh_persons(con, cfg, communities)
    except ConfigError as e:
        raise _fail(str(e)) from None
    for r in refreshed.values():
        for warning in r.warnings:
            err.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False, soft_wrap=True)
    return refreshed


def _communities(con, community: str | None) -> list[str]:
    from warehouse import persons as sql

    known = sql.communities(con)
    if community is None:
        if not known:  # (rather than no output at all)
            out.print("no accounts in the warehouse yet: hub ingest FILE loads some", highlight=False)
        return known
    if community not in known:
        raise _fail(f"no accounts in community {community!r}: known are {', '.join(known) or 'none (ingest first)'}")
    return [community]


@persons_app.command()
def suggest(
    db: DbOption = None,
    config: ConfigOption = None,
    community: CommunityOption = None,
    min_confidence: Annotated[float, typer.Option(help="Hide suggestions less likely than this (0 lists all)")] = 0.25,
) -> None:
    """Recompute persons, then print the likely matches to review, with confidence and reason."""
    from warehouse import persons as sql
    from warehouse.db import connect

    cfg = _config(config)
    with connect(warehouse_of(db, config), existing=True) as con:
        refreshed = _refresh(con, cfg, _communities(con, community))
        for slug, r in refreshed.items():
            out.print(f"[bold]{slug}[/bold]: {r.accounts:,} accounts, {r.persons:,} persons "
                      f"({r.merged:,} with several accounts), {r.suggestions:,} suggestions", highlight=False)
            rows = sql.suggestions(con, slug)
            shown = [row for row in rows if row[0] > 0 and row[0] >= min_confidence]
            if shown:
                table = _table("confidence", "account", "other account", "reason", title=f"Suggested matches ({slug})")
                for c, a, ap, an, b, bp, bn, reason in shown:
                    table.add_row(f"{c:.2f}", f"{escape(a)}\n[dim]{escape(an or '')} ({ap})[/dim]",
                                  f"{escape(b)}\n[dim]{escape(bn or '')} ({bp})[/dim]", escape(reason))
                out.print(table)
            hidden = sum(1 for row in rows if 0 < row[0] < min_confidence)
            if hidden:
                out.print(f"{hidden:,} less likely suggestion(s) below {min_confidence}: --min-confidence 0 lists them")
            apart = [row for row in rows if row[0] == 0]
            if apart:
                table = _table("account", "other account", "reason", title=f"Kept apart by never_merge ({slug})")
                for _, a, _, _, b, _, _, reason in apart:
                    table.add_row(escape(a), escape(b), escape(reason))
                out.print(table)
            if shown:
                out.print("Merge a match with: hub persons merge ACCOUNT ACCOUNT")


def _accounts_of(con, accounts: list[str], community: str | None) -> str:
    """The one community these accounts are in; fails on unknown accounts, bots, or a mix."""
    from warehouse import persons as sql

    rows = sql.account_rows(con, accounts)
    unknown = [a for a in accounts if a not in rows]
    if unknown:
        raise _fail(f"no such account: {', '.join(unknown)} (hub persons show NAME lists account ids)")
    bots = [a for a in accounts if rows[a][3]]
    if bots:
        raise _fail(f"{', '.join(bots)}: a bot is not a person")
    communities = sorted({rows[a][0] for a in accounts})
    if community is not None and communities != [community]:
        raise _fail(f"not accounts of community {community!r}: "
                    f"{', '.join(a for a in accounts if rows[a][0] != community)}")
    if len(communities) > 1:
        raise _fail(f"these accounts are in different communities ({', '.join(communities)}): a person is in one")
    return communities[0]


def _person_table(rows: list[tuple], title: str) -> Table:
    table = _table("person", "account", "platform", "name", "handle", "method", "confidence", title=title)
    for person_id, name, accounts in rows:
        for i, (account_id, platform, display, handle, method, confidence) in enumerate(accounts):
            table.add_row(f"{escape(name)}\n[dim]{person_id}[/dim]" if i == 0 else "", escape(account_id), platform,
                          escape(display or ""), escape(handle or ""), method, f"{confidence:.2f}",
                          end_section=i == len(accounts) - 1)
    return table


def _persons_of(con, community: str, accounts: list[str]) -> list[tuple]:
    from warehouse import persons as sql

    return sql.persons(con, community, accounts=accounts)


@persons_app.command()
def merge(
    accounts: Annotated[list[str], typer.Argument(help="Two or more account ids (accounts.account_id)")],
    db: DbOption = None,
    config: ConfigOption = None,
    community: CommunityOption = None,
) -> None:
    """Record that these accounts are one person (in the community's identities file), and recompute."""
    from hub.persons import record_merge
    from warehouse.db import connect

    accounts = list(dict.fromkeys(accounts))
    if len(accounts) < 2:
        raise _fail("name at least two different accounts to merge")
    cfg = _config(config)
    with connect(warehouse_of(db, config), existing=True) as con:
        slug = _accounts_of(con, accounts, community)
        path = cfg.identities_file(slug)
        try:
            changes = record_merge(path, accounts)
        except ConfigError as e:
            raise _fail(str(e)) from None
        _refresh(con, cfg, [slug])
        rows = _persons_of(con, slug, accounts)
    for change in changes or ["already merged: nothing to record"]:
        out.print(f"{path}: {change}", highlight=False, markup=False, soft_wrap=True)
    out.print(_person_table(rows, "Now"))
    if len(rows) > 1:
        raise _fail("these accounts are still apart: a never_merge keeps some of their persons apart "
                    "(see the warnings above, and hub persons split)", 1)


@persons_app.command()
def split(
    account: Annotated[str, typer.Argument(help="An account id")],
    other: Annotated[str, typer.Argument(help="The account it is not the same person as")],
    db: DbOption = None,
    config: ConfigOption = None,
    community: CommunityOption = None,
) -> None:
    """Record that two accounts are never one person (removing any merge that joins them), and recompute."""
    from hub.persons import record_split
    from warehouse.db import connect

    if account == other:
        raise _fail("name two different accounts to split")
    cfg = _config(config)
    with connect(warehouse_of(db, config), existing=True) as con:
        slug = _accounts_of(con, [account, other], community)
        path = cfg.identities_file(slug)
        try:
            changes = record_split(path, account, other)
        except ConfigError as e:
            raise _fail(str(e)) from None
        _refresh(con, cfg, [slug])
        rows = _persons_of(con, slug, [account, other])
    for change in changes or ["already apart: nothing to record"]:
        out.print(f"{path}: {change}", highlight=False, markup=False, soft_wrap=True)
    out.print(_person_table(rows, "Now"))


@persons_app.command()
def show(
    name: Annotated[Optional[str], typer.Argument(help="Only persons whose name, handle, e-mail, phone or account id holds this")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    community: CommunityOption = None,
    limit: Annotated[int, typer.Option(help="At most this many persons per community")] = 50,
) -> None:
    """Recompute persons, then list them with their accounts (persons with most accounts first)."""
    from warehouse import persons as sql
    from warehouse.db import connect

    cfg = _config(config)
    with connect(warehouse_of(db, config), existing=True) as con:
        refreshed = _refresh(con, cfg, _communities(con, community))
        for slug, r in refreshed.items():
            rows = sql.persons(con, slug, name, limit)
            if not rows:
                out.print(f"{slug}: no person{f' matching {name!r}' if name else ''}", highlight=False, markup=False)
                continue
            out.print(_person_table(rows, f"{slug}: {r.persons:,} persons, {r.merged:,} with several accounts"))
            if len(rows) == limit:
                out.print(f"the first {limit}: --limit N shows more, NAME narrows", highlight=False)
