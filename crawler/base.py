"""Shared spider base classes: a spider is configuration, the work happens here.

``ListingSpider`` reads a detail page into ``Listing`` items: structured data first
(``crawler.structured`` folds every syntax into JSON-LD, ``crawler.parse`` maps it), then the
source's selectors fill what is missing. It checks each page (truncated body, guessed encoding,
non-HTML) and each failed request (timeout, HTTP error, oversized, redirect loop, robots.txt)
and counts every problem in the crawl stats under ``page/...``; nothing stops the crawl.

``DirectorySpider`` adds the two ways directories are walked: index pages (pagination and
category links, CSS selectors from ``sources.yaml``) and sitemaps. ``GenericSpider`` (in
``crawler/spiders/generic.py``) walks any site by its links and sitemaps.

A thin spider's hook (alltheplaces' habit): ``post_process_item(item, response)`` on each
built listing. Reading a page is a pure function (``read_page``) so it can run in another
process: by default a configured source hands each detail page whole to a page worker
(``PAGE_WORKERS``, ``crawler/handoff.py``), which reads, cleans, validates and stores it while
the crawl process keeps downloading; a page the crawl process reads itself goes to a reader
process it can kill (``EXTRACT_WORKERS``, ``crawler/reader.py``), so no reading hangs the crawl.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import signal
import time
from pathlib import Path
from typing import Any, AsyncIterator, Iterable
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectError, ConnectionLost, DNSLookupError, TCPTimedOutError, TimeoutError

from crawler import parse, structured
from crawler.items import Listing
from crawler.normalise import parse_address
from crawler.store import listing_id


class CrawlRequest(Request):
    """A Request whose callback names are found cheaply when JOBDIR writes it to disk.

    Scrapy's ``Request.to_dict`` finds the spider method behind each callback and errback with
    ``inspect.getmembers(spider)`` (twice per request), which profiled at ~4.5% of a crawl. A bound
    method's own ``__name__`` names it; it is checked against the spider (same underlying
    function) and Scrapy's search is the fallback, so the dict written is the same either way.
    """

    def to_dict(self, *, spider: scrapy.Spider | None = None) -> dict[str, Any]:
        names = {}
        for key in ("callback", "errback"):
            func = getattr(self, key)
            name = getattr(func, "__name__", None)
            bound = getattr(spider, name, None) if (spider is not None and name) else None
            if callable(func) and getattr(bound, "__func__", None) is not None and bound.__func__ is getattr(func, "__func__", None):
                names[key] = name
        if len(names) < sum(callable(getattr(self, k)) for k in ("callback", "errback")):
            return super().to_dict(spider=spider)
        saved = self.callback, self.errback
        try:
            # Strings pass through Scrapy's to_dict untouched; restore the callables after.
            self.callback = names.get("callback", self.callback)
            self.errback = names.get("errback", self.errback)
            return super().to_dict(spider=spider)
        finally:
            self.callback, self.errback = saved

try:  # Scrapy 2.13+ names its own download errors; older ones raise Twisted's.
    from scrapy.exceptions import (
        DownloadCancelledError,
        DownloadConnectionRefusedError,
        DownloadFailedError,
        DownloadTimeoutError,
    )
except ImportError:  # pragma: no cover
    DownloadCancelledError = DownloadConnectionRefusedError = DownloadFailedError = DownloadTimeoutError = ()

_HTML_END = re.compile(rb"</html\s*>", re.I)
_DECLARED_CHARSET = re.compile(rb"<meta[^>]+charset|<\?xml[^>]+encoding", re.I)


def classify_failure(failure) -> str:
    """A short, countable name for why a request failed."""
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    if failure.check(TimeoutError, TCPTimedOutError, DownloadTimeoutError):
        return "timeout"
    if failure.check(CancelledError, DownloadCancelledError):
        return "oversized_or_cancelled"
    if failure.check(IgnoreRequest):
        message = str(failure.value).lower()
        if "redirect" in message:
            return "redirect_loop"
        if "robots" in message:
            return "robots_forbidden"
        return "ignored"
    if failure.check(DNSLookupError):
        return "dns_error"
    if failure.check(ConnectError, ConnectionLost, DownloadConnectionRefusedError, DownloadFailedError):
        return "connection_error"
    return "error_" + type(failure.value).__name__


class ListingSpider(scrapy.Spider):
    """Reads detail pages into listings; counts every page and request problem."""

    name = "listing"
    source_name: str = "listing"
    #: Detail pages may go whole to page workers (``PAGE_WORKERS``, ``crawler/handoff.py``) only
    #: where nothing about a page's listings comes back to the crawl process: no
    #: ``post_process_item`` override, no link decisions taken on what the page held.
    pages_to_workers = True
    page_handoff = None
    selectors: dict[str, str] = {}
    #: extra markers for a detail page when it has no structured data: fields that must be found
    require_any: tuple[str, ...] = ("name",)
    generic_fallbacks = True

    def __init__(self, *args, source_name: str | None = None, start_urls: Iterable[str] | None = None,
                 config: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.config = dict(config or {})
        if source_name:
            self.source_name = source_name
        if start_urls is not None:
            self.start_urls = list(start_urls)
        self.selectors = {**type(self).selectors, **(self.config.get("selectors") or {})}
        self.start_url_text = " ".join(getattr(self, "start_urls", []) or [])

    # --- requests ---------------------------------------------------------------------------

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        from scrapy import signals

        # Settings that would make every page fail are refused before the crawl starts.
        limit = read_timeout(crawler.settings)
        reader_of({"reader": crawler.settings.get("PAGE_READER")})
        if not extract_workers(crawler.settings.getint("EXTRACT_WORKERS", 1)) and limit:
            spider.logger.warning(
                "EXTRACT_WORKERS=0: pages not handed to a page worker are read in the crawl process, where "
                "PAGE_READ_TIMEOUT's alarm cannot stop a C call that never returns (a parser stuck in libxml2): "
                "such a page would hang the crawl. EXTRACT_WORKERS=1 reads them in a process the crawl can kill.")

        # Fork the extraction workers as the spider opens, before the crawl starts its threads.
        crawler.signals.connect(spider._open_extraction, signal=signals.spider_opened)
        return spider

    def _open_extraction(self, spider):
        import gc

        # Everything loaded so far (Scrapy, lxml, the ZIP table, phone metadata) lives for the
        # whole crawl: freezing it keeps the cyclic GC from re-scanning it on every collection,
        # which profiled as several percent of a crawl spread over random functions. Frozen
        # before the workers fork, so they start frozen too.
        gc.collect()
        gc.freeze()
        self.page_handoff = page_handoff(self)
        if self.page_handoff is None:  # this process reads the pages: its reader is forked now
            extraction(self, "fork")

    def request(self, url: str, callback, priority: int = 0, **kwargs) -> Request:
        return CrawlRequest(url, callback=callback, errback=self.on_error, priority=priority, **kwargs)

    async def start(self) -> AsyncIterator[Request]:
        for url in self.start_urls:
            yield self.request(url, self.start_callback(), dont_filter=True)

    def start_callback(self):
        return self.parse_listing

    def count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(key, n)

    def on_error(self, failure):
        kind = classify_failure(failure)
        self.count(f"page/{kind}")
        self.logger.info("request failed (%s): %s", kind, getattr(failure.request, "url", "?"))

    # --- pages ------------------------------------------------------------------------------

    def post_process_item(self, item: Listing, response: Response) -> Listing | None:
        return item

    def accepts_unstructured(self) -> bool:
        """Configured sources read any detail page by selectors; generic mode needs structure."""
        return bool(self.selectors)

    def reader_spec(self) -> dict:
        """What ``read_page`` needs to know about this spider (plain data: it may cross processes)."""
        if not hasattr(self, "_reader_spec"):
            self._reader_spec = {
                "source": self.source_name,
                "selectors": self.selectors,
                "accepts_unstructured": self.accepts_unstructured(),
                "generic_fallbacks": self.generic_fallbacks,
                "run_id": self.settings.get("RUN_ID"),
                "id_base": getattr(self, "base_url", None),
                "reader": self.settings.get("PAGE_READER") or None,
            }
        return self._reader_spec

    def parse_listing(self, response: Response):
        """A detail page -> one listing per organisation found (or one from selectors).

        With page workers (``PAGE_WORKERS``) the page is handed to a worker process, which reads,
        cleans, validates and stores its listings, and nothing comes back through Scrapy;
        otherwise the listings are read here (``read_response``, or in an ``EXTRACT_WORKERS``
        process) and go through the item pipelines. Both run the same functions.
        """
        if self.page_handoff is not None and isinstance(response, TextResponse):
            self.page_handoff.send(response, fetched_now())  # the worker counts page/detail
            return ()
        self.count("page/detail")
        if not isinstance(response, TextResponse):
            self.count("page/not_html")
            return ()
        return self._listings_here(response)

    async def _listings_here(self, response: TextResponse):
        result = await extraction(self).read(response, self.reader_spec())
        for key, n in result["counts"].items():
            self.count(key, n)
        for row in result["rows"]:
            if is_failed_page(row):
                # Counted above. Kept unless an earlier run read a listing from the page (that
                # stays); not a built listing, so the spider's hook does not see it (generic
                # mode would take every failed page after the first for a repeated organisation).
                if not self._has_earlier_listing(row["listing_id"]):
                    yield Listing(row)
                continue
            item = self.post_process_item(Listing(row), response)
            if item is not None:
                yield item

    def _has_earlier_listing(self, listing: str) -> bool:
        """Whether the working database holds a listing read earlier under this id (asked only
        for a failed page, so rarely: a connection of its own, read only)."""
        import sqlite3

        if self.settings.getdict("ITEM_PIPELINES").get("crawler.pipelines.store.StorePipeline") is None:
            return False
        path = Path(self.settings.get("WORK_DB") or "var/work.db")
        if not path.exists():
            return False
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
        try:
            return earlier_listing(conn, listing)
        finally:
            conn.close()


def page_problems(response: Response) -> tuple[list[tuple[str, str]], Response]:
    """Faults of the page itself as (stats key, row text); the response re-decoded if needed."""
    found: list[tuple[str, str]] = []
    if "dataloss" in response.flags:
        found.append(("truncated_body", "truncated body"))
    elif not _HTML_END.search(response.body[-4096:]):
        found.append(("no_closing_html_tag", "no closing html tag"))
    if not response.body.isascii():
        declared = b"charset" in response.headers.get(b"Content-Type", b"").lower() or _DECLARED_CHARSET.search(response.body[:2048])
        if not declared:
            encoding = response.encoding
            try:
                response.body.decode("utf-8")
            except UnicodeDecodeError:
                # No declared charset and not UTF-8: read it as windows-1252, the web's
                # fallback for undeclared Western pages (WHATWG), not as a byte-guesser's pick.
                response = response.replace(encoding="cp1252")
                encoding = "cp1252"
            found.append(("charset_guessed", f"charset guessed ({encoding})"))
    return found, response


def page_of(response: TextResponse) -> dict:
    """A response as plain data, to cross to a worker process."""
    return {"url": response.url, "status": response.status, "body": response.body,
            "content_type": response.headers.get(b"Content-Type", b"").decode("latin-1"),
            "flags": list(response.flags), "kind": type(response).__name__}


def read_page(page: dict, spec: dict, fetched_at: str | None = None) -> dict:
    """``read_response`` on a page sent as plain data (``page_of``) to a worker process.

    The response is rebuilt as the class Scrapy chose for it (``kind``; HTML when not said), so
    its encoding is decided the same way as in the crawl process. ``spec["reader"]``
    (``PAGE_READER``) names another reader to run instead of ``read_response``.
    """
    from scrapy import http

    headers = {"Content-Type": page["content_type"]} if page.get("content_type") else {}
    cls = getattr(http, page.get("kind") or "HtmlResponse", None)
    if not (isinstance(cls, type) and issubclass(cls, TextResponse)):
        cls = http.HtmlResponse
    response = cls(page["url"], status=page["status"], body=page["body"], headers=headers, flags=page.get("flags"))
    return reader_of(spec)(response, spec, fetched_at)


def reader_of(spec: dict):
    """The function that reads a detail page: ``read_response``, or the one ``spec["reader"]``
    names (``PAGE_READER``, ``"module:function"``, same arguments and result).

    Why a setting: the per-page time limit (``PAGE_READ_TIMEOUT``) must be tested on a reader
    that runs long, in the crawl process and in its page workers alike, and a page that is slow
    to read on every machine cannot be written: a slow path found in ``read_response`` is a bug
    to fix, and a page slow on this machine is quick on a faster one. A named function crosses
    to the workers as plain data, where a monkeypatch would not reach a worker forked earlier.
    """
    name = spec.get("reader")
    if not name:
        return read_response
    found = _readers.get(name)
    if found is None:
        import importlib

        module, _, attr = name.partition(":")
        try:
            found = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ValueError(f"PAGE_READER {name!r} names no function (expected 'module:function'): {exc}") from exc
        if not callable(found):
            raise ValueError(f"PAGE_READER {name!r} is not a function")
        _readers[name] = found
    return found


_readers: dict = {}


_clock = [-1, ""]


def fetched_now() -> str:
    """When a page was fetched, as stored in ``listings.fetched_at`` (UTC, to the second; made
    once a second, as the crawl process stamps every page it hands to a worker)."""
    second = int(time.time())
    if second != _clock[0]:
        _clock[:] = second, dt.datetime.fromtimestamp(second, dt.timezone.utc).isoformat(timespec="seconds")
    return _clock[1]


def read_response(response: TextResponse, spec: dict, fetched_at: str | None = None) -> dict:
    """One detail page -> listing rows and the problem counters it raised (pure: no spider).

    ``spec``: see ``ListingSpider.reader_spec``. In-process, the response Scrapy parsed is read
    as it is (one HTML parse per page); a worker rebuilds it from ``page_of``.
    """
    from collections import Counter

    counts: Counter[str] = Counter()
    found, response = page_problems(response)
    problems = []
    for key, text in found:
        counts[f"page/{key}"] += 1
        problems.append(f"page: {text}")
    try:
        tree = response.selector.root
    except Exception:
        tree = None
    objects, syntaxes, data_problems = structured.extract(tree, response.body, response.url)
    for problem in data_problems:
        counts[f"page/{problem}"] += 1
        problems.append(f"structured: {problem}")
    orgs = parse.find_orgs(objects)
    field_sets = [parse.fields_from_org(org, response.url) for org in orgs]
    raws: list[Any] = list(orgs)
    if not field_sets and spec["accepts_unstructured"]:
        field_sets, raws = [{}], [None]
    if not field_sets:
        counts["page/no_listing"] += 1
        return {"rows": [], "counts": counts}
    for syntax in syntaxes:
        counts[f"page/syntax/{syntax}"] += 1
    rows = []
    now = fetched_at or fetched_now()
    sha = hashlib.sha256(response.body).hexdigest()
    key_url = _key_url(response.url, spec)
    for index, (fields, raw) in enumerate(zip(field_sets, raws)):
        if len(field_sets) == 1:
            fill(fields, response, spec)
        row = {
            "listing_id": listing_id(spec["source"], key_url, index),
            "source": spec["source"],
            "url": response.url,
            "fetched_at": now,
            "http_status": response.status,
            "content_sha256": sha,
            "raw_structured": json.dumps(raw, ensure_ascii=False, default=str) if raw is not None else None,
            "problems": list(problems),
            "crawl_run_id": spec["run_id"],
        }
        row.update({f: fields[f] for f in parse.FIELDS if f in fields})
        rows.append(row)
    return {"rows": rows, "counts": counts}


def _key_url(url: str, spec: dict) -> str:
    """The URL a listing's id is made from. A source served from a base URL given at run time
    (the sample sites, on a free port each run) keys its listings by the path under that base,
    so ids survive a change of port."""
    base = spec.get("id_base")
    return url[len(base):] if base and url.startswith(base) else url


def fill(fields: dict, response: Response, spec: dict) -> None:
    """Selectors fill what structured data left out; generic fallbacks where the spider allows."""
    selectors = dict(spec["selectors"])
    address_query = selectors.pop("address", None)
    parse.fill_from_selectors(fields, response.selector, selectors)
    if address_query and not (fields.get("postal_code") and fields.get("street")):
        texts = parse._select(response.selector, address_query)
        for key, value in parse_address(texts[0] if texts else "").items():
            fields.setdefault(key, value)
    if spec["generic_fallbacks"]:
        parse.generic_fill(fields, response.selector)


READ_TIMEOUT = 20.0  # seconds; PAGE_READ_TIMEOUT (crawler/settings.py says why)
READ_TIMEOUT_PROBLEM = "page: read timeout"
READ_ERROR_PROBLEM = "page: read error: "  # then "<ExceptionType>: <short message>" (read_error_problem)
READ_ERROR_MESSAGE_CHARS = 200  # the message kept in the problem; the whole one is in the log's traceback
# control characters, zero-width and bidi controls: shown as one space in a read error's message
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]+")


def read_error_problem(exc: BaseException, limit: int = READ_ERROR_MESSAGE_CHARS) -> str:
    """``problems`` text for a page whose reading raised ``exc``: its type and a short message.

    The message may carry the page's own text (a parser quoting what it choked on), so it is
    only data: line breaks, control, zero-width and bidi characters become one space (one
    line, nothing that reorders what is shown around it), and it is cut at
    ``READ_ERROR_MESSAGE_CHARS``. It is stored as a bound value like any other field. An
    exception whose ``str()`` itself raises is named by its type alone.
    """
    try:
        message = str(exc)
    except Exception:
        message = "(message unreadable)"
    message = " ".join(_UNPRINTABLE.sub(" ", message).split())
    if not message.isprintable():  # anything left that is not text (unassigned, private use)
        message = "".join(c if c.isprintable() else "\ufffd" for c in message)
    if len(message) > limit:
        message = message[:limit - 1] + "\u2026"
    return f"{READ_ERROR_PROBLEM}{type(exc).__name__}: {message}" if message else f"{READ_ERROR_PROBLEM}{type(exc).__name__}"


class PageReadTimeout(BaseException):
    """Raised inside a page's reading when it ran past ``PAGE_READ_TIMEOUT``.

    A ``BaseException``, as ``KeyboardInterrupt`` is: the reading code (ours, parsel's,
    extruct's) catches ``Exception`` in places to get past a broken piece of a page, and would
    swallow the timeout there and read on.
    """


class read_deadline:
    """Raise ``PageReadTimeout`` in the code inside this block once ``seconds`` have passed.

    How: ``signal.setitimer(ITIMER_REAL)`` and a SIGALRM handler that raises. Chosen over reading
    every page in a child process because that would cost a round trip per page in the crawl
    process (what ``PAGE_WORKERS`` exists to save) or a spawned interpreter (a fork of the
    threaded crawl process is unsafe, crawler/handoff.py), for a rare page. The alarm stops
    Python code, regular expressions included (``re`` looks for signals as it matches), and
    sleeps and reads; it cannot stop one C call that never returns to the interpreter (a
    parser stuck inside libxml2): the handler runs only when the call returns. A page worker and
    a reader are covered for that too, as the crawl process kills one stuck on a page
    (``PageHandoff``, ``crawler.reader.PageReader``); the crawl process itself has no one above
    it, which is why it reads nothing itself unless ``EXTRACT_WORKERS=0``.

    Safe beside Twisted's reactor: SIGALRM is not one of its signals (its wake-up pipe only
    wakes the reactor once more); the old handler and any timer running before are put back on
    the way out, the timer is stopped first, and the handler raises only while a block runs, so
    a late signal cannot raise in the caller. The timer repeats every second after the limit,
    so reading code that swallows even ``BaseException`` is stopped at its next step. Only the
    main thread receives signals: elsewhere (and with ``seconds`` <= 0) the block runs without
    a limit.

    Cost per page (measured alone, load average ~15): 13-16 us with the handler installed and
    restored each time, 8 us with it installed once, 1 us with no limit; a page worker spends
    ~700 us on a page. So a process that only reads pages (a page worker, a reader) installs the
    handler once (``keep_alarm_handler``); the crawl process puts its own back after every page
    (it reads ~1.8 ms a page when it reads).
    """

    def __init__(self, seconds: float):
        import threading

        self.seconds = float(seconds or 0)
        self.active = self.seconds > 0 and threading.current_thread() is threading.main_thread()

    def __enter__(self):
        if self.active:
            self.started = time.monotonic()
            self.own_handler = signal.getsignal(signal.SIGALRM) is not _on_alarm
            if self.own_handler:
                self.old_handler = signal.signal(signal.SIGALRM, _on_alarm)
            self.outer = _reading[0]
            self.old_timer = signal.setitimer(signal.ITIMER_REAL, self.seconds, min(1.0, self.seconds))
            _reading[0] = self
        return self

    def __exit__(self, *exc):
        if not self.active:
            return False
        try:
            _reading[0] = self.outer
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if self.own_handler:
                signal.signal(signal.SIGALRM, self.old_handler)
            delay, interval = self.old_timer
            if delay > 0:  # someone else's timer was running: let it go on, less the time spent here
                signal.setitimer(signal.ITIMER_REAL, max(delay - (time.monotonic() - self.started), 1e-3), interval)
        return False


_reading: list = [None]  # the read_deadline whose block runs now, if any


def _on_alarm(signum, frame):
    deadline = _reading[0]
    if deadline is not None:
        raise PageReadTimeout(f"read longer than {deadline.seconds:g} s (PAGE_READ_TIMEOUT)")


def keep_alarm_handler() -> None:
    """Install ``read_deadline``'s SIGALRM handler for the rest of this process's life: for a
    process that does nothing but read pages, so that each page pays only for its timer."""
    signal.signal(signal.SIGALRM, _on_alarm)


def failed_page(page, spec: dict, fetched_at: str | None, problem: str) -> dict:
    """The row kept for a page that could not be read (``page`` a response or ``page_of`` data).

    It has the page's usual id (its first listing's), URL, status and content hash, no fields,
    and ``problem`` in ``problems``; validation then marks it invalid (no name), so resolve
    leaves it out and a later reading of the page replaces it. It never replaces a listing an
    earlier run read from the page (``earlier_listing``).
    """
    url, status, body = (page["url"], page["status"], page["body"]) if isinstance(page, dict) else (page.url, page.status, page.body)
    return {
        "listing_id": listing_id(spec["source"], _key_url(url, spec), 0),
        "source": spec["source"],
        "url": url,
        "fetched_at": fetched_at or fetched_now(),
        "http_status": status,
        "content_sha256": hashlib.sha256(body).hexdigest(),
        "raw_structured": None,
        "problems": [problem],
        "crawl_run_id": spec["run_id"],
    }


def is_failed_problem(problem) -> bool:
    """Whether a ``problems`` entry says the page was not read (timed out, or its reading raised)."""
    return isinstance(problem, str) and (problem == READ_TIMEOUT_PROBLEM or problem.startswith(READ_ERROR_PROBLEM))


def is_failed_page(row: dict) -> bool:
    return any(is_failed_problem(p) for p in (row.get("problems") or ()))


def earlier_listing(conn, listing: str) -> bool:
    """Whether ``listings`` holds a row with this id that is not itself a failed page's."""
    try:
        found = conn.execute("SELECT problems FROM listings WHERE listing_id = ?", (listing,)).fetchone()
    except Exception:  # no table yet
        return False
    return found is not None and not is_failed_page({"problems": json.loads(found[0] or "[]")})


