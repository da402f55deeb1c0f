"""Structured data of a page, folded into one shape: JSON-LD-style dicts.

Sites describe a firm in JSON-LD, microdata or RDFa; the parser (``crawler.parse``) should read
one shape only, so every syntax is rewritten here into plain JSON-LD objects: ``{"@type":
"Organization", "name": ..., "address": {"@type": "PostalAddress", ...}}`` with short schema.org
type and property names and nested objects inline (alltheplaces' habit).

Speed matters (the crawl's extraction must keep up with the downloader), so:
- the lxml tree Scrapy already parsed is reused, never re-parsed;
- microdata and RDFa are looked for only when the raw body carries their attributes;
- extruct's microdata extractor is used with a cheaper text clean-up (its ``lxml Cleaner`` copy
  of each property node cost a fifth of the crawl, STACK.md), and its one compiled namespaced
  XPath is recompiled every few hundred pages (it leaks ~250 B per reuse on lxml 5.4-6.1).

Broken JSON-LD is repaired where a common slip explains it (trailing commas, HTML comments,
raw control characters) and counted either way; a page never fails because of it.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

import lxml.etree
from extruct.w3cmicrodata import LxmlMicrodataExtractor

SCHEMA_PREFIXES = ("http://schema.org/", "https://schema.org/", "http://www.schema.org/", "https://www.schema.org/", "schema:")

_xp_jsonld = lxml.etree.XPath(
    "//script[contains(translate(@type, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), 'ld+json')]/text()"
)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_COMMENTS = re.compile(r"<!--|-->|^[ \t\r\f\v]*//[^\n]*$", re.M)
_WS = re.compile(r"\s+")


def short_name(value: str) -> str:
    """``https://schema.org/LocalBusiness`` -> ``LocalBusiness``."""
    for prefix in SCHEMA_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix):]
    return value


class _FastMicrodata(LxmlMicrodataExtractor):
    """extruct's microdata extractor with a cheap text content and a leak-free property XPath."""

    _text = lxml.etree.XPath("descendant-or-self::*[not(self::script or self::style)]/text()")
    RECOMPILE_EVERY = 200

    def __init__(self):
        super().__init__(nested=True, strict=False)
        self._uses = 0

    def extract_items(self, document, base_url):
        self._uses += 1
        if self._uses % self.RECOMPILE_EVERY == 0:
            # A fresh compiled XPath drops the state that grows with every document.
            self._xp_prop = lxml.etree.XPath(
                "set:difference(.//*[@itemprop], .//*[@itemscope]//*[@itemprop])",
                namespaces={"set": "http://exslt.org/sets"},
            )
        return super().extract_items(document, base_url)

    def _extract_textContent(self, node):
        return _WS.sub(" ", " ".join(self._text(node))).strip()


_MICRODATA = _FastMicrodata()


def _load_jsonld(text: str) -> tuple[Any, str | None]:
    """Parse one JSON-LD block; return (data, problem) where problem names what was wrong."""
    text = text.strip()
    if not text:
        return None, "jsonld_empty"
    try:
        return json.loads(text, strict=False), None
    except ValueError:
        pass
    repaired = _TRAILING_COMMA.sub(r"\1", _COMMENTS.sub("", text)).strip().rstrip(";")
    try:
        return json.loads(repaired, strict=False), "jsonld_repaired"
    except ValueError:
        return None, "jsonld_broken"


def _flatten_jsonld(data: Any) -> Iterable[dict]:
    """Top-level objects of a JSON-LD block: lists and ``@graph`` unwrapped."""
    if isinstance(data, list):
        for item in data:
            yield from _flatten_jsonld(item)
    elif isinstance(data, dict):
        if "@graph" in data and isinstance(data["@graph"], list):
            yield from _flatten_jsonld(data["@graph"])
        else:
            yield data


