"""A page whose reading raises is kept as a failed row, with its reason (crawler/base.py
``_read_safely``, ``read_error_problem``).

The test reader (``tests/sites/slow_reader.py``, named by ``PAGE_READER``) raises on ``raise``
pages, with a message full of markup, SQL, a forged log line, NUL, a bidi override, a lone
surrogate and 1,000 more characters. Each test checks that the page is counted
(``page/read_error/<type>``), kept in ``listings`` as a failed row (``page: read error: <type>:
<short message>``, invalid) whose message is one safe line, that every other page's listings
are stored once with the counters one reading of each gives, on every reading path: a page
worker, the crawl process, and a real crawl.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from urllib.parse import urlsplit

import pytest
from scrapy.http import HtmlResponse

from crawler.base import READ_ERROR_MESSAGE_CHARS, READ_ERROR_PROBLEM, _read_safely, reader_of, read_response
from crawler.handoff import ItemPath, encode_page

from .test_crawler_handoff import FETCHED, SPEC, _chamber_pages, _reference, rows_of
from .test_crawler_read_timeout import SLOW, _hand_over, _member_paths

ERROR = "PageReaderBroke"
COUNTER = f"page/read_error/{ERROR}"


def _with_raising(pages, at: int):
    broken = HtmlResponse("http://chamber.test/raise/valley-crate", body=pages[0].body, status=200)
    return pages[:at] + [broken] + pages[at:], broken.url


def check_failed(row: dict, path: str) -> None:
    """The failed row of a page whose reading raised: the reason first, in one safe line."""
    problems = json.loads(row["problems"])
    reason = problems[0]
    assert reason.startswith(f"{READ_ERROR_PROBLEM}{ERROR}: cannot read {path}: <script>alert(1)</script> '; DROP TABLE")
    assert len(reason) <= len(READ_ERROR_PROBLEM) + len(ERROR) + 2 + READ_ERROR_MESSAGE_CHARS
    assert reason.isprintable() and "\n" not in reason and "\u202e" not in reason and "\x00" not in reason
    assert "-- WARNING forged log line" in reason  # the text is kept, only made one line
    reason.encode("utf-8")  # no lone surrogate
    assert row["validation_status"] == "invalid" and "name: missing" in problems
    assert row["name"] is None and row["raw_structured"] is None and row["content_sha256"]


def _failed_row(db, url) -> dict:
    rows = [r for r in rows_of(db).values() if r["url"] == url]
    assert len(rows) == 1, rows
    return rows[0]


def test_a_reading_that_raises_is_kept_as_failed_and_its_traceback_logged(caplog):
    pages, url = _with_raising(_chamber_pages(1)[:1], 0)
    with caplog.at_level(logging.WARNING, logger="crawler.base"):
        result = _read_safely(reader_of(SLOW), pages[0], SLOW, FETCHED)
    assert result["counts"] == {COUNTER: 1}
    (row,) = result["rows"]
    assert row["url"] == url and row["fetched_at"] == FETCHED and row["http_status"] == 200
    assert len(row["problems"]) == 1 and row["problems"][0].startswith(f"{READ_ERROR_PROBLEM}{ERROR}: cannot read /raise/")
    (record,) = [r for r in caplog.records if r.name == "crawler.base"]
    message = record.getMessage()
    assert record.levelname == "WARNING" and url in message and "Traceback" in message
    assert "slow_reader.py" in message and 'raise PageReaderBroke' in message  # where it was raised
    assert "\x00" not in message and "\u202e" not in message and "\nWARNING" not in message
    message.encode("utf-8")
    # Any other page reads as before.
    assert _read_safely(reader_of(SLOW), pages[1], SLOW, FETCHED) == _read_safely(read_response, pages[1], SPEC, FETCHED)


def test_an_exception_whose_message_cannot_be_read_is_named_by_its_type():
    from crawler.base import read_error_problem

    class Odd(Exception):
        def __str__(self):
            raise RuntimeError("no")

    assert read_error_problem(Odd()) == f"{READ_ERROR_PROBLEM}Odd: (message unreadable)"
    assert read_error_problem(KeyError()) == f"{READ_ERROR_PROBLEM}KeyError"
    assert read_error_problem(ValueError("a\tb\r\n\u200bc\x1b[31m")) == f"{READ_ERROR_PROBLEM}ValueError: a b c [31m"


@pytest.mark.parametrize("workers", [1, 0], ids=["page-worker", "crawl-process"])
def test_a_page_whose_reading_raises_is_failed_and_the_rest_stored(tmp_path, workers):
    """The worker keeps the page as failed and reads on (it is not lost); the crawl process
    (``PAGE_WORKERS=0``, pages taken over from a lost worker) does the same."""
    plain = _chamber_pages(1)
    pages, url = _with_raising(plain, 2)
    expected, counts = _reference(tmp_path, plain)
    handoff, stats, worker, _held = _hand_over(tmp_path, pages, workers=workers)
    if worker is not None:
        assert worker.exitcode == 0
    failed = _failed_row(tmp_path / "work.db", url)
    check_failed(failed, "/raise/valley-crate")
    assert {k: v for k, v in rows_of(tmp_path / "work.db").items() if v["url"] != url} == expected
    failed_counts = Counter({"page/detail": 1, COUNTER: 1, "listing/stored": 1})
    failed_counts.update(f"listing/problem/{p}" for p in json.loads(failed["problems"]))
    failed_counts["listing/status/invalid"] += 1
    assert dict(stats.values) == dict(counts + failed_counts)  # one reading of each page, nothing lost
    assert handoff.stored == counts["listing/stored"] + 1


def test_a_failed_page_does_not_replace_a_listing_read_earlier_and_is_replaced_by_a_later_one(tmp_path):
    page = _chamber_pages(1)[0]
    broken = HtmlResponse(page.url.replace("chamber.test/", "chamber.test/raise/"), body=page.body, status=200)
    good = {**SPEC, "id_base": "http://chamber.test"}
    bad = {**SPEC, "id_base": "http://chamber.test/raise", "reader": SLOW["reader"]}  # same listing id

    def read(spec, response):
        path = ItemPath(spec, tmp_path / "work.db")
        path.handle(encode_page(1, response, FETCHED))
        path.store.close()
        return path.counts

    read(good, page)
    before = rows_of(tmp_path / "work.db")
    counts = read(bad, broken)
    assert rows_of(tmp_path / "work.db") == before  # the earlier listing stays
    assert counts[COUNTER] == 1 and "listing/stored" not in counts
    # A database holding only the failed row: the next good reading replaces it.
    (tmp_path / "work.db").unlink()
    read(bad, broken)
    (row,) = rows_of(tmp_path / "work.db").values()
    check_failed(row, urlsplit(broken.url).path)
    read(good, page)
    assert rows_of(tmp_path / "work.db").keys() == before.keys()
    assert {k: {c: v for c, v in r.items() if c != "previous_sha256"} for k, r in rows_of(tmp_path / "work.db").items()} == \
        {k: {c: v for c, v in r.items() if c != "previous_sha256"} for k, r in before.items()}


# --- under a real crawl ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_root(tmp_path_factory):
    return tmp_path_factory.mktemp("sample")


def crawl_with_a_raising_page(db, root, monkeypatch, settings: dict) -> tuple[dict, str, list[str]]:
    """Crawl the member directory with one member's page raising in its reader; return the run,
    that page's path and every member path. Shared with the slow suite."""
    from crawler.run import crawl

    from .sites.sample import served

    paths = _member_paths(root)
    broken = paths[len(paths) // 2]
    monkeypatch.setenv("SLOW_READER_RAISE", broken)
    with served(root) as bases:
        run = crawl(db, source="member_directory", base_urls=bases, fast=True,
                    settings={"PAGE_READER": SLOW["reader"], **settings})
    return run, broken, paths


def check_raising_crawl(db, run, broken: str, paths: list[str]) -> None:
    assert run["status"] == "finished"
    assert run["problems"][COUNTER] == 1 and "page/page_worker_lost" not in run["problems"]
    # Validation's counter of the problem is folded to the type: no page text in the run's problems.
    folded = [k for k in run["problems"] if k.startswith(f"listing/problem/{READ_ERROR_PROBLEM}")]
    assert folded == [f"listing/problem/{READ_ERROR_PROBLEM}{ERROR}"] and run["problems"][folded[0]] == 1
    rows = rows_of(db)
    assert sorted(urlsplit(r["url"]).path for r in rows.values()) == paths  # each once, the broken one failed
    (failed,) = [r for r in rows.values() if urlsplit(r["url"]).path == broken]
    check_failed(failed, broken)
    assert all(r["name"] for r in rows.values() if r is not failed)
    assert run["listings"] == len(paths)


def test_a_crawl_with_a_page_whose_reading_raises_keeps_it_failed(tmp_path, sample_root, monkeypatch):
    run, broken, paths = crawl_with_a_raising_page(tmp_path / "work.db", sample_root, monkeypatch, {})
    check_raising_crawl(tmp_path / "work.db", run, broken, paths)
