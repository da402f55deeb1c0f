"""Reading a detail page in a child process the crawl process can kill: every reading bounded.

Why: ``PAGE_READ_TIMEOUT``'s alarm (``crawler.base.read_deadline``) stops Python code and
regular expressions, but not one C call that never returns to the interpreter (a parser stuck
inside libxml2). A page worker (``crawler/handoff.py``) is killed by the crawl process when that
happens; a page the crawl process read itself (generic mode, whose link decisions need each
page's listings; ``PAGE_WORKERS=0``; a spider with its own ``post_process_item``; the pages the
hand-off takes over from a lost worker) had no one above it, and the crawl hung. Here such a page
is sent to a ``PageReader`` process, one page at a time; the crawl process waits for the answer
as it would wait while reading the page itself (the reactor is held either way), and a page
still unanswered ``read_timeout`` plus a grace later has the reader killed (SIGKILL): the page
is kept as failed (``page/read_timeout``, ``page/read_timeout_reader_killed``, a warning naming
it) and the next page goes to a fresh reader. A reader that dies on a page (a crash in C) has
that page kept as failed too (``page: read error: ReaderLost: ...``, counted
``page/read_error/ReaderLost``): reading it again in the crawl process could crash the crawl.

``EXTRACT_WORKERS=0`` reads those pages in the crawl process instead (the alarm only; a warning
at open says a C call that never returns would hang the crawl).

Cost: one round trip per page and a second HTML parse (the crawl process's own parse of the
page is not sent), ~0.5-1 ms a page; generic mode, the main user, waits for sites far longer.
Fresh readers are spawned with ``crawler.spawn`` (a fork of the threaded crawl process is
unsafe), ~1-2 s to start here; the first one, started as the spider opens, is forked.
"""

from __future__ import annotations

import logging
import marshal
import multiprocessing
import pickle
import signal
import time
from collections import Counter

from crawler.base import (READ_TIMEOUT_PROBLEM, _read_safely, checked_read_timeout, failed_page, keep_alarm_handler,
                          read_error_problem, read_page)
from crawler.spawn import spawn_context, stopped

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0  # seconds a fresh reader may take to say it is ready
STEP = 0.25  # seconds between looks while waiting for a page
PAUSE_GAP = 2.0  # a look this late means the crawl process itself did not run (Ctrl-Z): not counted
LOG_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"


class ReaderLost(RuntimeError):
    """The reading process exited while it read a page (named in the page's ``problems``)."""


def _reader_main(conn, inherited, read_timeout: float, log_level: int | None) -> None:
    """The reader's loop: read each page sent, answer its rows and counters; stop on an empty
    message or when the crawl process is gone (EOF)."""
    for other in inherited:  # the crawl process's end: EOF must mean the crawl process is gone
        other.close()
    if log_level is not None and not logging.getLogger().handlers:
        logging.basicConfig(format=LOG_FORMAT, level=log_level)
    signal.set_wakeup_fd(-1)  # the reactor's wake-up pipe belongs to the crawl process
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group; the crawl process stops it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    keep_alarm_handler()
    try:
        conn.send_bytes(b"ready")
        while True:
            data = conn.recv_bytes()
            if not data:
                break
            page, spec, fetched_at = marshal.loads(data)
            result = _read_safely(read_page, page, spec, fetched_at, timeout=read_timeout)
            conn.send_bytes(pickle.dumps((result["rows"], dict(result["counts"])), protocol=pickle.HIGHEST_PROTOCOL))
    except (EOFError, BrokenPipeError):
        pass