def _normalise_jsonld(value: Any) -> Any:
    """Short type and property names everywhere, so all syntaxes compare equal."""
    if isinstance(value, list):
        return [_normalise_jsonld(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, val in value.items():
        if key == "@type":
            if isinstance(val, list):
                out[key] = [short_name(str(t)) for t in val]
            else:
                out[key] = short_name(str(val))
        elif key == "@context":
            continue
        else:
            out[short_name(key)] = _normalise_jsonld(val)
    return out


def _fold_microdata(item: Any) -> Any:
    """extruct's ``{"type", "properties"}`` item -> a JSON-LD object."""
    if not isinstance(item, dict) or ("properties" not in item and "type" not in item):
        return item
    types = item.get("type")
    out: dict[str, Any] = {}
    if types:
        out["@type"] = [short_name(t) for t in types] if isinstance(types, list) else short_name(types)
    if item.get("id"):
        out["@id"] = item["id"]
    for key, val in (item.get("properties") or {}).items():
        if isinstance(val, list):
            out[short_name(key)] = [_fold_microdata(v) for v in val]
        else:
            out[short_name(key)] = _fold_microdata(val)
    if "value" in item and not out.get("name"):
        out.setdefault("name", item["value"])
    return out


def _fold_rdfa(nodes: list[dict]) -> list[dict]:
    """Expanded RDFa JSON-LD (``{"@id", "@type": [...], "http://schema.org/name": [{"@value"}]}``)
    -> nested short JSON-LD objects, blank-node references inlined."""
    by_id = {n.get("@id"): n for n in nodes if isinstance(n, dict)}
    referenced: set[str] = set()

    def value_of(v, depth=0):
        if isinstance(v, dict):
            if "@value" in v:
                return v["@value"]
            ref = v.get("@id")
            if ref in by_id and depth < 5:
                referenced.add(ref)
                return convert(by_id[ref], depth + 1)
            return ref
        return v

    def convert(node, depth=0):
        out: dict[str, Any] = {}
        types = node.get("@type") or []
        if types:
            short = [short_name(t) for t in types]
            out["@type"] = short[0] if len(short) == 1 else short
        for key, vals in node.items():
            if key.startswith("@"):
                continue
            if not any(key.startswith(p) for p in SCHEMA_PREFIXES):
                continue
            vals = vals if isinstance(vals, list) else [vals]
            converted = [value_of(v, depth) for v in vals]
            out[short_name(key)] = converted[0] if len(converted) == 1 else converted
        return out

    converted = [(n.get("@id"), convert(n)) for n in nodes if isinstance(n, dict) and n.get("@type")]
    return [obj for node_id, obj in converted if node_id not in referenced and len(obj) > 1]


def extract(tree, body: bytes, base_url: str) -> tuple[list[dict], list[str], list[str]]:
    """Every schema.org object on a page, as JSON-LD, plus the syntaxes seen and problems.

    ``tree`` is the lxml root Scrapy built (``response.selector.root``); ``body`` the raw bytes,
    only used to skip extractors whose attributes do not occur on the page.
    """
    objects: list[dict] = []
    syntaxes: list[str] = []
    problems: list[str] = []
    if tree is None:
        return objects, syntaxes, problems
    if b"ld+json" in body or b"LD+JSON" in body:
        for text in _xp_jsonld(tree):
            data, problem = _load_jsonld(text)
            if problem:
                problems.append(problem)
            if data is None:
                continue
            found = [_normalise_jsonld(obj) for obj in _flatten_jsonld(data)]
            if found:
                syntaxes.append("json-ld")
            objects.extend(found)
    if b"itemscope" in body:
        try:
            items = _MICRODATA.extract_items(tree, base_url)
        except Exception:  # extruct on a malformed tree: count, keep the page
            problems.append("microdata_error")
            items = []
        folded = [_fold_microdata(i) for i in items if i]
        if folded:
            syntaxes.append("microdata")
        objects.extend(folded)
    if b"typeof=" in body or b"vocab=" in body:
        try:
            from extruct.rdfa import RDFaExtractor

            # pyRdfa needs extruct's own DOM, so RDFa pages (rare) are parsed a second time.
            nodes = RDFaExtractor().extract(body, base_url=base_url)
        except Exception:
            problems.append("rdfa_error")
            nodes = []
        folded = _fold_rdfa(nodes)
        if folded:
            syntaxes.append("rdfa")
        objects.extend(folded)
    return objects, syntaxes, problems
