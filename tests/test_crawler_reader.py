"""Pages the crawl process would read itself go to a reader process it can kill
(``crawler/reader.py``; ``EXTRACT_WORKERS=1``), so no reading path can hang the crawl.

The slow reader (``tests/sites/slow_reader.py``, named by ``PAGE_READER``) stands for the page:
``stuck`` blocks SIGALRM and sleeps, as a C call that never returns looks to the interpreter;
``spin`` is Python code the alarm stops. Limits are 1 s; speed is never asserted. And the fresh
processes the crawl spawns do not re-run the script that started it (``crawler/spawn.py``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from crawler.base import Extraction, extract_workers, page_of, read_response
from crawler.reader import PageReader

from .test_crawler_handoff import FETCHED, SPEC, _chamber_pages, rows_of
from .test_crawler_read_timeout import PROBLEM, SLOW, _check_failed, check_crawl, crawl_with_a_slow_page

ROOT = Path(__file__).resolve().parent.parent


def _slow_page(marker: str):
    body = _chamber_pages(1)[0].body
    return HtmlResponse(f"http://chamber.test/{marker}/valley-crate", body=body, status=200)


def test_a_reader_stuck_in_a_page_is_killed_and_a_fresh_one_reads_on():
    """The alarm cannot stop the stuck page: the reader is killed at the limit plus its grace,
    the page kept as failed; the next pages read in a fresh reader exactly as in this process."""
    reader = PageReader(1.0, "fork")
    first = reader.proc
    try:
        result = reader.read(page_of(_slow_page("stuck")), SLOW, FETCHED)
        assert dict(result["counts"]) == {"page/read_timeout": 1, "page/read_timeout_reader_killed": 1}
        (row,) = result["rows"]
        assert row["problems"] == [PROBLEM] and row["url"].endswith("/stuck/valley-crate") and row["fetched_at"] == FETCHED
        assert first.exitcode == -signal.SIGKILL and reader.proc is None
        for response in _chamber_pages(1):
            assert reader.read(page_of(response), SLOW, FETCHED) == read_response(response, SPEC, FETCHED), response.url
        assert reader.started == 2 and reader.proc.is_alive()  # one fresh reader for all of them
    finally:
        fresh = reader.proc
        reader.close()
    assert fresh.exitcode == 0


def test_a_reader_stops_a_slow_python_reading_itself_and_reads_on():
    reader = PageReader(1.0, "fork")
    try:
        result = reader.read(page_of(_slow_page("spin")), SLOW, FETCHED)
        assert dict(result["counts"]) == {"page/read_timeout": 1}
        assert result["rows"][0]["problems"] == [PROBLEM]
        page = _chamber_pages(1)[1]
        assert reader.read(page_of(page), SLOW, FETCHED) == read_response(page, SPEC, FETCHED)
        assert reader.started == 1
    finally:
        reader.close()


def test_a_reader_that_dies_on_a_page_has_the_page_failed_and_one_found_dead_reads_on():
    """Killed while it reads (a crash in C): that page is a failed row naming the loss, not read
    again here. Killed between pages: the next page is not to blame and is read by a fresh one."""
    reader = PageReader(0, "fork")  # no limit: only the death ends the reading
    try:
        victim = reader.proc
        killer = subprocess.Popen([sys.executable, "-c", f"import os,time,signal; time.sleep(1); os.kill({victim.pid}, 9)"])
        result = reader.read(page_of(_slow_page("stuck")), SLOW, FETCHED)
        killer.wait()
        assert dict(result["counts"]) == {"page/read_error/ReaderLost": 1}
        (problem,) = result["rows"][0]["problems"]
        assert problem.startswith("page: read error: ReaderLost: ") and "code -9" in problem
        page = _chamber_pages(1)[2]
        assert reader.read(page_of(page), SLOW, FETCHED) == read_response(page, SPEC, FETCHED)
        reader.proc.kill()
        reader.proc.join()
        assert reader.read(page_of(page), SLOW, FETCHED) == read_response(page, SPEC, FETCHED)
        assert reader.started == 3
    finally:
        reader.close()


def test_a_reader_that_cannot_start_leaves_the_reading_to_this_process(monkeypatch, caplog):
    """Logged as an error, once; the pages are still read (alarm only), none is lost."""
    def fail(self, ctx):
        raise RuntimeError("page reader did not start (exit code 1)")

    monkeypatch.setattr(PageReader, "_start", fail)
    reader = PageReader(1.0)
    pages = _chamber_pages(1)[:3]
    for page in pages:
        assert reader.read(page_of(page), SPEC, FETCHED) == read_response(page, SPEC, FETCHED)
    assert reader.in_process and reader.proc is None
    errors = [r for r in caplog.records if r.levelname == "ERROR" and r.name == "crawler.reader"]
    assert len(errors) == 1 and "reads pages itself" in errors[0].getMessage()


def test_extract_workers_is_one_reader_or_none():
    assert extract_workers(0) == 0 and extract_workers(1) == 1
    for bad in (2, -1, True):
        with pytest.raises(ValueError, match="EXTRACT_WORKERS"):
            extract_workers(bad)
    assert Extraction(0, 1.0).reader is None


def test_in_process_reading_is_refused_a_negative_limit():
    with pytest.raises(ValueError, match="PAGE_READ_TIMEOUT"):
        PageReader(-1)


def test_a_crawl_without_page_workers_finishes_past_a_page_stuck_in_c(tmp_path, monkeypatch):
    """``PAGE_WORKERS=0``: the crawl process reads through its reader, which is killed on the
    stuck page; the crawl finishes with every other member's listing once."""
    root = tmp_path / "sample"
    root.mkdir()
    run, slow, paths = crawl_with_a_slow_page(tmp_path / "work.db", root, monkeypatch, "stuck", {"PAGE_WORKERS": 0})
    check_crawl(tmp_path / "work.db", run, slow, paths)
    assert run["problems"]["page/read_timeout_reader_killed"] == 1


