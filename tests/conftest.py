"""Shared fixtures: small, named for what they give (sqlite-utils' habit)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
CHROMIUM = Path("/usr/bin/chromium")

# No test may reach a hub or write caches under ~.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def work_db_path(tmp_path) -> Path:
    """Path of an empty working database in a temporary folder."""
    return tmp_path / "work.db"


@pytest.fixture(scope="session")
def venv_python() -> str:
    """The interpreter running the tests: servers started with it can be killed by pid."""
    return sys.executable


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"{SHARED_DATA} is absent: the shared evaluation data is not on this machine")
    return SHARED_DATA
