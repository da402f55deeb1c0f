"""One parser: schema.org objects (already folded to JSON-LD) -> listing fields; then selectors.

Every syntax reaches this module in the same shape (``crawler.structured``), so the mapping from
schema.org onto our fields lives in one place. Where a page has no structured data, or leaves a
field out, the source's CSS selectors (``sources.yaml``) fill what is missing, and generic
fallbacks (``tel:``/``mailto:`` links, ``<h1>``, meta description) fill what a site never
marked up at all.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Iterable
from urllib.parse import urlsplit

import lxml.etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

ORG_TYPES = {
    "Organization", "Corporation", "LocalBusiness", "OnlineBusiness", "OnlineStore", "Store",
    "ProfessionalService", "HomeAndConstructionBusiness", "AutomotiveBusiness", "FoodEstablishment",
    "MedicalBusiness", "MedicalOrganization", "NGO", "Manufacturer", "WholesaleStore",
    "EmploymentAgency", "FinancialService", "LegalService", "Brewery", "Winery", "Distillery",
}
ORG_SUFFIXES = ("Business", "Organization", "Store", "Service", "Corporation")

FIELDS = (
    "name", "website", "street", "city", "state", "postal_code", "phone", "email", "description",
    "products", "categories", "certifications", "employees", "year_founded",
)
LIST_FIELDS = ("products", "categories")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_WS = re.compile(r"\s+")


def _types(obj: dict) -> list[str]:
    t = obj.get("@type") or []
    return [str(x) for x in (t if isinstance(t, list) else [t])]


def is_org(obj: Any) -> bool:
    return isinstance(obj, dict) and any(t in ORG_TYPES or t.endswith(ORG_SUFFIXES) for t in _types(obj))


def find_orgs(objects: Iterable[Any], depth: int = 0) -> list[dict]:
    """Organisations among the objects, also those nested in a page, list or ``mainEntity``.

    An organisation nested inside another organisation (a parent company, a ``memberOf``) is
    not a listing of its own, so the search stops at the first organisation on each branch.
    """
    found: list[dict] = []
    if depth > 6:
        return found
    for obj in objects:
        if isinstance(obj, list):
            found.extend(find_orgs(obj, depth + 1))
        elif is_org(obj):
            found.append(obj)
        elif isinstance(obj, dict):
            for key in ("mainEntity", "about", "itemListElement", "item", "hasPart", "member", "members", "provider", "seller", "brand", "manufacturer"):
                if key in obj:
                    val = obj[key]
                    found.extend(find_orgs(val if isinstance(val, list) else [val], depth + 1))
    return found


def _text(value: Any) -> str | None:
    """A scalar as clean text; first element of a list; ``name`` of an object."""
    if value is None:
        return None
    if isinstance(value, list):
        for v in value:
            t = _text(v)
            if t:
                return t
        return None
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("@value") or value.get("value"))
    text = _WS.sub(" ", str(value)).strip()
    return text or None


def _names(value: Any) -> list[str]:
    """Names of products/offers/list items, however deeply a site wrapped them."""
    out: list[str] = []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict):
            for key in ("itemOffered", "item", "itemListElement"):
                if key in item:
                    out.extend(_names(item[key]))
                    break
            else:
                name = _text(item.get("name"))
                if name:
                    out.append(name)
        else:
            text = _text(item)
            if text:
                out.append(text)
    return out


def _host(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "").lower().removeprefix("www.")
    except ValueError:
        return ""


def _website(obj: dict, page_url: str) -> str | None:
    """The firm's own site: a ``url``/``sameAs`` on another host than the directory's page."""
    page_host = _host(page_url)
    candidates = []
    for key in ("url", "sameAs", "mainEntityOfPage"):
        val = obj.get(key)
        candidates.extend(val if isinstance(val, list) else [val])
    for cand in candidates:
        text = _text(cand)
        if not text:
            continue
        host = _host(text if "//" in text else "http://" + text)
        if host and host != page_host and not host.endswith(("facebook.com", "linkedin.com", "twitter.com", "x.com", "instagram.com", "youtube.com")):
            return text
    return None


def _address(value: Any) -> dict:
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, dict):
        return {
            "street": _text(value.get("streetAddress")),
            "city": _text(value.get("addressLocality")),
            "state": _text(value.get("addressRegion")),
            "postal_code": _text(value.get("postalCode")),
        }
    if isinstance(value, str) and value.strip():
        from crawler.normalise import parse_address

        return parse_address(value)
    return {}


def _employees(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        if value.get("value") not in (None, ""):
            return _text(value.get("value"))
        lo, hi = _text(value.get("minValue")), _text(value.get("maxValue"))
        if lo and hi:
            return f"{lo}-{hi}"
        return lo and f"{lo}+" or hi
    return _text(value)


def _year(value: Any) -> int | None:
    text = _text(value)
    match = _YEAR.search(text or "")
    return int(match.group(1)) if match else None


def _split_keywords(value: Any) -> list[str]:
    if isinstance(value, list):
        return [t for v in value for t in _split_keywords(v)]
    text = _text(value)
    return [part.strip() for part in re.split(r"[,;|]", text)] if text else []


def fields_from_org(obj: dict, page_url: str) -> dict:
    """Map one schema.org organisation onto the listing fields (missing ones absent)."""
    fields: dict[str, Any] = {
        "name": _text(obj.get("name")) or _text(obj.get("legalName")) or _text(obj.get("alternateName")),
        "website": _website(obj, page_url),
        "phone": _text(obj.get("telephone")),
        "email": (_text(obj.get("email")) or "").removeprefix("mailto:") or None,
        "description": _text(obj.get("description")) or _text(obj.get("disambiguatingDescription")),
        "employees": _employees(obj.get("numberOfEmployees")),
        "year_founded": _year(obj.get("foundingDate")),
    }
    address = obj.get("address")
    if not address and isinstance(obj.get("location"), dict):
        address = obj["location"].get("address")
    fields.update(_address(address))
    products = []
    for key in ("makesOffer", "hasOfferCatalog", "owns", "offers", "product", "products"):
        if key in obj:
            products.extend(_names(obj[key]))
    fields["products"] = products
    categories = []
    for key in ("industry", "knowsAbout", "keywords", "naics", "category"):
        if key in obj:
            categories.extend(_split_keywords(obj[key]))
    fields["categories"] = [c for c in categories if c]
    certs = []
    for key in ("hasCertification", "hasCredential", "award", "certification"):
        if key in obj:
            certs.extend(_names(obj[key]))
    fields["certifications"] = "; ".join(certs) or None
    return {k: v for k, v in fields.items() if v not in (None, "", [])}


# --- selectors ------------------------------------------------------------------------------

_TEXT = lxml.etree.XPath(".//text()[not(ancestor::script or ancestor::style)]")


_TRANSLATOR = HTMLTranslator()


@functools.lru_cache(maxsize=512)
def _compiled(query: str) -> lxml.etree.XPath:
    """A selector compiled once: CSS (with parsel's ``::attr()``/``::text``) or ``xpath:...``.

    Applied straight to the lxml tree: wrapping every match in a parsel ``Selector`` cost a
    quarter of reading a page."""
    xpath = query[6:] if query.startswith("xpath:") else _TRANSLATOR.css_to_xpath(query)
    return lxml.etree.XPath(xpath)


def _select(sel: Selector, query: str) -> list[str]:
    """CSS by default; ``xpath:`` prefix for XPath. Text of each match, whitespace collapsed."""
    out = []
    for node in _compiled(query)(sel.root):
        text = node if isinstance(node, str) else " ".join(_TEXT(node))
        text = _WS.sub(" ", text).strip()
        if text:
            out.append(text)
    return out


def fill_from_selectors(fields: dict, sel: Selector, selectors: dict[str, str]) -> list[str]:
    """Fill missing fields from a source's selectors; return the names of the fields filled."""
    filled = []
    for field, query in (selectors or {}).items():
        if fields.get(field) not in (None, "", []):
            continue
        values = _select(sel, query)
        if not values:
            continue
        if field in LIST_FIELDS:
            fields[field] = values
        elif field == "year_founded":
            year = _year(values[0])
            if year is None:
                continue
            fields[field] = year
        elif field == "description":
            fields[field] = "\n\n".join(values)
        elif field == "certifications":
            fields[field] = "; ".join(values)
        elif field == "email":
            fields[field] = values[0].removeprefix("mailto:")
        else:
            fields[field] = values[0]
        filled.append(field)
    return filled


GENERIC_SELECTORS = {
    "phone": "xpath://a[starts-with(@href, 'tel:')]/@href",
    "email": "xpath://a[starts-with(@href, 'mailto:')]/@href",
}


def generic_fill(fields: dict, sel: Selector) -> list[str]:
    """Fallbacks that hold on most sites: tel:/mailto: links, ``<h1>``, meta description."""
    filled = fill_from_selectors(fields, sel, GENERIC_SELECTORS)
    if fields.get("phone", "").startswith("tel:"):
        fields["phone"] = fields["phone"][4:]
    if "email" in fields:
        fields["email"] = fields["email"].split("?")[0]
    return filled
