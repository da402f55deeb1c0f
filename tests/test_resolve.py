"""Resolve: merge rules, California only, audit trail, stable firm ids, quality against truth."""

from __future__ import annotations

import json

import pytest
import sqlite_utils

from crawler.resolve import merge_quality, resolve
from crawler.store import ListingStore, listing_id

from .sites.sample import crawled_db, sample_site


def _listing(source, url, **fields):
    row = {"listing_id": listing_id(source, url), "source": source, "url": url, "http_status": 200,
           "validation_status": "ok", "fetched_at": "2026-11-24T00:00:00+00:00", "products": [], "categories": []}
    row.update(fields)
    return row


ACME_DIR = _listing("dir", "http://d/acme", name="ACME PLASTICS, INC.", website="www.acmeplastics.com",
                    phone="(310) 555-0100", street="12 Harbor Blvd", city="Wilmington", state="CA", postal_code="90744",
                    description="We mould HDPE crates.", products=["HDPE crates"])
ACME_MKT = _listing("mkt", "http://m/acme", name="Acme Plastics Inc", website="https://acmeplastics.com/",
                    phone="+1 310-555-0199", street="12 Harbor Boulevard", city="Wilmington", state="CA", postal_code="90744",
                    description="Face shields from recycled PET.", products=["face shields"])
BETA_DIR = _listing("dir", "http://d/beta", name="Beta Foods LLC", phone="(559) 555-0101", city="Fresno", state="CA", postal_code="93721")
BETA_MKT = _listing("mkt", "http://m/beta", name="BETA FOODS", phone="559.555.0101", city="Fresno", state="CA", postal_code="93721")
GAMMA_DIR = _listing("dir", "http://d/gamma", name="Gamma Machine Works", city="Fresno", state="CA", postal_code="93721")
GAMMA_MKT = _listing("mkt", "http://m/gamma", name="Gamma Machine Works Inc.", city="Fresno", state="Calif", postal_code="93721")
DELTA = _listing("dir", "http://d/delta", name="Delta Robotics", phone="(775) 555-0108", state="NV", postal_code="89501")
BROKEN = _listing("dir", "http://d/broken", name=None, validation_status="invalid", state="CA", postal_code="90744")
NOSTATE = _listing("dir", "http://d/nostate", name="Zip Only Co", postal_code="95354")
# Same phone (a shared switchboard) but two different websites: two firms.
SHARED_A = _listing("dir", "http://d/shared-a", name="Harbor Tools", website="harbortools.com", phone="(562) 555-0177", state="CA", postal_code="90802")
SHARED_B = _listing("mkt", "http://m/shared-b", name="Pier Textiles", website="piertextiles.com", phone="562-555-0177", state="CA", postal_code="90802")
# Namesakes in one ZIP, one without a website: the different phones keep them apart.
NAMESAKE_A = _listing("dir", "http://d/namesake-a", name="Yamamoto Ironworks, Inc.", website="yamamotoironworks.com", phone="909-555-1134", state="CA", postal_code="91710")
NAMESAKE_B = _listing("mkt", "http://m/namesake-b", name="Yamamoto Ironworks Inc", phone="951-555-1208", state="CA", postal_code="91710")


def _db(path, rows):
    store = ListingStore(path)
    for row in rows:
        store.add(row)
    store.close()
    return sqlite_utils.Database(path)


ALL = [ACME_DIR, ACME_MKT, BETA_DIR, BETA_MKT, GAMMA_DIR, GAMMA_MKT, DELTA, BROKEN, NOSTATE, SHARED_A, SHARED_B,
       NAMESAKE_A, NAMESAKE_B]


@pytest.fixture
def resolved(work_db_path):
    db = _db(work_db_path, ALL)
    summary = resolve(work_db_path)
    links = {r["listing_id"]: r for r in db["firm_listings"].rows}
    return db, summary, links


def test_merges_by_domain_phone_and_fuzzy_name_in_one_zip(resolved):
    db, summary, links = resolved
    assert links[ACME_DIR["listing_id"]]["firm_id"] == links[ACME_MKT["listing_id"]]["firm_id"]
    assert links[BETA_DIR["listing_id"]]["firm_id"] == links[BETA_MKT["listing_id"]]["firm_id"]
    assert links[GAMMA_DIR["listing_id"]]["firm_id"] == links[GAMMA_MKT["listing_id"]]["firm_id"]
    rules = {links[x["listing_id"]]["match_rule"] for x in (ACME_MKT, ACME_DIR)}
    assert rules == {"first", "domain"}
    assert {links[x["listing_id"]]["match_rule"] for x in (BETA_DIR, BETA_MKT)} == {"first", "phone"}
    gamma = {links[x["listing_id"]]["match_rule"]: links[x["listing_id"]] for x in (GAMMA_DIR, GAMMA_MKT)}
    assert gamma["name+zip"]["match_score"] >= 90 and gamma["name+zip"]["matched_to"] in {GAMMA_DIR["listing_id"], GAMMA_MKT["listing_id"]}


