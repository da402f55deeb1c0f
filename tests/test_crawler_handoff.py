"""Detail pages handed whole to a worker process (``PAGE_WORKERS``, crawler/handoff.py).

The worker path must give the listings the in-process path gives (checked on both sample
sources, every column but the times and run id), count the same problems, and lose nothing
when the worker dies part-way (killed here, both under a real crawl and with the hand-off driven
directly, where the kill surely lands before the worker committed).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.http import HtmlResponse, TextResponse

from crawler.base import read_page, read_response
from crawler.handoff import ItemPath, PageHandoff, decode_page, encode_page
from crawler.run import build_job, command, crawl

from .crawl_kill import listing_count
from .sites.sample import sample_site, served

CHAMBER = Path(__file__).parent / "sites" / "chamber"
VOLATILE = {"fetched_at", "first_seen_at", "changed_at", "crawl_run_id"}
FETCHED = "2026-01-01T00:00:00+00:00"
SPEC = {"source": "chamber", "selectors": {}, "accepts_unstructured": False, "generic_fallbacks": True,
        "run_id": "test-run", "id_base": None}


def rows_of(db_path, source=None) -> dict[str, dict]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    where, args = ("where source = ?", [source]) if source else ("", [])
    rows = {r["listing_id"]: {k: r[k] for k in r.keys() if k not in VOLATILE} for r in conn.execute(f"select * from listings {where}", args)}
    conn.close()
    return rows


def run_stats(db_path, run_id) -> dict:
    conn = sqlite3.connect(db_path)
    stats = json.loads(conn.execute("select stats from crawl_runs where run_id = ?", [run_id]).fetchone()[0])
    conn.close()
    return stats


@pytest.fixture(scope="module")
def sample_root(tmp_path_factory):
    return tmp_path_factory.mktemp("sample")


# How each crawl reads its detail pages: in a page worker, in the crawl process's reader
# (crawler/reader.py) or in the crawl process itself.
PATHS = {"worker": {"PAGE_WORKERS": 1}, "reader": {"PAGE_WORKERS": 0, "EXTRACT_WORKERS": 1},
         "in-process": {"PAGE_WORKERS": 0, "EXTRACT_WORKERS": 0}}


@pytest.mark.parametrize("source", ["member_directory", pytest.param("ppe_marketplace", marks=pytest.mark.slow)])
def test_worker_path_stores_what_the_in_process_path_stores(sample_root, tmp_path, source):
    """Every reading path stores the same listings and counts the same problems. One source in
    the fast suite, the other in the slow one (``make reliability``)."""
    runs = {}
    with served(sample_root) as bases:
        for path, settings in PATHS.items():
            runs[path] = crawl(tmp_path / f"{path}.db", source=source, base_urls=bases, fast=True, settings=settings)
    here = runs["in-process"]
    expected = rows_of(tmp_path / "in-process.db", source)
    assert expected and here["status"] == "finished"
    for path in ("worker", "reader"):
        other = runs[path]
        assert other["status"] == "finished", path
        # The same listings, field for field (raw structured data, problems, validation too).
        assert rows_of(tmp_path / f"{path}.db", source) == expected, path
        # The same counters in the run row, and the same listing totals.
        assert other["problems"] == here["problems"], path
        assert (other["listings"], other["invalid"], other["pages"]) == (here["listings"], here["invalid"], here["pages"])
    # ... and the worker really did the work: no item went through Scrapy.
    stats = run_stats(tmp_path / "worker.db", runs["worker"]["run_id"]), run_stats(tmp_path / "in-process.db", here["run_id"])
    assert "item_scraped_count" not in stats[0] and stats[1]["item_scraped_count"] == here["listings"]
    assert stats[0]["listing/stored"] == stats[1]["listing/stored"] == here["listings"]


def _chamber_pages(copies: int) -> list[TextResponse]:
    """Chamber pages as Scrapy would hand them over, each under ``copies`` URLs; plus hard ones."""
    pages = []
    for i in range(copies):
        for path in sorted((CHAMBER / "business").glob("*.html")):
            pages.append(HtmlResponse(f"http://chamber.test/{i}/{path.name}", body=path.read_bytes(), status=200))
    legacy = (CHAMBER / "legacy" / "cafe-ole.html").read_bytes()  # windows-1252, no charset
    pages.append(HtmlResponse("http://chamber.test/legacy/cafe-ole", body=legacy, headers={"Content-Type": "text/html"}))
    whole = (CHAMBER / "business" / "101-valley-crate.html").read_bytes()
    pages.append(HtmlResponse("http://chamber.test/cut", body=whole[: len(whole) // 2], flags=["dataloss"]))
    pages.append(HtmlResponse("http://chamber.test/gone", body=whole, status=404))
    pages.append(TextResponse("http://chamber.test/plain.txt", body=b"no markup here", headers={"Content-Type": "text/plain"}))
    return pages


def test_a_page_reads_the_same_after_crossing_to_a_worker():
    for response in _chamber_pages(1):
        seq, page, fetched_at = decode_page(encode_page(7, response, FETCHED))
        assert seq == 7
        assert read_page(page, SPEC, fetched_at) == read_response(response, SPEC, fetched_at), response.url


class Stats:
    def __init__(self):
        self.values = Counter()

    def inc_value(self, key, n=1):
        self.values[key] += n


def _reference(tmp_path, pages) -> tuple[dict, Counter]:
    """What the pages store, and the counters they raise, read once in this process."""
    reference = ItemPath(SPEC, tmp_path / "reference.db")
    for seq, response in enumerate(pages, 1):
        reference.handle(encode_page(seq, response, FETCHED))
    reference.store.close()
    return rows_of(tmp_path / "reference.db"), reference.counts


def _not_worker_counts(stats: Stats) -> dict:
    """The counters pages raise, without those about the workers' lives."""
    return {k: v for k, v in stats.values.items() if not k.startswith("page/page_worker_")}