class PageReader:
    """One reading process, seen from the crawl process; ``read`` never raises.

    ``method``: ``"fork"`` to start the reader now (only before the crawl starts its threads),
    ``"spawn"`` to start it on first use. ``read_timeout``: seconds one page may take (0: no
    limit; the reader is then only replaced when it dies).
    """

    def __init__(self, read_timeout: float, method: str = "spawn"):
        self.read_timeout = checked_read_timeout(read_timeout)
        self.grace = max(1.0, self.read_timeout / 2)  # the reader's own alarm fires first, then each second
        self.proc = self.conn = None
        self.in_process = False  # no reader could be started: pages are read here, alarm only
        self.started = 0  # readers started, the first included
        if method == "fork":
            try:
                self._start(multiprocessing.get_context("fork"))
            except Exception:  # tried again, spawned, at the first page
                log.exception("could not fork a page reader")

    def _start(self, ctx) -> None:
        parent, child = ctx.Pipe(duplex=True)
        forked = ctx.get_start_method() == "fork"
        root = logging.getLogger()
        log_level = None if forked else max(root.getEffectiveLevel(),
                                             min((h.level for h in root.handlers), default=logging.WARNING))
        proc = ctx.Process(target=_reader_main, args=(child, [parent] if forked else [], self.read_timeout, log_level),
                           daemon=True, name="page-reader")
        proc.start()
        child.close()
        self.proc, self.conn = proc, parent
        self.started += 1
        began = time.monotonic()
        try:
            while not parent.poll(STEP):
                if not proc.is_alive() or time.monotonic() - began > START_TIMEOUT:
                    raise EOFError
            parent.recv_bytes()  # "ready"
        except (EOFError, OSError):
            self._end()
            raise RuntimeError(f"page reader did not start (exit code {proc.exitcode})") from None

    def _ready(self) -> bool:
        if self.proc is not None:
            return True
        if self.in_process:
            return False
        try:
            self._start(spawn_context())
            return True
        except Exception:
            log.exception("could not start a page reader: the crawl process reads pages itself from now on "
                          "(PAGE_READ_TIMEOUT's alarm only: a C call that never returns would hang the crawl)")
            self.in_process = True
            return False

    def read(self, page: dict, spec: dict, fetched_at: str | None = None) -> dict:
        """``read_page(page, spec, fetched_at)`` in the reader, as ``_read_safely`` returns it;
        a page that holds the reader too long, or kills it, is kept as failed."""
        data = marshal.dumps((page, spec, fetched_at))
        for _attempt in range(2):
            if not self._ready():
                return _read_safely(read_page, page, spec, fetched_at, timeout=self.read_timeout)
            try:
                self.conn.send_bytes(data)
                break
            except (OSError, ValueError):  # it died between pages: not this page's fault, a fresh one reads it
                self._end()
        else:
            return self._lost(page, spec, fetched_at)
        spent, last = 0.0, time.monotonic()
        limit = self.read_timeout + self.grace if self.read_timeout else 0.0
        while True:
            try:
                if self.conn.poll(STEP):
                    rows, counts = pickle.loads(self.conn.recv_bytes())
                    return {"rows": rows, "counts": Counter(counts)}
            except (EOFError, OSError):
                return self._lost(page, spec, fetched_at)
            now = time.monotonic()
            gap, last = now - last, now
            # Time the crawl process did not run (the whole group stopped), or the reader was
            # stopped by a signal (SIGSTOP, a debugger), is not time spent reading the page.
            if gap < PAUSE_GAP and not stopped(self.proc.pid):
                spent += gap
            if not self.proc.is_alive():
                return self._lost(page, spec, fetched_at)
            if limit and spent > limit:
                return self._kill(page, spec, fetched_at, spent)

    def _kill(self, page: dict, spec: dict, fetched_at: str | None, spent: float) -> dict:
        log.warning("page reader %s still reading %s after %.0f s (limit %g s, PAGE_READ_TIMEOUT): killed (SIGKILL), "
                    "the page kept as failed; a fresh reader reads the next page", self.proc.pid, page["url"], spent,
                    self.read_timeout)
        self._end()
        row = failed_page(page, spec, fetched_at, READ_TIMEOUT_PROBLEM)
        return {"rows": [row], "counts": Counter({"page/read_timeout": 1, "page/read_timeout_reader_killed": 1})}

    def _lost(self, page: dict, spec: dict, fetched_at: str | None) -> dict:
        pid = code = None
        if self.proc is not None:
            self.proc.join(timeout=5)
            pid, code = self.proc.pid, self.proc.exitcode
        exc = ReaderLost(f"the page reader exited (code {code}) while reading the page")
        log.error("page reader %s exited (code %s) while reading %s: the page kept as failed; a fresh reader reads "
                  "the next page", pid, code, page["url"])
        self._end()
        row = failed_page(page, spec, fetched_at, read_error_problem(exc))
        return {"rows": [row], "counts": Counter({"page/read_error/ReaderLost": 1})}

    def _end(self) -> None:
        """Kill the reader (if alive) and forget it; the next page starts a fresh one."""
        proc, conn = self.proc, self.conn
        self.proc = self.conn = None
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(timeout=10)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Ask the reader to exit; kill it if it does not within a few seconds."""
        if self.proc is None:
            return
        try:
            self.conn.send_bytes(b"")
            self.proc.join(timeout=5)
        except (OSError, ValueError):
            pass
        self._end()
