"""Pages too slow to read, or whose reading raises, under real crawls, on every reading path, and
fresh page workers in place of killed ones (``make reliability``).

The fast suite (``tests/test_crawler_read_timeout.py``) crawls with a page worker whose own alarm
stops the slow reading. Here: a page the worker's alarm cannot stop (a C call, as the crawl
process sees it) under a real crawl, the crawl process's own reading (``PAGE_WORKERS=0``,
through Scrapy's pipelines), reading in ``EXTRACT_WORKERS`` processes, generic mode on the
hand-written chamber site, and the next crawl of the same site, which must replace the failed
row with the page's listing. The same for a page whose reading raises (``raise`` pages,
``tests/test_crawler_read_error.py`` has the fast cases). And workers killed on pages no alarm
stops, one after the other, under a real crawl: a fresh worker in place of the first, none past
``PAGE_WORKER_RESTARTS``, nothing lost, nothing stored twice.
"""

from __future__ import annotations

import json
from collections import Counter
from urllib.parse import urlsplit

import pytest

from crawler.run import crawl

from .sites.sample import served
from .sites.server import serving
from .test_crawler_handoff import rows_of
from .test_crawler_read_error import check_failed, check_raising_crawl, crawl_with_a_raising_page
from .test_crawler_read_timeout import SLOW, _check_failed, _member_paths, check_crawl, crawl_with_a_slow_page

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample_root(tmp_path_factory):
    return tmp_path_factory.mktemp("sample")


def test_a_worker_stuck_in_a_page_under_a_real_crawl_is_killed_and_the_rest_read(tmp_path, sample_root, monkeypatch):
    db = tmp_path / "work.db"
    run, slow, paths = crawl_with_a_slow_page(db, sample_root, monkeypatch, "stuck", {})
    check_crawl(db, run, slow, paths)
    assert run["problems"]["page/read_timeout_worker_killed"] == run["problems"]["page/page_worker_lost"] == 1
    # Replaced unless the crawl was already closing when the worker was killed (a 60-firm crawl
    # at full speed may be): never more than once.
    assert run["problems"].get("page/page_worker_restarted", 0) <= 1


def _index_order(root) -> list[str]:
    """The member pages' paths in the order the directory's index pages link them."""
    import re

    from .sites.sample import sample_site

    pages = sorted((sample_site(root) / "member_directory" / "members" / "page").glob("*.html"), key=lambda p: int(p.stem))
    return [href for page in pages for href in re.findall(r'card-name"><a href="([^"]+)"', page.read_text())]


def _page_counts(root, path: str) -> Counter:
    """The page counters one reading of a member page raises (structured data found, faults)."""
    from scrapy.http import HtmlResponse

    from crawler.base import load_sources, read_response

    from .sites.sample import sample_site

    body = (sample_site(root) / "member_directory" / path.lstrip("/")).read_bytes()
    spec = {"source": "member_directory", "selectors": load_sources()["member_directory"]["selectors"],
            "accepts_unstructured": True, "generic_fallbacks": False, "run_id": None, "id_base": None}
    return Counter(read_response(HtmlResponse("http://member.test" + path, body=body), spec)["counts"])


def test_fresh_workers_replace_killed_ones_up_to_the_limit_under_a_real_crawl(tmp_path, sample_root, monkeypatch):
    """Two pages no alarm stops, far apart in the crawl (downloads spaced 0.15 s, so it is still
    going when each is found), ``PAGE_WORKER_RESTARTS=1``: the first worker is killed and a fresh
    one started; the fresh one is killed on the second page and not replaced. Both pages failed,
    read by no one else; every other member's listing stored once; the run's counters as an
    undisturbed crawl's, plus the two kills."""
    order = _index_order(sample_root)
    assert order and sorted(order) == _member_paths(sample_root)
    stuck = (order[2], order[29])  # the first index page's third card, the second's sixth
    settings = {"DOWNLOAD_DELAY": 0.15, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "AUTOTHROTTLE_ENABLED": False,
                "RANDOMIZE_DOWNLOAD_DELAY": False, "PAGE_WORKERS": 1, "PAGE_READER": SLOW["reader"],
                "PAGE_READ_TIMEOUT": 1, "PAGE_WORKER_RESTARTS": 1}
    db, normal_db = tmp_path / "work.db", tmp_path / "normal.db"
    with served(sample_root) as bases:
        normal = crawl(normal_db, source="member_directory", base_urls=bases, fast=True)
        monkeypatch.setenv("SLOW_READER_STUCK", ",".join(stuck))
        run = crawl(db, source="member_directory", base_urls=bases, settings=settings)
    assert run["status"] == "finished"
    rows, expected = rows_of(db), rows_of(normal_db)
    failed = {k: r for k, r in rows.items() if r["url"].endswith(stuck)}
    assert len(failed) == 2
    for row in failed.values():
        _check_failed(row)
    assert {k: r for k, r in rows.items() if k not in failed} == {k: r for k, r in expected.items() if k not in failed}
    assert run["listings"] == normal["listings"] and run["invalid"] == normal["invalid"] + 2
    # The undisturbed crawl's counters, but for the two pages' listings (their failed rows
    # instead), the two timeouts, the two workers killed and lost, and one fresh worker.
    counts = Counter(normal["problems"])
    for key in failed:
        counts.subtract(_page_counts(sample_root, urlsplit(rows[key]["url"]).path))
        counts.subtract(f"listing/problem/{p}" for p in json.loads(expected[key]["problems"]))
        counts.update(f"listing/problem/{p}" for p in json.loads(rows[key]["problems"]))
    counts.update({"page/read_timeout": 2, "page/read_timeout_worker_killed": 2, "page/page_worker_lost": 2,
                   "page/page_worker_restarted": 1})
    assert run["problems"] == {k: v for k, v in counts.items() if v}


