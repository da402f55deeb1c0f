"""Crawl killed part-way, then ``--resume``: the listings equal those of an uninterrupted crawl.

The crawler's own test (``tests/test_crawler_resume.py::test_sigterm_then_resume`` and the slow
``::test_kill_9_then_resume``) checks the member directory's URL paths against the generator's
truth. This adds the comparison the issue asks for: the multiset of (source, url, name) after a
kill and a resume equals that of an uninterrupted crawl of the same site in the same run (so a
listing whose name was lost or doubled is caught too), for both sample sources, after SIGKILL,
after SIGTERM, and after two kills in a row before the resume.
"""

from __future__ import annotations

import signal
import sqlite3

import pytest

from crawler.run import crawl

from .crawl_kill import listing_count, start_and_stop
from .sites.sample import sample_site, served

pytestmark = pytest.mark.slow
POLITE_BUT_QUICK = {"DOWNLOAD_DELAY": 0.15, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "AUTOTHROTTLE_ENABLED": False,
                    "RANDOMIZE_DOWNLOAD_DELAY": False}


def listings(db_path, source: str) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    rows = sorted(conn.execute("select source, url, name from listings where source = ?", [source]))
    conn.close()
    return rows


def settings_for(source: str) -> dict:
    # The PPE marketplace is small (29 listings) and the store commits about once a second, so
    # the committed count lags the crawl: a slower pace leaves room to stop it part-way.
    return dict(POLITE_BUT_QUICK, DOWNLOAD_DELAY=0.35) if source == "ppe_marketplace" else POLITE_BUT_QUICK


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    sample_site(root)
    with served(root) as bases:
        yield bases


@pytest.fixture(scope="module")
def uninterrupted(site, tmp_path_factory):
    db = tmp_path_factory.mktemp("whole") / "work.db"
    out = {}
    for source in ("member_directory", "ppe_marketplace"):
        run = crawl(db, source=source, base_urls=site, fast=True)
        assert run["status"] == "finished"
        out[source] = listings(db, source)
        assert out[source]
    return out


@pytest.mark.parametrize("source,sig,kills", [
    ("member_directory", signal.SIGKILL, 1),
    ("ppe_marketplace", signal.SIGKILL, 1),
    ("ppe_marketplace", signal.SIGTERM, 1),
    ("member_directory", signal.SIGKILL, 2),
])
def test_killed_then_resumed_equals_uninterrupted(site, uninterrupted, tmp_path, source, sig, kills):
    db = tmp_path / "work.db"
    expected = uninterrupted[source]
    jobs = []
    for k in range(kills):
        after = 1 if source == "ppe_marketplace" else (k + 1) * len(expected) // (kills + 2)
        jobs.append(start_and_stop(db, source, site, sig, after_listings=after, settings=settings_for(source), resume=k > 0))
        assert 0 < listing_count(db) < len(expected)
    resumed = crawl(db, source=source, base_urls=site, resume=True, fast=True)
    assert resumed["status"] == "finished"
    got = listings(db, source)
    assert len(got) == len(set(got)), "no listing twice"
    assert got == expected, "no listing lost, none added, names equal"
    conn = sqlite3.connect(db)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    statuses = [conn.execute("select status from crawl_runs where run_id = ?", [j["run_id"]]).fetchone()[0] for j in jobs]
    conn.close()
    # A SIGTERM'd run closes itself as 'stopped'; a SIGKILL'd one cannot and stays 'running'.
    assert statuses == (["stopped"] * kills if sig == signal.SIGTERM else ["running"] * kills)
