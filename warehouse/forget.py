"""The SQL of `hub forget`: erase a person's accounts from every table, and keep them out.

What a forgotten person wrote stays as a message, so that counts and threads stay coherent: its
text becomes `[removed]` and its author a tombstone account per platform (`…:~forgotten`,
flagged as a bot so that no reputation is ever computed for it). Their reactions become
anonymous counts, their join and leave events the tombstone's, and their accounts, persons,
links, mentions and derived rows are deleted. Their full names, handles, e-mails and phone
numbers are then replaced wherever they still appear as text (others' messages, system lines,
channel names, quarantined lines) by `[removed]`, and inside ids (a WhatsApp account or message
id holds the author's name) by the erasure's token, so that ids stay consistent across tables.

The erasure is recorded as hashes of the account ids (and of the ids an export knowing them only
by name would give them, `…:name:<their name>`): a re-ingest of an old export brings their
accounts back only until the load's end, where `reapply` forgets them again in the same
transaction. Callers hold the transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb
import phonenumbers

REMOVED = "[removed]"
TOMBSTONE = "~forgotten"  # the native id of the account that authors what forgotten people wrote
# Rows that a re-ingest can bring back under the same id once scrubbed: (table, key columns).
_KEYS = {"messages": "message_id", "membership_events": "event_id", "reactions": "message_id, reactor_id, emoji",
         "mentions": "message_id, account_id", "links": "message_id, url"}
_SHORTEST_NAME = 3  # shorter names ("Al", "JB") are common letter pairs in any text
# Every column that holds a message or event id.
_ID_COLUMNS = (("messages", "message_id"), ("messages", "reply_to_id"), ("messages", "thread_id"),
               ("reactions", "message_id"), ("mentions", "message_id"), ("links", "message_id"),
               ("membership_events", "message_id"), ("membership_events", "event_id"), ("interactions", "message_id"))
# The columns of free text that can name a person. Every other column is an id, a name of one
# account (theirs are gone; the rest are others'), or a value from a fixed list (platform, kind,
# the community's slug) that a name must never rewrite.
_FREE_TEXT = (("messages", "text"), ("channels", "name"), ("communities", "name"), ("quarantine", "raw"),
              ("quarantine", "reason"), ("member_flags", "evidence"), ("identity_suggestions", "reason"),
              ("community_stages", "reason"), ("sources", "options"), ("links", "url"))


@dataclass
class Forgotten:
    accounts: list[str]
    messages: int = 0
    reactions: int = 0
    events: int = 0
    values_scrubbed: int = 0
    raw_copies: list[str] = field(default_factory=list)  # raw store copies to delete once committed
    raw_deleted: int = 0  # of those, deleted (hub/landing.py)
    duplicates: int = 0  # messages a re-ingest brought back and `reapply` removed again


def account(con: duckdb.DuckDBPyConnection, account_id: str) -> tuple[str, str] | None:
    """(community, display name) of an account, if `account_id` is one."""
    return con.execute("SELECT community, display_name FROM accounts WHERE account_id = ?", [account_id]).fetchone()


def persons_with_account_named(con: duckdb.DuckDBPyConnection, person_ids: list[str], name: str) -> set[str]:
    """Those of the persons with an account whose display name is the whole of `name` (case aside)."""
    return {p for (p,) in con.execute(
        """SELECT DISTINCT pa.person_id FROM person_accounts pa JOIN accounts a USING (account_id)
           WHERE list_contains($ids, pa.person_id) AND lower(a.display_name) = lower($t)""",
        {"ids": person_ids, "t": name}).fetchall()}


def proposed_same(con: duckdb.DuckDBPyConnection, community: str, accounts: list[str]) -> list[str]:
    """Other accounts proposed (not merged) as the same person as any of `accounts`."""
    rows = con.execute(
        """SELECT DISTINCT CASE WHEN list_contains($a, account_id) THEN other_account_id ELSE account_id END
           FROM identity_suggestions WHERE community = $c AND confidence > 0
             AND (list_contains($a, account_id) OR list_contains($a, other_account_id)) ORDER BY 1""",
        {"a": accounts, "c": community}).fetchall()
    return [a for (a,) in rows if a not in accounts]


def accounts_of(con: duckdb.DuckDBPyConnection, community: str, text: str) -> list[str]:
    """The account ids `text` names: a person id (all its accounts), or an account id (with the
    other accounts of its person, if persons are built)."""
    rows = con.execute(
        """WITH person AS (
               SELECT person_id FROM persons WHERE community = $c AND person_id = $t
               UNION SELECT person_id FROM person_accounts WHERE account_id = $t)
           SELECT account_id FROM person_accounts WHERE person_id IN (SELECT person_id FROM person)
           UNION SELECT account_id FROM accounts WHERE community = $c AND account_id = $t
           ORDER BY 1""", {"c": community, "t": text}).fetchall()
    return [a for (a,) in rows]


def names_of(con: duckdb.DuckDBPyConnection, account_ids: list[str], name: str | None) -> list[str]:
    """The names these accounts go by, and `name`."""
    rows = con.execute("SELECT DISTINCT display_name FROM accounts WHERE list_contains(?, account_id) "
                       "AND display_name IS NOT NULL ORDER BY 1", [account_ids]).fetchall()
    return list(dict.fromkeys([*([name] if name else []), *(n for (n,) in rows)]))


def forget(con: duckdb.DuckDBPyConnection, community: str, account_ids: list[str], erasure_id: str) -> Forgotten:
    """Erase these accounts of `community` and record the erasure."""
    token = f"removed-{erasure_id[:8]}"
    # Also the ids an export that knew them only by name gives them (an older Telegram export's
    # invited member, a Facebook author without an id): such an export must not bring them back.
    # Only a name that is theirs alone on the platform: a namesake's name-only record is not theirs.
    by_name = [i for (i,) in con.execute(
        """SELECT DISTINCT n.platform || ':' || n.community || ':name:' || n.name FROM (
               SELECT platform, community, display_name AS name FROM accounts WHERE list_contains($a, account_id)
               UNION SELECT platform, community, author_name FROM messages WHERE list_contains($a, author_id)) n
           WHERE length(trim(n.name)) >= $shortest AND NOT EXISTS (
               SELECT 1 FROM accounts o WHERE o.community = n.community AND o.platform = n.platform
                 AND o.display_name = n.name AND NOT list_contains($a, o.account_id)
                 AND NOT o.native_id LIKE 'name:%')""",
        {"a": account_ids, "shortest": _SHORTEST_NAME}).fetchall()]
    con.execute("""INSERT INTO erasures SELECT ?, ?, sha256(a), ?, now() FROM unnest(?::VARCHAR[]) t(a)""",
                [erasure_id, community, token, list(dict.fromkeys(account_ids + by_name))])
    return _scrub(con, community, {a: token for a in account_ids})


def reapply(con: duckdb.DuckDBPyConnection, community: str) -> Forgotten | None:
    """Forget again the accounts of earlier erasures that a load brought back; None if none came back."""
    back = dict(con.execute(
        """SELECT a.account_id, e.token FROM accounts a
           JOIN erasures e ON e.community = a.community AND e.account_hash = sha256(a.account_id)
           WHERE a.community = ?""", [community]).fetchall())
    if not back:
        return None
    done = _scrub(con, community, back)
    done.duplicates = _drop_duplicates(con, set(back.values()))
    return done


def _scrub(con: duckdb.DuckDBPyConnection, community: str, tokens: dict[str, str]) -> Forgotten:
    con.execute("CREATE OR REPLACE TEMP TABLE forgotten AS SELECT unnest(?::VARCHAR[]) AS account_id, "
                "unnest(?::VARCHAR[]) AS token", [list(tokens), list(tokens.values())])
    names = _identifiers(con)
    done = Forgotten(sorted(tokens))
    done.raw_copies = _erase_raw_copies(con)
    if own := _identifiers(con, shortest=1):  # their own ids: a short name ("Jo") is theirs there too
        done.values_scrubbed += _rename_own_ids(con, _pattern(own))
    _tombstones(con)
    done.messages, done.reactions, done.events = _reassign(con)
    _delete_about(con, community)
    if names:
        done.values_scrubbed += _replace_in_text(con, names)
    return done


def _identifiers(con: duckdb.DuckDBPyConnection, shortest: int = _SHORTEST_NAME) -> list[str]:
    """RE2 patterns of what names the forgotten accounts in text: full names and native names as
    written (a name is a name in its own case: "Will" is not "will"), e-mails in any case, handles
    as mentions (`@handle`), and phone numbers however written."""
    rows = con.execute(
        """SELECT display_name, handle, email, phone, native_id, platform FROM accounts
           WHERE account_id IN (SELECT account_id FROM forgotten)
           UNION SELECT DISTINCT author_name, NULL, NULL, NULL, NULL, platform FROM messages
           WHERE author_id IN (SELECT account_id FROM forgotten)
           UNION SELECT p.display_name, NULL, NULL, NULL, NULL, NULL FROM persons p
           JOIN person_accounts USING (person_id) WHERE account_id IN (SELECT account_id FROM forgotten)""").fetchall()
    found: set[str] = set()
    for name, handle, email, phone, native_id, platform in rows:
        for text in (name, native_id):  # a native id in text is a mention of them (Slack's <@U024BE7LH>)
            text = (text or "").strip()
            if len(text) >= shortest and not text.isdigit():  # numeric ids also occur inside other ids
                found.add(re.escape(text))
        if handle and len(handle.strip().lstrip("@")) >= 2:
            found.add("@" + re.escape(handle.strip().lstrip("@")))
        if email and email.strip():
            found.add("(?i:" + re.escape(email.strip()) + ")")
        for number in (phone, native_id if platform == "whatsapp" else None):
            if pattern := _phone_pattern(number):
                found.add(pattern)
    return sorted(found, key=len, reverse=True)


def _phone_pattern(text: str | None) -> str | None:
    """A phone number however it is written: +33 6 12 34 56 78, +33612345678, 0033 6…, 06.12…"""
    try:
        number = phonenumbers.parse(text or "", None)
    except phonenumbers.NumberParseException:
        return None
    digits = str(number.national_number)
    if len(digits) < 6:
        return None
    prefix = rf"(?:(?:\+|00)[\s.()\-]*{number.country_code}|0)?[\s.()\-]*"
    return prefix + r"[\s.()\-]*".join(digits)


def _erase_raw_copies(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Mark the raw copies of the files that held the forgotten accounts erased; their paths."""
    # Found, then marked: DuckLake has no UPDATE … RETURNING.
    rows = con.execute(
        """SELECT path, stored_as FROM raw_files
           WHERE erased_at IS NULL AND sha256 IN (SELECT sha256 FROM sources WHERE source_id IN (
               SELECT source_id FROM messages WHERE author_id IN (SELECT account_id FROM forgotten)
               UNION SELECT source_id FROM reactions WHERE reactor_id IN (SELECT account_id FROM forgotten)
               UNION SELECT source_id FROM membership_events WHERE account_id IN (SELECT account_id FROM forgotten)
               UNION SELECT source_id FROM mentions WHERE account_id IN (SELECT account_id FROM forgotten)))"""
    ).fetchall()
    con.execute("UPDATE raw_files SET erased_at = now() WHERE list_contains(?, path)", [[p for p, _ in rows]])
    return sorted(stored for _, stored in rows)