@pytest.mark.slow  # fast: test_restarts_are_bounded_and_each_lost_worker_loses_nothing (both cases in one)
@pytest.mark.parametrize("restarts", [3, 0], ids=["fresh-worker", "no-restart"])
def test_a_killed_worker_loses_nothing(tmp_path, restarts):
    """The worker is killed with pages it has not committed; the crawl process stores them. A
    fresh worker (spawned) reads the pages sent after; with ``restarts=0`` the crawl process does."""
    pages = _chamber_pages(20)
    expected, counts = _reference(tmp_path, pages)

    stats = Stats()
    handoff = PageHandoff(SPEC, tmp_path / "work.db", stats, workers=1, restarts=restarts)
    worker = handoff.workers[0].proc
    half = len(pages) // 2
    for response in pages[:half]:
        handoff.send(response, FETCHED)
    os.kill(worker.pid, signal.SIGKILL)  # at once: well inside its one-second commit interval
    worker.join(timeout=10)
    for response in pages[half:]:
        handoff.send(response, FETCHED)
    fresh = list(handoff.workers)
    try:
        handoff.close()
    finally:
        for each in fresh:
            each.proc.kill() if each.proc.is_alive() else None
    assert stats.values["page/page_worker_lost"] == 1
    if restarts:
        (fresh,) = fresh
        assert stats.values["page/page_worker_restarted"] == 1 and fresh.proc.pid != worker.pid
        # It read the pages sent after the loss, less those the crawl process took with the dead
        # worker's (the send that found it dead, and any before that), and exited cleanly.
        assert 0 < fresh.acked < len(pages) - half and fresh.proc.exitcode == 0
    else:
        assert not fresh and "page/page_worker_restarted" not in stats.values
    assert rows_of(tmp_path / "work.db") == expected
    assert handoff.stored == len(expected) == counts["listing/stored"]
    # Every counter once per page, whoever read it: counters travel only in acknowledgements, so
    # a page committed but never acknowledged is counted by its second reading alone.
    for key in ("page/truncated_body", "page/charset_guessed", "listing/problem/http_status: not 2xx"):
        assert counts[key] >= 1, key
    assert _not_worker_counts(stats) == dict(counts)


def test_restarts_are_bounded_and_each_lost_worker_loses_nothing(tmp_path):
    """``restarts=1``: the first worker killed is replaced, the fresh one killed too is not;
    every page is stored once, with the counters one reading of each gives."""
    pages = _chamber_pages(12)
    expected, counts = _reference(tmp_path, pages)
    stats = Stats()
    handoff = PageHandoff(SPEC, tmp_path / "work.db", stats, workers=1, restarts=1)
    third = len(pages) // 3
    killed = []
    try:
        for at, response in enumerate(pages):
            if at in (third, 2 * third):
                (worker,) = handoff.workers
                os.kill(worker.proc.pid, signal.SIGKILL)
                worker.proc.join(timeout=10)
                killed.append(worker)
            handoff.send(response, FETCHED)
        assert not handoff.workers  # no restart left: the crawl process reads the rest
        handoff.close()
    finally:
        for worker in killed:
            worker.proc.kill() if worker.proc.is_alive() else None
    assert stats.values["page/page_worker_lost"] == 2 and stats.values["page/page_worker_restarted"] == 1
    assert killed[0].proc.pid != killed[1].proc.pid
    assert rows_of(tmp_path / "work.db") == expected
    assert _not_worker_counts(stats) == dict(counts)
    assert handoff.stored == counts["listing/stored"]


