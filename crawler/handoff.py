"""The whole detail-page path in a worker process: read, clean, validate and store off the reactor.

Why: on a quiet machine both the do-nothing spider and the real one are CPU-bound in the single
crawl process; the real one's extra (reading the page, Scrapy's per-item machinery, clean,
validate, store) made it run at ~0.57x the do-nothing rate. Moving only the reading out
(``EXTRACT_WORKERS``) left the item path and a round trip per page in the crawl process. Here the
spider's detail-page callback hands the page over in one ``send_bytes`` of a ``marshal``-encoded
tuple and yields nothing; the worker runs ``ItemPath`` (the same functions the pipelines run:
``read_response``, ``CleanPipeline``, ``validate_item``, ``ListingStore``) and writes
``listings`` itself. No ``mp.Queue``: its feeder thread would fight the reactor for the GIL.

Guarantees, and how they are kept:
- **Nothing lost when the worker dies.** The crawl process keeps every page it sent until the
  worker acknowledges it, and the worker acknowledges a page only after the transaction holding
  its listings committed. If the worker dies (its pipe breaks, or it never answers the close),
  the crawl process reads the unacknowledged pages itself (``page/page_worker_lost`` counted, an
  error logged) and starts a fresh worker in its place for the pages still to come
  (``page/page_worker_restarted``; at most ``restarts`` a crawl, ``PAGE_WORKER_RESTARTS``; after
  that it reads every later page in-process). A page whose listings committed but whose
  acknowledgement was lost is stored again: listings upsert by id, so nothing doubles.
- **Every problem counted.** Counters travel with each acknowledgement and are merged into the
  crawl stats (and so into the ``crawl_runs`` row) as the pages they describe are committed.
- **Nothing held up when the worker hangs.** A worker that stops answering without dying (a
  runaway regex, a deadlock, SIGSTOP) is found by a watchdog: pages are waiting and nothing was
  acknowledged for ``stall_timeout`` seconds (``PAGE_WORKER_STALL_TIMEOUT``). The crawl process
  kills it (SIGKILL), counts ``page/page_worker_hung``, logs a warning and takes its pages over as
  for a dead worker. It looks on every 16th page, while it waits on a full pipe, on a Twisted
  ``LoopingCall`` while no page comes, and at close; no thread. A gap in its own checks (the whole
  process group stopped, Ctrl-Z) does not count against the worker.
- **No page read for ever.** Each page's reading is bounded by ``read_timeout`` seconds
  (``PAGE_READ_TIMEOUT``): the worker stops a reading that runs past it itself (SIGALRM,
  ``crawler.base.read_deadline``), counts ``page/read_timeout`` and keeps the page as a failed
  row, and reads on. A reading the alarm cannot stop (one C call that never returns) is found by
  the crawl process: the worker writes when it began the page it is reading to shared memory,
  and a page still being read ``read_timeout`` plus a grace later has the worker killed
  (``page/read_timeout_worker_killed``). That page is kept as failed, not read again (it would
  hang the crawl process in turn); the other pages the worker held are read in the crawl
  process, as for a dead worker, each under the same limit.
- **Back-pressure.** A full pipe holds the send, so the crawl never outruns the worker by more
  than the pipe's buffer; the pages waiting for acknowledgement are bounded too (``MAX_UNACKED``).
  The page pipe is written non-blocking (its frames are ours, ``frame``/``read_frame``), so the
  wait on a full pipe can look at the watchdog's clock instead of blocking in ``write``.
- **Clean stop (SIGTERM) and resume.** The store pipeline's ``close_spider`` runs ``close()``
  before the run row is written: the worker stores everything it was sent, sends its last
  counters and exits. Scrapy's ``JOBDIR`` queue holds only pages not yet fetched, so a resume
  neither repeats nor skips a page. The worker ignores SIGINT (Ctrl-C reaches the whole process
  group; the crawl process drains it).
- **Hard kill of the crawl process.** The worker sees its pipe close, commits what it has and
  exits; the run stays ``running`` and ``--resume`` starts that source afresh (as before).
"""

from __future__ import annotations

import logging
import marshal
import multiprocessing
import os
import select
import signal
import struct
import time
from collections import Counter
from pathlib import Path

