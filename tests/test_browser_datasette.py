"""The published database in a real browser: Debian's chromium driven by Playwright.

A real ``datasette serve`` (the command ``db.serve`` runs) on 127.0.0.1; the browser may
reach nothing else (every other request is aborted and recorded). Checks the home page, a
search, a facet click, a firm profile, the map page without script errors, and that the firm
whose name holds ``<script>`` shows it as text and runs nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from db.serve import BackgroundServer
from db.synthetic import XSS_FIRM_ID, XSS_NAME, published_synthetic

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    database = published_synthetic(tmp_path_factory.mktemp("browser"), firms=120, seed=31)
    with BackgroundServer(database, public=True) as running:
        yield running.base


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("chromium-home")
    env = dict(os.environ, XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, env=env)
        yield browser
        browser.close()


class Watched:
    """A page that records script errors, console errors, dialogs and off-machine requests."""

    def __init__(self, browser):
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"console: {msg.text}"))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("response", lambda r: r.status >= 400 and self.errors.append(f"HTTP {r.status}: {r.url}"))
        self.context.route("**/*", self._route)

    def _route(self, route):
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def close(self):
        self.context.close()


@pytest.fixture
def watched(browser):
    w = Watched(browser)
    yield w
    w.close()


def test_home_page(server, watched):
    page = watched.page
    page.goto(server + "/")
    assert page.title().startswith("California export finder")
    assert page.locator("a", has_text="Find my firm").first.is_visible()
    assert watched.errors == [] and watched.blocked == []


def test_search_then_profile(server, watched):
    page = watched.page
    page.goto(server + "/export_finder/find_my_firm")
    page.fill("input[name=name]", "acme plastics")
    page.click("input[type=submit]")
    page.wait_for_url("**name=acme*")
    link = page.locator(f"a[href$='/firms/{XSS_FIRM_ID}']").first
    link.click()
    page.wait_for_url(f"**/firms/{XSS_FIRM_ID}")
    assert page.locator("h1.firm-name").inner_text() == XSS_NAME
    assert page.locator(".score-value").is_visible()
    assert page.locator(".profile-products td").first.inner_text() != ""
    assert watched.errors == [] and watched.dialogs == [] and watched.blocked == []


def test_script_firm_runs_nothing(server, watched):
    page = watched.page
    for path in (f"/export_finder/firms/{XSS_FIRM_ID}", "/export_finder/firms?_search=acme",
                 "/export_finder/products?_search=plastic", "/-/search?q=acme"):
        page.goto(server + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("typeof window.__xss") == "undefined", path
    page.goto(server + f"/export_finder/firms/{XSS_FIRM_ID}")
    assert "<script>" in page.locator("h1.firm-name").inner_text()
    assert "<img src=x" in page.locator(".firm-description").inner_text()
    assert page.locator(".firm-profile script, .firm-profile img, .firm-profile iframe").count() == 0
    assert watched.dialogs == [] and watched.errors == []


def test_facet_click_filters(server, watched):
    page = watched.page
    page.goto(server + "/export_finder/firms")
    facet = page.locator(".facet-info[data-column=county] a", has_text="Fresno").first
    facet.click()
    page.wait_for_url("**county=Fresno*")
    cells = page.locator("td.col-county").all_inner_texts()
    assert cells and set(cells) == {"Fresno"}
    assert watched.errors == [] and watched.blocked == []


def test_map_page_loads_without_script_errors(server, watched):
    page = watched.page
    tiles: list[str] = []
    page.on("request", lambda req: req.resource_type == "image" and tiles.append(req.url))
    page.goto(server + "/export_finder/firms")
    page.wait_for_selector(".leaflet-container", timeout=15000)
    page.wait_for_selector(".leaflet-marker-icon", timeout=15000)
    page.wait_for_load_state("networkidle")
    assert any(url.endswith("/static/tile.png") for url in tiles)
    assert watched.errors == [], watched.errors
    assert watched.blocked == [], watched.blocked


def test_chart_link_draws_a_chart(server, watched):
    page = watched.page
    page.goto(server + "/")
    page.locator("a", has_text="score by county").first.click()
    page.wait_for_url("**score_distribution_by_county*")
    page.wait_for_selector(".vega-embed canvas, .vega-embed svg", timeout=15000)
    assert watched.errors == [] and watched.blocked == []
