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
import time
from collections import Counter

import pytest
from scrapy.http import HtmlResponse

from crawler.base import PageReadTimeout, _read_safely, keep_alarm_handler, read_deadline, read_response
from crawler.handoff import ItemPath, PageHandoff, encode_page

from .test_crawler_handoff import FETCHED, SPEC, Stats, _chamber_pages, _reference, rows_of

SLOW = {**SPEC, "reader": "tests.sites.slow_reader:read_response"}
PROBLEM = "page: read timeout"


def _with_slow(pages, marker: str, at: int):
    """The pages with one more, a copy of a chamber firm's page under a ``marker`` URL, at ``at``."""
    slow = HtmlResponse(f"http://chamber.test/{marker}/valley-crate", body=pages[0].body, status=200)
    return pages[:at] + [slow] + pages[at:], slow.url


def _hand_over(tmp_path, pages, workers: int = 1) -> tuple[PageHandoff, Stats, object, int]:
    """Send every page through a hand-off with a 1 s read limit and close it; no worker left.
    Also return how many pages the worker held, unacknowledged, once all were sent."""
    stats = Stats()
    handoff = PageHandoff(SLOW, tmp_path / "work.db", stats, workers=workers, read_timeout=1.0)
    worker = handoff.workers[0].proc if workers else None
    try:
        for response in pages:
            handoff.send(response, FETCHED)
        held = sum(len(w.unacked) for w in handoff.workers)
        handoff.close()
    finally:
        if worker is not None and worker.is_alive():
            worker.kill()
    return handoff, stats, worker, held


def _failed_row(db, url) -> dict:
    rows = [r for r in rows_of(db).values() if r["url"] == url]
    assert len(rows) == 1, rows
    return rows[0]


def _check_failed(row: dict) -> None:
    problems = json.loads(row["problems"])
    assert problems[0] == PROBLEM and row["validation_status"] == "invalid"
    assert row["name"] is None and row["raw_structured"] is None and row["content_sha256"]


# --- the alarm itself -------------------------------------------------------------------------

@pytest.mark.parametrize("kept", [False, True], ids=["crawl-process", "handler-kept"])
def test_the_deadline_stops_a_reading_that_swallows_exceptions_and_leaves_no_alarm_behind(kept):
    """In the crawl process the handler is put back after each page; a page worker keeps it."""
    original = signal.getsignal(signal.SIGALRM)
    try:
        if kept:
            keep_alarm_handler()
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
    finally:
        signal.signal(signal.SIGALRM, original)