def test_shared_phone_with_different_domains_and_namesakes_are_refused(resolved):
    _db_, summary, links = resolved
    assert links[SHARED_A["listing_id"]]["firm_id"] != links[SHARED_B["listing_id"]]["firm_id"]
    assert links[NAMESAKE_A["listing_id"]]["firm_id"] != links[NAMESAKE_B["listing_id"]]["firm_id"]
    assert summary["refused_merges"] == 2
    refused = {frozenset((r["listing_id"], r["other_listing_id"])): r["rule"] for r in summary["refused_examples"]}
    assert refused == {frozenset((SHARED_A["listing_id"], SHARED_B["listing_id"])): "phone",
                       frozenset((NAMESAKE_A["listing_id"], NAMESAKE_B["listing_id"])): "name+zip"}


def test_california_only_and_the_rest_counted(resolved):
    db, summary, links = resolved
    assert DELTA["listing_id"] not in links and BROKEN["listing_id"] not in links
    assert NOSTATE["listing_id"] in links, "a Californian ZIP is enough"
    assert summary["excluded_outside_california"] == 1 and summary["excluded_invalid"] == 1
    assert db["listings"].count == len(ALL), "excluded listings stay in listings"
    assert summary["firms"] == db["firms"].count == 8


def test_firm_row_gathers_every_listing(resolved):
    db, _summary, links = resolved
    firm = db["firms"].get(links[ACME_DIR["listing_id"]]["firm_id"])
    assert firm["domain"] == "acmeplastics.com" and firm["postal_code"] == "90744"
    assert firm["county"] == "Los Angeles County" and firm["latitude"] and firm["state"] == "CA"
    assert "HDPE crates" in firm["description"] and "Face shields" in firm["description"]
    assert json.loads(firm["products_text"]) == ["HDPE crates", "face shields"]
    assert json.loads(firm["sources"]) == ["dir", "mkt"] and firm["n_sources"] == 2
    assert set(json.loads(firm["source_urls"])) == {"http://d/acme", "http://m/acme"}
    assert firm["phone"] in {"+13105550100", "+13105550199"} and firm["name_key"] == "acme plastics"


def test_firm_ids_do_not_depend_on_row_order(tmp_path):
    forward, backward = tmp_path / "f.db", tmp_path / "b.db"
    _db(forward, ALL), _db(backward, list(reversed(ALL)))
    resolve(forward), resolve(backward)
    ids = lambda p: {r["listing_id"]: r["firm_id"] for r in sqlite_utils.Database(p)["firm_listings"].rows}  # noqa: E731
    assert ids(forward) == ids(backward)


def test_firm_ids_survive_a_rerun_with_more_listings(work_db_path):
    _db(work_db_path, [ACME_DIR, BETA_DIR, GAMMA_DIR])
    resolve(work_db_path)
    db = sqlite_utils.Database(work_db_path)
    before = {r["listing_id"]: r["firm_id"] for r in db["firm_listings"].rows}
    again = resolve(work_db_path)
    assert {r["listing_id"]: r["firm_id"] for r in db["firm_listings"].rows} == before, "idempotent"
    assert again["firm_ids_kept"] == 3
    _db(work_db_path, [ACME_MKT, BETA_MKT, GAMMA_MKT, SHARED_A])
    resolve(work_db_path)
    after = {r["listing_id"]: r["firm_id"] for r in db["firm_listings"].rows}
    for listing, firm_id in before.items():
        assert after[listing] == firm_id
    assert after[ACME_MKT["listing_id"]] == before[ACME_DIR["listing_id"]]


def test_merge_quality_on_the_sample_sites(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")  # the session's one sample crawl is reused if made
    db_path = crawled_db(root)
    summary = resolve(db_path)
    quality = merge_quality(db_path, sample_site(root) / "truth.jsonl")
    assert quality["listings_not_in_truth"] == 0 and quality["true_pairs"] > 10
    assert quality["precision"] >= 0.95 and quality["recall"] >= 0.9, quality
    assert summary["excluded_outside_california"] >= 1
