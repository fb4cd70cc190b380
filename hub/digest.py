"""The weekly digest: recognition back to the members, posted where they talk.

`compose()` writes the week's message from the warehouse: the members whose contributions others
valued most (how many distinct people replied to, reacted to or mentioned them), the newcomers
who were welcomed (and by whom), and a member of the month with the why. `post()` sends it to the
community's configured Slack channel or Telegram chat through the same SDK clients as the
connectors (`digest:` in hub.yaml); nothing is sent unless asked (`hub digest --post`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from dataclasses import dataclass

import duckdb

from hub.config import Community, HubConfig
from hub.privacy import masked
from warehouse import digest as sql

_MONTH_WEEKS = 4


class DigestError(Exception):
    """The digest cannot be made or sent; the message says what to do and never holds a token."""


@dataclass(frozen=True)
class Digest:
    community: str
    week: dt.date
    text: str


def compose(con: duckdb.DuckDBPyConnection, config: HubConfig, community: str, week: dt.date | None = None,
            top: int = 3, *, show_phones: bool = False) -> Digest:
    """The digest of the week starting on Monday `week` (default: the latest scored week that is over).
    Members go on to forward it: phone numbers in names are masked unless `show_phones`."""
    from hub.stages import promoters

    week = week or _last_whole_week(con, community)
    if week is None:
        raise DigestError(f"{community} has no scores yet: run hub build first")
    week = week - dt.timedelta(days=week.weekday())
    latest = sql.latest_week(con, community)
    if latest is None or week > latest:
        raise DigestError(f"{community} has no scores for the week of {week:%Y-%m-%d}"
                          + (f": its latest scored week is {latest:%Y-%m-%d}" if latest else ": run hub build first"))
    named = promoters(con, config, community)
    valued = sql.recognised(con, community, week, 1, named, top)
    welcomed = sql.welcomed(con, community, week, 10)
    month = sql.recognised(con, community, week - dt.timedelta(weeks=_MONTH_WEEKS - 1), _MONTH_WEEKS, named, 1)
    title = config.community(community).display_name if community in {c.slug for c in config.communities} else community
    lines = [f"{title}: the week of {week:%-d %B %Y}", ""]
    if valued:
        lines.append("Thank you! What others valued most this week:")
        lines += [f"• {name}: {_people(people)} replied to, reacted to or mentioned them"
                  for name, people, *_ in valued]
        lines.append("")
    if welcomed:
        lines.append("Welcome! New this week and already greeted:")
        lines += [f"• {name}, welcomed by {_names(welcomers)}" for name, welcomers in welcomed]
        lines.append("")
    if month:
        name, people, replies, reactions, mentions = month[0]
        lines.append(f"Member of the month: {name}. Over four weeks, {_people(people)} answered or recognised "
                     f"them: {_count(replies, 'reply', 'replies')}, {_count(reactions, 'reaction', 'reactions')} "
                     f"and {_count(mentions, 'mention', 'mentions')}.")
    if not (valued or welcomed or month):
        lines.append("A quiet week: no one replied to or reacted to anyone.")
    return Digest(community, week, masked("\n".join(lines).strip() + "\n", show_phones))


def _last_whole_week(con: duckdb.DuckDBPyConnection, community: str) -> dt.date | None:
    """The latest scored week that is over in the community's time zone: a Monday-morning digest
    thanks last week's members, not the hours of a week just begun."""
    from zoneinfo import ZoneInfo

    latest = sql.latest_week(con, community)
    today = dt.datetime.now(ZoneInfo(sql.timezone(con, community))).date()
    last_whole = today - dt.timedelta(days=today.weekday() + 7)
    return None if latest is None else min(latest, last_whole)


def post(community: Community, digest: Digest) -> str:
    """Send the digest where the community's `digest:` says; returns where it went."""
    target = community.digest
    if target is None:
        raise DigestError(f"community {community.slug!r} has no digest: in hub.yaml (platform, channel, token_env)")
    token = os.environ.get(target.token_env)
    if not token:
        raise DigestError(f"set the environment variable {target.token_env} to the {target.platform} bot token "
                          f"of community {community.slug!r}")
    if target.platform == "slack":
        return _post_slack(token, target.base_url, target.channel, digest.text)
    return asyncio.run(_post_telegram(token, target.base_url, target.channel, digest.text))


def _post_slack(token: str, base_url: str | None, channel: str, text: str) -> str:
    from slack_sdk.errors import SlackApiError

    from connectors.slack.api import client_for

    try:
        # Names are members' own: `<!channel>` in one would notify everyone, `<url|label>` disguise a
        # link, `*x*` format. Slack reads &, < and > as its markup unless escaped; mrkdwn off does the rest.
        plain = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        answer = client_for(token, base_url).chat_postMessage(channel=channel, text=plain, mrkdwn=False,
                                                              unfurl_links=False)
    except SlackApiError as e:
        error = e.response.get("error", "unknown_error")
        needed = e.response.get("needed")
        raise DigestError(f"Slack refused the digest for channel {channel}: {error}"
                          + (f" (the bot needs the {needed} scope)" if needed else "")) from None
    return f"slack channel {answer['channel']} at {answer['ts']}"


async def _post_telegram(token: str, base_url: str | None, chat: str, text: str) -> str:
    import telegram

    from connectors.telegram.api import bot_for

    try:
        async with bot_for(token, base_url) as bot:
            message = await bot.send_message(chat_id=chat, text=text, disable_web_page_preview=True)
    except telegram.error.TelegramError as e:
        raise DigestError(f"Telegram refused the digest for chat {chat}: {e.message}") from None
    return f"telegram chat {message.chat.id}, message {message.message_id}"


def _people(n: int) -> str:
    return _count(n, "member", "members")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _names(names: list[str]) -> str:
    shown = names[:3]
    rest = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return (", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 and not rest else ", ".join(shown)) + rest
