"""`export-finder demo --no-serve` runs every stage on a small sample and publishes a database
that Datasette opens and answers from."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlite_utils
from datasette.app import Datasette


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [sys.executable, "-m", "export_finder.cli", "demo", "--no-serve", "--firms", "80", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "skipped" not in result.stderr, result.stderr
    return out


def test_demo_runs_every_stage(demo_out):
    db = sqlite_utils.Database(demo_out / "work.db")
    for table in ("listings", "firms", "products", "hs_hints", "signals", "scores", "score_reasons", "market_suggestions"):
        assert db[table].count > 0, f"{table} is empty after the demo"
    assert db["firms"].count <= db["listings"].count




def test_published_database_opens_in_datasette(demo_out):
    import asyncio

    published = demo_out / "export_finder.db"
    assert published.exists()

    async def fetch():
        ds = Datasette([str(published)], immutables=[])
        response = await ds.client.get("/export_finder/firms.json?_shape=array&_size=5")
        return response

    response = asyncio.run(fetch())
    assert response.status_code == 200
    rows = response.json()
    assert rows and all(row["name"] for row in rows)
