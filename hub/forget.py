"""`hub forget PERSON`: a member's request to be forgotten, carried out in every table, in the raw
store, and for every later load (warehouse/forget.py says what becomes of each row)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import duckdb

from hub.config import HubConfig, load_identities
from hub.landing import delete_raw_copies
from warehouse import forget as sql
from warehouse.db import in_turn, on_lake
from warehouse.lake import forget_history, retried_on_conflict
from warehouse.views import find_members


class ForgetError(Exception):
    """Nobody, or more than one person, answers to what was typed: the message says what to type."""


@dataclass
class Person:
    community: str
    label: str  # what to show: the person's name and id, or the account
    accounts: list[str]
    maybe_same: list[str]  # accounts proposed as the same person, not merged: not forgotten with them
    names: list[str] = field(default_factory=list)  # the person's and their accounts' names


def find(con: duckdb.DuckDBPyConnection, text: str, community: str | None, config: HubConfig | None = None) -> Person:
    """The one person `text` names: a person id, an account id, or a name matching only one person
    (in a pseudonymised community, the name as it was before: its pseudonym is looked up)."""
    row = sql.account(con, text)
    if row is None:
        # Forgetting cannot be undone: a name must be a person's whole name, not part of one.
        named = find_members(con, text, community)
        found = _exactly(con, named, text) or _by_pseudonym(con, text, community, config)
        if named and not found:
            listed = "; ".join(f"{name} ({c}: {person})" for person, name, c, _ in named[:10])
            raise ForgetError(f"no one is called exactly {text!r}; partly matching: {listed}. "
                              "Give the whole name or the person id.")
        if len(found) > 1:
            listed = "; ".join(f"{name} ({c}: {person})" for person, name, c, _ in found[:10])
            raise ForgetError(f"{len(found)} people match {text!r}: {listed}. Give the person id.")
        if not found:
            raise ForgetError(f"nobody matches {text!r}: give a person id (hub members, hub member NAME) "
                              "or an account id (hub query \"SELECT account_id, display_name FROM accounts\")")
        person, name, slug, _ = found[0]
        row, text = (slug, name), person
    slug, name = row
    accounts = sql.accounts_of(con, slug, text)
    return Person(slug, f"{name} ({text})", accounts, sql.proposed_same(con, slug, accounts),
                  sql.names_of(con, accounts, name))


def _exactly(con: duckdb.DuckDBPyConnection, found: list[tuple], text: str) -> list[tuple]:
    """The matches that are the person id, or whose name or one of whose accounts' names is the
    whole of `text` (case aside)."""
    named = sql.persons_with_account_named(con, [f[0] for f in found], text)
    return [f for f in found if f[0] == text or f[1].casefold() == text.casefold() or f[0] in named]


def _by_pseudonym(con: duckdb.DuckDBPyConnection, text: str, community: str | None,
                  config: HubConfig | None) -> list[tuple]:
    from hub.pseudonyms import Pseudonymiser, PseudonymKeyError
    from warehouse.persons import pseudonymised

    configured = config is not None and any(c.pseudonymise for c in config.communities)
    if not configured and not pseudonymised(con, community):
        return []
    try:
        pseudonym = Pseudonymiser.from_env().name(text)
    except PseudonymKeyError:
        raise PseudonymKeyError(
            f"no member is stored as {text!r}; {community or 'a community'} was loaded pseudonymised, so a member is "
            "found by their real name only with the key: set $HUB_PSEUDONYM_KEY") from None
    return _exactly(con, find_members(con, pseudonym, community), pseudonym)


def forget_person(con: duckdb.DuckDBPyConnection, person: Person) -> sql.Forgotten:
    """Erase the person in one transaction, then delete the raw copies of the files that held them."""
    erasure_id = uuid.uuid4().hex
    done = in_turn(con, lambda: sql.forget(con, person.community, person.accounts, erasure_id))
    done.raw_deleted = delete_raw_copies(done.raw_copies)
    if on_lake(con):  # DuckLake keeps what a commit replaced, in its files and snapshots: not theirs
        retried_on_conflict(lambda: forget_history(con))
    return done


def still_named_in(config: HubConfig, person: Person) -> list[str]:
    """Configuration that still names the person's accounts (the hub does not rewrite people's files)."""
    found = []
    decisions = load_identities(config.identities_file(person.community))
    for key in ("merge", "never_merge"):
        for i, group in enumerate(getattr(decisions, key)):
            if set(group) & set(person.accounts):
                found.append(decisions.where(key, i))
    community = next((c for c in config.communities if c.slug == person.community), None)
    names = {n.casefold() for n in person.names}
    where = config.path or "hub.yaml"
    for promoter in community.promoters if community else []:
        if any(_names_them(p, person, names) for p in _as_stored(promoter, community)):
            found.append(f"{where}: promoters: " + (promoter.name or f"{promoter.platform} {promoter.account}"))
    return found


def _names_them(promoter, person: Person, names: set[str]) -> bool:
    return bool(promoter.account and any(a.endswith(f":{promoter.account}") for a in person.accounts)
                or promoter.name and promoter.name.casefold() in names)


def _as_stored(promoter, community) -> list:
    """The promoter as written, and in a pseudonymised community as stored (which needs the key:
    without it, the person was not found by their real name either)."""
    if not community.pseudonymise:
        return [promoter]
    from hub.pseudonyms import PseudonymKeyError, as_stored

    try:
        return [promoter, *as_stored([promoter], community.timezone)]
    except PseudonymKeyError:
        return [promoter]
