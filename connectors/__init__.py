"""Connectors turn a platform's export (file, folder, zip) or API into canonical batches.

They know nothing of Dagster or DuckDB. Every file connector offers the same three things:
`sniff(path)` (is this file mine?), `ExportReader(path, options)` with `batches()` and a
`summary`, and an `Options` with at least community, channel and tz.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import connectors.discord.export
import connectors.facebook.export
import connectors.slack.export
import connectors.telegram.export
import connectors.whatsapp.parse
import connectors.whatsapp.source
from connectors.files import UnreadableExport, check_not_empty_or_binary, open_zip, refused_members, refused_note, \
    zip_members

# Platform name -> (detector, reader module). Each new connector adds one line.
FILE_CONNECTORS = {
    "whatsapp": (connectors.whatsapp.source.sniff, connectors.whatsapp.parse),
    "slack": (connectors.slack.export.sniff, connectors.slack.export),
    "telegram": (connectors.telegram.export.sniff, connectors.telegram.export),
    "discord": (connectors.discord.export.sniff, connectors.discord.export),
    "facebook": (connectors.facebook.export.sniff, connectors.facebook.export),
}
# Exports that are a folder as a whole (not a folder of exports), by platform.
_FOLDER_EXPORTS = {"slack": connectors.slack.export.sniff, "telegram": connectors.telegram.export.sniff,
                   "facebook": connectors.facebook.export.sniff}


def detect_platform(path: Path) -> str:
    """The platform whose export this file is, from its content; UnreadableExport if none."""
    if path.is_dir():
        for platform, sniff in _FOLDER_EXPORTS.items():
            if sniff(path):
                return platform
        raise UnreadableExport(path, "a folder that is not a known export", "pass the export files inside it")
    if not path.is_file():
        raise UnreadableExport(path, "no such file", "check the path")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            head = f.read(65536)
        if head.startswith(b"PK\x03\x04"):  # a zip's first entry, but no directory at its end: cut short
            open_zip(path).close()  # (which says so)
        check_not_empty_or_binary(path, head)
    else:
        with open_zip(path) as archive:
            if not zip_members(archive):
                raise UnreadableExport(path, "the zip archive is empty" + refused_note(refused_members(archive)),
                                       "export the chat again")
    for platform, (sniff, _) in FILE_CONNECTORS.items():
        if sniff(path):
            return platform
    raise UnreadableExport(path, "not a chat export this hub can read (no WhatsApp message lines, no Slack or Telegram export)",
                           "check that it is the file the platform exported, or name it with --platform")


def is_export_folder(path: Path) -> bool:
    """A folder that is one export as a whole (a Slack workspace export, a Facebook dump: its
    files read apart would lose what ties them, the groups a reaction or a post is in), not a
    folder of exports."""
    if not path.is_dir():
        return False
    if connectors.slack.export.sniff(path):
        return True
    return _facebook_dump(path) and connectors.facebook.export.sniff(path)


def _facebook_dump(path: Path) -> bool:
    """Download Your Information's own layout: its activity folders, `messages/inbox/`, or
    `groups/your_….json` (not any folder that happens to be called `groups`)."""
    tops = {child.name for child in path.iterdir() if child.is_dir()}
    if tops & {"your_activity_across_facebook", "your_facebook_activity"} or (path / "messages" / "inbox").is_dir():
        return True
    return "groups" in tops and any((path / "groups").glob("your_*.json"))


def reader_for(platform: str):
    try:
        return FILE_CONNECTORS[platform][1]
    except KeyError:
        raise ValueError(f"unknown platform {platform!r}: known are {', '.join(FILE_CONNECTORS)}") from None
