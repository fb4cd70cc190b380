"""The indicators of a community's stage, week by week.

Computed per platform and for all platforms together (scope `*`), from persons: promoters are
given as person ids (resolved from the configuration by `hub.stages`). Each week's own counts
(messages, the promoters' messages and conversation starts, whether they were silent, members who
replied to others) come out as they are, for `hub.stages` to read over its window and to follow
from week to week; the graph's measures, members, retention, ambassadors and the promoters' silent
weeks cover the four weeks ending with the week.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from warehouse.db import NUMBERED_PERSONS, insert_rows, local_weeks, only_platform, transaction


_SQL = """
WITH pa AS (
    SELECT pa.person_id, a.account_id FROM person_accounts pa JOIN accounts a USING (account_id)
    WHERE a.community = $community
),
-- Platforms whose exports record replies (WhatsApp's and Messenger's do not): across platforms,
-- conversation starts and the share of members who reply are read where replies can be seen (on
-- every platform if none records them); each platform's own rows read all of its messages.
recorded AS (
    SELECT DISTINCT platform FROM messages
    WHERE community = $community AND (reply_to_id IS NOT NULL OR thread_id IS NOT NULL)
),
replying AS (
    SELECT platform FROM recorded
    UNION ALL SELECT DISTINCT platform FROM messages WHERE community = $community AND NOT EXISTS (FROM recorded)
),
own AS (
    SELECT * FROM (
        SELECT m.platform, p.person_id, m.reply_to_id IS NULL AS starts_here,
               m.platform IN (FROM replying) AS replying,
               list_contains($promoters, p.person_id) AS by_promoter,
               coalesce(z.week, date_trunc('week', timezone($timezone, m.sent_at))::DATE) AS week
        FROM messages m JOIN pa p ON p.account_id = m.author_id
        LEFT JOIN quarters z ON z.q = epoch_us(m.sent_at) // 900000000
        WHERE m.community = $community AND m.kind = 'message' AND m.forwarded_from IS NULL)
    WHERE week >= $look  -- the weeks the windows of the recomputed weeks look back on
),
-- On one platform ($only), the platform's rows are the all-platform rows: computed once, copied at the end.
msg AS (
    SELECT *, '*' AS scope, starts_here AND replying AS starts, replying AS counted FROM own
    UNION ALL SELECT *, platform, starts_here, true FROM own WHERE $only IS NULL
),
-- Counts are summed week by week, then over the window; distinct people are counted from one
-- row per person and week (never from every message of the window).
weekly AS (
    SELECT scope, week, count(*) AS messages, count(*) FILTER (WHERE by_promoter) AS promoter_messages,
           count(*) FILTER (WHERE starts) AS starts, count(*) FILTER (WHERE starts AND by_promoter) AS promoter_starts,
           (bool_or(NOT by_promoter) AND NOT bool_or(by_promoter))::INTEGER AS promoter_silent
    FROM msg GROUP BY ALL
),
sums AS (
    SELECT scope, week, messages AS week_messages, promoter_messages AS week_promoter_messages,
           starts AS week_starts, promoter_starts AS week_promoter_starts, promoter_silent AS week_silent,
           sum(messages) OVER w AS messages, sum(promoter_silent) OVER w AS promoter_silent_weeks
    FROM weekly
    WINDOW w AS (PARTITION BY scope ORDER BY week RANGE BETWEEN INTERVAL 21 DAY PRECEDING AND CURRENT ROW)
),
present AS (SELECT scope, week, person_id, bool_or(counted) AS counted FROM msg WHERE NOT by_promoter GROUP BY ALL),
members AS (  -- each window's members, one row each
    SELECT DISTINCT w.scope, w.week, p.person_id FROM weekly w
    JOIN present p ON p.scope = w.scope AND p.week BETWEEN w.week - INTERVAL 21 DAY AND w.week
),
member_count AS (SELECT scope, week, count(*) AS n FROM members GROUP BY ALL),
{numbered},
edges AS (  -- member-to-member interactions (interactions has no self-links), each pair ordered (lo, hi)
    SELECT platform, coalesce(z.week, date_trunc('week', timezone($timezone, "at"))::DATE) AS week,
           least(f.n, t.n) AS lo, greatest(f.n, t.n) AS hi, f.n < t.n AS up,
           kind IN ('reply', 'thread', 'mention') AS wrote
    FROM interactions i LEFT JOIN quarters z ON z.q = epoch_us(i."at") // 900000000
    JOIN numbered f ON f.person_id = i.from_person JOIN numbered t ON t.person_id = i.to_person
    WHERE i.community = $community AND NOT list_contains($promoters, i.from_person)
      AND NOT list_contains($promoters, i.to_person) AND i."at" >= $look::TIMESTAMP - INTERVAL 1 DAY
),
pairs AS (  -- each pair of members linked that week: which ways, and which of them wrote to the other
    SELECT '*' AS scope, week, lo, hi, bool_or(up) AS lo_hi, bool_or(NOT up) AS hi_lo,
           bool_or(up AND wrote) AS lo_wrote, bool_or(NOT up AND wrote) AS hi_wrote
    FROM edges GROUP BY week, lo, hi
    UNION ALL
    SELECT platform, week, lo, hi, bool_or(up), bool_or(NOT up), bool_or(up AND wrote), bool_or(NOT up AND wrote)
    FROM edges WHERE $only IS NULL GROUP BY platform, week, lo, hi
),
weekly_members AS (SELECT scope, week, count(*) AS n FROM present WHERE counted GROUP BY ALL),
linked AS (  -- each member linked that week, and whether they wrote to another
    SELECT scope, week, person, bool_or(wrote) AS wrote FROM (
        SELECT scope, week, lo AS person, lo_wrote AS wrote FROM pairs
        UNION ALL SELECT scope, week, hi, hi_wrote FROM pairs) GROUP BY ALL
),
graph_weekly AS (  -- the graph's measures week by week; the window averages them
    SELECT * FROM
        (SELECT scope, week, count(*) FILTER (WHERE wrote) AS contributing, count(*) AS nodes FROM linked GROUP BY ALL)
    JOIN (SELECT scope, week, count(*) AS pairs, count(*) + count(*) FILTER (WHERE lo_hi AND hi_lo) AS directed,
                 2 * count(*) FILTER (WHERE lo_hi AND hi_lo) AS mutual
          FROM pairs GROUP BY ALL) USING (scope, week)
),
graph AS (
    SELECT w.scope, w.week, wm.n AS week_counted, coalesce(g.contributing, 0) AS week_contributing,
           avg(coalesce(g.pairs, 0) / nullif(greatest(wm.n, g.nodes) * (greatest(wm.n, g.nodes) - 1) / 2, 0)) OVER win
               AS member_density,
           avg(g.mutual / nullif(g.directed, 0)) OVER win AS reciprocity
    FROM weekly w LEFT JOIN graph_weekly g USING (scope, week) LEFT JOIN weekly_members wm USING (scope, week)
    WINDOW win AS (PARTITION BY w.scope ORDER BY w.week RANGE BETWEEN INTERVAL 21 DAY PRECEDING AND CURRENT ROW)
),
retained AS (  -- members of the window four weeks before who are members again
    SELECT now.scope, now.week, count(*) AS kept FROM members now
    JOIN members back ON back.scope = now.scope AND back.week = now.week - INTERVAL 28 DAY
                     AND back.person_id = now.person_id
    GROUP BY ALL
),
flagged AS (SELECT week, person_id FROM member_flags WHERE community = $community AND flag = 'ambassador'
                                                          AND week >= $look),
