"""The working database's tables: one place that says which stage owns which columns.

Every stage writes through sqlite-utils; this module is the contract between stages, so a
stage can be built, re-run or replaced without reading another stage's code. Each table is
created with ``ensure_table`` (idempotent: running a stage twice changes nothing) and each
stage writes inside a transaction, so a kill mid-write leaves the database as it was.

Lists (products, categories, problems, countries ...) are stored as JSON text.
"""

from __future__ import annotations

import sqlite_utils

# name -> (columns, primary key, owning stage)
TABLES: dict[str, tuple[dict[str, type], str | tuple[str, ...], str]] = {
    # --- crawl -----------------------------------------------------------------------
    "listings": (
        {
            "listing_id": str,  # sha1(source + "\n" + url + "\n" + index-on-page)
            "source": str,  # e.g. "member_directory", "ppe_marketplace", or a generic name
            "url": str,  # page URL the listing was read from
            "fetched_at": str,  # ISO 8601 UTC
            "http_status": int,
            "content_sha256": str,
            "name": str,
            "website": str,
            "street": str,
            "city": str,
            "state": str,
            "postal_code": str,
            "phone": str,
            "email": str,
            "description": str,
            "products": str,  # JSON list of strings
            "categories": str,  # JSON list of strings
            "certifications": str,  # free text as the page gave it
            "employees": str,  # as given ("50-99", "120")
            "year_founded": int,
            "raw_structured": str,  # JSON: the schema.org object(s) found
            "validation_status": str,  # "ok" | "warning" | "invalid"
            "problems": str,  # JSON list of "field: reason"
            "previous_sha256": str,  # hash before the last change, if any
            "changed_at": str,  # when content_sha256 last changed
            "first_seen_at": str,
            "crawl_run_id": str,
        },
        "listing_id",
        "crawl",
    ),
    "crawl_runs": (
        {
            "run_id": str,
            "source": str,
            "start_url": str,
            "started_at": str,
            "finished_at": str,
            "status": str,  # "running" | "finished" | "stopped" | "failed"
            "finish_reason": str,
            "pages": int,
            "listings": int,
            "invalid": int,
            "problems": str,  # JSON dict problem -> count (crawl stats)
            "stats": str,  # JSON of Scrapy's stats
        },
        "run_id",
        "crawl",
    ),
    # --- resolve ---------------------------------------------------------------------
    "firms": (
        {
            "firm_id": str,  # stable across runs, e.g. "F" + 10 hex chars
            "name": str,  # display name, cleaned casing
            "name_key": str,  # normalised for matching (no legal suffix, lower case)
            "website": str,
            "domain": str,  # registered domain
            "street": str,
            "city": str,
            "state": str,
            "postal_code": str,  # 5-digit ZIP
            "county": str,
            "latitude": float,
            "longitude": float,
            "phone": str,  # E.164
            "email": str,
            "description": str,  # all descriptions, joined, for the extract stage
            "products_text": str,  # JSON list: product lists from every listing
            "categories": str,  # JSON list
            "certifications": str,
            "employees": str,
            "year_founded": int,
            "n_sources": int,
            "sources": str,  # JSON list of source names
            "source_urls": str,  # JSON list of page URLs
            "in_california": int,
        },
        "firm_id",
        "resolve",
    ),
    "firm_listings": (
        {
            "firm_id": str,
            "listing_id": str,
            "match_rule": str,  # "first" | "domain" | "phone" | "name+zip" ...
            "match_score": float,
            "matched_to": str,  # listing_id it was matched against
        },
        ("firm_id", "listing_id"),
        "resolve",
    ),
    # --- extract ---------------------------------------------------------------------
    "products": (
        {
            "product_id": str,
            "firm_id": str,
            "product": str,  # normalised (lemma, lower case, no marketing words)
            "surface": str,  # as written
            "sentence": str,  # evidence sentence
            "source_url": str,
            "method": str,  # "product_list" | "pattern" | "noun_chunk" ...
        },
        "product_id",
        "extract",
    ),
    "hs_hints": (
        {
            "hint_id": str,
            "product_id": str,
            "firm_id": str,
            "rank": int,  # 1 = best
            "hs6": str,
            "hs4": str,
            "hs2": str,
            "hs_edition": str,  # "HS2022"
            "confidence": float,  # calibrated probability that the heading is right
            "uncertain": int,  # 1 when below the confidence floor
            "method": str,
            "explanation": str,
        },
        "hint_id",
        "extract",
    ),
    "signals": (
        {
            "signal_id": str,
            "firm_id": str,
            "kind": str,  # exports | export_market | distributor_abroad | no_export |
            #              certification | employees | year_founded | facility_size | hs_code
            "value": str,
            "country_iso3": str,
            "negated": int,
            "sentence": str,
            "source_url": str,
        },
        "signal_id",
        "extract",
    ),
    # --- score -----------------------------------------------------------------------
    "scores": (
        {
            "firm_id": str,
            "score": float,  # 0-100
            "band": str,  # Very high | High | Medium | Low | Very low
            "band_sentence": str,
            "probability": float,  # readiness model's calibrated probability
            "readiness": float,  # component 0-100
            "market_fit": float,  # component 0-100
            "low_confidence": int,
            "low_confidence_reason": str,
            "model_version": str,
            "run_id": str,
            "label": int,  # 1 when the extract stage found export evidence (training label)
            "evidence_count": int,  # facts the readiness part could use
            "market_fit_note": str,  # "no data" explanations for the market part
            "hs_chapter": str,  # chapter the market part rests on
        },
        "firm_id",
        "score",
    ),
    "score_reasons": (
        {
            "firm_id": str,
            "rank": int,
            "feature": str,
            "contribution": float,
            "sentence": str,
            "figure": float,
            "source": str,
            "part": str,  # "start" | "readiness" | "market_fit" | "other"
            "cites_table": str,  # reference table the figure comes from, if any
            "cites_key": str,  # JSON: the cited row's key
            "cites_column": str,  # the cited column; figure == that cell
        },
        ("firm_id", "rank"),
        "score",
    ),
    "market_suggestions": (
        {
            "firm_id": str,
            "rank": int,
            "partner_iso3": str,
            "country": str,
            "hs_code": str,
            "hs_level": int,
            "port_value_usd": float,
            "us_value_usd": float,
            "port_share": float,
            "year": int,
            "source": str,
            "sentence": str,
            "cites_table": str,  # reference table the figures come from (chapter_markets)
            "cites_key": str,  # JSON: the cited row's key
            "market_score": float,  # 0-1: how the markets were ranked
        },
        ("firm_id", "rank"),
        "score",
    ),
    "model_runs": (
        {
            "run_id": str,
            "run_at": str,
            "model_version": str,
            "training_rows": int,
            "positives": int,
            "features": str,  # JSON list
            "estimator": str,
            "params": str,  # JSON
            "cv_roc_auc": float,
            "cv_brier": float,
            "baseline": str,
            "baseline_roc_auc": float,
            "baseline_brier": float,
            "calibration": str,  # JSON table
            "reference_sources": str,  # JSON
            "card": str,  # markdown model card
            "seed": int,
            "candidates": str,  # JSON: every estimator tried, with its CV figures
            "data_sha256": str,  # hash of the training matrix and labels
            "versions": str,  # JSON: python, scikit-learn, numpy
            "model_path": str,
        },
        "run_id",
        "score",
    ),
    # --- refdata (loaded by `export-finder refdata`, read by score and publish) -------
    "trade_flows": (
        {
            "year": int,
            "partner_iso3": str,
            "country": str,  # pycountry name
            "hs_level": int,  # 2 = chapter, 4 = heading, 6 = subheading
            "hs_code": str,
            "measure": str,  # port_la_containerized | us_containerized | us_air
            "value_usd": float,
            "source": str,  # the figure's origin, e.g. census_porths:2704_los_angeles:CNT_VAL_YR
            "retrieved": str,  # when the figures were taken from the Census API
            "loaded_from": str,  # file path or API URL
        },
        ("year", "partner_iso3", "hs_level", "hs_code", "measure"),
        "refdata",
    ),
    "trade_flows_rejected": (
        {
            "row_key": str,  # loaded_from + line/row number
            "loaded_from": str,
            "raw": str,  # JSON of the row as read
            "reason": str,
        },
        "row_key",
        "refdata",
    ),
    "chapter_markets": (
        {
            "year": int,
            "hs_level": int,  # 2 from the shared file; 4 or 6 where the Census API gave them
            "hs_code": str,  # HS chapter (or heading / subheading)
            "partner_iso3": str,
            "country": str,
            "port_value_usd": float,  # containerized exports loaded at port 2704
            "us_containerized_usd": float,  # containerized exports, all US ports
            "us_air_usd": float,  # air exports, all US ports
            "port_share": float,  # port_value_usd / us_containerized_usd (null: no data)
            "market_size_usd": float,  # us_containerized_usd + us_air_usd
            "port_rank": int,  # rank of this market in the port's exports of the chapter
            "lead_market": int,  # 1 for the port's top 5 markets of the chapter
            "source": str,
            "retrieved": str,
        },
        ("year", "hs_code", "partner_iso3"),
        "refdata",
    ),
    "chapter_trade": (
        {
            "year": int,
            "hs_level": int,
            "hs_code": str,
            "description": str,
            "port_value_usd": float,
            "us_containerized_usd": float,
            "us_air_usd": float,
            "port_share": float,
            "port_value_percentile": float,  # 0-1 among chapters the port ships
            "n_port_markets": int,
            "lead_markets": str,  # JSON list of ISO3, the port's top 5
            "containerisable": int,
            "source": str,
            "retrieved": str,
        },
        ("year", "hs_code"),
        "refdata",
    ),
    "port_facts": (
        {
            "kind": str,
            "item": str,
            "value": float,
            "unit": str,
            "year": int,
            "source": str,
            "hs_chapters": str,  # JSON list: the project's own mapping of the commodity name
        },
        ("kind", "item", "year"),
        "refdata",
    ),
    "hs_sections": (
        {"code": str, "description": str, "edition": str, "source": str},
        "code",
        "refdata",
    ),
    "hs_chapters": (
        {
            "code": str,
            "description": str,
            "section": str,
            "edition": str,
            "containerisable": int,  # project's own mapping (db/reference_data)
            "containerisable_note": str,
            "source": str,
        },
        "code",
        "refdata",
    ),
    "hs_headings": (
        {"code": str, "description": str, "parent": str, "edition": str, "source": str},
        "code",
        "refdata",
    ),
    "hs_subheadings": (
        {"code": str, "description": str, "parent": str, "edition": str, "source": str},
        "code",
        "refdata",
    ),
    "countries": (
        {"iso3": str, "iso2": str, "numeric": str, "name": str, "official_name": str, "source": str},
        "iso3",
        "refdata",
    ),
    "refdata_runs": (
        {
            "run_id": str,
            "run_at": str,
            "trade_source": str,  # "file" | "census_api" | "missing"
            "loaded_from": str,
            "sha256": str,
            "rows": int,
            "rejected": int,
            "missing": str,  # plain words: what could not be loaded
            "sources": str,  # JSON: each reference table's source and date
        },
        "run_id",
        "refdata",
    ),
}


def ensure_table(db: sqlite_utils.Database, name: str) -> sqlite_utils.db.Table:
    """Create ``name`` with its declared columns if it is missing; add missing columns."""
    columns, pk, _stage = TABLES[name]
    table = db[name]
    if not table.exists():
        table.create(columns, pk=pk)
    else:
        missing = {c: t for c, t in columns.items() if c not in table.columns_dict}
        for column, col_type in missing.items():
            table.add_column(column, col_type)
    return table


def ensure_stage_tables(db: sqlite_utils.Database, stage: str) -> None:
    """Create every table a stage owns."""
    for name, (_columns, _pk, owner) in TABLES.items():
        if owner == stage:
            ensure_table(db, name)


def open_work_db(path) -> sqlite_utils.Database:
    """Open the working database with WAL so a reader never blocks a writing stage."""
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db