def _read_safely(reader, page, spec: dict, *args, timeout: float = 0.0) -> dict:
    """``reader(page, spec, *args)``, never raising. A page that reads past ``timeout`` seconds
    is abandoned, counted (``page/read_timeout``) and kept as a failed page (``failed_page``);
    one whose reading raises is counted (``page/read_error/<type>``), its traceback logged at
    warning, and kept as a failed page too (``read_error_problem``: type and short message), so
    nothing it held is lost without a trace and the next crawl reads it again. The crawl goes on.
    (``KeyboardInterrupt`` and ``SystemExit`` are not a page's fault: they go through.)"""
    import logging
    from collections import Counter

    try:
        with read_deadline(timeout):
            return reader(page, spec, *args)
    except PageReadTimeout:
        url = page["url"] if isinstance(page, dict) else page.url
        logging.getLogger(__name__).warning("reading %s took over %g s (PAGE_READ_TIMEOUT): abandoned, kept as a failed page",
                                            url, timeout)
        row = failed_page(page, spec, args[0] if args else None, READ_TIMEOUT_PROBLEM)
        return {"rows": [row], "counts": Counter({"page/read_timeout": 1})}
    except Exception as exc:  # a page that breaks the reader is kept as failed, the crawl goes on
        url = page["url"] if isinstance(page, dict) else page.url
        # The traceback, its last line made safe as the problem is (one line, no control or
        # bidi characters, no lone surrogate for the log file's encoder to choke on), longer.
        import traceback

        stack = "".join(traceback.format_tb(exc.__traceback__))
        logging.getLogger(__name__).warning(
            "reading %r raised %s: kept as a failed page\nTraceback (most recent call last):\n%s%s",
            url, type(exc).__name__, stack, read_error_problem(exc, 2000)[len(READ_ERROR_PROBLEM):])
        row = failed_page(page, spec, args[0] if args else None, read_error_problem(exc))
        return {"rows": [row], "counts": Counter({f"page/read_error/{type(exc).__name__}": 1})}


