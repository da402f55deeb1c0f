"""Politeness is the default; --fast and loopback relax only what they should; every declared
source has its spider."""

from __future__ import annotations

from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from crawler import settings as crawler_settings
from crawler.base import load_sources
from crawler.run import _settings, build_job


def _effective(tmp_path, **kwargs):
    return _settings(build_job(tmp_path / "work.db", **kwargs))


def test_polite_by_default_for_a_real_site(tmp_path):
    s = _effective(tmp_path, start_url="https://chamber.example.org/directory/")
    assert s.getbool("ROBOTSTXT_OBEY") and not s.getbool("REMOTE_CONTROL_ENABLED")
    assert s.getbool("AUTOTHROTTLE_ENABLED") and s.getfloat("DOWNLOAD_DELAY") >= 0.5
    assert s.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 2
    assert "+http" in s.get("USER_AGENT") and "ca-export-finder" in s.get("USER_AGENT")
    assert {429, 500, 503} <= set(s.getlist("RETRY_HTTP_CODES"))
    assert 0 < s.getint("DOWNLOAD_TIMEOUT") <= 60 and 0 < s.getint("DOWNLOAD_MAXSIZE") <= 8 * 2**20
    assert s.get("JOBDIR") and s.getint("CONCURRENT_ITEMS") <= 32


def test_loopback_drops_the_delay_but_not_robots(tmp_path):
    s = _effective(tmp_path, source="member_directory", base_urls={"member_directory": "http://127.0.0.1:8101"})
    assert s.getfloat("DOWNLOAD_DELAY") == 0 and s.getbool("ROBOTSTXT_OBEY")


def test_fast_lifts_politeness_and_max_pages_sets_the_limit(tmp_path):
    s = _effective(tmp_path, start_url="https://chamber.example.org/", fast=True, max_pages=7)
    assert not s.getbool("AUTOTHROTTLE_ENABLED") and s.getfloat("DOWNLOAD_DELAY") == 0
    assert s.getint("CLOSESPIDER_PAGECOUNT") == 7 and s.getbool("ROBOTSTXT_OBEY")


def test_every_declared_source_has_its_spider():
    base = Settings()
    base.setmodule(crawler_settings)
    spiders = set(SpiderLoader.from_settings(base).list())
    assert spiders == set(load_sources()) | {"generic"}


def test_unknown_source_and_missing_base_url_are_named(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="unknown source 'nope'"):
        build_job(tmp_path / "w.db", source="nope")
    from crawler.spiders.member_directory import MemberDirectorySpider

    with pytest.raises(ValueError, match="needs a base URL"):
        MemberDirectorySpider()


def test_a_site_not_on_our_loopback_gets_spaced_requests(tmp_path):
    """127.0.0.2 is not a host the crawler treats as its own, so the polite defaults apply:
    requests are spaced out, never two at once beyond the per-site cap, robots.txt asked first."""
    import sqlite_utils

    from crawler.run import crawl

    from .sites.server import SITES, serving

    times: list = []
    with serving(SITES / "polite", host="127.0.0.2", times=times) as (base, hits):
        run = crawl(tmp_path / "work.db", start_url=base + "/", source="polite")
    assert run["status"] == "finished" and run["listings"] == 4
    assert sqlite_utils.Database(tmp_path / "work.db")["listings"].count == 4
    assert times[0][1] == "/robots.txt"
    crawl_times = [t for t, path in times[1:]]
    gaps = [b - a for a, b in zip(crawl_times, crawl_times[1:])]
    # DOWNLOAD_DELAY 0.5 s, randomised to 0.25-0.75 s, under AutoThrottle's 1 s start delay.
    assert len(gaps) >= 5 and min(gaps) >= 0.2, gaps
