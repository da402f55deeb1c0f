"""Store: every listing, valid or not, into ``listings``; the run's outcome into ``crawl_runs``.

The run row is opened when the spider opens and closed on ``spider_closed`` with Scrapy's finish
reason and stats, so a stopped crawl (SIGTERM, page limit) is recorded as ``stopped`` and its
counted problems survive even when nothing else does.
"""

from __future__ import annotations

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
        self.store = ListingStore(settings.get("WORK_DB"))
        spider = self.crawler.spider
        self.store.open_run(settings.get("RUN_ID"), spider.source_name, getattr(spider, "start_url_text", None))

    def process_item(self, item):
        self.store.add(item)
        return item

    def close_spider(self):
        self.store.flush()

    def spider_closed(self, spider, reason):
        stats = self.crawler.stats.get_stats()
        self.store.close_run(self.crawler.settings.get("RUN_ID"), reason, stats)
        self.store.close()
