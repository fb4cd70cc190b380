"""Live syncs of API sources (Slack workspaces, Telegram bots): what `hub sync` and Dagster run.

Each unit the reader yields (a page of messages with its replies, or a page of Telegram updates,
and its checkpoint) is loaded in its own transaction, so a sync stopped at any point keeps what it
read and resumes after it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace

import duckdb

from connectors.slack.api import LiveReader, SlackSyncError, SyncState, client_for
from connectors.telegram import api as telegram_api
from hub.config import Community, Source
from hub.model import Batch, Checkpoint
from hub.pseudonyms import Pseudonymiser, PseudonymKeyError
from warehouse import state as stored
from warehouse.load import LoadResult, PseudonymMismatch, SourceFile, load


class SyncError(Exception):
    """A sync that cannot run or go on; the message says what to do and never holds a token."""


@dataclass
class SyncReport:
    community: str
    source: str
    messages_new: int = 0
    units: int = 0  # loads that brought messages or moved a checkpoint
    channels: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    threads_reread: int = 0
    rate_limited: int = 0


_DEFAULT_URL = {"slack": "https://slack.com/api/", "telegram": "https://api.telegram.org/bot"}
_URL_VARIABLE = {"slack": "SLACK_API_URL", "telegram": "TELEGRAM_API_URL"}


def live_source(community: Community, source: Source, pseudonyms: Pseudonymiser | None = None) -> SourceFile:
    where = source.base_url or _DEFAULT_URL[source.platform]
    return SourceFile(platform=source.platform, community=community.slug, path=f"{source.platform} API at {where}",
                      sha256=f"live:{where}", bytes=0, community_name=community.display_name,
                      community_timezone=community.timezone, live=True, options={"base_url": where},
                      pseudonym_check=pseudonyms.check() if pseudonyms else None)


def _pseudonyms(community: Community, platform: str) -> Pseudonymiser | None:
    try:
        return Pseudonymiser.from_env(platform, community.timezone) if community.pseudonymise else None
    except PseudonymKeyError as e:
        raise SyncError(f"{community.slug}: {e}") from None


def _load(con: duckdb.DuckDBPyConnection, target: SourceFile, batches: list[Batch],
          pseudonyms: Pseudonymiser | None) -> LoadResult:
    try:
        return load(con, target, pseudonyms.batches(batches) if pseudonyms else batches)
    except PseudonymMismatch as e:
        raise SyncError(str(e)) from None


def sync_slack(con: duckdb.DuckDBPyConnection, community: Community, source: Source, *, client=None,
               lookback_days: float = 60, now: float | None = None) -> SyncReport:
    """Bring the warehouse up to date with one Slack workspace."""
    if client is None:
        client = client_for(_token(community, source), source.base_url or os.environ.get(_URL_VARIABLE["slack"]))
    pseudonyms = _pseudonyms(community, "slack")
    target = live_source(community, source, pseudonyms)
    now = now if now is not None else time.time()
    state = SyncState(checkpoints=stored.checkpoints(con, target.source_id),
                      latest_replies=stored.latest_replies(con, community.slug, "slack", now - lookback_days * 86400))
    reader = LiveReader(client, community.slug, state, lookback_days=lookback_days, now=now)
    target = replace(target, reactions_whole=reader.lists_all_reactions)
    report = SyncReport(community.slug, target.path)
    try:
        for unit in reader.units():
            batches = list(unit.batches)
            if unit.checkpoints:
                batches.append(Batch.of("sync_state", [Checkpoint(key=k, value=v) for k, v in unit.checkpoints.items()]))
            if batches:
                result = _load(con, target, batches, pseudonyms)
                report.messages_new += result.new
                report.units += bool(result.new or unit.checkpoints)
    except SlackSyncError as e:
        raise SyncError(f"{community.slug}: {e}") from None
    finally:
        summary = reader.summary
        report.channels, report.skipped = summary.channels, summary.skipped
        report.threads_reread, report.rate_limited = summary.threads_reread, summary.rate_limited
    return report


@dataclass
class TelegramReport:
    community: str
    source: str
    updates: int = 0
    messages_new: int = 0
    reaction_changes: int = 0
    chats: int = 0
    rate_limited: int = 0
    quarantined: int = 0  # updates the hub could not read (in the quarantine table)


def sync_telegram(con: duckdb.DuckDBPyConnection, community: Community, source: Source, *, bot=None,
                  max_pages: int | None = None, sleep=time.sleep) -> TelegramReport:
    """Read a Telegram bot's pending updates into the warehouse, one committed page at a time.

    The offset is stored with each page's data and only then sent to Telegram (by the next
    getUpdates), so a crash re-reads the page, and the loader keeps it from being stored twice."""
    if bot is None:
        bot = telegram_api.bot_for(_token(community, source),
                                   source.base_url or os.environ.get(_URL_VARIABLE["telegram"]))
    pseudonyms = _pseudonyms(community, "telegram")
    target = live_source(community, source, pseudonyms)
    offset = stored.checkpoints(con, target.source_id).get("offset")
    reader = telegram_api.LiveReader(bot, community.slug, int(offset) if offset else None, max_pages=max_pages,
                                     sleep=sleep)
    report = TelegramReport(community.slug, target.path)
    try:
        for unit in reader.units():
            batches = unit.batches + [Batch.of("sync_state", [Checkpoint(key=k, value=v)
                                                              for k, v in unit.checkpoints.items()])]
            report.messages_new += _load(con, target, batches, pseudonyms).new
    except telegram_api.TelegramSyncError as e:
        raise SyncError(f"{community.slug}: {e}") from None
    finally:
        s = reader.summary
        report.updates, report.reaction_changes, report.rate_limited = s.updates, s.reaction_changes, s.rate_limited
        report.chats, report.quarantined = len(s.chats), s.quarantined
    return report


def _token(community: Community, source: Source) -> str:
    token = os.environ.get(source.token_env or "")
    if not token:
        raise SyncError(f"set the environment variable {source.token_env} to the {source.platform} bot token "
                        f"of community {community.slug!r}")
    return token
