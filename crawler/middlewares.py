"""Downloader middleware: retries that wait as long as the site asked (``Retry-After``).

Scrapy's ``RetryMiddleware`` retries a 429 or 503 at once (plus the download delay, which is
zero on loopback and short elsewhere); a site that says ``Retry-After: 30`` is asking for more.
This subclass waits that long (seconds or an HTTP date, capped by ``RETRY_AFTER_MAX``) before
handing the retry back, and counts each wait (``retry/retry_after_waits``).
"""

from __future__ import annotations

import asyncio
import email.utils
import time

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """``Retry-After`` as seconds from now (delta-seconds or HTTP-date); None if unusable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


class RetryAfterMiddleware(RetryMiddleware):
    def __init__(self, settings):
        super().__init__(settings)
        self.max_wait = settings.getfloat("RETRY_AFTER_MAX", 120.0)

    async def process_response(self, request, response, spider=None):
        result = RetryMiddleware.process_response(self, request, response)
        if isinstance(result, Request) and response.status in (429, 503):
            wait = retry_after_seconds(response.headers.get(b"Retry-After"))
            if wait:
                self.crawler.stats.inc_value("retry/retry_after_waits")
                await asyncio.sleep(min(wait, self.max_wait))
        return result