def test_pages_taken_over_from_page_workers_are_read_in_a_reader(tmp_path):
    """The hand-off's own reading (pages of a lost worker, or every page past the restarts; here
    all, with no worker) goes through a reader too: the stuck page is failed, the rest stored."""
    from collections import Counter

    from .test_crawler_handoff import Stats, _reference
    from crawler.handoff import PageHandoff

    plain = _chamber_pages(1)
    pages = plain[:2] + [_slow_page("stuck")] + plain[2:]
    expected, counts = _reference(tmp_path, plain)
    stats = Stats()
    handoff = PageHandoff(SLOW, tmp_path / "work.db", stats, workers=0, read_timeout=1.0)
    for response in pages:
        handoff.send(response, FETCHED)
    reader = handoff.fallback.reader
    handoff.close()
    assert reader.started == 2 and reader.proc is None  # one killed, its successor closed
    rows = rows_of(tmp_path / "work.db")
    (failed,) = [r for r in rows.values() if "/stuck/" in r["url"]]
    _check_failed(failed)
    assert {k: r for k, r in rows.items() if r is not failed} == expected
    extra = Counter({"page/detail": 1, "page/read_timeout": 1, "page/read_timeout_reader_killed": 1,
                     "listing/stored": 1, "listing/status/invalid": 1})
    extra.update(f"listing/problem/{p}" for p in json.loads(failed["problems"]))
    assert dict(stats.values) == dict(counts + extra)


