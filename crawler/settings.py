"""Scrapy settings: polite by default, every limit explicit.

Why each value: we read other people's sites, so the crawl identifies itself (user agent with a
contact URL), obeys robots.txt, spaces its requests (AutoThrottle over a per-domain cap), gives
up on pages that are too big, too slow or too deep, and can stop and resume (JOBDIR, set per run
by ``crawler.run``). ``FAST_OVERRIDES`` lifts the politeness limits; it is meant only for loopback
benchmarks and tests against servers we run ourselves.

Scrapy 2.19 traps (see STACK.md): spiders define ``async def start()`` (``start_requests()``
alone is silently ignored); ``REMOTE_CONTROL_ENABLED`` must be off or Scrapy opens a port and
writes under ``~``; ``ROBOTSTXT_OBEY`` defaults to False outside a startproject template.
"""

BOT_NAME = "ca-export-finder"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = "ca-export-finder/0.1 (+https://github.com/ca-export-finder/ca-export-finder; trade-directory research crawler)"
ROBOTSTXT_OBEY = True
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False

# Politeness: at most 2 requests in flight per site, at least half a second apart, slowed
# further by AutoThrottle when the site answers slowly.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
RANDOMIZE_DOWNLOAD_DELAY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Failures: retry server errors and 429 (Retry-After honoured by the delay), a few times only.
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# ... and a 429/503 with Retry-After waits as asked, up to two minutes (crawler/middlewares.py).
RETRY_AFTER_MAX = 120
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfterMiddleware": 550,
}
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 4 * 1024 * 1024  # a directory page over 4 MB is not a directory page
DOWNLOAD_WARNSIZE = 1024 * 1024
# A truncated body (connection closed early) is still parsed: a half page may hold a good
# listing; the response carries the "dataloss" flag and the spider counts it.
DOWNLOAD_FAIL_ON_DATALOSS = False
REDIRECT_MAX_TIMES = 5

# Limits: pagination on configured sources needs depth, generic mode sets its own lower limit.
DEPTH_LIMIT = 0
DEPTH_PRIORITY = 0
CLOSESPIDER_PAGECOUNT = 0  # set from --max-pages
CLOSESPIDER_ERRORCOUNT = 0

# One item per detail page: Scrapy's default of 100 parallel item tasks per response costs a
# quarter of the throughput for nothing (profiled, STACK.md).
CONCURRENT_ITEMS = 16

# Detail pages no page worker takes (generic mode, PAGE_WORKERS=0, a spider with its own
# post_process_item, the pages the crawl process takes over from a lost page worker) are read in
# a reader process the crawl process can kill (crawler/reader.py): PAGE_READ_TIMEOUT's alarm
# cannot stop a C call that never returns (a parser stuck in libxml2), killing the reader can.
# One page at a time: the crawl process waits for it as it would while reading it itself.
# 0 = read in the crawl process (alarm only: such a page would hang the crawl; warned at open).
# Only 0 and 1 are accepted.
EXTRACT_WORKERS = 1

# The whole detail-page path (read, clean, validate, store) in a worker process
# (crawler/handoff.py): the crawl process downloads and hands pages over, the worker does the
# rest on the other core. Crawl-process CPU per page fell from ~1.8 to ~1.05 ms (the do-nothing
# spider: ~0.95-1.0), see docs/crawler.md. 0 = no page worker (pages then go to the reader,
# EXTRACT_WORKERS). Generic mode never hands pages over (its link decisions need each page's
# result): it reads through the reader.
PAGE_WORKERS = 1
# A page worker holding pages without acknowledging any for this many seconds is taken as hung
# (a runaway regex, a deadlock, SIGSTOP): killed, counted (page/page_worker_hung), its pages
# read in the crawl process. A healthy worker acknowledges at least every second or so (each
# commit), so 60 s leaves room for a slow page or a busy disk. 0 = no watchdog.
PAGE_WORKER_STALL_TIMEOUT = 60
# A page worker lost (killed by the stall watchdog or the read limit, or dead) is replaced by a
# fresh one (spawned: a new interpreter, ~1 s to start) for the pages still to come, this many
# times a crawl at most (page/page_worker_restarted); the pages the lost one held are read by the
# crawl process either way. Past it, the crawl process reads every later page itself (at about
# half the speed). Bounded so that a fault that kills every worker (a full disk) does not spawn
# one per page. 0 = never.
PAGE_WORKER_RESTARTS = 3
# One detail page's reading (structured data, selectors) may take this many seconds; past it the
# page is abandoned, counted (page/read_timeout) and kept as a failed row in listings (no fields,
# problem "page: read timeout", validation_status invalid, so resolve leaves it out; it never
# replaces a listing an earlier run read from the page), and the crawl reads on. Pages read in
# milliseconds here (a crawl reads hundreds a second), so 20 s is only ever a runaway regex or
# parser, never a big page. Bounded alike in a page worker and in a reader (each killed if the
# page holds it in a C call past the limit plus a grace, the page kept as failed) and, with
# EXTRACT_WORKERS=0, in the crawl process (SIGALRM: stops Python code and regexes, not a C call
# that never returns). 0 = no limit. crawler/base.py read_deadline, docs/crawler.md.
PAGE_READ_TIMEOUT = 20
# The function that reads a detail page, "module:function" with read_response's arguments and
# result; empty = crawler.base.read_response. For tests and experiments (the read timeout's
# tests run a reader that spins on chosen pages: tests/sites/slow_reader.py).
PAGE_READER = ""

ITEM_PIPELINES = {
    "crawler.pipelines.clean.CleanPipeline": 100,
    "crawler.pipelines.validate.ValidatePipeline": 200,
    "crawler.pipelines.store.StorePipeline": 900,
}

# Development cache: off by default, `HTTPCACHE_ENABLED=1` in the environment or settings to
# replay pages while working on selectors without touching the site again.
HTTPCACHE_ENABLED = False
HTTPCACHE_DIR = "httpcache"
HTTPCACHE_EXPIRATION_SECS = 24 * 3600
HTTPCACHE_IGNORE_HTTP_CODES = [500, 502, 503, 504, 429]

# Disk queues when JOBDIR is set (crawler.run always sets it): memory stays flat on big sites.
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

# Lifted politeness, for loopback benchmarks and tests only.
FAST_OVERRIDES = {
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
    "DOWNLOAD_DELAY": 0,
    "RANDOMIZE_DOWNLOAD_DELAY": False,
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_TIMEOUT": 15,
    "LOG_LEVEL": "WARNING",
}