class Extraction:
    """Reads the pages the crawl process would read itself (no page worker takes them): in a
    ``PageReader`` process the crawl process can kill (``EXTRACT_WORKERS=1``, the default;
    ``crawler/reader.py``), or in-process (``EXTRACT_WORKERS=0``); each reading bounded by
    ``read_timeout`` seconds (``PAGE_READ_TIMEOUT``): by the alarm (``read_deadline``) and, in a
    reader, by killing a reader the alarm cannot stop (a C call that never returns).

    ``method``: ``"fork"`` starts the reader now (the spider opening, before the crawl's threads),
    ``"spawn"`` on the first page.
    """

    def __init__(self, workers: int, read_timeout: float = READ_TIMEOUT, method: str = "spawn"):
        self.read_timeout = read_timeout
        self.reader = None
        if extract_workers(workers):
            from crawler.reader import PageReader

            self.reader = PageReader(read_timeout, method)

    async def read(self, response: TextResponse, spec: dict) -> dict:
        if self.reader is None:
            return _read_safely(reader_of(spec), response, spec, timeout=self.read_timeout)
        return self.reader.read(page_of(response), spec)

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None


def extract_workers(value) -> int:
    """``EXTRACT_WORKERS``: 1 (pages the crawl process would read go to a reader it can kill) or
    0 (read in the crawl process); anything else is refused. One reader is all there can be: the
    crawl process waits for each page, as it would while reading it."""
    if value not in (0, 1) or isinstance(value, bool):
        raise ValueError(f"EXTRACT_WORKERS must be 1 (read in a reader process the crawl can kill) or 0 "
                         f"(read in the crawl process, alarm only), not {value!r}")
    return value


