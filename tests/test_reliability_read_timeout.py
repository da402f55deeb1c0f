"""Pages too slow to read, under real crawls, on every reading path (``make reliability``).

The fast suite (``tests/test_crawler_read_timeout.py``) crawls with a page worker whose own alarm
stops the slow reading. Here: a page the worker's alarm cannot stop (a C call, as the crawl
process sees it) under a real crawl, the crawl process's own reading (``PAGE_WORKERS=0``,
through Scrapy's pipelines), reading in ``EXTRACT_WORKERS`` processes, generic mode on the
hand-written chamber site, and the next crawl of the same site, which must replace the failed
row with the page's listing.
"""

from __future__ import annotations

import pytest

from crawler.run import crawl

from .sites.sample import served
from .sites.server import serving
from .test_crawler_handoff import rows_of
from .test_crawler_read_timeout import SLOW, _check_failed, check_crawl, crawl_with_a_slow_page

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample_root(tmp_path_factory):
    return tmp_path_factory.mktemp("sample")


def test_a_worker_stuck_in_a_page_under_a_real_crawl_is_killed_and_the_rest_read(tmp_path, sample_root, monkeypatch):
    db = tmp_path / "work.db"
    run, slow, paths = crawl_with_a_slow_page(db, sample_root, monkeypatch, "stuck", {})
    check_crawl(db, run, slow, paths)
    assert run["problems"]["page/read_timeout_worker_killed"] == run["problems"]["page/page_worker_lost"] == 1


@pytest.mark.parametrize("settings", [{"PAGE_WORKERS": 0}, {"PAGE_WORKERS": 0, "EXTRACT_WORKERS": 1}],
                         ids=["in-process", "extract-worker"])
def test_a_page_too_slow_to_read_outside_page_workers(tmp_path, sample_root, monkeypatch, settings):
    db = tmp_path / "work.db"
    run, slow, paths = crawl_with_a_slow_page(db, sample_root, monkeypatch, "spin", settings)
    check_crawl(db, run, slow, paths)


def test_the_next_crawl_replaces_the_failed_row_with_the_listing(tmp_path, sample_root, monkeypatch):
    """A page failed once is read again by the next crawl: nothing about it is lost for good, and
    the database ends as a crawl that never met the slow page leaves it."""
    db, normal_db = tmp_path / "work.db", tmp_path / "normal.db"
    run, slow, paths = crawl_with_a_slow_page(db, sample_root, monkeypatch, "spin", {})
    check_crawl(db, run, slow, paths)
    monkeypatch.delenv("SLOW_READER_SPIN")
    with served(sample_root) as bases:
        again = crawl(db, source="member_directory", base_urls=bases, fast=True)
        crawl(normal_db, source="member_directory", base_urls=bases, fast=True)
    assert again["status"] == "finished" and "page/read_timeout" not in again["problems"]
    strip = {"previous_sha256"}  # the failed row's hash was the same page's: nothing changed
    assert {k: {c: v for c, v in r.items() if c not in strip} for k, r in rows_of(db).items()} == \
        {k: {c: v for c, v in r.items() if c not in strip} for k, r in rows_of(normal_db).items()}


def test_generic_mode_goes_on_past_pages_too_slow_to_read(tmp_path, monkeypatch):
    """Generic mode reads in the crawl process (its link following needs each page's result).
    Two slow pages: the second failed row must not be taken for a repeated organisation."""
    db, normal_db = tmp_path / "work.db", tmp_path / "normal.db"
    slow = ("/business/103-sierra-steel", "/business/105-pure-water")  # as the directory links them
    settings = {"DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": 1, "GENERIC_TRAP_LIMIT": 10, "DOWNLOAD_MAXSIZE": 1024 * 1024}
    with serving(slow_seconds=0.1) as (base, _hits):
        normal = crawl(normal_db, start_url=base + "/", source="chamber", fast=True, settings=settings)
        monkeypatch.setenv("SLOW_READER_SPIN", ",".join(slow))
        run = crawl(db, start_url=base + "/", source="chamber", fast=True,
                    settings={**settings, "PAGE_READER": SLOW["reader"], "PAGE_READ_TIMEOUT": 1})
    assert normal["status"] == run["status"] == "finished" and run["problems"]["page/read_timeout"] == 2
    rows, expected = rows_of(db), rows_of(normal_db)
    failed = {k: r for k, r in rows.items() if r["url"].endswith(slow)}
    assert len(failed) == 2
    for row in failed.values():
        _check_failed(row)
    assert {k: r for k, r in rows.items() if k not in failed} == {k: r for k, r in expected.items() if not r["url"].endswith(slow)}