@pytest.mark.slow
def test_generic_mode_finishes_past_a_page_stuck_in_c(tmp_path, monkeypatch):
    """Generic mode never hands pages to a page worker (its link decisions need each page's
    listings): its reader is killed on the stuck page; everything else is as an undisturbed crawl
    of the same site leaves it."""
    from .sites.server import serving
    from crawler.run import crawl

    db, normal_db = tmp_path / "work.db", tmp_path / "normal.db"
    slow = "/business/103-sierra-steel"
    settings = {"DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": 1, "GENERIC_TRAP_LIMIT": 10, "DOWNLOAD_MAXSIZE": 1024 * 1024}
    with serving(slow_seconds=0.1) as (base, _hits):
        normal = crawl(normal_db, start_url=base + "/", source="chamber", fast=True, settings=settings)
        monkeypatch.setenv("SLOW_READER_STUCK", slow)
        run = crawl(db, start_url=base + "/", source="chamber", fast=True,
                    settings={**settings, "PAGE_READER": SLOW["reader"], "PAGE_READ_TIMEOUT": 1})
    assert normal["status"] == run["status"] == "finished"
    assert run["problems"]["page/read_timeout"] == run["problems"]["page/read_timeout_reader_killed"] == 1
    rows, expected = rows_of(db), rows_of(normal_db)
    (failed,) = [k for k, r in rows.items() if r["url"].endswith(slow)]
    _check_failed(rows[failed])
    assert {k: r for k, r in rows.items() if k != failed} == {k: r for k, r in expected.items() if not r["url"].endswith(slow)}


@pytest.mark.slow
def test_reading_in_the_crawl_process_is_warned_of_and_still_stops_python(tmp_path, monkeypatch):
    """``EXTRACT_WORKERS=0``: the crawl process reads; the alarm stops a Python-level reading;
    the crawl's log says what it cannot stop."""
    root = tmp_path / "sample"
    root.mkdir()
    settings = {"PAGE_WORKERS": 0, "EXTRACT_WORKERS": 0, "LOG_LEVEL": "WARNING"}
    run, slow, paths = crawl_with_a_slow_page(tmp_path / "work.db", root, monkeypatch, "spin", settings)
    check_crawl(tmp_path / "work.db", run, slow, paths)
    assert "page/read_timeout_reader_killed" not in run["problems"]
    log = next((tmp_path / "work.db.jobs").glob("*/crawl.log")).read_text()
    assert "EXTRACT_WORKERS=0" in log and "would hang the crawl" in log


# --- fresh processes and the script that started the crawl --------------------------------------

SCRIPT = """
# No __main__ guard, on purpose: a spawned child that re-ran this file would start children too.
import os, signal, sys, time
with open(sys.argv[2], "a") as fh:
    fh.write(f"{os.getpid()}\\n")
from crawler.handoff import PageHandoff, encode_page
from crawler.reader import PageReader
from tests.test_crawler_handoff import FETCHED, SPEC, Stats, _chamber_pages
pages = _chamber_pages(1)
stats = Stats()
handoff = PageHandoff(SPEC, sys.argv[1], stats, workers=1, restarts=1)
handoff.send(pages[0], FETCHED)
handoff.workers[0].proc.kill()  # lost: a fresh, spawned worker takes the pages to come
handoff.workers[0].proc.join()
for page in pages[1:]:
    handoff.send(page, FETCHED)
handoff.close()
reader = PageReader(1.0)  # spawned on first use
reader.read({"url": "http://chamber.test/x", "status": 200, "body": pages[0].body, "content_type": ""}, SPEC, FETCHED)
reader.close()
print(stats.values["page/page_worker_restarted"], reader.started, stats.values["listing/stored"])
"""


def test_spawned_helpers_do_not_re_run_the_script_that_started_them(tmp_path):
    script = tmp_path / "drive.py"
    script.write_text(textwrap.dedent(SCRIPT))
    runs = tmp_path / "runs.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "work.db"), str(runs)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    restarted, readers, stored = done.stdout.split()
    assert restarted == "1" and readers == "1" and int(stored) == len(rows_of(tmp_path / "work.db")) > 0
    assert len(runs.read_text().split()) == 1  # the script ran once: in its own process only
