"""No page's reading can stall a crawl (``PAGE_READ_TIMEOUT``, crawler/base.py ``read_deadline``,
crawler/handoff.py).

A reader that runs long on chosen pages (``tests/sites/slow_reader.py``, named by the
``PAGE_READER`` setting) stands for a page that makes a regex or the parser run for minutes: a
``spin`` page is Python code the alarm can stop, a ``stuck`` page blocks the alarm as a C call
would. Each test checks that the crawl (or the hand-off driven directly) finishes, that the slow
page is counted (``page/read_timeout``) and kept as a failed row with its reason, and that every
other page's listings are stored once, with the counters one reading of each gives. Limits here
are 1 s; speed itself is never asserted.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from collections import Counter

import pytest
from scrapy.http import HtmlResponse

from crawler.base import PageReadTimeout, _read_safely, read_deadline, read_response
from crawler.handoff import ItemPath, PageHandoff, encode_page

from .test_crawler_handoff import FETCHED, SPEC, Stats, _chamber_pages, _reference, rows_of

SLOW = {**SPEC, "reader": "tests.sites.slow_reader:read_response"}
PROBLEM = "page: read timeout"


def _with_slow(pages, marker: str, at: int):
    """The pages with one more, a copy of a chamber firm's page under a ``marker`` URL, at ``at``."""
    slow = HtmlResponse(f"http://chamber.test/{marker}/valley-crate", body=pages[0].body, status=200)
    return pages[:at] + [slow] + pages[at:], slow.url


def _hand_over(tmp_path, pages, workers: int = 1) -> tuple[PageHandoff, Stats, object]:
    """Send every page through a hand-off with a 1 s read limit and close it; no worker left."""
    stats = Stats()
    handoff = PageHandoff(SLOW, tmp_path / "work.db", stats, workers=workers, read_timeout=1.0)
    worker = handoff.workers[0].proc if workers else None
    try:
        for response in pages:
            handoff.send(response, FETCHED)
        handoff.close()
    finally:
        if worker is not None and worker.is_alive():
            worker.kill()
    return handoff, stats, worker


def _failed_row(db, url) -> dict:
    rows = [r for r in rows_of(db).values() if r["url"] == url]
    assert len(rows) == 1, rows
    return rows[0]


def _check_failed(row: dict) -> None:
    problems = json.loads(row["problems"])
    assert problems[0] == PROBLEM and row["validation_status"] == "invalid"
    assert row["name"] is None and row["raw_structured"] is None and row["content_sha256"]


# --- the alarm itself -------------------------------------------------------------------------

def test_the_deadline_stops_a_reading_that_swallows_exceptions_and_leaves_no_alarm_behind():
    before = signal.getsignal(signal.SIGALRM)
    began = time.monotonic()
    with pytest.raises(PageReadTimeout):
        with read_deadline(0.3):
            while time.monotonic() - began < 30:
                try:
                    sum(range(1000))
                except Exception:  # reading code that gets past broken pieces must not keep the page
                    pass
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    with read_deadline(0.3):  # a reading within the limit: nothing raised, then or later
        pass
    time.sleep(0.5)


def test_a_timer_running_before_is_given_back():
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *_: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.6)
        with read_deadline(5):
            pass
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 0.6
        time.sleep(1.0)
        assert fired == [1]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_a_slow_page_read_in_this_process_is_kept_as_failed():
    pages, url = _with_slow(_chamber_pages(1)[:1], "spin", 0)
    result = _read_safely(read_response, pages[1], SLOW, FETCHED, timeout=1.0)
    assert result == _read_safely(read_response, pages[1], SPEC, FETCHED)  # a quick page: as before
    from crawler.base import reader_of

    result = _read_safely(reader_of(SLOW), pages[0], SLOW, FETCHED, timeout=1.0)
    assert result["counts"] == {"page/read_timeout": 1}
    (row,) = result["rows"]
    assert row["url"] == url and row["problems"] == [PROBLEM] and row["fetched_at"] == FETCHED


# --- pages handed to a worker ---------------------------------------------------------------------

