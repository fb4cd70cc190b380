"""The SQL of identity resolution: the accounts it reads, the persons it writes (hub/persons.py
decides who is who)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import duckdb
import pyarrow as pa

from warehouse.db import rollback, take_turn


def communities(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Communities with accounts, or with persons computed earlier."""
    return [c for (c,) in con.execute(
        "SELECT community FROM accounts UNION SELECT community FROM persons ORDER BY 1").fetchall()]


def pseudonymised(con: duckdb.DuckDBPyConnection, community: str | None = None) -> bool:
    """Whether the community (or any, when None) was loaded pseudonymised, whatever hub.yaml says
    now (`hub ingest --pseudonymise` needs no configuration)."""
    return con.execute("""SELECT count(*) > 0 FROM communities WHERE pseudonym_check IS NOT NULL
                          AND ($c IS NULL OR community = $c)""", {"c": community}).fetchone()[0]


def timezones(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT community, timezone FROM communities").fetchall())


def accounts(con: duckdb.DuckDBPyConnection, community: str) -> list[tuple]:
    """(account_id, platform, display_name, handle, email, phone, first_seen_at, last_seen_at) of
    the community's accounts that are people (bots are not persons); times in UTC."""
    rows = con.execute(
        """SELECT account_id, platform, display_name, handle, email, phone, epoch_us(first_seen_at),
                  epoch_us(last_seen_at)
           FROM accounts WHERE community = ? AND NOT is_bot ORDER BY account_id""", [community]).fetchall()
    # Made here from microseconds: DuckDB's own conversion to zoned datetimes took most of the time.
    return [(*row[:6], _utc(row[6]), _utc(row[7])) for row in rows]


def _utc(microseconds: int | None) -> datetime | None:
    return None if microseconds is None else _EPOCH + timedelta(microseconds=microseconds)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def account_rows(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, tuple]:
    """account_id -> (community, platform, display_name, is_bot) for the ids that exist."""
    rows = con.execute("""SELECT account_id, community, platform, display_name, is_bot FROM accounts
                          WHERE list_contains(?, account_id)""", [ids]).fetchall()
    return {r[0]: r[1:] for r in rows}


_PERSONS = pa.schema([("person_id", pa.string()), ("community", pa.string()), ("display_name", pa.string())])
_LINKS = pa.schema([("person_id", pa.string()), ("account_id", pa.string()), ("method", pa.string()),
                    ("confidence", pa.float64())])
_SUGGESTIONS = pa.schema([("community", pa.string()), ("account_id", pa.string()),
                          ("other_account_id", pa.string()), ("confidence", pa.float64()), ("reason", pa.string())])


def replace(con: duckdb.DuckDBPyConnection, by_community: dict[str, tuple[list, list, list]]) -> None:
    """Replace these communities' persons, person_accounts and identity_suggestions, in one
    transaction: (persons, person_accounts, suggestions) rows per community."""
    persons = pa.Table.from_pylist(
        [dict(zip(_PERSONS.names, (p, c, n))) for c, (rows, _, _) in by_community.items() for p, n in rows],
        schema=_PERSONS)
    links = pa.Table.from_pylist(
        [dict(zip(_LINKS.names, row)) for _, links, _ in by_community.values() for row in links], schema=_LINKS)
    suggestions = pa.Table.from_pylist(
        [dict(zip(_SUGGESTIONS.names, (c, *row))) for c, (_, _, rows) in by_community.items() for row in rows],
        schema=_SUGGESTIONS)
    wanted = sorted(by_community)
    con.execute("BEGIN TRANSACTION")
    try:
        take_turn(con)
        con.execute("""DELETE FROM person_accounts WHERE person_id IN
                         (SELECT person_id FROM persons WHERE list_contains($c, community))
                       OR account_id IN (SELECT account_id FROM accounts WHERE list_contains($c, community))""",
                    {"c": wanted})
        con.execute("DELETE FROM persons WHERE list_contains(?, community)", [wanted])
        con.execute("DELETE FROM identity_suggestions WHERE list_contains(?, community)", [wanted])
        for table, rows in (("persons", persons), ("person_accounts", links), ("identity_suggestions", suggestions)):
            con.register("person_rows", rows)
            try:
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM person_rows")
            finally:
                con.unregister("person_rows")
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise


def persons(con: duckdb.DuckDBPyConnection, community: str, name: str | None = None,
            limit: int | None = None, accounts: list[str] | None = None) -> list[tuple]:
    """(person_id, display_name, accounts) of a community's persons, most accounts first; with a
    name, only persons whose name, or one of whose accounts' name, handle, e-mail, phone or id,
    holds it (case and accents aside); with account ids, only the persons holding them.
    `accounts` is a list of (account_id, platform, display_name, handle, method, confidence)."""
    return con.execute(
        """WITH hits AS (
               SELECT p.person_id FROM persons p
               JOIN person_accounts pa USING (person_id) JOIN accounts a USING (account_id)
               WHERE p.community = $c AND ($name IS NULL OR contains(
                   strip_accents(lower(concat_ws(' ', p.display_name, a.display_name, a.handle, a.email, a.phone,
                                                 a.account_id))),
                   strip_accents(lower($name))))
                 AND ($accounts IS NULL OR list_contains($accounts, a.account_id))
           )
           SELECT p.person_id, p.display_name,
                  list((a.account_id, a.platform, a.display_name, a.handle, pa.method, pa.confidence)
                       ORDER BY a.platform, a.account_id) AS accounts
           FROM persons p JOIN person_accounts pa USING (person_id) JOIN accounts a USING (account_id)
           WHERE p.person_id IN (SELECT person_id FROM hits)
           GROUP BY p.person_id, p.display_name
           ORDER BY count(*) DESC, p.display_name, p.person_id
           LIMIT $limit""", {"c": community, "name": name, "limit": limit, "accounts": accounts}).fetchall()


def suggestions(con: duckdb.DuckDBPyConnection, community: str, min_confidence: float = 0.0) -> list[tuple]:
    """A community's suggestions, most likely first: (confidence, account_id, platform,
    display_name, other_account_id, other platform, other display_name, reason). Pairs a
    never_merge kept apart (confidence 0) are listed when min_confidence is 0."""
    return con.execute(
        """SELECT s.confidence, s.account_id, a.platform, a.display_name,
                  s.other_account_id, b.platform, b.display_name, s.reason
           FROM identity_suggestions s
           JOIN accounts a ON a.account_id = s.account_id JOIN accounts b ON b.account_id = s.other_account_id
           WHERE s.community = $c AND s.confidence >= $min
           ORDER BY s.confidence DESC, s.account_id, s.other_account_id""",
        {"c": community, "min": min_confidence}).fetchall()