def page_handoff(spider):
    """The spider's page workers (``PAGE_WORKERS``), or None where pages are read in-process.

    Only for spiders that allow it (``pages_to_workers``) and crawls that store listings (the
    store pipeline on): the worker stores what it reads, so a crawl without the store pipeline
    keeps its items in Scrapy.
    """
    settings = spider.settings
    workers = settings.getint("PAGE_WORKERS", 0)
    own_hook = type(spider).post_process_item is not ListingSpider.post_process_item
    pipelines = settings.getdict("ITEM_PIPELINES")
    if workers <= 0 or not spider.pages_to_workers or own_hook or pipelines.get("crawler.pipelines.store.StorePipeline") is None:
        return None
    from scrapy import signals

    from crawler.handoff import PageHandoff

    handoff = PageHandoff(spider.reader_spec(), settings.get("WORK_DB") or "var/work.db", spider.crawler.stats, workers,
                          stall_timeout=settings.getfloat("PAGE_WORKER_STALL_TIMEOUT", 60.0),
                          read_timeout=read_timeout(settings), restarts=settings.getint("PAGE_WORKER_RESTARTS", 3))
    handoff.watch()  # the hung-worker watchdog's LoopingCall
    # The store pipeline closes it before writing the run row; this is the safety net.
    spider.crawler.signals.connect(lambda spider: handoff.close(), signal=signals.spider_closed, weak=False)
    return handoff


