"""The raw store: an immutable, content-addressed copy of every export file the pipeline reads.

A file lands at `<store>/<sha256[:2]>/<sha256>/<its name>` (hard-linked when the store is on the
same disk, copied otherwise), so the core tables can be rebuilt from exactly the bytes that were
read, even after the inbox is cleaned. The name is kept because it carries the chat's name.
"""

from __future__ import annotations

import os
import shutil
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
    target = store / digest[:2] / digest / path.name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        if path.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
            shutil.copytree(path, partial, copy_function=_link_or_copy)
        else:
            _link_or_copy(path, partial)
        os.replace(partial, target)
    return Landed(digest, size, target)


def _link_or_copy(source: Path | str, target: Path | str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