def test_a_negative_restart_count_is_refused(tmp_path):
    with pytest.raises(ValueError, match="PAGE_WORKER_RESTARTS"):
        PageHandoff(SPEC, tmp_path / "work.db", Stats(), workers=0, restarts=-1)


@pytest.mark.slow  # fast: the hand-off driven directly (test_restarts_are_bounded_and_each_lost_worker_loses_nothing)
def test_a_worker_killed_under_a_real_crawl_loses_nothing(sample_root, tmp_path):
    db = tmp_path / "work.db"
    settings = {"DOWNLOAD_DELAY": 0.05, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "AUTOTHROTTLE_ENABLED": False,
                "RANDOMIZE_DOWNLOAD_DELAY": False, "PAGE_WORKERS": 1}
    expected = {l["url"] for firm in map(json.loads, (sample_site(sample_root) / "truth.jsonl").open())
                for l in firm["listings"] if l["source"] == "member_directory"}
    with served(sample_root) as bases, (tmp_path / "crawl.log").open("wb") as log_file:
        job = build_job(db, source="member_directory", base_urls=bases, settings=settings)
        proc = subprocess.Popen(command(job), stdout=log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while listing_count(db) < 5 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) == 1, "one page worker"
        os.kill(int(children[0]), signal.SIGKILL)
        assert proc.wait(timeout=120) == 0
    run = json.loads(json.dumps(sqlite3.connect(db).execute(
        "select status, listings, problems from crawl_runs where run_id = ?", [job["run_id"]]).fetchone()))
    assert run[0] == "finished"
    assert json.loads(run[2])["page/page_worker_lost"] == json.loads(run[2])["page/page_worker_restarted"] == 1
    # A fresh worker took the pages to come, and stored some (it acknowledges only after a commit).
    log = (tmp_path / "crawl.log").read_text()
    started = [line for line in log.splitlines() if "started in place of a lost one" in line]
    assert len(started) == 1 and int(started[0].split("page worker ")[1].split()[0]) != int(children[0])
    paths = [urlsplit(r["url"]).path for r in rows_of(db).values()]
    assert len(paths) == len(set(paths)) and set(paths) == expected


# --- a worker that hangs without dying (the watchdog, PAGE_WORKER_STALL_TIMEOUT) ---------------

def _padded(response, size: int):
    """The page with a ``size``-byte comment before ``</body>`` (read the same, sent bigger)."""
    at = response.body.rfind(b"</body>")
    if at < 0:
        return response
    return response.replace(body=response.body[:at] + b"<!-- " + b"x" * size + b" -->" + response.body[at:])


@contextlib.contextmanager
def _stopped_worker(handoff: PageHandoff, pages, before: int = 0):
    """Send ``before`` pages, SIGSTOP the worker (any hang, as the crawl process sees it), send
    the rest; whatever happens, no stopped process is left behind."""
    worker = handoff.workers[0].proc
    try:
        for response in pages[:before]:
            handoff.send(response, FETCHED)
        os.kill(worker.pid, signal.SIGSTOP)
        for response in pages[before:]:
            handoff.send(response, FETCHED)
        yield worker
    finally:
        if worker.is_alive():
            worker.kill()


@pytest.mark.parametrize("pad, found", [pytest.param(60_000, "while sending", marks=pytest.mark.slow), (0, "at close")],
                         ids=["full-pipe", "at-close"])
def test_a_hung_worker_is_killed_and_loses_nothing(tmp_path, pad, found):
    """SIGSTOP stands for any hang (a runaway regex, a deadlock): the worker lives but answers
    nothing. With pages padded to ~60 kB, those sent after the stop (~1.8 MB) overfill the 1 MB
    pipe, so the watchdog must fire while the crawl process waits to send; unpadded (~30 kB in
    all) they fit, and it fires at close."""
    pages = [_padded(response, pad) for response in _chamber_pages(4)]
    expected, counts = _reference(tmp_path, pages)
    stats = Stats()
    handoff = PageHandoff(SPEC, tmp_path / "work.db", stats, workers=1, stall_timeout=1.0)
    with _stopped_worker(handoff, pages, before=10) as worker:
        assert stats.values["page/page_worker_hung"] == (found == "while sending")
        handoff.close()
    assert worker.exitcode == -signal.SIGKILL
    assert stats.values["page/page_worker_hung"] == stats.values["page/page_worker_lost"] == 1
    assert rows_of(tmp_path / "work.db") == expected
    # Every counter as one reading of each page gives it: none lost, none counted twice.
    # Found while sending, a fresh worker takes the pages to come; at close none are to come.
    assert stats.values["page/page_worker_restarted"] == (found == "while sending")
    assert _not_worker_counts(stats) == dict(counts)
    assert handoff.stored == counts["listing/stored"]


