"""Each configured spider on its bundled sample source, served on 127.0.0.1 (60 fictional firms)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import sqlite_utils

from crawler.run import crawl

from .sites.sample import crawled_db, sample_site, served


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory):
    return tmp_path_factory.mktemp("sample")


@pytest.fixture(scope="session")
def sample_db(sample_root):
    return sqlite_utils.Database(crawled_db(sample_root))


@pytest.fixture(scope="session")
def truth(sample_root):
    rows = [json.loads(line) for line in (sample_site(sample_root) / "truth.jsonl").open()]
    return {(l["source"], l["url"]): (firm, l) for firm in rows for l in firm["listings"]}


@pytest.mark.parametrize("source", ["member_directory", "ppe_marketplace"])
def test_spider_reads_every_listing_of_its_source(sample_db, truth, source):
    expected = {url for (src, url) in truth if src == source}
    rows = list(sample_db["listings"].rows_where("source = ?", [source]))
    assert {urlsplit(r["url"]).path for r in rows} == expected
    assert len(rows) == len(expected), "one row per listing page"


@pytest.mark.parametrize("source", ["member_directory", "ppe_marketplace"])
def test_fields_match_what_the_page_wrote(sample_db, truth, source):
    """Whatever the markup (JSON-LD, microdata or plain HTML), the fields come out the same."""
    rows = list(sample_db["listings"].rows_where("source = ?", [source]))
    for row in rows:
        firm, listing = truth[(source, urlsplit(row["url"]).path)]
        assert row["name"] == listing["name_as_written"]
        assert row["phone"] == listing["phone_as_written"]
        assert row["postal_code"] == firm["zip"]
        assert row["city"]
        assert row["description"]
        assert json.loads(row["products"]), row["url"]
        assert len(row["content_sha256"]) == 64 and row["http_status"] == 200 and row["fetched_at"]


def test_member_directory_reads_facts_and_certifications(sample_db, truth):
    for row in sample_db["listings"].rows_where("source = 'member_directory'"):
        firm, _ = truth[("member_directory", urlsplit(row["url"]).path)]
        assert row["year_founded"] == firm["year_founded"]
        assert row["employees"]
        for cert in firm["certifications"]:
            assert cert in (row["certifications"] or "")


def test_all_three_markups_were_met(sample_db):
    run = next(sample_db["crawl_runs"].rows_where("source = 'member_directory'"))
    problems = json.loads(run["problems"])
    assert problems["page/syntax/json-ld"] > 0 and problems["page/syntax/microdata"] > 0
    assert problems["page/detail"] > problems["page/syntax/json-ld"] + problems["page/syntax/microdata"], "plain pages too"


def test_crawl_runs_rows_are_closed_with_counts(sample_db):
    runs = list(sample_db["crawl_runs"].rows)
    assert {r["source"] for r in runs} == {"member_directory", "ppe_marketplace"}
    for run in runs:
        assert run["status"] == "finished" and run["finish_reason"] == "finished"
        assert run["pages"] > run["listings"] > 0
        assert run["finished_at"] >= run["started_at"]
        stats = json.loads(run["stats"])
        assert stats["robotstxt/request_count"] >= 1


def test_hostile_names_are_stored_as_text_and_flagged(sample_db, truth):
    hostile = [(f, l) for (src, _), (f, l) in truth.items() if f.get("hostile") and src == "member_directory"]
    assert hostile, "the sample site carries hostile firms"
    for firm, listing in hostile:
        row = next(sample_db["listings"].rows_where("url like ?", ["%" + listing["url"]]))
        assert row["name"] == listing["name_as_written"]
        assert row["validation_status"] == "warning"
    assert sample_db["listings"].count == len(truth), "the table survived the SQL in the names"


def test_store_upserts_and_keeps_history(tmp_path):
    """Storing a page again adds no row; a changed page keeps its previous hash and change time."""
    from crawler.store import ListingStore, listing_id

    def row(sha, fetched):
        return {"listing_id": listing_id("s", "http://x/1"), "source": "s", "url": "http://x/1", "name": "A",
                "content_sha256": sha, "fetched_at": fetched, "problems": []}

    path = tmp_path / "work.db"
    for sha, fetched in (("aaa", "2026-01-01"), ("aaa", "2026-02-01"), ("bbb", "2026-03-01"), ("bbb", "2026-04-01")):
        store = ListingStore(path)
        store.add(row(sha, fetched))
        store.close()
    rows = list(sqlite_utils.Database(path)["listings"].rows)
    assert len(rows) == 1
    assert (rows[0]["content_sha256"], rows[0]["previous_sha256"]) == ("bbb", "aaa")
    assert (rows[0]["first_seen_at"], rows[0]["changed_at"], rows[0]["fetched_at"]) == ("2026-01-01", "2026-03-01", "2026-04-01")


def test_recrawl_adds_no_rows(tmp_path, sample_root, sample_db):
    """The same source crawled again upserts: same listing ids, a second run row."""
    db_path = tmp_path / "work.db"
    with served(sample_root) as bases:
        crawl(db_path, source="ppe_marketplace", base_urls=bases, fast=True)
    again = sqlite_utils.Database(db_path)
    first = {r["listing_id"]: r["content_sha256"] for r in sample_db["listings"].rows_where("source = 'ppe_marketplace'")}
    assert {r["listing_id"]: r["content_sha256"] for r in again["listings"].rows} == first


def test_robots_txt_is_obeyed_in_generic_mode(tmp_path, sample_root):
    """Generic mode follows every link, including the print links robots.txt disallows."""
    with served(sample_root) as bases:
        run = crawl(tmp_path / "work.db", start_url=bases["member_directory"] + "/members/page/1.html",
                    source="md_generic", fast=True, max_pages=45)
    db = sqlite_utils.Database(tmp_path / "work.db")
    urls = [r["url"] for r in db["listings"].rows]
    assert urls and not any("/members/print/" in u for u in urls)
    assert run["problems"]["robotstxt/forbidden"] > 0
    # Generic mode finds the structured-data pages on a site it has no config for.
    assert len(urls) >= 5