ambassadors AS (
    SELECT f.week, count(*) AS n, count(*) FILTER (WHERE g.person_id IS NULL) AS new
    FROM flagged f LEFT JOIN flagged g ON g.person_id = f.person_id AND g.week = f.week - INTERVAL 84 DAY
    GROUP BY ALL
),
indicators AS (
    SELECT $community AS community, nullif(s.scope, '*') AS platform, s.week, s.messages,
           coalesce(m.n, 0) AS active_members,
           s.week_messages, s.week_promoter_messages, s.week_starts, s.week_promoter_starts, s.week_silent,
           coalesce(g.week_counted, 0) AS week_counted, g.week_contributing,
           -- ambassadors are flagged across platforms: the per-platform rows show the community's
           coalesce(b.n, 0) AS ambassadors, coalesce(b.new, 0) AS ambassadors_new,
           g.member_density, g.reciprocity,
           r.kept / nullif(back.n, 0) AS retention,
           s.promoter_silent_weeks
    FROM sums s
    LEFT JOIN member_count m USING (scope, week) LEFT JOIN graph g USING (scope, week)
    LEFT JOIN retained r USING (scope, week)
    LEFT JOIN member_count back ON back.scope = s.scope AND back.week = s.week - INTERVAL 28 DAY
    LEFT JOIN ambassadors b ON b.week = s.week
    WHERE s.week >= $from
)
SELECT * FROM indicators
UNION ALL SELECT * REPLACE ($only AS platform) FROM indicators WHERE $only IS NOT NULL
ORDER BY platform NULLS FIRST, week
""".format(numbered=NUMBERED_PERSONS)


# A stage is followed from at most this many weeks before (hub/stages.py, hub.rules.StageRules).
HISTORY_WEEKS = 13
# The weeks before `since` that a recomputation reads: that history, and the four-week windows of
# its first weeks. It covers what the recomputed weeks' own windows look back on (12 weeks at most:
# ambassadors renewed since then).
HISTORY = dt.timedelta(weeks=HISTORY_WEEKS + 4)


def indicators(con: duckdb.DuckDBPyConnection, community: str, timezone: str, promoters: list[str],
               since: dt.date | None = None) -> pa.Table:
    """The indicators of every week, or of the weeks from HISTORY before Monday `since` on (those
    before `since` only as history: their four-week figures may miss their first weeks)."""
    start = max(dt.date.min, since - HISTORY) if since else dt.date.min
    with local_weeks(con, community, timezone):
        return con.execute(_SQL, {"community": community, "timezone": timezone, "promoters": promoters,
                                  "only": only_platform(con, community), "from": start,
                                  "look": start}
                           ).to_arrow_table()


def stored_stages(con: duckdb.DuckDBPyConnection, community: str, before: dt.date) -> list[tuple]:
    """Per scope ('*' for all platforms): its first stored week, the stage and stage_since of its
    last stored week before Monday `before`, whether a change had moved the stage by then, and
    that week: where a recomputation from `before` on takes over."""
    return con.execute(
        """SELECT coalesce(platform, '*'), min(week), arg_max(stage, week) FILTER (WHERE week < $b),
                  arg_max(stage_since, week) FILTER (WHERE week < $b),
                  coalesce(bool_or(moved_by = 'change') FILTER (WHERE week < $b), false),
                  max(week) FILTER (WHERE week < $b)
           FROM community_stages WHERE community = $c GROUP BY 1""", {"c": community, "b": before}).fetchall()


def promoter_candidates(con: duckdb.DuckDBPyConnection, community: str) -> list[tuple]:
    """(person_id, display name, native id, phone, handle, account display name) of a community's accounts."""
    return con.execute(
        """SELECT pa.person_id, p.display_name, a.native_id, a.phone, a.handle, a.display_name, a.platform
           FROM person_accounts pa JOIN persons p USING (person_id) JOIN accounts a USING (account_id)
           WHERE a.community = ?""", [community]).fetchall()


def busiest_at_start(con: duckdb.DuckDBPyConnection, community: str) -> str | None:
    """The person who wrote most in the community's first four weeks (the promoter, when none is named)."""
    row = con.execute(
        """SELECT pa.person_id FROM messages m JOIN person_accounts pa ON pa.account_id = m.author_id
           WHERE m.community = $c AND m.kind = 'message'
             AND m.sent_at < (SELECT min(sent_at) FROM messages WHERE community = $c) + INTERVAL 28 DAY
           GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""", {"c": community}).fetchone()
    return row[0] if row else None


def replace_stages(con: duckdb.DuckDBPyConnection, stages: dict[str, tuple[dt.date | None, pa.Table]]) -> int:
    """Replace each community's stages (community -> (from Monday, or None for all weeks; rows))."""
    with transaction(con):
        for community, (since, table) in stages.items():
            con.execute("DELETE FROM community_stages WHERE community = ? AND week >= ?", [community, since or dt.date.min])
            insert_rows(con, "community_stages", table)
    return con.execute("SELECT count(*) FROM community_stages").fetchone()[0]
