"""Store: every listing, valid or not, into ``listings``; the run's outcome into ``crawl_runs``.

The run row is opened when the spider opens and closed on ``spider_closed`` with Scrapy's finish
reason and stats, so a stopped crawl (SIGTERM, page limit) is recorded as ``stopped`` and its
counted problems survive even when nothing else does.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from scrapy import signals

from crawler.store import ListingStore


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.store: ListingStore | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        settings = self.crawler.settings
        spider = self.crawler.spider
        # `export-finder crawl` sets both; a bare `scrapy crawl` gets var/work.db and a fresh id.
        self.run_id = settings.get("RUN_ID") or f"{spider.source_name}-{uuid.uuid4().hex[:12]}"
        path = Path(settings.get("WORK_DB") or "var/work.db")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.store = ListingStore(path)
        self.store.open_run(self.run_id, spider.source_name, getattr(spider, "start_url_text", None))

    def process_item(self, item):
        self.store.add(item)
        self.crawler.stats.inc_value("listing/stored")
        return item

    def close_spider(self):
        self.store.flush()
        # Listings stored by page workers (crawler/handoff.py): all of them are in, and counted
        # in the stats, before the run row is written.
        handoff = getattr(self.crawler.spider, "page_handoff", None)
        if handoff is not None:
            handoff.close()
            self.store.stored += handoff.stored
            self.store.invalid += handoff.invalid

    def spider_closed(self, spider, reason):
        stats = self.crawler.stats.get_stats()
        self.store.close_run(self.run_id, reason, stats)
        self.store.close()
