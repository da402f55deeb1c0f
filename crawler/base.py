"""Shared spider base classes: a spider is configuration, the work happens here.

``ListingSpider`` reads a detail page into ``Listing`` items: structured data first
(``crawler.structured`` folds every syntax into JSON-LD, ``crawler.parse`` maps it), then the
source's selectors fill what is missing. It checks each page (truncated body, guessed encoding,
non-HTML) and each failed request (timeout, HTTP error, oversized, redirect loop, robots.txt)
and counts every problem in the crawl stats under ``page/...``; nothing stops the crawl.

``DirectorySpider`` adds the two ways directories are walked: index pages (pagination and
category links, CSS selectors from ``sources.yaml``) and sitemaps. ``GenericSpider`` (in
``crawler/spiders/generic.py``) walks any site by its links and sitemaps.

Two narrow hooks for thin spiders (alltheplaces' habit): ``pre_process_data(objects,
response)`` on the structured data before parsing, ``post_process_item(item, response)`` on
each built listing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
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

try:  # Scrapy 2.13+ names its own download errors; older ones raise Twisted's.
    from scrapy.exceptions import DownloadCancelledError, DownloadConnectionRefusedError, DownloadTimeoutError
except ImportError:  # pragma: no cover
    DownloadCancelledError = DownloadConnectionRefusedError = DownloadTimeoutError = ()

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
    if failure.check(ConnectError, ConnectionLost, DownloadConnectionRefusedError):
        return "connection_error"
    return "error_" + type(failure.value).__name__


class ListingSpider(scrapy.Spider):
    """Reads detail pages into listings; counts every page and request problem."""

    name = "listing"
    source_name: str = "listing"
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

    def request(self, url: str, callback, priority: int = 0, **kwargs) -> Request:
        return Request(url, callback=callback, errback=self.on_error, priority=priority, **kwargs)

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

    def page_problems(self, response: Response) -> list[str]:
        """Faults of the page itself: counted under ``page/<key>``, returned as row problems."""
        found: list[tuple[str, str]] = []
        if "dataloss" in response.flags:
            found.append(("truncated_body", "truncated body"))
        elif isinstance(response, TextResponse) and not _HTML_END.search(response.body[-4096:]):
            found.append(("no_closing_html_tag", "no closing html tag"))
        if isinstance(response, TextResponse) and not response.body.isascii():
            declared = b"charset" in response.headers.get(b"Content-Type", b"").lower() or _DECLARED_CHARSET.search(response.body[:2048])
            if not declared:
                found.append(("charset_guessed", f"charset guessed ({response.encoding})"))
        for key, _text in found:
            self.count(f"page/{key}")
        return [f"page: {text}" for _key, text in found]

    def pre_process_data(self, objects: list[dict], response: Response) -> list[dict]:
        return objects

    def post_process_item(self, item: Listing, response: Response) -> Listing | None:
        return item

    def parse_listing(self, response: Response):
        """A detail page -> one listing per organisation found (or one from selectors)."""
        self.count("page/detail")
        if not isinstance(response, TextResponse):
            self.count("page/not_html")
            return
        problems = self.page_problems(response)
        if any(p.startswith("page: charset guessed") for p in problems) and response.encoding != "cp1252":
            # No declared charset and not UTF-8: read it as windows-1252, the web's fallback
            # for undeclared Western pages (WHATWG), not as whatever a byte-guesser preferred.
            try:
                response.body.decode("utf-8")
            except UnicodeDecodeError:
                response = response.replace(encoding="cp1252")
                problems = [p if not p.startswith("page: charset guessed") else "page: charset guessed (cp1252)" for p in problems]
        try:
            tree = response.selector.root
        except Exception:
            tree = None
        objects, syntaxes, data_problems = structured.extract(tree, response.body, response.url)
        for problem in data_problems:
            self.count(f"page/{problem}")
            problems.append(f"structured: {problem}")
        objects = self.pre_process_data(objects, response)
        orgs = parse.find_orgs(objects)
        field_sets = [parse.fields_from_org(org, response.url) for org in orgs]
        raws = [org for org in orgs]
        if not field_sets and self.accepts_unstructured(response):
            field_sets, raws = [{}], [None]
        if not field_sets:
            self.count("page/no_listing")
            return
        for syntax in syntaxes:
            self.count(f"page/syntax/{syntax}")
        single = len(field_sets) == 1
        for index, (fields, raw) in enumerate(zip(field_sets, raws)):
            if single:
                self.fill(fields, response)
            item = self.build(response, index, fields, raw, problems)
            item = self.post_process_item(item, response)
            if item is not None:
                yield item

    def accepts_unstructured(self, response: Response) -> bool:
        """Configured sources read any detail page by selectors; generic mode needs structure."""
        return bool(self.selectors)

    def fill(self, fields: dict, response: Response) -> None:
        selectors = dict(self.selectors)
        address_query = selectors.pop("address", None)
        parse.fill_from_selectors(fields, response.selector, selectors)
        if address_query and not (fields.get("postal_code") and fields.get("street")):
            texts = parse._select(response.selector, address_query)
            for key, value in parse_address(texts[0] if texts else "").items():
                fields.setdefault(key, value)
        if self.generic_fallbacks:
            parse.generic_fill(fields, response.selector)

    def build(self, response: Response, index: int, fields: dict, raw: Any, problems: list[str]) -> Listing:
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        item = Listing(
            listing_id=listing_id(self.source_name, response.url, index),
            source=self.source_name,
            url=response.url,
            fetched_at=now,
            http_status=response.status,
            content_sha256=hashlib.sha256(response.body).hexdigest(),
            raw_structured=json.dumps(raw, ensure_ascii=False, default=str) if raw is not None else None,
            problems=list(problems),
            crawl_run_id=self.settings.get("RUN_ID"),
        )
        for field in parse.FIELDS:
            if field in fields:
                item[field] = fields[field]
        return item


class DirectorySpider(ListingSpider):
    """A directory walked by index pages (pagination, categories) and/or a sitemap.

    Configuration (``sources.yaml``): ``index_links`` (CSS/XPath for links to more index
    pages: next page, categories), ``detail_links`` (links to detail pages), ``sitemap``
    (true to start from ``/sitemap.xml`` too) and ``detail_pattern`` (regex a sitemap URL must
    match to be read as a detail page). Detail pages are fetched before further index pages
    (higher priority), so the queue stays short however long the directory is.
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
        self.page_problems(response)
        details = self._links(response, self.config.get("detail_links"))
        if not details:
            self.count("page/index_without_details")
        for url in details:
            yield self.request(url, self.parse_listing, priority=10)
        for url in self._links(response, self.config.get("index_links")):
            yield self.request(url, self.parse_index, priority=0)

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
                yield self.request(loc, self.parse_listing, priority=10)


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
    ``export-finder crawl``.
    """

    def __init__(self, *args, base_url: str | None = None, config: dict | None = None, **kwargs):
        config = config or load_sources()[self.name]
        kwargs.setdefault("start_urls", expand_start_urls(config, base_url))
        kwargs.setdefault("source_name", self.name)
        super().__init__(*args, config=config, **kwargs)
        hosts = {(urlsplit(u).hostname or "") for u in self.start_urls}
        self.allowed_domains = sorted(h for h in hosts if h)
