"""Shared fixtures: the real-export corpus beside the repository, and throwaway warehouses."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = (ROOT / ".." / "shared" / "corpus").resolve()


@pytest.fixture(scope="session")
def corpus() -> Path:
    """`../shared/corpus`: real exports written by other projects, read in place, never copied."""
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus of real exports is not at {CORPUS} (CI and developer machines have it)")
    return CORPUS


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "hub.duckdb"


@pytest.fixture
def con(db_path: Path):
    from warehouse.db import connect

    with connect(db_path) as connection:
        yield connection