@pytest.mark.parametrize("marker", ["spin", "stuck"])
def test_a_page_too_slow_to_read_in_the_worker_is_failed_and_the_rest_stored(tmp_path, marker):
    """``spin``: the worker stops the reading itself and goes on. ``stuck``: its alarm cannot, so
    the crawl process kills it, keeps the page as failed without reading it again, and reads the
    pages the worker held (and every later one) itself."""
    plain = _chamber_pages(1)
    pages, url = _with_slow(plain, marker, 3)
    expected, counts = _reference(tmp_path, plain)
    handoff, stats, worker = _hand_over(tmp_path, pages)
    got = rows_of(tmp_path / "work.db")
    failed = _failed_row(tmp_path / "work.db", url)
    _check_failed(failed)
    assert {k: v for k, v in got.items() if v["url"] != url} == expected  # every other listing, once
    assert stats.values["page/read_timeout"] == 1
    if marker == "spin":
        assert worker.exitcode == 0 and "page/page_worker_lost" not in stats.values
    else:
        assert worker.exitcode == -signal.SIGKILL
        assert stats.values["page/read_timeout_worker_killed"] == stats.values["page/page_worker_lost"] == 1
    # One reading of each page, the slow one counted as a detail page with its failed row.
    failed_counts = Counter({"page/detail": 1, "page/read_timeout": 1, "listing/stored": 1})
    failed_counts.update(f"listing/problem/{p}" for p in json.loads(failed["problems"]))
    failed_counts[f"listing/status/{failed['validation_status']}"] += 1
    extra = {"page/read_timeout_worker_killed", "page/page_worker_lost"}
    assert {k: v for k, v in stats.values.items() if k not in extra} == dict(counts + failed_counts)
    assert handoff.stored == counts["listing/stored"] + 1


def test_the_pages_a_stuck_worker_held_are_read_by_the_crawl_process(tmp_path):
    """The stuck page comes first: everything after it waits in the worker's pipe, unread, when
    the worker is killed, and must still be stored."""
    plain = _chamber_pages(2)
    pages, url = _with_slow(plain, "stuck", 0)
    expected, _counts = _reference(tmp_path, plain)
    stats = Stats()
    handoff = PageHandoff(SLOW, tmp_path / "work.db", stats, workers=1, read_timeout=1.0)
    for response in pages:
        handoff.send(response, FETCHED)
    assert handoff.workers, "the worker is still on the stuck page, holding the rest"
    handoff.close()
    assert stats.values["page/read_timeout_worker_killed"] == 1
    assert {k: v for k, v in rows_of(tmp_path / "work.db").items() if v["url"] != url} == expected
    _check_failed(_failed_row(tmp_path / "work.db", url))


def test_a_failed_page_does_not_replace_a_listing_read_earlier(tmp_path):
    """The same URL read fine by an earlier run, then too slow to read: the earlier listing stays
    (the best known), the timeout is counted."""
    page = _chamber_pages(1)[0]
    slow = HtmlResponse(page.url.replace("chamber.test/", "chamber.test/spin/"), body=page.body, status=200)
    spec = {**SPEC, "id_base": "http://chamber.test/spin"}  # both URLs key the same listing id
    first = ItemPath({**spec, "id_base": "http://chamber.test"}, tmp_path / "work.db")
    first.handle(encode_page(1, page, FETCHED))
    first.store.close()
    before = rows_of(tmp_path / "work.db")
    assert len(before) == 1
    again = ItemPath({**spec, "reader": SLOW["reader"]}, tmp_path / "work.db", read_timeout=1.0)
    again.handle(encode_page(1, slow, FETCHED))
    again.store.close()
    assert rows_of(tmp_path / "work.db") == before
    assert again.counts["page/read_timeout"] == 1 and "listing/stored" not in again.counts


def test_in_process_reading_is_bounded_too(tmp_path):
    """``PAGE_WORKERS=0`` (and pages taken over from a lost worker): the crawl process's own
    reading stops at the limit, by its alarm."""
    plain = _chamber_pages(1)
    pages, url = _with_slow(plain, "spin", 2)
    expected, _counts = _reference(tmp_path, plain)
    _handoff, stats, _worker = _hand_over(tmp_path, pages, workers=0)
    assert stats.values["page/read_timeout"] == 1
    assert {k: v for k, v in rows_of(tmp_path / "work.db").items() if v["url"] != url} == expected
    _check_failed(_failed_row(tmp_path / "work.db", url))


def test_a_negative_read_timeout_is_refused(tmp_path):
    with pytest.raises(ValueError, match="PAGE_READ_TIMEOUT"):
        PageHandoff(SPEC, tmp_path / "work.db", Stats(), workers=0, read_timeout=-1)
