"""The SQL behind the terminal views (`hub communities`, `members`, `member`, `stage`, `health`).

Read-only queries over the derived tables; each returns plain rows for hub/views.py to lay out.
"Latest" is each community's latest scored week.
"""

from __future__ import annotations

import duckdb

_LATEST = "(SELECT max(week) FROM member_scores s WHERE s.community = $c)"


def find_communities(con: duckdb.DuckDBPyConnection, text: str | None) -> list[tuple[str, str]]:
    """(slug, name) of communities whose slug or name contains `text` (all with None); an exact slug wins."""
    rows = con.execute(
        """SELECT community, name FROM communities
           WHERE $t IS NULL OR community = $t OR community ILIKE '%' || $t || '%' OR name ILIKE '%' || $t || '%'
           ORDER BY community = $t DESC, community""", {"t": text}).fetchall()
    return rows[:1] if rows and text is not None and rows[0][0] == text else rows


def platforms(con: duckdb.DuckDBPyConnection, community: str) -> list[str]:
    """The platforms the community has messages on."""
    return [p for (p,) in con.execute("SELECT DISTINCT platform FROM messages WHERE community = ? ORDER BY 1",
                                      [community]).fetchall()]


def has_persons(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT EXISTS (SELECT 1 FROM persons)").fetchone()[0]


def communities(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """slug, name, platforms, persons, messages, latest week, stage that week, ambassadors that week."""
    return con.execute(
        """WITH m AS (SELECT community, string_agg(DISTINCT platform, ', ' ORDER BY platform) AS platforms,
                             count(*) FILTER (WHERE kind = 'message') AS messages FROM messages GROUP BY ALL),
                p AS (SELECT community, count(*) AS persons FROM persons GROUP BY ALL),
                st AS (SELECT community, week, stage FROM community_stages WHERE platform IS NULL
                       QUALIFY row_number() OVER (PARTITION BY community ORDER BY week DESC) = 1),
                f AS (SELECT community, count(*) AS n FROM member_flags f
                      WHERE flag = 'ambassador' AND week = (SELECT max(week) FROM member_scores s
                                                            WHERE s.community = f.community) GROUP BY ALL)
           SELECT c.community, c.name, m.platforms, coalesce(p.persons, 0), m.messages, st.week, st.stage,
                  coalesce(f.n, 0)
           FROM communities c JOIN m USING (community) LEFT JOIN p USING (community)
           LEFT JOIN st USING (community) LEFT JOIN f USING (community)
           ORDER BY c.community""").fetchall()


def members(con: duckdb.DuckDBPyConnection, community: str, top: int, level: str | None) -> list[tuple]:
    """Latest week's members by reputation: name, level, reputation, platforms, flags, person_id."""
    return con.execute(
        f"""WITH platforms AS (
                SELECT pa.person_id, string_agg(DISTINCT a.platform, ', ' ORDER BY a.platform) AS platforms
                FROM person_accounts pa JOIN accounts a USING (account_id) WHERE a.community = $c GROUP BY ALL),
            flags AS (SELECT person_id, string_agg(flag, ', ' ORDER BY flag) AS flags FROM member_flags
                      WHERE community = $c AND week = {_LATEST} GROUP BY ALL)
            SELECT p.display_name, s.level, s.reputation, pl.platforms, coalesce(f.flags, ''), s.person_id
            FROM member_scores s JOIN persons p USING (person_id)
            LEFT JOIN platforms pl USING (person_id) LEFT JOIN flags f USING (person_id)
            WHERE s.community = $c AND s.week = {_LATEST} AND ($level IS NULL OR s.level = $level)
            ORDER BY s.reputation DESC, p.display_name LIMIT $top""",
        {"c": community, "top": top, "level": level}).fetchall()


def find_members(con: duckdb.DuckDBPyConnection, text: str, community: str | None) -> list[tuple[str, str, str, str]]:
    """(person_id, display name, community, platforms) of persons whose id is `text`, or whose name
    or one of whose accounts' names or handles contains it (case and accents ignored); an exact
    id or name wins."""
    rows = con.execute(
        """SELECT p.person_id, p.display_name, p.community, string_agg(DISTINCT a.platform, ', ' ORDER BY a.platform),
                  p.person_id = $t OR strip_accents(lower(p.display_name)) = strip_accents(lower($t)) AS exact
           FROM persons p JOIN person_accounts pa USING (person_id) JOIN accounts a USING (account_id)
           WHERE ($community IS NULL OR p.community = $community)
           GROUP BY ALL
           HAVING p.person_id = $t
               OR bool_or(strip_accents(p.display_name) ILIKE '%' || strip_accents($t) || '%'
                          OR strip_accents(coalesce(a.display_name, '')) ILIKE '%' || strip_accents($t) || '%'
                          OR coalesce(a.handle, '') ILIKE '%' || $t || '%')
           ORDER BY 2, 3, 1""", {"t": text, "community": community}).fetchall()
    exact = [r[:4] for r in rows if r[4]]
    return exact or [r[:4] for r in rows]


def member_accounts(con: duckdb.DuckDBPyConnection, person_id: str) -> list[tuple]:
    """platform, name shown there, handle, how the account was tied to the person, confidence."""
    return con.execute(
        """SELECT a.platform, a.display_name, a.handle, pa.method, pa.confidence FROM person_accounts pa
           JOIN accounts a USING (account_id) WHERE pa.person_id = ? ORDER BY 1, 2""", [person_id]).fetchall()


def member_score(con: duckdb.DuckDBPyConnection, person_id: str) -> dict | None:
    """The person's member_scores row of their community's latest week, by column."""
    cursor = con.execute(
        """SELECT * FROM member_scores s WHERE person_id = $p
             AND week = (SELECT max(week) FROM member_scores t WHERE t.community = s.community)""", {"p": person_id})
    row = cursor.fetchone()
    return None if row is None else dict(zip([d[0] for d in cursor.description], row))


def member_levels(con: duckdb.DuckDBPyConnection, person_id: str, weeks: int) -> list[tuple]:
    """(week, level, reputation) of the person's last `weeks` weeks, oldest first."""
    return con.execute(
        """SELECT week, level, reputation FROM (SELECT week, level, reputation FROM member_scores
           WHERE person_id = ? ORDER BY week DESC LIMIT ?) ORDER BY week""", [person_id, weeks]).fetchall()


def member_flags(con: duckdb.DuckDBPyConnection, person_id: str) -> list[tuple]:
    """(flag, evidence) of the person in their community's latest week."""
    return con.execute(
        """SELECT flag, evidence FROM member_flags f WHERE person_id = $p
             AND week = (SELECT max(week) FROM member_scores s WHERE s.community = f.community)
           ORDER BY flag""", {"p": person_id}).fetchall()


# The last n weeks up to a community's latest one, every week counted: a week without a message
# has no row in the derived tables, and is a week all the same (a dead week is news).
# (Not before its first week: there was no community to speak of.)
_LAST_WEEKS = """
    span AS (SELECT min(week) AS first, max(week) AS w FROM {table}
             WHERE community = $c AND platform IS NOT DISTINCT FROM $p),
    weeks AS (SELECT unnest(generate_series(greatest(first, w - to_weeks($n - 1)), w,
                                            INTERVAL 7 DAY))::DATE AS week FROM span)"""
_MOST_WEEKS = 100_000  # (more than any history: a bigger --weeks would overflow the dates)


def stages(con: duckdb.DuckDBPyConnection, community: str, platform: str | None, weeks: int) -> list[tuple]:
    """(week, stage, reason) of the last `weeks` weeks, oldest first; platform None: all together.
    A week without a stage (no message in it) has stage None."""
    return con.execute(
        f"""WITH {_LAST_WEEKS.format(table="community_stages")}
            SELECT w.week, s.stage, coalesce(s.reason, 'no message this week') FROM weeks w
            LEFT JOIN community_stages s ON s.community = $c AND s.platform IS NOT DISTINCT FROM $p AND s.week = w.week
            ORDER BY w.week""", {"c": community, "p": platform, "n": min(weeks, _MOST_WEEKS)}).fetchall()


def health(con: duckdb.DuckDBPyConnection, community: str, platform: str | None, weeks: int) -> list[tuple]:
    """The last `weeks` weeks of community_health, oldest first: week, members, active, contributors,
    new, new active within 30 days, questions, answered, median minutes to reply, top 1 % share.
    A week without a row (nothing happened) has the members of the week before, and no activity."""
    return con.execute(
        f"""WITH {_LAST_WEEKS.format(table="community_health")},
            h AS (SELECT * FROM community_health WHERE community = $c AND platform IS NOT DISTINCT FROM $p)
            SELECT w.week,
                   coalesce(h.members, (SELECT members FROM h b WHERE b.week < w.week ORDER BY b.week DESC LIMIT 1), 0),
                   coalesce(h.active_members, 0), coalesce(h.contributors, 0), coalesce(h.new_members, 0),
                   coalesce(h.new_members_active_30d, 0), coalesce(h.questions, 0), coalesce(h.questions_answered, 0),
                   h.median_minutes_to_reply, h.share_top_1pct
            FROM weeks w LEFT JOIN h USING (week) ORDER BY w.week""",
        {"c": community, "p": platform, "n": min(weeks, _MOST_WEEKS)}).fetchall()