def test_a_worker_stuck_on_one_page_is_killed_and_the_page_named(tmp_path, monkeypatch, caplog):
    """A running worker stuck in one page's reading (as in a runaway regex): the reader is
    patched before the fork so that, in the worker only, one URL never finishes."""
    import crawler.base

    pages = _chamber_pages(1)
    stuck = pages[3].url
    expected, counts = _reference(tmp_path, pages)
    read_page, parent = crawler.base.read_page, os.getpid()

    def read_page_hanging_in_the_worker(page, *args):
        if page["url"] == stuck and os.getpid() != parent:
            time.sleep(3600)
        return read_page(page, *args)

    monkeypatch.setattr(crawler.base, "read_page", read_page_hanging_in_the_worker)
    stats = Stats()
    handoff = PageHandoff(SPEC, tmp_path / "work.db", stats, workers=1, stall_timeout=1.0)
    worker = handoff.workers[0].proc
    try:
        for response in pages:
            handoff.send(response, FETCHED)
        handoff.close()
    finally:
        if worker.is_alive():
            worker.kill()
    assert stats.values["page/page_worker_hung"] == 1 and worker.exitcode == -signal.SIGKILL
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and r.name == "crawler.handoff"]
    assert len(warnings) == 1 and f"last page begun: {stuck};" in warnings[0]
    assert rows_of(tmp_path / "work.db") == expected
    assert {k: v for k, v in stats.values.items() if not k.startswith("page/page_worker_")} == dict(counts)


def test_the_periodic_check_finds_a_hang_while_no_page_is_sent(tmp_path):
    """The crawl sends nothing more (index pages, slow downloads): the ``LoopingCall`` finds the
    hang and the pages are stored before close. A ``task.Clock`` stands in for the reactor."""
    from twisted.internet.task import Clock

    pages = _chamber_pages(1)
    expected, counts = _reference(tmp_path, pages)
    stats, clock = Stats(), Clock()
    handoff = PageHandoff(SPEC, tmp_path / "work.db", stats, workers=1, stall_timeout=1.0)
    handoff.watch(clock)
    with _stopped_worker(handoff, pages) as worker:
        for _ in range(8):  # 2 s of ticks, a quarter of the limit apart
            time.sleep(handoff.check_interval)
            clock.advance(handoff.check_interval)
        assert stats.values["page/page_worker_hung"] == stats.values["page/page_worker_restarted"] == 1
        assert [w.proc.pid for w in handoff.workers] != [worker.pid]  # a fresh one in its place
        assert rows_of(tmp_path / "work.db") == expected  # stored before close
        handoff.close()
    assert not handoff.watching.running
    assert {k: v for k, v in stats.values.items() if not k.startswith("page/page_worker_")} == dict(counts)


def test_a_stopped_process_group_is_not_a_hung_worker(tmp_path):
    """Ctrl-Z stops the crawl process and its worker together: when both go on, the time the
    crawl process itself was stopped is not held against the worker."""
    pages = _chamber_pages(1)
    stats = Stats()
    handoff = PageHandoff(SPEC, tmp_path / "work.db", stats, workers=1, stall_timeout=1.0)
    handoff.pause_gap = 1.5  # the crawl process "stopped" for longer than that (5 s by default)
    with _stopped_worker(handoff, pages) as worker:
        time.sleep(2.0)  # both "stopped": the crawl process makes no check meanwhile
        os.kill(worker.pid, signal.SIGCONT)
        handoff.check()
        handoff.close()
    assert worker.exitcode == 0
    assert "page/page_worker_hung" not in stats.values and "page/page_worker_lost" not in stats.values
    assert stats.values["page/detail"] == len(pages)


