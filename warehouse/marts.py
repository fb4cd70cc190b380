"""Derived tables (marts), rebuilt per community from the core tables by the SQL in `warehouse/sql/`.

Each file there is an INSERT of one community's rows into the mart of the same name (created by
a migration), with `$community` and `$timezone` as parameters. A community's rows are rebuilt only
when what the mart reads of it changed (its fingerprint is kept in `mart_inputs`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib import resources

import duckdb

from warehouse.db import transaction
from warehouse.lake import retried_on_conflict


def mart_sql() -> dict[str, str]:
    """Mart name -> the SQL that rebuilds one community's rows, in name order."""
    files = sorted(f for f in resources.files("warehouse.sql").iterdir() if f.name.endswith(".sql"))
    return {f.name.removesuffix(".sql"): f.read_text(encoding="utf-8") for f in files}


# What a mart reads of a community, as one fingerprint per community: its messages (the columns
# the SQL uses) and its accounts' names. `kind` as text: an ENUM in a DuckDB file, VARCHAR on
# DuckLake, and the two hash differently. Cheap next to the mart itself (a hash per row, no join).
_INPUTS = """
SELECT community, hash(bit_xor(h), count(*))::VARCHAR FROM (
    SELECT community,
           hash(message_id, platform, author_id, author_name, has_media, channel_id, sent_at, kind::VARCHAR) AS h
    FROM messages
    UNION ALL SELECT community, hash(account_id, display_name) FROM accounts
) GROUP BY community
"""


def refresh(con: duckdb.DuckDBPyConnection, communities: Iterable[str] | None = None) -> dict[str, int]:
    """Rebuild every mart for these communities (default: all) in one transaction, where what it
    reads (messages, account names, time zone, its SQL) changed since it was last built, or its
    rows are not as many as then (edited by hand); a community gone from the warehouse loses its
    rows. Returns row counts, and in `rebuilt` how
    many communities were rebuilt. Done again whole when another writer's commit refuses it (DuckLake)."""
    return retried_on_conflict(lambda: _refresh(con, communities))


def _refresh(con: duckdb.DuckDBPyConnection, communities: Iterable[str] | None) -> dict[str, int]:
    zones = dict(con.execute(
        """SELECT DISTINCT m.community, coalesce(c.timezone, 'UTC') FROM messages m
           LEFT JOIN communities c ON c.community = m.community""").fetchall())
    zones |= {c: tz for c, tz in con.execute("SELECT community, timezone FROM communities").fetchall() if c not in zones}
    wanted = set(zones) if communities is None else set(communities) & set(zones)
    inputs = dict(con.execute(_INPUTS).fetchall())
    counts, rebuilt = {}, 0
    with transaction(con):
        for name, sql in mart_sql().items():
            stored = {c: (f, n) for c, f, n in con.execute(
                'SELECT community, fingerprint, "rows" FROM mart_inputs WHERE mart = ?', [name]).fetchall()}
            have = dict(con.execute(f'SELECT community, count(*) FROM "{name}" GROUP BY ALL').fetchall())
            prints = {c: hashlib.sha256(f"{inputs.get(c)}|{zones[c]}|{sql}".encode()).hexdigest() for c in wanted}
            todo = sorted(c for c in wanted if (prints[c], have.get(c, 0)) != stored.get(c))
            gone = sorted(set(stored) - set(zones)) if communities is None else []
            con.execute(f'DELETE FROM "{name}" WHERE list_contains($c, community)', {"c": todo + gone})
            if communities is None:  # rows of a community nothing records any more
                con.execute(f'DELETE FROM "{name}" WHERE NOT list_contains($c, community)', {"c": list(zones)})
            for community in todo:
                con.execute(sql, {"community": community, "timezone": zones[community]})
            con.execute("DELETE FROM mart_inputs WHERE mart = $m AND list_contains($c, community)",
                        {"m": name, "c": todo + gone})
            built = dict(con.execute(f'SELECT community, count(*) FROM "{name}" WHERE list_contains($c, community) '
                                     'GROUP BY ALL', {"c": todo}).fetchall())
            con.execute("INSERT INTO mart_inputs SELECT $m, unnest($c::VARCHAR[]), unnest($f::VARCHAR[]), unnest($n::BIGINT[])",
                        {"m": name, "c": todo, "f": [prints[c] for c in todo], "n": [built.get(c, 0) for c in todo]})
            counts[name] = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            rebuilt += len(todo)
    return {**counts, "rebuilt": rebuilt}