from crawler.base import READ_TIMEOUT, checked_read_timeout, keep_alarm_handler
from crawler.spawn import spawn_context, stopped
from crawler.store import ListingStore

log = logging.getLogger(__name__)

CLOSE = b""  # the last message to a worker: store everything, report, exit
MAX_UNACKED = 4000  # pages sent but not yet committed; about 5 s of crawling at full speed
CLOSE_TIMEOUT = 300.0  # seconds a worker may take to store what it holds at close
STALL_TIMEOUT = 60.0  # seconds without an acknowledgement, pages waiting, before a worker counts as hung
RESTARTS = 3  # fresh workers started in a crawl in place of lost ones (PAGE_WORKER_RESTARTS)
START_TIMEOUT = 60.0  # seconds a fresh (spawned) worker may take to say it is ready, pages waiting
LOG_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"  # Scrapy's, for a spawned worker
_HEADER = struct.Struct("!I")


def frame(data: bytes) -> bytes:
    """One message on the page pipe: its length (4 bytes, network order), then its bytes."""
    if len(data) > 0xFFFFFFFF:
        raise ValueError(f"a page of {len(data)} bytes is too big to hand over")
    return _HEADER.pack(len(data)) + data


def read_frame(fd: int) -> bytes:
    """The next message ``frame`` wrote to ``fd`` (blocking); EOFError when the writer is gone."""
    size = _HEADER.unpack(_read_exactly(fd, _HEADER.size))[0]
    return _read_exactly(fd, size)


def _read_exactly(fd: int, n: int) -> bytes:
    if n == 0:
        return b""
    data = os.read(fd, n)
    if len(data) == n:  # the usual case: one read
        return data
    buf = bytearray(data)
    while data and len(buf) < n:
        data = os.read(fd, n - len(buf))
        buf += data
    if len(buf) < n:
        raise EOFError("page pipe closed mid-message")
    return bytes(buf)


def encode_page(seq: int, response, fetched_at: str) -> bytes:
    """A response as one compact message (``marshal``: both ends are this interpreter)."""
    return marshal.dumps((seq, response.url, response.status, type(response).__name__,
                          response.headers.get(b"Content-Type", b"").decode("latin-1"),
                          list(response.flags), fetched_at, response.body))


def decode_page(data: bytes):
    """(seq, page dict for ``read_page``, fetched_at)."""
    seq, url, status, kind, content_type, flags, fetched_at, body = marshal.loads(data)
    page = {"url": url, "status": status, "body": body, "content_type": content_type, "flags": flags, "kind": kind}
    return seq, page, fetched_at


class ItemPath:
    """One detail page -> stored listings, outside Scrapy: what a worker runs per page, and what
    the crawl process runs itself when its worker is lost. Counters accumulate in ``counts``."""

    def __init__(self, spec: dict, db_path: str | Path, read_timeout: float = 0.0, reader=None):
        from crawler.pipelines.clean import CleanPipeline

        self.spec = spec
        self.read_timeout = read_timeout
        self.reader = reader  # a crawler.reader.PageReader to read in (the crawl process's fallback), or None
        self.store = ListingStore(db_path)
        self.clean = CleanPipeline()
        self.counts: Counter[str] = Counter()

    def handle(self, data: bytes, current=None, started=None) -> int:
        """Read and store one page; return its sequence number. ``current`` (a shared integer)
        is set to it first, so the crawl process can name the page a hung worker was on;
        ``started`` (a shared float) holds ``time.monotonic()`` while the page is being read,
        0 otherwise, so the crawl process can tell a page read for too long."""
        from crawler.base import read_page, _read_safely

        seq, page, fetched_at = decode_page(data)
        if current is not None:
            current.value = seq
        if started is not None:
            started.value = time.monotonic()
        try:
            if self.reader is not None:
                result = self.reader.read(page, self.spec, fetched_at)
            else:
                result = _read_safely(read_page, page, self.spec, fetched_at, timeout=self.read_timeout)
        finally:
            if started is not None:
                started.value = 0.0
        self._keep(result)
        return seq

    def fail(self, data: bytes, counter: str, problem: str) -> None:
        """Keep a page that was not read (its reader was killed) as a failed page, counted."""
        from crawler.base import failed_page

        _seq, page, fetched_at = decode_page(data)
        self._keep({"rows": [failed_page(page, self.spec, fetched_at, problem)], "counts": Counter({counter: 1})})

    def _keep(self, result: dict) -> None:
        from crawler.base import earlier_listing, is_failed_page
        from crawler.items import Listing
        from crawler.pipelines.validate import validate_item

        counts = self.counts
        counts["page/detail"] += 1
        counts.update(result["counts"])

        def count(key: str) -> None:
            counts[key] += 1

        for row in result["rows"]:
            if is_failed_page(row):
                self.store.flush()  # a committed listing of an earlier run stays (crawler.base.failed_page)
                if earlier_listing(self.store.conn, row["listing_id"]):
                    continue
            item = Listing(row)
            try:
                self.clean.process_item(item)
                validate_item(item, count)
            except Exception as exc:  # as a failing pipeline drops an item, but counted, and the worker lives
                counts[f"listing/error/{type(exc).__name__}"] += 1
                continue
            self.store.add(item)  # a store error is not caught: the worker dies, its pages are re-read
            counts["listing/stored"] += 1