@pytest.mark.parametrize("settings", [{"PAGE_WORKERS": 0}, {"PAGE_WORKERS": 0, "EXTRACT_WORKERS": 1}],
                         ids=["in-process", "extract-worker"])
def test_a_page_whose_reading_raises_outside_page_workers(tmp_path, sample_root, monkeypatch, settings):
    db = tmp_path / "work.db"
    run, broken, paths = crawl_with_a_raising_page(db, sample_root, monkeypatch, settings)
    check_raising_crawl(db, run, broken, paths)


def test_the_next_crawl_replaces_a_read_error_row_with_the_listing(tmp_path, sample_root, monkeypatch):
    db, normal_db = tmp_path / "work.db", tmp_path / "normal.db"
    run, broken, paths = crawl_with_a_raising_page(db, sample_root, monkeypatch, {})
    check_raising_crawl(db, run, broken, paths)
    monkeypatch.delenv("SLOW_READER_RAISE")
    with served(sample_root) as bases:
        again = crawl(db, source="member_directory", base_urls=bases, fast=True)
        crawl(normal_db, source="member_directory", base_urls=bases, fast=True)
    assert again["status"] == "finished" and not any(k.startswith("page/read_error") for k in again["problems"])
    strip = {"previous_sha256"}
    assert {k: {c: v for c, v in r.items() if c not in strip} for k, r in rows_of(db).items()} == \
        {k: {c: v for c, v in r.items() if c not in strip} for k, r in rows_of(normal_db).items()}


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


@pytest.mark.parametrize("marker", ["spin", "raise"], ids=["too-slow", "raising"])
def test_generic_mode_goes_on_past_pages_too_slow_to_read(tmp_path, monkeypatch, marker):
    """Generic mode reads in the crawl process (its link following needs each page's result).
    Two slow (or raising) pages: the second failed row must not be taken for a repeated
    organisation."""
    db, normal_db = tmp_path / "work.db", tmp_path / "normal.db"
    slow = ("/business/103-sierra-steel", "/business/105-pure-water")  # as the directory links them
    settings = {"DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": 1, "GENERIC_TRAP_LIMIT": 10, "DOWNLOAD_MAXSIZE": 1024 * 1024}
    with serving(slow_seconds=0.1) as (base, _hits):
        normal = crawl(normal_db, start_url=base + "/", source="chamber", fast=True, settings=settings)
        monkeypatch.setenv(f"SLOW_READER_{marker.upper()}", ",".join(slow))
        run = crawl(db, start_url=base + "/", source="chamber", fast=True,
                    settings={**settings, "PAGE_READER": SLOW["reader"], "PAGE_READ_TIMEOUT": 1})
    counter = "page/read_timeout" if marker == "spin" else "page/read_error/PageReaderBroke"
    assert normal["status"] == run["status"] == "finished" and run["problems"][counter] == 2
    rows, expected = rows_of(db), rows_of(normal_db)
    failed = {k: r for k, r in rows.items() if r["url"].endswith(slow)}
    assert len(failed) == 2
    for row in failed.values():
        _check_failed(row) if marker == "spin" else check_failed(row, urlsplit(row["url"]).path)
    assert {k: r for k, r in rows.items() if k not in failed} == {k: r for k, r in expected.items() if not r["url"].endswith(slow)}
