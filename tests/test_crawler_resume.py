"""Stop and resume: SIGTERM mid-crawl, then ``resume=True``: no duplicates, no losses."""

from __future__ import annotations

import json
import signal
from urllib.parse import urlsplit

import pytest
import sqlite_utils

from crawler.run import crawl

from .crawl_kill import listing_count, start_and_stop
from .sites.sample import sample_site, served

POLITE_BUT_QUICK = {"DOWNLOAD_DELAY": 0.05, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "AUTOTHROTTLE_ENABLED": False, "RANDOMIZE_DOWNLOAD_DELAY": False}


@pytest.fixture(scope="module")
def sample_root(tmp_path_factory):
    return tmp_path_factory.mktemp("sample")


def _expected_urls(root) -> set[str]:
    rows = [json.loads(line) for line in (sample_site(root) / "truth.jsonl").open()]
    return {l["url"] for firm in rows for l in firm["listings"] if l["source"] == "member_directory"}


def _check_complete(db_path, expected):
    db = sqlite_utils.Database(db_path)
    rows = list(db["listings"].rows_where("source = 'member_directory'"))
    paths = [urlsplit(r["url"]).path for r in rows]
    assert len(paths) == len(set(paths)), "no duplicates"
    assert set(paths) == expected, "no losses"
    return db


@pytest.mark.parametrize("page_workers", [1, 0], ids=["page-worker", "in-process"])
def test_sigterm_then_resume(tmp_path, sample_root, page_workers):
    """Both detail-page paths: in a page worker (the default) and through Scrapy's pipelines."""
    db_path = tmp_path / "work.db"
    expected = _expected_urls(sample_root)
    settings = dict(POLITE_BUT_QUICK, PAGE_WORKERS=page_workers)
    with served(sample_root) as bases:
        job = start_and_stop(db_path, "member_directory", bases, signal.SIGTERM, after_listings=12, settings=settings, timeout=30)
        db = sqlite_utils.Database(db_path)
        stopped = db["crawl_runs"].get(job["run_id"])
        assert stopped["status"] == "stopped" and stopped["finish_reason"] == "shutdown"
        before = listing_count(db_path)
        assert 12 <= before < len(expected)
        resumed = crawl(db_path, source="member_directory", base_urls=bases, resume=True, fast=True,
                        settings={"PAGE_WORKERS": page_workers})
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
        job = start_and_stop(db_path, "member_directory", bases, signal.SIGKILL, after_listings=8, settings=POLITE_BUT_QUICK, timeout=30)
        assert sqlite_utils.Database(db_path)["crawl_runs"].get(job["run_id"])["status"] == "running"
        resumed = crawl(db_path, source="member_directory", base_urls=bases, resume=True, fast=True)
    assert resumed["status"] == "finished"
    _check_complete(db_path, expected)
