"""Export files hashed ahead, in a thread, while `hub ingest` starts up.

Each file is recorded by its SHA-256 before it is read (a file loaded before is skipped). Hashing
a big export takes about a second per GB of one core; the hub's imports, which come first, keep
only one core busy, so the hash is done on the other in the meantime. Light on purpose: importing
this module must not pull in the connectors or the warehouse.
"""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import Future
from pathlib import Path

CHUNK = 32 << 20


class Prehashed:
    """SHA-256 and size of the plain files among `paths`, computed in a background thread. The
    thread is a daemon: a command that fails before reading does not wait for it to finish."""

    def __init__(self, paths: list[Path]) -> None:
        self._digests: dict[Path, Future] = {}
        for path in paths:
            if path.is_file() and path.resolve() not in self._digests:
                self._digests[path.resolve()] = Future()
        if self._digests:
            threading.Thread(target=self._hash_all, name="prehash", daemon=True).start()

    def _hash_all(self) -> None:
        for path, future in self._digests.items():
            try:
                future.set_result(file_digest(path))
            except OSError as e:
                future.set_exception(e)

    def digest(self, path: Path) -> tuple[str, int] | None:
        """The file's (SHA-256, size) if it was hashed ahead and is unchanged since; else None.

        Unchanged means the same size and modification time: a copy that keeps both (`cp -p`)
        but not the content would pass, as it would for any tool that trusts them."""
        future = self._digests.get(path.resolve())
        if future is None:
            return None
        try:
            digest, size, mtime = future.result()
        except OSError:
            return None  # unreadable: hashed again where it is read, and the error told there
        stat = path.stat()
        return (digest, size) if (stat.st_size, stat.st_mtime_ns) == (size, mtime) else None


def file_digest(path: str | Path) -> tuple[str, int, int]:
    """SHA-256, size and modification time (ns) of a file, as read."""
    # Read and hashed 32 MB at a time: both release the GIL, but taking it back after each step
    # waits for the importing thread to let go of it (5 ms): in hashlib.file_digest's 256 KB steps
    # the hash of a 500 MB file took 1.3 s beside the imports, 0.55 s on its own.
    digest, buffer = hashlib.sha256(), bytearray(CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        stat = os.fstat(f.fileno())  # of the file being read, whatever the path names by now
        while size := f.readinto(buffer):
            digest.update(view[:size])
    return digest.hexdigest(), stat.st_size, stat.st_mtime_ns
