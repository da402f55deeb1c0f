"""Hostile scraped strings, end to end: crawl -> resolve -> publish -> Datasette -> real chromium.

A loopback directory site lists firms whose names, descriptions, products and websites carry
HTML/JS, SQL, template syntax, a 5,000-character unbroken name, control characters, mixed
scripts, bidi overrides and mojibake. The real stages run on it (``crawl`` in generic mode,
``resolve``, ``publish``), then the real ``datasette serve`` and Debian's chromium.

Checked: every string reaches ``listings`` and ``firms`` exactly as the page wrote it (the crawl
only collapses whitespace, resolve only recases all-caps names); in the browser no script runs
(no dialog, no ``window.__pwned``, no page error) on the directory, search, canned query, listing
and profile pages; each hostile name is shown as its own text; no page is pushed wider than the
window by the long name.

The publish helper's tests cover one synthetic ``<script>`` firm inserted straight into the
database (``tests/test_db_datasette.py::test_script_firm_is_text_everywhere``,
``tests/test_browser_datasette.py::test_script_firm_runs_nothing``); the crawler's cover hostile
strings stored and flagged (``tests/test_crawler_generic.py::test_hostile_strings_are_stored_verbatim_and_flagged``).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest

from crawler.normalise import collapse
from crawler.resolve import resolve
from crawler.run import crawl
from db.publish import publish
from db.serve import BackgroundServer

from .test_browser_datasette import CHROMIUM, browser  # noqa: F401  (the publish owner's chromium fixture)

pytestmark = [
    pytest.mark.slow,  # a crawl, resolve, publish, a server and ~20 chromium page loads: about a minute
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)"),
]

LONG = "Longname" + "W" * 5000  # over the 200-character limit: an invalid listing, kept, not a firm
WIDE = "Widename" + "W" * 180  # within the limit: a firm whose name has no place to break
HOSTILE = [
    # (name, description, website)
    ('<script>window.__pwned="name"</script>Harbor Script Works', "We make <b>steel</b> drums.<script>window.__pwned='desc'</script>", None),
    ("Evil Img <img src=x onerror=\"window.__pwned='img'\"> Co", '<iframe src="javascript:window.__pwned=\'iframe\'"></iframe>We make crates.', None),
    ('Quote Breaker "><svg onload="window.__pwned=\'svg\'"> Inc', "'\"><script>window.__pwned='attr'</script>", None),
    ("Robert'); DROP TABLE firms;-- Plastics", "'; DELETE FROM listings; -- We mould plastics.", None),
    ("' OR '1'='1 Metals", "\" OR \"\"=\" UNION SELECT * FROM sqlite_master --", None),
    ("{{7*7}} ${7*7} <%= 7*7 %> Templating Co", "{% raw %}{{ config }}{% endraw %} ${jndi:ldap://127.0.0.1/a}", None),
    (LONG, "A name far too long to be a name.", None),
    (WIDE, "A name with no place to break. " + "x" * 100_000, None),
    ("Bell\u0007Nul\u0000Esc\u001b[31m Red Tools", "Backspace\u0008 form\u000cfeed \u007fdel", None),
    ("Caf\u00c3\u00a9 \u00c3\u2030clair \u65e5\u672c\u8a9e \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u202eevil\u202c \U0001f642 Zero\u200bWidth Foods",
     "Mojibake \u00e2\u20ac\u2122s and \ufffd replacement, BOM \ufeff inside.", None),
    ("Href Trap Co", "Its website is a javascript: URL.", "javascript:window.__pwned='href'"),
]


def page(i: int, name: str, description: str, website: str | None) -> bytes:
    data = {"@context": "https://schema.org", "@type": "LocalBusiness", "name": name, "description": description,
            "telephone": f"(310) 555-02{i:02d}", "url": website or f"https://hostile-firm-{i}.com",
            "makesOffer": [{"@type": "Offer", "itemOffered": {"@type": "Product", "name": f"<b>widget</b> {i}'; --"}}],
            "address": {"@type": "PostalAddress", "streetAddress": f"{i} Harbor Blvd", "addressLocality": "San Pedro",
                        "addressRegion": "CA", "postalCode": "90731"}}
    script = json.dumps(data).replace("</", "<\\/")  # as a well-formed page must embed it
    return (f'<html><head><meta charset="utf-8"><title>firm {i}</title><script type="application/ld+json">{script}'
            f"</script></head><body><h1>firm {i}</h1></body></html>").encode("utf-8")


class HostileSite(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/":
            body = "".join(f'<a href="/firm/{i}">firm {i}</a> ' for i in range(len(HOSTILE))).encode()
        elif path.startswith("/firm/"):
            i = int(path.rsplit("/", 1)[1])
            body = page(i, *HOSTILE[i])
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def hostile_site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostileSite)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    work = folder / "work.db"
    with hostile_site() as base:
        run = crawl(work, start_url=base + "/", source="hostile", fast=True)
    resolve(work)
    out = folder / "export_finder.db"
    publish(work, out)
    return {"run": run, "work": work, "published": out}


def rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_every_hostile_string_is_stored_exactly(pipeline):
    names = {r[0] for r in rows(pipeline["work"], "select name from listings")}
    descriptions = {r[0] for r in rows(pipeline["work"], "select description from listings")}
    for name, description, _website in HOSTILE:
        # Exactly, except runs of whitespace (form feed included) which the crawl collapses.
        assert collapse(name) == name and name in names, repr(name[:80])
        assert collapse(description) in descriptions, repr(description[:80])
    assert pipeline["run"]["status"] == "finished"


def test_hostile_firms_reach_the_published_database_unchanged(pipeline):
    published = {r[0]: r for r in rows(pipeline["published"], "select name, website, description from firms")}
    for name, description, website in HOSTILE:
        if name == LONG:
            continue
        assert name in published, repr(name[:80])
        assert published[name][2] == collapse(description)
    # The 5,000-character name is kept as a listing, invalid with its reason, and merged into no firm.
    status, problems = rows(pipeline["published"], f"select validation_status, problems from listings where name = '{LONG}'")[0]
    assert status == "invalid" and "name: too long" in json.loads(problems)
    # The injected SQL ran nowhere: every table still holds its rows.
    assert rows(pipeline["published"], "select count(*) from firms")[0][0] == len(HOSTILE) - 1
    assert rows(pipeline["published"], "select count(*) from listings")[0][0] == len(HOSTILE)


@pytest.fixture(scope="module")
def served(pipeline):
    with BackgroundServer(pipeline["published"]) as srv:
        yield srv


def visit(browser, url: str) -> dict:
    """Load ``url``; report dialogs, page errors, the ``__pwned`` flag, text and widths."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    events: dict[str, list] = {"dialogs": [], "errors": [], "offsite": []}
    page.on("dialog", lambda d: (events["dialogs"].append(d.message), d.dismiss()))
    page.on("pageerror", lambda exc: events["errors"].append(str(exc)))

    def route(r):
        if urlparse(r.request.url).hostname in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            events["offsite"].append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.goto(url, wait_until="load")
    # Hover and click nothing; give onload/onerror handlers of injected elements time to fire.
    page.wait_for_timeout(300)
    result = {
        **events,
        "pwned": page.evaluate("() => window.__pwned === undefined ? null : String(window.__pwned)"),
        "text": page.evaluate("() => document.body.innerText"),
        "scroll_width": page.evaluate("() => document.documentElement.scrollWidth"),
        "width": page.evaluate("() => window.innerWidth"),
        "injected": page.evaluate("""() => document.querySelectorAll('img[src="x"], [onerror], [onload], iframe').length
            + [...document.scripts].filter(s => s.text.includes('__pwned')).length"""),
        "js_links": page.evaluate("() => [...document.querySelectorAll('a[href]')].filter(a => a.href.startsWith('javascript:')).length"),
    }
    context.close()
    return result