def _worker_main(pages, acks, spec: dict, db_path: str, inherited, current=None, started=None,
                 read_timeout: float = 0.0, log_level: int | None = None) -> None:
    """The worker's loop: read pages until CLOSE (report and exit) or EOF (crawl process gone).

    It says it is ready (an acknowledgement of nothing) before the first page: a spawned worker
    takes a second or more to import what it reads with, which is not a hang. ``log_level``: a
    spawned worker has no logging set up (a forked one shares the crawl's), so it logs as Scrapy
    does, to the crawl's log, from that level.
    """
    for conn in inherited:  # the crawl process's ends: EOF must mean the crawl process is gone
        conn.close()
    if log_level is not None and not logging.getLogger().handlers:
        logging.basicConfig(format=LOG_FORMAT, level=log_level)
    signal.set_wakeup_fd(-1)  # the reactor's wake-up pipe belongs to the crawl process
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    keep_alarm_handler()  # SIGALRM is the worker's own, for the read time limit
    path = ItemPath(spec, db_path, read_timeout)
    store = path.store
    last = acked = 0

    def ack() -> None:
        nonlocal acked
        store.flush()
        acks.send_bytes(marshal.dumps((last, dict(path.counts))))
        path.counts.clear()
        acked = last

    try:
        acks.send_bytes(marshal.dumps((0, {})))  # ready
        while True:
            if not pages.poll(store.FLUSH_SECONDS):
                if last > acked or path.counts:
                    ack()
                continue
            data = read_frame(pages.fileno())
            if data == CLOSE:
                ack()
                break
            last = path.handle(data, current, started)
            if not store.pending and last > acked:  # the store just committed (or holds nothing)
                ack()
    except (EOFError, BrokenPipeError):  # crawl process killed: keep what was read
        pass
    finally:
        store.close()


PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged pipe (fs.pipe-max-size)


