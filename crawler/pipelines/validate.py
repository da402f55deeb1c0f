"""Validate: name every fault, count it in the crawl stats, keep the listing anyway.

Nothing is dropped here (alltheplaces' ``check_item_properties`` habit): each fault becomes a
``"field: reason"`` string in the row's ``problems`` and a ``listing/problem/<field>: <reason>``
stats counter, and the row's ``validation_status`` says how bad the worst one is:
``invalid`` (no usable firm: no name, or an error page), ``warning`` (usable, with faults),
``ok``. Out-of-state firms are a warning here: the listing is true, resolve leaves it out.
ZIP lookups (county, the state a ZIP lies in) are resolve's: it needs them anyway, and the crawl
process stays small and quick.
"""

from __future__ import annotations

import datetime as dt
import re

from crawler import normalise

INVALID_REASONS = {"name: missing", "name: too long", "http_status: not 2xx"}
_MARKUP = re.compile(r"<\s*/?\s*(script|iframe|img|svg|object|embed|style|a|div|body|html)\b|javascript:|on\w+\s*=", re.I)
_SQL = re.compile(r"(;\s*(drop|delete|insert|update|alter|truncate|select)\s)|(\bunion\s+select\b)|('\s*or\s*'?\d*'?\s*=\s*'?\d)|(--\s*$)", re.I)


def problems_of(item) -> list[str]:
    """The faults of one listing, as ``field: reason`` strings."""
    problems: list[str] = []
    name = item.get("name")
    if not name:
        problems.append("name: missing")
    elif len(name) > 200:
        problems.append("name: too long")
    status = item.get("http_status") or 200
    if not 200 <= int(status) < 300:
        problems.append("http_status: not 2xx")
    for field in ("name", "description", "street", "city"):
        value = item.get(field) or ""
        if _MARKUP.search(value):
            problems.append(f"{field}: contains markup")
        if _SQL.search(value):
            problems.append(f"{field}: looks like SQL")
    phone = item.get("phone")
    if phone and not normalise.phone_e164(phone):
        problems.append("phone: unparseable")
    email = item.get("email")
    if email and not normalise.email_address(email):
        problems.append("email: invalid")
    website = item.get("website")
    if website and not normalise.registered_domain(website):
        problems.append("website: no registered domain")
    if not (phone or website or email or item.get("street")):
        problems.append("contact: none")
    state = item.get("state")
    code = normalise.state_code(state)
    if state and not code:
        problems.append("state: unknown")
    postal = item.get("postal_code")
    if postal and not normalise.zip5(postal):
        problems.append("postal_code: malformed")
    if code and code != "CA":
        problems.append("state: outside California")
    if not state:
        # Where a ZIP alone says California, resolve (which looks ZIPs up) keeps the firm.
        problems.append("state: missing")
    year = item.get("year_founded")
    if year is not None and not 1800 <= int(year) <= dt.date.today().year:
        problems.append("year_founded: out of range")
    return problems


class ValidatePipeline:
    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def open_spider(self):
        # Load the reference data now, not on the first page (and before the GC freeze).
        normalise.phone_e164("(213) 555-0100")
        normalise.registered_domain("http://example.com")

    def process_item(self, item):
        validate_item(item, self.stats.inc_value)
        return item


def validate_item(item, count) -> None:
    """Add the listing's faults to its ``problems``, set ``validation_status``, count both.

    ``count(key)`` increments a counter: Scrapy's stats in the pipeline, the page worker's own
    counters when the whole detail-page path runs outside Scrapy (``crawler/handoff.py``).
    """
    problems = list(item.get("problems") or [])
    problems.extend(p for p in problems_of(item) if p not in problems)
    item["problems"] = problems
    if any(p in INVALID_REASONS for p in problems):
        item["validation_status"] = "invalid"
    elif problems:
        item["validation_status"] = "warning"
    else:
        item["validation_status"] = "ok"
    count(f"listing/status/{item['validation_status']}")
    for problem in problems:
        count(f"listing/problem/{problem}")
