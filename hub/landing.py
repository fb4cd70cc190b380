"""The raw store: an immutable, content-addressed copy of every export file the pipeline reads.

A file lands at `<store>/<sha256[:2]>/<sha256>/<its name>` (hard-linked when the store is on the
same disk, copied otherwise), so the core tables can be rebuilt from exactly the bytes that were
read, even after the inbox is cleaned. The name is kept because it carries the chat's name.
"""

from __future__ import annotations

import os
import shutil
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from connectors.files import content_digest


@dataclass(frozen=True)
class Landed:
    sha256: str
    bytes: int
    stored_as: Path


def land(path: Path, store: Path) -> Landed:
    """Keep an immutable copy of an export file (or export folder) under its content hash."""
    digest, size = content_digest(path)
    target = store.resolve() / digest[:2] / digest / path.name  # absolute: hub forget may run elsewhere
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        if path.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
            # Links are copied as links: their targets lie outside the export, and the connectors
            # refuse to follow them (connectors/files.py).
            shutil.copytree(path, partial, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(path, partial)
        os.replace(partial, target)
    return Landed(digest, size, target)


def _link_or_copy(source: Path | str, target: Path | str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def delete_raw_copies(paths: list[str]) -> int:
    """Delete copies in the raw store (`hub forget`): a file or folder and its hash folder.

    Only paths laid out as the store lays them out are touched, so an export that was read where
    it is (its row points at the original) is never deleted by mistake. Returns how many went."""
    deleted = 0
    for stored in map(Path, paths):
        folder = stored.parent
        if not (len(folder.name) == 64 and folder.parent.name == folder.name[:2]):
            continue
        if stored.is_dir() and not stored.is_symlink():
            shutil.rmtree(stored)
            deleted += 1
        elif stored.exists() or stored.is_symlink():
            stored.unlink()
            deleted += 1
        with suppress(OSError):  # other names of the same bytes may still be there
            folder.rmdir()
    return deleted