def _widen(conn) -> None:
    """Give the page pipe ~1 MB (~400 pages) instead of 64 KB: on shared cores the two processes
    are scheduled apart, and a 25-page buffer makes the crawl wait for the worker's next slice."""
    import fcntl

    try:
        fcntl.fcntl(conn.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except OSError:  # not Linux, or a lower ceiling: the default buffer works, only less smoothly
        pass


class _Worker:
    """One page worker, seen from the crawl process. ``ctx``: ``fork`` for the workers started
    with the crawl (before its threads), ``spawn`` for a fresh one started in a lost one's place
    (a new interpreter: nothing inherited, so ``inherited`` does not apply)."""

    def __init__(self, ctx, spec: dict, db_path: str, inherited: list, read_timeout: float = 0.0):
        forked = ctx.get_start_method() == "fork"
        pages_r, self.pages = ctx.Pipe(duplex=False)
        _widen(self.pages)
        self.acks, acks_w = ctx.Pipe(duplex=False)
        # The page the worker began last, and when it began reading it (0 once read): shared
        # memory, no lock (one writer; ``PageHandoff._stuck`` reads the time twice around the page).
        self.current = ctx.RawValue("q", 0)
        self.started = ctx.RawValue("d", 0.0)
        closing = [self.pages, self.acks, *inherited] if forked else []
        root = logging.getLogger()  # what the crawl's log shows: the root's level and its handlers'
        log_level = None if forked else max(root.getEffectiveLevel(), min((h.level for h in root.handlers), default=logging.WARNING))
        self.proc = ctx.Process(target=_worker_main, args=(pages_r, acks_w, spec, db_path, closing, self.current,
                                                           self.started, read_timeout, log_level),
                                daemon=True, name="page-worker")
        self.proc.start()
        pages_r.close()
        acks_w.close()
        # Set after the fork, on the crawl process's end only: a full pipe raises instead of blocking.
        os.set_blocking(self.pages.fileno(), False)
        self.unacked: dict[int, bytes] = {}
        self.acked = 0  # pages acknowledged so far (for the log)
        # A forked worker is ready at once; a spawned one once it says so (its first message).
        self.ready = forked
        # The watchdog's clock: the last acknowledgement, or the send that ended a time with
        # nothing waiting (a worker with nothing to do owes no acknowledgement).
        self.progress_at = time.monotonic()
        # Time the crawl process itself was stopped while the worker read its current page
        # (``read_began``): not held against the page.
        self.read_began = 0.0
        self.read_paused = 0.0

    def reading(self, now: float, pause: float = 0.0) -> tuple[float, int]:
        """(seconds the page being read has taken, not counting ``pause`` nor earlier pauses
        during it, its sequence number), or (0, 0) when the worker is not reading. The time is
        read before and after the number: a worker that moved on meanwhile is not reading."""
        began = self.started.value
        seq = self.current.value
        if not began or self.started.value != began:
            return 0.0, 0
        if began != self.read_began:
            self.read_began, self.read_paused = began, 0.0
        self.read_paused += pause
        return now - began - self.read_paused, seq


class PageHandoff:
    """The crawl process's side: send pages to ``workers`` processes, merge their counters into
    ``stats``, take their pages back if one dies or hangs. Fork it before the crawl starts its
    threads.

    ``stall_timeout``: seconds a worker may hold pages without acknowledging any before it is
    killed as hung (0: never; then only a dead worker, or the close deadline, ends it).
    ``read_timeout``: seconds one page's reading may take (0: no limit), in a worker and here.
    A worker stops a reading past it itself; one still reading the same page ``read_grace``
    seconds later cannot (stuck in C) and is killed, the page kept as failed.
    ``restarts``: fresh workers that may be started, in all, in place of lost ones (0: none;
    then every page after a loss is read in the crawl process).
    ``isolate``: the pages the crawl process takes over are read in a ``PageReader`` process it
    can kill (``crawler/reader.py``; ``EXTRACT_WORKERS=1``), not in the crawl process itself, so
    a C call that never returns cannot hang the crawl there either.
    """

    def __init__(self, spec: dict, db_path: str | Path, stats, workers: int = 1, stall_timeout: float = STALL_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT, restarts: int = RESTARTS, isolate: bool = True):
        if stall_timeout < 0:
            raise ValueError(f"PAGE_WORKER_STALL_TIMEOUT must be 0 (off) or a number of seconds, not {stall_timeout!r}")
        if not isinstance(restarts, int) or restarts < 0:
            raise ValueError(f"PAGE_WORKER_RESTARTS must be 0 (never) or a number of workers, not {restarts!r}")
        ctx = multiprocessing.get_context("fork")
        self.spec, self.db_path, self.stats = spec, str(db_path), stats
        self.stall_timeout = float(stall_timeout)
        self.read_timeout = checked_read_timeout(read_timeout)
        # The worker's own alarm fires at the limit, then once a second; a worker still on the
        # page this much later is not coming back.
        self.read_grace = max(1.0, self.read_timeout / 2)
        # How often the LoopingCall looks (``watch``), and the gap in the crawl process's own
        # checks taken as its being stopped too (Ctrl-Z stops the whole process group): time the
        # crawl process did not run says nothing about the worker.
        limits = [t for t in (self.stall_timeout, self.read_timeout) if t]
        self.check_interval = min(5.0, max(0.25, min(limits, default=0) / 4))
        self.pause_gap = max(3 * self.check_interval, 5.0)
        self.checked_at = time.monotonic()
        self.watching = None
        self.workers: list[_Worker] = []
        for _ in range(workers):
            inherited = [c for w in self.workers for c in (w.pages, w.acks)]
            self.workers.append(_Worker(ctx, spec, self.db_path, inherited, self.read_timeout))
        self.fallback: ItemPath | None = None
        self.isolate = isolate
        self.restarts = restarts
        self.restarted = 0
        self.seq = 0
        self.stored = 0
        self.invalid = 0
        self.closed = False

    # --- sending ----------------------------------------------------------------------------

    def send(self, response, fetched_at: str) -> None:
        self.seq += 1
        data = encode_page(self.seq, response, fetched_at)
        if not self.workers:
            self._handle_here(data)
            return
        worker = self.workers[self.seq % len(self.workers)]
        if not worker.unacked:
            worker.progress_at = time.monotonic()
        worker.unacked[self.seq] = data
        if self.seq % 16 == 0 or len(worker.unacked) > MAX_UNACKED:
            self._read_acks(worker, wait=len(worker.unacked) > MAX_UNACKED)
            if worker not in self.workers:
                return  # lost while waiting: its pages, this one included, were read here
        self._write(worker, frame(data))

    def _write(self, worker: _Worker, message: bytes) -> None:
        """Write one frame; on a full pipe wait for the worker to read (back-pressure), but not
        past the watchdog's limit. A lost worker has the frame's page among its unacked ones."""
        view = memoryview(message)
        while view:
            try:
                view = view[os.write(worker.pages.fileno(), view):]
            except BlockingIOError:
                if not self._wait(worker, writable=True):
                    return
            except OSError:  # BrokenPipeError: the worker is gone
                self._lost(worker)
                return

    def _wait(self, worker: _Worker, writable: bool) -> bool:
        """Wait (in half-second steps) for room in the page pipe (``writable``) or for an
        acknowledgement, reading those that come; False once the worker is lost or killed."""
        while True:
            ready, room, _ = select.select([worker.acks], [worker.pages] if writable else [], [], 0.5)
            acked = worker.acked
            if ready and not self._read_acks(worker):
                return False
            if room or (not writable and worker.acked > acked):
                return True
            if not worker.proc.is_alive():
                self._lost(worker)
                return False
            if self._hung(worker):
                return False

    def _read_acks(self, worker: _Worker, wait: bool = False) -> bool:
        """Merge the acknowledgements that have come (with ``wait``, until few enough pages wait);
        then ask the watchdog. False once the worker is lost or killed."""
        try:
            while worker.acks.poll(0):
                self._ack(worker, worker.acks.recv_bytes())
        except (EOFError, OSError):
            self._lost(worker)
            return False
        if wait:
            while len(worker.unacked) > MAX_UNACKED:
                if not self._wait(worker, writable=False):
                    return False
        return not self._hung(worker)

    def _ack(self, worker: _Worker, data: bytes) -> None:
        upto, counts = marshal.loads(data)
        done = [s for s in worker.unacked if s <= upto]
        for seq in done:
            del worker.unacked[seq]
        worker.acked += len(done)
        worker.progress_at = time.monotonic()
        worker.ready = True
        self._merge(counts)

    def _merge(self, counts: dict) -> None:
        for key, n in counts.items():
            self.stats.inc_value(key, n)
        self.stored += counts.get("listing/stored", 0)
        self.invalid += counts.get("listing/status/invalid", 0)

    # --- the watchdog -----------------------------------------------------------------------

    def watch(self, clock=None) -> None:
        """Check the workers on a Twisted ``LoopingCall`` too, so a hang is found while no page
        is being sent (the crawl walking index pages, or waiting on slow downloads). Runs on the
        reactor (or ``clock``, a ``task.Clock`` in tests); ``close`` stops it."""
        if not (self.stall_timeout or self.read_timeout) or self.watching is not None:
            return
        from twisted.internet import task

        self.watching = task.LoopingCall(self.check)
        if clock is not None:
            self.watching.clock = clock
        self.watching.start(self.check_interval, now=False).addErrback(
            lambda failure: log.error("page worker watchdog stopped: %s", failure.getTraceback()))

    def check(self) -> None:
        """Read what acknowledgements have come from every worker, and kill a hung one."""
        for worker in list(self.workers):
            self._read_acks(worker)

    def _hung(self, worker: _Worker, waiting: bool = False) -> bool:
        """Kill ``worker`` and take its pages over if it has held pages (or, ``waiting``, held up
        the close) for ``stall_timeout`` seconds without an acknowledgement, or if it has been
        reading one page for longer than ``read_timeout`` and ``read_grace`` (``_stuck``)."""
        if not (self.stall_timeout or self.read_timeout) or worker not in self.workers:
            return False
        now = time.monotonic()
        gap = now - self.checked_at
        self.checked_at = now
        if gap > self.pause_gap:  # the crawl process did not run either: stop the clocks for that time
            for each in self.workers:
                each.progress_at += gap
                each.reading(now, pause=gap)
        if self.read_timeout and self._stuck(worker, now):
            return True
        if not self.stall_timeout:
            return False
        silent = now - worker.progress_at
        limit = self.stall_timeout if worker.ready else max(self.stall_timeout, START_TIMEOUT)
        if (not worker.unacked and not waiting) or silent <= limit:
            return False
        on = worker.unacked.get(worker.current.value)
        log.warning("page worker %s hung: no acknowledgement for %.0f s (limit %.0f s, PAGE_WORKER_STALL_TIMEOUT) "
                    "with %d pages waiting (%d acknowledged before), last page begun: %s; killing it (SIGKILL), "
                    "the crawl process stores them", worker.proc.pid, silent, self.stall_timeout, len(worker.unacked),
                    worker.acked, decode_page(on)[1]["url"] if on else "one already stored")
        self.stats.inc_value("page/page_worker_hung")
        worker.proc.kill()
        self._lost(worker)
        return True

    def _stuck(self, worker: _Worker, now: float) -> bool:
        """Kill ``worker`` if the page it is reading has taken ``read_timeout`` + ``read_grace``
        seconds (its own alarm could not stop it); keep that page as failed, read the others here.

        A worker stopped by a signal (SIGSTOP, a debugger) is not reading: that is a stall, for
        the stall watchdog, and the page it was on is not to blame.
        """
        from crawler.base import READ_TIMEOUT_PROBLEM

        reading, seq = worker.reading(now)
        if reading <= self.read_timeout + self.read_grace or seq not in worker.unacked or stopped(worker.proc.pid):
            return False
        url = decode_page(worker.unacked[seq])[1]["url"]
        log.warning("page worker %s still reading %s after %.0f s (limit %g s, PAGE_READ_TIMEOUT): killing it (SIGKILL); "
                    "the page is kept as failed, the crawl process reads the %d other pages it held",
                    worker.proc.pid, url, reading, self.read_timeout, len(worker.unacked) - 1)
        worker.proc.kill()
        self._lost(worker, failed=(seq, READ_TIMEOUT_PROBLEM))
        return True

    # --- a lost worker ----------------------------------------------------------------------

    def _handle_here(self, data: bytes, failed: str | None = None) -> None:
        """Read a page in the crawl process (under the same ``read_timeout``), or, with
        ``failed`` (a problem), keep it as a failed page without reading it."""
        if self.fallback is None:
            reader = None
            if self.isolate:  # spawned on the first page: the crawl's threads exist by now
                from crawler.reader import PageReader

                reader = PageReader(self.read_timeout)
            self.fallback = ItemPath(self.spec, self.db_path, self.read_timeout, reader)
        if failed is None:
            self.fallback.handle(data)
        else:
            self.fallback.fail(data, "page/read_timeout", failed)
            self.fallback.counts["page/read_timeout_worker_killed"] += 1
        self._merge(self.fallback.counts)
        self.fallback.counts.clear()

    def _lost(self, worker: _Worker, failed: tuple[int, str] | None = None) -> None:
        """Read the pages the dead worker never committed here, and send it nothing more;
        ``failed`` (sequence number, problem): the page it was killed on, kept as failed unread.
        Then a fresh worker takes its place for the pages to come (``_restart``), while any are
        left to start; otherwise they are read here, as with ``PAGE_WORKERS=0``.
        """
        if worker not in self.workers:
            return
        place = self.workers.index(worker)
        self.workers.remove(worker)
        worker.proc.join(timeout=5)
        if worker.proc.is_alive():  # two readers of the same pages would count them twice
            worker.proc.kill()
            worker.proc.join(timeout=10)
        try:  # acknowledgements it sent before it went: those pages are stored and counted
            while worker.acks.poll(0):
                self._ack(worker, worker.acks.recv_bytes())
        except (EOFError, OSError):
            pass
        fresh = not self.closed and self.restarted < self.restarts
        log.error("page worker %s exited (code %s) with %d pages not stored: reading them in the crawl process; %s",
                  worker.proc.pid, worker.proc.exitcode, len(worker.unacked),
                  f"a fresh worker takes the pages to come (restart {self.restarted + 1} of {self.restarts}, "
                  "PAGE_WORKER_RESTARTS)" if fresh else "the crawl process reads the pages to come too")
        self.stats.inc_value("page/page_worker_lost")
        for conn in (worker.pages, worker.acks):
            conn.close()
        if fresh:  # started first: it gets ready while the pages the lost one held are read here
            self._restart(place)
        for seq in sorted(worker.unacked):
            self._handle_here(worker.unacked[seq], failed[1] if failed and seq == failed[0] else None)
        worker.unacked.clear()
        if self.fallback is not None:  # the rescued pages have waited long enough: commit them now
            self.fallback.store.flush()

    def _restart(self, place: int) -> None:
        """Start a fresh worker at ``place`` among the workers (the lost one's turn).

        Spawned, not forked: by now the crawl has started its threads (Twisted's thread pool),
        and a process forked from a threaded one can inherit a lock held by a thread that does not
        exist in it. A spawned worker is a new interpreter (``fork`` + ``exec``, safe from any
        thread) that imports what it needs; it shares no memory with the crawl process and takes
        a second or so to be ready, which it says (``START_TIMEOUT`` bounds that wait, pages
        meanwhile wait in its pipe). A worker that cannot be started leaves the pages to come to
        the crawl process, as when no restart is left.
        """
        self.restarted += 1
        try:
            fresh = _Worker(spawn_context(), self.spec, self.db_path, [], self.read_timeout)
        except Exception:
            log.exception("could not start a fresh page worker: the crawl process reads the pages to come")
            self.restarts = self.restarted  # no further try
            return
        self.workers.insert(place, fresh)
        self.stats.inc_value("page/page_worker_restarted")
        log.info("page worker %s started in place of a lost one (restart %d of %d)", fresh.proc.pid, self.restarted,
                 self.restarts)

    def _drain(self, worker: _Worker, deadline: float) -> bool:
        """Read a closing worker's acknowledgements until it exits; False if it left pages behind
        (then the caller takes them over); a hung worker is killed and taken over here."""
        if not worker.unacked:  # it owes no page, only its exit: the clock starts now
            worker.progress_at = time.monotonic()
        while True:
            try:
                if worker.acks.poll(0.5):
                    self._ack(worker, worker.acks.recv_bytes())
                    continue
            except (EOFError, OSError):  # its end closed: it exited, cleanly or not
                worker.proc.join(timeout=10)
                return not worker.unacked and worker.proc.exitcode == 0
            if not worker.proc.is_alive():
                return not worker.unacked and worker.proc.exitcode == 0
            if self._hung(worker, waiting=True):
                return False
            if time.monotonic() > deadline:
                log.error("page worker %s did not finish storing in %.0f s: killed", worker.proc.pid, CLOSE_TIMEOUT)
                worker.proc.kill()
                worker.proc.join(timeout=10)
                return False

    # --- close ------------------------------------------------------------------------------

    def close(self) -> None:
        """Every page sent is stored and counted when this returns (or the crawl fails loudly)."""
        if self.closed:
            return
        self.closed = True
        if self.watching is not None and self.watching.running:
            self.watching.stop()
        for worker in list(self.workers):
            self._write(worker, frame(CLOSE))
        deadline = time.monotonic() + CLOSE_TIMEOUT
        for worker in list(self.workers):
            if self._drain(worker, deadline):
                worker.proc.join(timeout=10)
                self.workers.remove(worker)
                for conn in (worker.pages, worker.acks):
                    conn.close()
            else:
                self._lost(worker)
        if self.fallback is not None:
            self.fallback.store.close()
            if self.fallback.reader is not None:
                self.fallback.reader.close()
            self.fallback = None