def read_timeout(settings) -> float:
    """``PAGE_READ_TIMEOUT`` in seconds (0: no limit), from the crawl's settings."""
    return checked_read_timeout(settings.getfloat("PAGE_READ_TIMEOUT", READ_TIMEOUT))


def checked_read_timeout(seconds) -> float:
    """``seconds`` as a page-reading time limit, or a clear error: one check, shared by the
    settings reader, the page workers and the page reader, so all three refuse the same values
    with the same words (a negative limit would make every page time out at once)."""
    seconds = float(seconds)
    if seconds < 0:
        raise ValueError(f"PAGE_READ_TIMEOUT must be 0 (off) or a number of seconds, not {seconds!r}")
    return seconds


def extraction(spider, method: str = "spawn") -> Extraction:
    """The spider's extraction, made on first use (``method``: how its reader starts, see
    ``Extraction``) and closed with the spider."""
    ext = getattr(spider, "_extraction", None)
    if ext is None:
        from scrapy import signals

        ext = spider._extraction = Extraction(spider.settings.getint("EXTRACT_WORKERS", 1), read_timeout(spider.settings),
                                              method)
        spider.crawler.signals.connect(lambda spider: ext.close(), signal=signals.spider_closed, weak=False)
    return ext


class DirectorySpider(ListingSpider):
    """A directory walked by index pages (pagination, categories) and/or a sitemap.

    Configuration (``sources.yaml``): ``index_links`` (CSS/XPath for links to more index
    pages: next page, categories), ``detail_links`` (links to detail pages), ``sitemap``
    (true to start from ``/sitemap.xml`` too) and ``detail_pattern`` (regex a sitemap URL must
    match to be read as a detail page). The queue is first-in first-out with one priority: an
    index page's detail links are queued before the next index page, so the queue stays short
    however long the directory is, and Scrapy does not create and delete an on-disk queue each
    time one priority runs dry (which profiled at 3-4% of a crawl).
    """

    name = "directory"

    def start_callback(self):
        return self.parse_index

    async def start(self) -> AsyncIterator[Request]:
        async for request in super().start():
            yield request
        if self.config.get("sitemap"):
            for url in self.start_urls:
                origin = "/".join(url.split("/", 3)[:3])
                yield self.request(origin + "/sitemap.xml", self.parse_sitemap)

    def _links(self, response: Response, query: str | None) -> list[str]:
        if not query:
            return []
        if query.startswith("xpath:"):
            hrefs = response.xpath(query[6:]).getall()
        else:
            query = ", ".join(part if "::attr" in part else part.strip() + "::attr(href)" for part in query.split(","))
            hrefs = response.css(query).getall()
        return [response.urljoin(h.strip()) for h in hrefs if h and h.strip()]

    def parse_index(self, response: Response):
        self.count("page/index")
        if not isinstance(response, TextResponse):
            self.count("page/not_html")
            return
        found, response = page_problems(response)
        for key, _text in found:
            self.count(f"page/{key}")
        details = self._links(response, self.config.get("detail_links"))
        more = self._links(response, self.config.get("index_links"))
        if not details and not more:
            # An index page with no links the source's selectors know: the site changed.
            self.count("page/index_without_links")
        for url in details:
            yield self.request(url, self.parse_listing)
        for url in more:
            yield self.request(url, self.parse_index)

    def parse_sitemap(self, response: Response):
        self.count("page/sitemap")
        yield from self._sitemap_requests(response, self.config.get("detail_pattern"))

    def _sitemap_requests(self, response: Response, pattern: str | None):
        body = response.body
        if response.url.endswith("robots.txt"):
            for url in sitemap_urls_from_robots(response.text, base_url=response.url):
                yield self.request(url, self.parse_sitemap)
            return
        try:
            sitemap = Sitemap(body)
        except Exception:
            self.count("page/sitemap_broken")
            return
        regex = re.compile(pattern) if pattern else None
        for entry in sitemap:
            loc = entry.get("loc")
            if not loc:
                continue
            if sitemap.type == "sitemapindex":
                yield self.request(loc, self.parse_sitemap)
            elif regex is None or regex.search(loc):
                yield self.request(loc, self.parse_listing)