def firm_ids(pipeline) -> dict[str, str]:
    return {name: fid for fid, name in rows(pipeline["published"], "select firm_id, name from firms")}


def pages(served, pipeline) -> dict[str, str]:
    base = served.base + "/export_finder"
    out = {"directory": f"{base}/firms", "listings": f"{base}/listings", "search": f"{base}/firms?_search=Harbor",
           "find my firm": f"{base}/find_my_firm?name=Robert", "firm_overview": f"{base}/firm_overview",
           "sql": f"{base}?sql={quote('select name, description, website from firms')}"}
    for i, (name, fid) in enumerate(sorted(firm_ids(pipeline).items())):
        out[f"profile {i}: {name[:30]!r}"] = f"{base}/firms/{quote(fid)}"
    out["long listing"] = f"{base}/listings/{quote(long_listing_id(pipeline))}"
    return out


def long_listing_id(pipeline) -> str:
    return rows(pipeline["published"], f"select listing_id from listings where name = '{LONG}'")[0][0]


def test_no_script_runs_on_any_page(browser, served, pipeline):
    for label, url in pages(served, pipeline).items():
        seen = visit(browser, url)
        assert seen["dialogs"] == [] and seen["pwned"] is None, (label, seen["dialogs"], seen["pwned"])
        assert seen["errors"] == [], (label, seen["errors"])
        assert seen["injected"] == 0, f"{label}: an injected element became part of the page"
        assert seen["js_links"] == 0, f"{label}: a javascript: URL became a link"
        assert seen["offsite"] == [], (label, seen["offsite"])


def test_profiles_show_each_name_as_text(browser, served, pipeline):
    ids = firm_ids(pipeline)
    for name, _description, _website in HOSTILE:
        if name == LONG or any(ord(c) < 32 for c in name):
            continue  # control characters are not rendered as characters; checked in the database
        seen = visit(browser, f"{served.base}/export_finder/firms/{quote(ids[name])}")
        shown = " ".join(seen["text"].split())
        assert " ".join(name.split()) in shown, repr(name[:60])


@pytest.mark.parametrize("which", [
    "profile of the unbroken name",
    "listing of the 5,000-character name",
    "directory",
])
def test_long_values_do_not_widen_the_page(browser, served, pipeline, which):
    base = served.base + "/export_finder"
    url = {"profile of the unbroken name": f"{base}/firms/{quote(firm_ids(pipeline)[WIDE])}",
           "listing of the 5,000-character name": f"{base}/listings/{quote(long_listing_id(pipeline))}",
           "directory": f"{base}/firms"}[which]
    seen = visit(browser, url)
    assert seen["scroll_width"] <= seen["width"] + 1, f"page is {seen['scroll_width']} px wide in a {seen['width']} px window"
