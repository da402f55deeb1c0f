"""A page reader that runs long on chosen pages, for the read-timeout tests.

Named by the ``PAGE_READER`` setting (``"tests.sites.slow_reader:read_response"``); reads every
other page exactly as ``crawler.base.read_response`` does. A page is slow when its URL path
contains a marker segment, or ends with one of the paths listed in an environment variable (for
crawls of sites whose URLs the test does not write; a crawl's child processes inherit it):

- ``/spin/`` or ``SLOW_READER_SPIN``: Python code that never finishes, as a runaway regular
  expression looks to the interpreter; ``PAGE_READ_TIMEOUT``'s alarm stops it.
- ``/stuck/`` or ``SLOW_READER_STUCK``: SIGALRM blocked, then a sleep: a C call that never
  returns to the interpreter (a parser stuck in libxml2), which no alarm stops; only killing the
  process that reads it does.

Both give up after ``CAP`` seconds, so a limit that fails makes a test fail, slowly, not hang.

- ``/raise/`` or ``SLOW_READER_RAISE``: the reading raises ``ValueError`` at once, with a message
  as hostile as a parser quoting the page could make it (``HOSTILE``: markup, SQL, a line break
  that would forge a log line, NUL, a bidi override, an unpaired surrogate) and longer than any
  problem text should be, for the read-error tests.
"""

from __future__ import annotations

import os
import signal
import time
from urllib.parse import urlsplit

from crawler.base import read_response as _read_response

CAP = 60.0
HOSTILE = "<script>alert(1)</script> '; DROP TABLE listings; --\nWARNING forged log line\x00\u202e\ud800 "


class PageReaderBroke(ValueError):
    """What a ``raise`` page raises (its own type, so a test can tell it from a real fault)."""


def _marked(path: str, marker: str) -> bool:
    listed = [p for p in os.environ.get(f"SLOW_READER_{marker.upper()}", "").split(",") if p]
    return f"/{marker}/" in path or any(path.endswith(p) for p in listed)


def read_response(response, spec: dict, fetched_at: str | None = None) -> dict:
    path = urlsplit(response.url).path
    if _marked(path, "spin"):
        deadline = time.monotonic() + CAP
        while time.monotonic() < deadline:
            sum(range(1000))
    elif _marked(path, "raise"):
        raise PageReaderBroke(f"cannot read {path}: {HOSTILE}" + "x" * 1000)
    elif _marked(path, "stuck"):
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        try:
            time.sleep(CAP)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    return _read_response(response, spec, fetched_at)