# --- declared sources -----------------------------------------------------------------------

SOURCES_FILE = Path(__file__).with_name("sources.yaml")


def load_sources(path=SOURCES_FILE) -> dict[str, dict]:
    """The declared sources (``sources.yaml``), by name."""
    import yaml

    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def expand_start_urls(config: dict, base_url: str | None) -> list[str]:
    """Fill ``{base_url}`` in a source's start URL templates; a missing base URL is an error."""
    urls = []
    for template in config.get("start_urls") or []:
        if "{base_url}" in template:
            if not base_url:
                raise ValueError(f"start URL {template!r} needs a base URL (--base-url SOURCE=URL)")
            template = template.replace("{base_url}", base_url.rstrip("/"))
        urls.append(template)
    return urls


class ConfiguredSpider:
    """Mixin: take start URLs, links and selectors from this spider's entry in sources.yaml.

    ``scrapy crawl member_directory -a base_url=http://127.0.0.1:8101`` works as well as
    ``export-finder crawl``. A declared source has its own selectors, so the generic
    ``tel:``/``mailto:`` fallbacks are not run on its pages.
    """

    generic_fallbacks = False

    def __init__(self, *args, base_url: str | None = None, config: dict | None = None, **kwargs):
        config = config or load_sources()[self.name]
        self.base_url = base_url.rstrip("/") if base_url else None
        kwargs.setdefault("start_urls", expand_start_urls(config, base_url))
        kwargs.setdefault("source_name", self.name)
        super().__init__(*args, config=config, **kwargs)
        hosts = {(urlsplit(u).hostname or "") for u in self.start_urls}
        self.allowed_domains = sorted(h for h in hosts if h)