def _tombstones(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""INSERT INTO accounts (account_id, platform, community, native_id, display_name, is_bot)
            SELECT DISTINCT platform || ':' || community || ':{TOMBSTONE}', platform, community, '{TOMBSTONE}',
                   '{REMOVED}', true
            FROM accounts WHERE account_id IN (SELECT account_id FROM forgotten)
              AND platform || ':' || community || ':{TOMBSTONE}' NOT IN (SELECT account_id FROM accounts)""")


def _reassign(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """What they wrote goes to the tombstone, their reactions become counts: (messages, reactions, events)."""
    tomb = f"platform || ':' || community || ':{TOMBSTONE}'"
    (messages,) = con.execute(
        f"""UPDATE messages SET author_id = {tomb}, author_name = '{REMOVED}', text = '{REMOVED}'
            WHERE author_id IN (SELECT account_id FROM forgotten)""").fetchone()
    con.execute(f"""DELETE FROM links WHERE message_id IN (
                        SELECT message_id FROM messages WHERE author_id LIKE '%:{TOMBSTONE}')""")
    (reactions,) = con.execute("UPDATE reactions SET reactor_id = NULL "
                               "WHERE reactor_id IN (SELECT account_id FROM forgotten)").fetchone()
    (events,) = con.execute(f"UPDATE membership_events SET account_id = {tomb} "
                            "WHERE account_id IN (SELECT account_id FROM forgotten)").fetchone()
    con.execute(f"UPDATE membership_events SET actor_id = {tomb} WHERE actor_id IN (SELECT account_id FROM forgotten)")
    return messages, reactions, events


def _delete_about(con: duckdb.DuckDBPyConnection, community: str) -> None:
    """Rows that are about the forgotten accounts; the derived tables are recomputed whole next build."""
    # A person's id is made from its smallest account (hub.persons.person_id): derived rows built
    # before a load joined an account to them carry an id made from another of their accounts.
    con.execute("""CREATE OR REPLACE TEMP TABLE forgotten_persons AS
                   SELECT DISTINCT person_id FROM person_accounts WHERE account_id IN (SELECT account_id FROM forgotten)
                   UNION SELECT 'person:' || $c || ':' || sha256(account_id)[:12] FROM forgotten""", {"c": community})
    for sql in (
        "DELETE FROM mentions WHERE account_id IN (SELECT account_id FROM forgotten)",
        "DELETE FROM identity_suggestions WHERE account_id IN (SELECT account_id FROM forgotten) "
        "OR other_account_id IN (SELECT account_id FROM forgotten)",
        "DELETE FROM member_weekly_activity WHERE account_id IN (SELECT account_id FROM forgotten)",
        "DELETE FROM accounts WHERE account_id IN (SELECT account_id FROM forgotten)",
        "DELETE FROM interactions WHERE from_person IN (SELECT person_id FROM forgotten_persons) "
        "OR to_person IN (SELECT person_id FROM forgotten_persons)",
        "DELETE FROM member_scores WHERE person_id IN (SELECT person_id FROM forgotten_persons)",
        "DELETE FROM member_flags WHERE person_id IN (SELECT person_id FROM forgotten_persons)",
        "DELETE FROM person_accounts WHERE person_id IN (SELECT person_id FROM forgotten_persons)",
        "DELETE FROM persons WHERE person_id IN (SELECT person_id FROM forgotten_persons)",
    ):
        con.execute(sql)
    for table in ("derived_inputs", "derived_state", "derived_steps"):  # nothing built stands: recompute whole
        con.execute(f"DELETE FROM {table} WHERE community = ?", [community])


def _pattern(names: list[str]) -> str:
    # RE2 has no look-around and its \b knows only ASCII: a name stands between non-letters.
    return r"(^|[^\pL\pN])(" + "|".join(names) + r")([^\pL\pN]|$)"


def _rename_own_ids(con: duckdb.DuckDBPyConnection, pattern: str) -> int:
    """Ids made from their name (WhatsApp's message and event ids) take the erasure's token instead,
    in every table that refers to them. Only their own messages' and events' ids are renamed, so a
    namesake's ids ("Ann" in "Ann Smith") are left as they are."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE renamed AS
           SELECT old, new FROM (
               SELECT m.message_id AS old, regexp_replace(m.message_id, $p, '\\1' || f.token || '\\3', 'g') AS new
               FROM messages m JOIN forgotten f ON f.account_id = m.author_id
               UNION ALL
               SELECT e.event_id, regexp_replace(e.event_id, $p, '\\1' || f.token || '\\3', 'g')
               FROM membership_events e JOIN forgotten f ON f.account_id = e.account_id)
           WHERE new <> old""", {"p": pattern})
    changed = 0
    for table, column in _ID_COLUMNS:
        (n,) = con.execute(f'UPDATE "{table}" t SET "{column}" = r.new FROM renamed r WHERE t."{column}" = r.old').fetchone()
        changed += n
    return changed


def _replace_in_text(con: duckdb.DuckDBPyConnection, names: list[str]) -> int:
    """Their names in free text (others' messages, system lines, channel names, quarantined lines,
    evidence) become `[removed]`."""
    pattern, changed = _pattern(names), 0
    for table, column in _FREE_TEXT:
        json = column == "options"
        value = f'"{column}"::VARCHAR' if json else f'"{column}"'
        once = f"regexp_replace({value}, $p, '\\1{REMOVED}\\3', 'g')"
        twice = f"regexp_replace({once}, $p, '\\1{REMOVED}\\3', 'g')"  # "Ann Ann": the space went to the first match
        (n,) = con.execute(f'UPDATE "{table}" SET "{column}" = {twice}{"::JSON" if json else ""} '
                           f"WHERE regexp_matches({value}, $p)", {"p": pattern}).fetchone()
        changed += n
    # Someone forwarded what they wrote: the forward names them as its first author.
    (n,) = con.execute(f"UPDATE messages SET forwarded_from = '{REMOVED}' WHERE regexp_full_match(forwarded_from, $p)",
                       {"p": "(" + "|".join(names) + ")"}).fetchone()
    return changed + n


def _drop_duplicates(con: duckdb.DuckDBPyConnection, tokens: set[str]) -> int:
    """Rows a re-ingest brought back that, scrubbed, are rows kept from before: the older one stays."""
    dropped = 0
    for table, key in _KEYS.items():
        first = key.split(",")[0]
        where = " OR ".join(f"{first} LIKE '%{tok}%'" for tok in tokens)
        (n,) = con.execute(
            f"""DELETE FROM {table} WHERE rowid IN (
                    SELECT rowid FROM (SELECT rowid, row_number() OVER (PARTITION BY {key} ORDER BY rowid) AS n
                                       FROM {table} WHERE {where}) WHERE n > 1)""").fetchone()
        if table == "messages":
            dropped = n
    return dropped