@pytest.mark.parametrize("read_timeout", [pytest.param(0, marks=pytest.mark.slow), 1.0], ids=["no-read-limit", "read-limit"])
def test_a_stall_timeout_of_0_turns_the_watchdog_off(tmp_path, read_timeout):
    """Off means off: a worker silent past any limit is waited for, and stores everything. With
    a read limit (PAGE_READ_TIMEOUT) the periodic check still runs, for pages read too long, but
    a stopped worker reads nothing and is left alone."""
    from twisted.internet.task import Clock

    pages = _chamber_pages(1)
    stats, clock = Stats(), Clock()
    handoff = PageHandoff(SPEC, tmp_path / "work.db", stats, workers=1, stall_timeout=0, read_timeout=read_timeout)
    handoff.watch(clock)
    with _stopped_worker(handoff, pages) as worker:
        time.sleep(2.5)  # past the read limit and its grace
        handoff.check()
        clock.advance(10)
        assert (handoff.watching is None) == (not read_timeout) and handoff.workers and worker.is_alive()
        os.kill(worker.pid, signal.SIGCONT)
        handoff.close()
    assert worker.exitcode == 0 and "page/page_worker_hung" not in stats.values
    assert stats.values["page/detail"] == len(pages)


def test_a_negative_stall_timeout_is_refused(tmp_path):
    with pytest.raises(ValueError, match="PAGE_WORKER_STALL_TIMEOUT"):
        PageHandoff(SPEC, tmp_path / "work.db", Stats(), workers=0, stall_timeout=-1)


@pytest.mark.slow  # fast: the hand-off driven directly (test_a_hung_worker_is_killed_and_loses_nothing[at-close])
def test_a_worker_hung_under_a_real_crawl_is_replaced_by_the_crawl_process(sample_root, tmp_path):
    """A real crawl whose worker is stopped part-way ends with the listings and counters of an
    undisturbed crawl of the same site, and one hung worker counted."""
    settings = {"DOWNLOAD_DELAY": 0.05, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "AUTOTHROTTLE_ENABLED": False,
                "RANDOMIZE_DOWNLOAD_DELAY": False, "PAGE_WORKERS": 1, "PAGE_WORKER_STALL_TIMEOUT": 2}
    db, normal_db = tmp_path / "work.db", tmp_path / "normal.db"
    with served(sample_root) as bases:
        normal = crawl(normal_db, source="member_directory", base_urls=bases, settings=settings)
        job = build_job(db, source="member_directory", base_urls=bases, settings=settings)
        log_file = (tmp_path / "crawl.log").open("wb")
        proc = subprocess.Popen(command(job), stdout=log_file, stderr=subprocess.STDOUT)
        worker = None
        try:
            deadline = time.monotonic() + 60
            while listing_count(db) < 5 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)
            assert proc.poll() is None, "the crawl finished before its worker could be stopped"
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
            assert len(children) == 1, "one page worker"
            worker = int(children[0])
            os.kill(worker, signal.SIGSTOP)
            assert proc.wait(timeout=120) == 0
        finally:
            if proc.poll() is None:  # the watchdog failed: leave nothing running
                proc.kill()
                proc.wait()
            if worker is not None and Path(f"/proc/{worker}").exists():
                os.kill(worker, signal.SIGKILL)
            log_file.close()
    warning = [line for line in (tmp_path / "crawl.log").read_text().splitlines() if "[crawler.handoff] WARNING" in line]
    assert len(warning) == 1 and f"page worker {worker} hung" in warning[0] and "pages waiting" in warning[0]
    conn = sqlite3.connect(db)
    status, listings, invalid, pages, problems = conn.execute(
        "select status, listings, invalid, pages, problems from crawl_runs where run_id = ?", [job["run_id"]]).fetchone()
    conn.close()
    problems = json.loads(problems)
    assert status == "finished"
    assert problems.pop("page/page_worker_hung") == problems.pop("page/page_worker_lost") == 1
    # A fresh worker is started if the hang is found before the crawl closes (here it may finish
    # first, the stall limit being 2 s): the count, the error's words and the log agree.
    lines = (tmp_path / "crawl.log").read_text().splitlines()
    (lost,) = [line for line in lines if "[crawler.handoff] ERROR" in line]
    restarted = problems.pop("page/page_worker_restarted", 0)
    assert restarted == ("a fresh worker takes the pages to come" in lost)
    assert restarted == sum("started in place of a lost one" in line for line in lines)
    assert problems == normal["problems"]
    assert (listings, invalid, pages) == (normal["listings"], normal["invalid"], normal["pages"])
    assert rows_of(db) == rows_of(normal_db)
    assert run_stats(db, job["run_id"])["listing/stored"] == normal["listings"]
