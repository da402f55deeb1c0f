"""Generic mode: any directory site, from its start URL alone.

Follows same-site links and the sitemaps robots.txt names (or ``/sitemap.xml``), reads every
schema.org organisation on every page (``Organization``, ``LocalBusiness``, ``Corporation`` and
their kin, in JSON-LD, microdata or RDFa) and writes a listing per organisation. Pages without
structured data give no listing (there are no selectors for a site never seen).

Traps: link patterns (the URL path with numbers masked, plus query keys) whose pages keep
yielding nothing are capped (``GENERIC_TRAP_LIMIT`` pages each), which ends calendar-style
infinite links; ``GENERIC_DEPTH_LIMIT`` bounds the rest. Both are counted under ``trap/``.
The site's own organisation, repeated on every page, is kept once (``page/org_repeated``), also
across a stop and ``--resume`` (both memories live in ``spider.state``, which JOBDIR keeps).
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor

from crawler.base import CrawlRequest, DirectorySpider
from crawler.normalise import name_key, zip5

_DIGITS = re.compile(r"\d+")


def url_pattern(url: str) -> str:
    """``/calendar/2026/11?day=3`` -> ``/calendar/N/N?day``: pages of one trap share it."""
    parts = urlsplit(url)
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return _DIGITS.sub("N", parts.path) + ("?" + "&".join(keys) if keys else "")


class GenericSpider(DirectorySpider):
    name = "generic"
    generic_fallbacks = True
    # Which links to follow depends on what each page held (traps), and repeated organisations
    # are dropped here: the page's listings must come back to this process.
    pages_to_workers = False

    def __init__(self, *args, start_url: str | None = None, **kwargs):
        if start_url:
            kwargs.setdefault("start_urls", [start_url])
        if not kwargs.get("source_name"):
            host = urlsplit((kwargs.get("start_urls") or [""])[0]).hostname or "generic"
            kwargs["source_name"] = host
        super().__init__(*args, **kwargs)
        hosts = {(urlsplit(u).hostname or "") for u in self.start_urls}
        self.allowed_domains = sorted(h for h in hosts if h)
        # LinkExtractor's allow_domains compares host:port, so same-site is checked here instead.
        self.links = LinkExtractor(unique=True)

    # What generic mode remembers between pages must survive a stop and ``--resume``: Scrapy's
    # SpiderState extension pickles ``spider.state`` into JOBDIR on a clean close and loads it
    # back at open, so both live there (a plain dict when there is no JOBDIR). Kept in memory
    # only, a resumed crawl stored the site's own organisation again from the first page that
    # repeats it and restarted every trap count.

    def _kept(self) -> dict:
        if getattr(self, "state", None) is None:
            self.state = {}
        return self.state

    @property
    def orgs_seen(self) -> set[tuple[str, str]]:
        """Organisations already stored, by (name key, ZIP or phone digits)."""
        return self._kept().setdefault("orgs_seen", set())

    @property
    def empty_pages(self) -> Counter[str]:
        """Pages that gave no listing, by URL pattern (the trap cap counts these)."""
        return self._kept().setdefault("empty_pages", Counter())

    def start_callback(self):
        return self.parse_page

    async def start(self):
        for url in self.start_urls:
            yield self.request(url, self.parse_page, dont_filter=True)
            origin = "/".join(url.split("/", 3)[:3])
            yield self.request(origin + "/robots.txt", self.parse_sitemap, errback=None)
            yield self.request(origin + "/sitemap.xml", self.parse_sitemap, errback=None)

    def request(self, url, callback, priority=0, errback=..., **kwargs):
        errback = self.on_error if errback is ... else self.on_optional_error
        return CrawlRequest(url, callback=callback, errback=errback, priority=priority, **kwargs)

    def on_optional_error(self, failure):
        """A site without robots.txt or sitemap is normal: noted, not a problem."""
        self.count("page/optional_missing")

    def accepts_unstructured(self):
        return False

    def parse_sitemap(self, response):
        self.count("page/sitemap")
        for request in self._sitemap_requests(response, None):
            if request.callback == self.parse_listing:
                request = request.replace(callback=self.parse_page)
            yield request

    def post_process_item(self, item, response):
        key = (name_key(item.get("name")), zip5(item.get("postal_code")) or re.sub(r"\D", "", item.get("phone") or ""))
        if key in self.orgs_seen:
            self.count("page/org_repeated")
            return None
        self.orgs_seen.add(key)
        return item

    async def parse_page(self, response):
        found = 0
        listings = self.parse_listing(response)  # counts the page; () when it is not HTML
        if not isinstance(response, TextResponse):
            return
        async for item in listings:
            found += 1
            yield item
        if not found:
            self.empty_pages[url_pattern(response.url)] += 1
        depth = response.meta.get("depth", 0)
        limit = self.settings.getint("GENERIC_DEPTH_LIMIT", 25)
        if limit and depth + 1 > limit:
            self.count("trap/depth_limit")
            return
        cap = self.settings.getint("GENERIC_TRAP_LIMIT", 100)
        for link in self.links.extract_links(response):
            if urlsplit(link.url).hostname not in self.allowed_domains:
                continue
            if cap and self.empty_pages[url_pattern(link.url)] >= cap:
                self.count("trap/pattern_capped")
                continue
            yield self.request(link.url, self.parse_page)
