"""The SQL behind the promoters' reports, one function per figure."""

from __future__ import annotations

import datetime as dt

import duckdb


def communities(con: duckdb.DuckDBPyConnection, only: str | None = None) -> list[tuple[str, str, str]]:
    """(slug, name, time zone) of communities that have messages."""
    return con.execute(
        """SELECT c.community, c.name, c.timezone FROM communities c
           WHERE EXISTS (SELECT 1 FROM messages m WHERE m.community = c.community)
             AND ($only IS NULL OR c.community = $only)
           ORDER BY c.community""", {"only": only}).fetchall()


def platform_totals(con: duckdb.DuckDBPyConnection, community: str) -> list[tuple]:
    """Per platform, then all platforms together: channels, messages, writers, media, first, last.
    Writers are people: bots aside, and one person's accounts once where persons are built."""
    return con.execute(
        """SELECT coalesce(m.platform, 'all platforms'), count(DISTINCT m.channel_id),
                  count(*) FILTER (WHERE m.kind = 'message'),
                  count(DISTINCT coalesce(pa.person_id, m.author_id))
                      FILTER (WHERE m.kind = 'message' AND NOT coalesce(a.is_bot, false)),
                  count(*) FILTER (WHERE m.has_media), min(m.sent_at), max(m.sent_at)
           FROM messages m LEFT JOIN accounts a ON a.account_id = m.author_id
           LEFT JOIN person_accounts pa ON pa.account_id = m.author_id
           WHERE m.community = $c
           GROUP BY ROLLUP (m.platform)
           ORDER BY m.platform IS NULL, m.platform""", {"c": community}).fetchall()


def weekly_activity(con: duckdb.DuckDBPyConnection, community: str, weeks: int) -> list[tuple[str, list[int], list[int]]]:
    """Per platform and for all: messages and active members (people, as in `platform_totals`) in
    each of the last `weeks` weeks."""
    (last,) = con.execute("SELECT max(week) FROM member_weekly_activity WHERE community = $c",
                          {"c": community}).fetchone()
    if last is None:
        return []
    first = last - dt.timedelta(weeks=weeks - 1)
    rows = con.execute(
        """WITH weeks AS (SELECT unnest(generate_series($first::DATE, $last::DATE, INTERVAL 7 DAY))::DATE AS week),
                platforms AS (SELECT DISTINCT platform FROM member_weekly_activity WHERE community = $c
                              UNION ALL SELECT 'all platforms')
           SELECT p.platform, w.week, coalesce(sum(a.messages), 0)::BIGINT,
                  count(DISTINCT coalesce(pa.person_id, a.account_id)) FILTER (WHERE NOT coalesce(acc.is_bot, false))
           FROM platforms p CROSS JOIN weeks w
           LEFT JOIN member_weekly_activity a
             ON a.community = $c AND a.week = w.week AND (p.platform = 'all platforms' OR a.platform = p.platform)
           LEFT JOIN accounts acc ON acc.account_id = a.account_id
           LEFT JOIN person_accounts pa ON pa.account_id = a.account_id
           GROUP BY p.platform, w.week
           ORDER BY p.platform = 'all platforms', p.platform, w.week""",
        {"c": community, "first": first, "last": last}).fetchall()
    series: dict[str, tuple[list[int], list[int]]] = {}
    for platform, _week, messages, active in rows:
        values, members = series.setdefault(platform, ([], []))
        values.append(messages)
        members.append(active)
    return [(p, v, m) for p, (v, m) in series.items()]


def top_members(con: duckdb.DuckDBPyConnection, community: str, limit: int) -> list[tuple]:
    """The members with most messages: name, platforms, messages, weeks active, last message.
    One row per person where persons are built (accounts merged across platforms count as one),
    else per account."""
    return con.execute(
        """SELECT any_value(coalesce(p.display_name, w.display_name)),
                  string_agg(DISTINCT w.platform, ', ' ORDER BY w.platform), sum(w.messages)::BIGINT,
                  count(DISTINCT w.week), max(w.last_message_at)
           FROM member_weekly_activity w LEFT JOIN accounts a USING (account_id)
           LEFT JOIN person_accounts pa USING (account_id) LEFT JOIN persons p USING (person_id)
           WHERE w.community = $c AND NOT coalesce(a.is_bot, false)
           GROUP BY coalesce(pa.person_id, w.account_id) ORDER BY 3 DESC, 1 LIMIT $n""",
        {"c": community, "n": limit}).fetchall()


def people(con: duckdb.DuckDBPyConnection, community: str) -> tuple[int, int, int, int]:
    """Accounts (bots aside), persons, persons on several platforms, and matches proposed for review
    (confidence 0.25 and up, as `hub persons suggest` lists them)."""
    return con.execute(
        """SELECT (SELECT count(*) FROM accounts WHERE community = $c AND NOT is_bot),
                  (SELECT count(*) FROM persons WHERE community = $c),
                  (SELECT count(*) FROM (SELECT pa.person_id FROM person_accounts pa JOIN accounts a USING (account_id)
                                         WHERE a.community = $c GROUP BY ALL HAVING count(DISTINCT a.platform) > 1)),
                  (SELECT count(*) FROM identity_suggestions WHERE community = $c AND confidence >= 0.25)""",
        {"c": community}).fetchone()


def flagged(con: duckdb.DuckDBPyConnection, community: str, per_flag: int) -> list[tuple]:
    """The latest scored week's flags: (flag, how many, the first names by reputation)."""
    return con.execute(
        """WITH latest AS (SELECT max(week) AS week FROM member_scores WHERE community = $c),
                f AS (SELECT f.flag, p.display_name, s.reputation FROM member_flags f
                      JOIN latest USING (week) JOIN persons p USING (person_id)
                      LEFT JOIN member_scores s ON s.person_id = f.person_id AND s.week = f.week
                      WHERE f.community = $c)
           SELECT flag, count(*), list(display_name ORDER BY reputation DESC NULLS LAST, display_name)[1:$n]
           FROM f GROUP BY flag ORDER BY flag""", {"c": community, "n": per_flag}).fetchall()


def quarantined(con: duckdb.DuckDBPyConnection, community: str) -> int:
    return con.execute(
        """SELECT count(*) FROM quarantine q JOIN sources s USING (source_id) WHERE s.community = $c""",
        {"c": community}).fetchone()[0]


def latest_weekly_leaders(con: duckdb.DuckDBPyConnection, limit: int) -> list[tuple]:
    """The most active members of the latest weeks: community, platform, week, name, messages."""
    return con.execute(
        """SELECT community, platform, week, display_name, messages FROM member_weekly_activity
           ORDER BY week DESC, messages DESC LIMIT ?""", [limit]).fetchall()