def test_the_deadline_stops_a_runaway_regular_expression():
    """The case the limit is for: ``re`` looks for signals as it backtracks, so the alarm ends a
    match that would run for hours (nested quantifiers, 2**34 ways to fail)."""
    import re

    runaway = re.compile(r"(a+)+$")
    with pytest.raises(PageReadTimeout):  # finishing by itself would return None, not raise
        with read_deadline(0.3):
            runaway.match("a" * 34 + "!")


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
    pages the worker held (and every later one) itself. The slow page comes first, so every
    other page is still waiting in the worker when it is killed."""
    plain = _chamber_pages(1)
    pages, url = _with_slow(plain, marker, 0)
    expected, counts = _reference(tmp_path, plain)
    handoff, stats, worker, held = _hand_over(tmp_path, pages)
    assert held == len(pages)
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
    extra = {"page/read_timeout_worker_killed", "page/page_worker_lost", "page/page_worker_restarted"}
    assert {k: v for k, v in stats.values.items() if k not in extra} == dict(counts + failed_counts)
    assert handoff.stored == counts["listing/stored"] + 1


def test_a_fresh_worker_reads_on_after_one_is_killed_on_a_stuck_page(tmp_path):
    """The worker is killed on a page no alarm stops; the pages sent after go to a fresh worker
    (``page/page_worker_restarted``), not to the crawl process. The stuck page is failed, read by
    no one; the other pages the killed worker held are read by the crawl process; every listing
    once, the counters of one reading of each page."""
    plain = _chamber_pages(2)
    half = len(plain) // 2
    pages, url = _with_slow(plain, "stuck", 3)
    expected, counts = _reference(tmp_path, plain)
    stats = Stats()
    handoff = PageHandoff(SLOW, tmp_path / "work.db", stats, workers=1, read_timeout=1.0)
    first = handoff.workers[0]
    fresh = None
    try:
        for response in pages[:half]:
            handoff.send(response, FETCHED)
        deadline = time.monotonic() + 30
        while handoff.workers == [first] and time.monotonic() < deadline:  # the limit and its grace: 2 s
            time.sleep(0.2)
            handoff.check()
        assert stats.values["page/read_timeout_worker_killed"] == stats.values["page/page_worker_restarted"] == 1
        (fresh,) = handoff.workers
        taken_over = stats.values["page/detail"]  # read here: every page the killed worker held
        for response in pages[half:]:
            handoff.send(response, FETCHED)
        handoff.close()
    finally:
        for worker in (first, fresh):
            if worker is not None and worker.proc.is_alive():
                worker.proc.kill()
    assert first.proc.exitcode == -signal.SIGKILL and fresh.proc.exitcode == 0
    assert fresh.acked == len(pages) - half and taken_over <= half  # the rest went to the fresh worker
    failed = _failed_row(tmp_path / "work.db", url)
    _check_failed(failed)
    assert {k: v for k, v in rows_of(tmp_path / "work.db").items() if v["url"] != url} == expected
    failed_counts = Counter({"page/detail": 1, "page/read_timeout": 1, "listing/stored": 1})
    failed_counts.update(f"listing/problem/{p}" for p in json.loads(failed["problems"]))
    failed_counts["listing/status/invalid"] += 1
    assert {k: v for k, v in stats.values.items() if not k.startswith(("page/page_worker_", "page/read_timeout_worker"))} \
        == dict(counts + failed_counts)


@pytest.mark.parametrize("pause", ["crawl-process", "worker"])
def test_time_a_process_was_stopped_is_not_held_against_a_page(tmp_path, pause):
    """``crawl-process``: Ctrl-Z stops the crawl process and its worker mid-page; when both go
    on, the time they were stopped does not count as reading (here the worker reads on, stuck,
    while the crawl process makes no check for longer than its pause gap: the same gap, seen
    from the crawl process, and the page first seen after it). ``worker``: SIGSTOP of the worker
    alone is a stall (the stall watchdog's, off here), not a page read too long. Either way the
    page is failed once it has been read too long after the pause."""
    import os

    pages, url = _with_slow(_chamber_pages(1), "stuck", 0)
    stats = Stats()
    handoff = PageHandoff(SLOW, tmp_path / "work.db", stats, workers=1, stall_timeout=0, read_timeout=1.0)
    handoff.pause_gap = 1.5 if pause == "crawl-process" else 60
    worker = handoff.workers[0].proc
    try:
        for response in pages:  # no check on the way (one every 16 pages)
            handoff.send(response, FETCHED)
        if pause == "worker":
            time.sleep(0.3)  # the worker is on the stuck page
            os.kill(worker.pid, signal.SIGSTOP)
        time.sleep(2.5)  # past the limit and its grace (2 s)
        handoff.check()
        assert handoff.workers and worker.is_alive() and "page/read_timeout" not in stats.values
        os.kill(worker.pid, signal.SIGCONT)
        handoff.close()
    finally:
        if worker.is_alive():
            worker.kill()
    assert stats.values["page/read_timeout_worker_killed"] == 1
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
    """The hand-off with no worker (as for pages taken over from a lost one): the crawl process's
    reading (in its reader, ``crawler/reader.py``) stops at the limit, by the reader's alarm;
    a page stuck where no alarm reaches is ``tests/test_crawler_reader.py``'s."""
    plain = _chamber_pages(1)
    pages, url = _with_slow(plain, "spin", 2)
    expected, _counts = _reference(tmp_path, plain)
    _handoff, stats, _worker, _held = _hand_over(tmp_path, pages, workers=0)
    assert stats.values["page/read_timeout"] == 1
    assert {k: v for k, v in rows_of(tmp_path / "work.db").items() if v["url"] != url} == expected
    _check_failed(_failed_row(tmp_path / "work.db", url))


def test_a_negative_read_timeout_is_refused_alike_by_settings_workers_and_reader(tmp_path):
    from scrapy.settings import Settings

    from crawler.base import read_timeout
    from crawler.reader import PageReader

    said = []
    for make in (lambda: PageHandoff(SPEC, tmp_path / "work.db", Stats(), workers=0, read_timeout=-1),
                 lambda: PageReader(-1),
                 lambda: read_timeout(Settings({"PAGE_READ_TIMEOUT": -1}))):
        with pytest.raises(ValueError, match="PAGE_READ_TIMEOUT") as e:
            make()
        said.append(str(e.value))
    assert len(set(said)) == 1, said


# --- under a real crawl ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_root(tmp_path_factory):
    return tmp_path_factory.mktemp("sample")


def _member_paths(root) -> list[str]:
    from .sites.sample import sample_site

    rows = [json.loads(line) for line in (sample_site(root) / "truth.jsonl").open()]
    return sorted(l["url"] for firm in rows for l in firm["listings"] if l["source"] == "member_directory")


def crawl_with_a_slow_page(db, root, monkeypatch, marker: str, settings: dict) -> tuple[dict, str, list[str]]:
    """Crawl the member directory with one member's page slow to read (``marker``: spin or
    stuck); return the run, that page's path and every member path. Shared with the slow suite."""
    from crawler.run import crawl

    from .sites.sample import served

    paths = _member_paths(root)
    slow = paths[len(paths) // 3]
    monkeypatch.setenv(f"SLOW_READER_{marker.upper()}", slow)
    with served(root) as bases:
        run = crawl(db, source="member_directory", base_urls=bases, fast=True,
                    settings={"PAGE_READER": SLOW["reader"], "PAGE_READ_TIMEOUT": 1, **settings})
    return run, slow, paths


def check_crawl(db, run, slow: str, paths: list[str]) -> None:
    """The crawl finished; the slow page is counted and kept as failed; every other member's
    listing is stored once."""
    from urllib.parse import urlsplit

    assert run["status"] == "finished"
    assert run["problems"]["page/read_timeout"] == 1
    rows = rows_of(db)
    got = sorted(urlsplit(r["url"]).path for r in rows.values())
    assert got == paths  # each member page once, the slow one as its failed row
    (failed,) = [r for r in rows.values() if urlsplit(r["url"]).path == slow]
    _check_failed(failed)
    assert all(r["name"] for r in rows.values() if r is not failed)
    assert run["listings"] == len(paths)


def test_a_crawl_with_a_page_too_slow_to_read_finishes_and_keeps_it_failed(tmp_path, sample_root, monkeypatch):
    """The default path: pages read in a page worker, whose alarm stops the slow reading."""
    run, slow, paths = crawl_with_a_slow_page(tmp_path / "work.db", sample_root, monkeypatch, "spin", {})
    check_crawl(tmp_path / "work.db", run, slow, paths)
    assert "page/page_worker_lost" not in run["problems"]


def test_settings_that_would_fail_every_page_are_refused():
    from scrapy.settings import Settings

    from crawler.base import read_timeout, reader_of

    assert read_timeout(Settings({"PAGE_READ_TIMEOUT": 0})) == 0
    with pytest.raises(ValueError, match="PAGE_READ_TIMEOUT"):
        read_timeout(Settings({"PAGE_READ_TIMEOUT": -1}))
    for name in ("tests.sites.no_such_module:read", "tests.sites.slow_reader:no_such_function", "no colon"):
        with pytest.raises(ValueError, match="PAGE_READER"):
            reader_of({"reader": name})
    assert reader_of({"reader": ""}) is read_response
