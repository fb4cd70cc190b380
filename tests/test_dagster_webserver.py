"""The Dagster UI serves the hub's assets, checks and sensors (found through its GraphQL API)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body
    return body["data"]


@pytest.fixture
def webserver(tmp_path: Path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "pipelines" / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "HUB_DB": str(tmp_path / "hub.duckdb"),
           "HUB_INBOX": str(tmp_path / "inbox"), "PYTHONPATH": str(ROOT)}
    command = [str(Path(sys.executable).with_name("dagster-webserver")), "-h", "127.0.0.1", "-p", str(port),
               "-m", "pipelines.definitions"]
    log = open(tmp_path / "webserver.log", "w")
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as r:
                    assert json.loads(r.read())["dagster_version"] == "1.13.27"
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("dagster-webserver did not start:\n" + (tmp_path / "webserver.log").read_text())
                time.sleep(0.5)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.mark.slow
def test_ui_lists_assets_checks_and_sensors(webserver: int) -> None:
    nodes = graphql(webserver, """{ assetNodes { assetKey { path } groupName isPartitioned
        assetChecksOrError { ... on AssetChecks { checks { name } } } } }""")["assetNodes"]
    assets = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    assert {k: (v["groupName"], v["isPartitioned"]) for k, v in assets.items()} == {
        "raw_export_file": ("raw", True), "core_tables": ("core", True), "member_weekly_activity": ("marts", False),
        "persons": ("people", False), "interactions": ("people", False), "community_health": ("people", False),
        "member_scores": ("people", False), "community_stages": ("people", False),
        "community_reports": ("reports", False)}
    checks = {c["name"] for c in assets["core_tables"]["assetChecksOrError"]["checks"]}
    assert checks == {"unique_message_ids", "no_orphan_authors", "timestamps_within_export_range"}

    repositories = graphql(webserver, """{ repositoriesOrError { ... on RepositoryConnection { nodes {
        location { name } sensors { name sensorState { status } } jobs { name } } } } }""")
    (repository,) = repositories["repositoriesOrError"]["nodes"]
    assert repository["location"]["name"] == "pipelines.definitions"
    sensors = {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]}
    assert sensors == {"export_inbox_sensor": "RUNNING", "marts_automation": "RUNNING"}
    assert {"ingest_export", "refresh_marts"} <= {j["name"] for j in repository["jobs"]}
