"""Real servers for tests and benches, started and stopped by them: PostgreSQL (Debian's
`postgresql`, installed by .ci/run) on a free local port, run as a non-root user as PostgreSQL
requires; Redis; an S3 API (moto); and Dagster's Celery workers as deploy/README.md starts them."""

from __future__ import annotations

import glob
import json
import os
import signal
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Postgres:
    port: int
    user: str = "hub"

    def dsn(self, database: str) -> str:
        """libpq's connection string (DuckDB's postgres extension, DuckLake's catalog)."""
        return f"dbname={database} host=127.0.0.1 port={self.port} user={self.user}"

    def url(self, database: str) -> str:
        """SQLAlchemy's URL, in the psycopg2 scheme (Dagster's instance)."""
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{database}"


@contextmanager
def postgres_server(*databases: str) -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 with these databases (default: hub)."""
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
            for database in databases or ("hub",):
                run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "hub", database)
            yield Postgres(port)
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    except subprocess.CalledProcessError as e:
        raise RuntimeError(f"PostgreSQL did not start: {e.stderr or e.stdout}") from None
    finally:
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway Redis (Debian's `redis-server`) on 127.0.0.1, nothing saved; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("Redis is not installed: apt-get install redis-server (.ci/run does)")
    home, port = Path(tempfile.mkdtemp(prefix="hub-redis-")), free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                               "--dir", str(home)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, server)
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def s3_server() -> Iterator[str]:
    """An S3 API (moto's server) on 127.0.0.1; yields its endpoint URL. Any key and secret are taken."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited at start ({process.returncode})")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {seconds} s")


# -- Dagster on Celery workers (deploy/README.md) ---------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def scaleout_env(pg: Postgres, broker: str, settings, catalog: str, data_path: str, home: Path,
                 instance_db: str) -> dict:
    """The environment deploy/README.md gives the webserver, the daemon and every worker: the
    instance in PostgreSQL (`instance_db`), the warehouse on DuckLake, Celery's broker and backend."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    return {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": str(pg.port),
            "DAGSTER_PG_DB": instance_db, "DAGSTER_PG_USER": "hub", "DAGSTER_PG_PASSWORD": "",
            "HUB_DB": catalog, "HUB_LAKE_DATA_PATH": data_path, "HUB_CONFIG": settings.config_path,
            "HUB_INBOX": settings.inbox, "HUB_RAW_STORE": settings.raw_store,
            "HUB_CELERY_BROKER": f"{broker}/0", "HUB_CELERY_BACKEND": f"{broker}/1"}


@contextmanager
def celery_workers(env: dict, count: int, logs: Path):
    """`count` Celery workers of one process each, as deploy/README.md starts them."""
    workers = []
    for i in range(count):
        with open(logs / f"worker{i}.log", "w") as log:
            workers.append(subprocess.Popen(
                [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y",
                 str(ROOT / "deploy" / "celery.yaml"), "-n", f"w{i}", "--", "--concurrency", "1"],
                env={**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True))
    try:
        yield
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)


def dagster_execute(env: dict, job: str, tags: dict | None = None) -> subprocess.Popen:
    """`dagster job execute` of one of the hub's jobs, as a process (steps go where `env` says)."""
    args = [str(BIN / "dagster"), "job", "execute", "-m", "pipelines.definitions", "-a", "defs", "-j", job]
    return subprocess.Popen(args + (["--tags", json.dumps(tags)] if tags else []), env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_graph(env: dict, settings, parallel: int) -> list[str]:
    """The whole asset graph, as the deployment runs it: the inbox sensor's runs, `parallel` at a
    time, then the derived tables. Returns the files loaded; a failed run raises with its log."""
    import dagster as dg

    from hub.demo import sensed_files

    instance_env = {k: v for k, v in env.items() if k.startswith("DAGSTER_PG_")}
    saved = {k: os.environ.get(k) for k in instance_env}
    os.environ.update(instance_env)  # the instance's dagster.yaml reads them
    try:
        keys = sensed_files(dg.DagsterInstance.from_config(env["DAGSTER_HOME"]), settings)
    finally:
        for k, v in saved.items():
            if v is None:
                del os.environ[k]
            else:
                os.environ[k] = v
    # Once, when the instance is new (deploy/README.md): runs that start together would race to set it.
    subprocess.run([str(BIN / "dagster"), "instance", "concurrency", "set", "duckdb", str(max(parallel, 1))],
                   env=env, check=True, capture_output=True)
    for group in (keys[i:i + parallel] for i in range(0, len(keys), parallel)):
        _finished([dagster_execute(env, "ingest_export", {"dagster/partition": key}) for key in group])
    _finished([dagster_execute(env, "refresh_marts")])
    return keys


def _finished(runs: list[subprocess.Popen]) -> None:
    for run in runs:
        out, _ = run.communicate(timeout=1800)
        if run.returncode != 0:
            raise RuntimeError(f"a Dagster run failed:\n{out[-3000:]}")
