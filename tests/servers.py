"""Real servers for tests, started and stopped by the tests: PostgreSQL (Debian's `postgresql`,
installed by .ci/run) on a free local port, run as a non-root user as PostgreSQL requires."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (Debian keeps them off the PATH)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    return Path(folders[-1]) if folders else None


@contextmanager
def postgres_server(database: str = "hub") -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1; yields libpq's connection string for `database`."""
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL's server is not installed: apt-get install postgresql (.ci/run does)")
    home = Path(tempfile.mkdtemp(prefix="hub-pg-"))
    data, port = home / "data", free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: as the user Debian's package made
        as_user = ["runuser", "-u", "postgres", "--"]
        home.chmod(0o755)
        shutil.chown(home, "postgres")

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, text=True)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "hub", "--auth=trust", "-E", "UTF8", "--no-sync")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(home / "log"), "-w", "-t", "60", "start", "-o",
            f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200")
        try:
            run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "hub", database)
            yield f"dbname={database} host=127.0.0.1 port={port} user=hub"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    except subprocess.CalledProcessError as e:
        raise RuntimeError(f"PostgreSQL did not start: {e.stderr or e.stdout}") from None
    finally:
        shutil.rmtree(home, ignore_errors=True)
