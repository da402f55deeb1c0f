"""Stop and resume: SIGTERM mid-crawl, then ``resume=True``: no duplicates, no losses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from urllib.parse import urlsplit

import pytest
import sqlite_utils

from crawler.run import build_job, command, crawl

from .sites.sample import sample_site, served

POLITE_BUT_QUICK = {"DOWNLOAD_DELAY": 0.05, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "AUTOTHROTTLE_ENABLED": False, "RANDOMIZE_DOWNLOAD_DELAY": False}


@pytest.fixture(scope="module")
def sample_root(tmp_path_factory):
    return tmp_path_factory.mktemp("sample")


def _expected_urls(root) -> set[str]:
    rows = [json.loads(line) for line in (sample_site(root) / "truth.jsonl").open()]
    return {l["url"] for firm in rows for l in firm["listings"] if l["source"] == "member_directory"}


def _count(db_path) -> int:
    if not db_path.exists():
        return 0
    db = sqlite_utils.Database(db_path)
    try:
        return db["listings"].count if db["listings"].exists() else 0
    finally:
        db.conn.close()


def _start_and_stop(db_path, bases, sig, after_listings):
    job = build_job(db_path, source="member_directory", base_urls=bases, settings=POLITE_BUT_QUICK)
    proc = subprocess.Popen(command(job), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while _count(db_path) < after_listings and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert proc.poll() is None, "the crawl finished before it could be stopped"
    os.kill(proc.pid, sig)
    proc.wait(timeout=30)
    return job


def _check_complete(db_path, expected):
    db = sqlite_utils.Database(db_path)
    rows = list(db["listings"].rows_where("source = 'member_directory'"))
    paths = [urlsplit(r["url"]).path for r in rows]
    assert len(paths) == len(set(paths)), "no duplicates"
    assert set(paths) == expected, "no losses"
    return db


def test_sigterm_then_resume(tmp_path, sample_root):
    db_path = tmp_path / "work.db"
    expected = _expected_urls(sample_root)
    with served(sample_root) as bases:
        job = _start_and_stop(db_path, bases, signal.SIGTERM, after_listings=12)
        db = sqlite_utils.Database(db_path)
        stopped = db["crawl_runs"].get(job["run_id"])
        assert stopped["status"] == "stopped" and stopped["finish_reason"] == "shutdown"
        before = _count(db_path)
        assert 12 <= before < len(expected)
        resumed = crawl(db_path, source="member_directory", base_urls=bases, resume=True, fast=True)
    assert resumed["status"] == "finished"
    _check_complete(db_path, expected)
    # Resumed, not restarted: the second run fetched only what the first had not.
    assert resumed["listings"] <= len(expected) - before + 2
    assert resumed["pages"] < stopped["pages"] + resumed["pages"] <= len(expected) + 8


@pytest.mark.slow
def test_kill_9_then_resume(tmp_path, sample_root):
    """A hard kill leaves the run 'running' and the disk queue torn: resume starts clean."""
    db_path = tmp_path / "work.db"
    expected = _expected_urls(sample_root)
    with served(sample_root) as bases:
        job = _start_and_stop(db_path, bases, signal.SIGKILL, after_listings=8)
        assert sqlite_utils.Database(db_path)["crawl_runs"].get(job["run_id"])["status"] == "running"
        resumed = crawl(db_path, source="member_directory", base_urls=bases, resume=True, fast=True)
    assert resumed["status"] == "finished"
    _check_complete(db_path, expected)
