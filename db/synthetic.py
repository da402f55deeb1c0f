"""A synthetic working database: every table of the contract filled with made-up rows.

Why: publish, Datasette and the benchmark must be tested before (and independently of) the
upstream stages, and at sizes the sample sites do not reach (400,000 firms). The rows are
fictional and say so (``source = 'synthetic'``); they are shaped like the contract in
``export_finder.schema`` so the published database has real joins, facets and text.
One firm (``XSS_FIRM_ID``) carries ``<script>`` and HTML in its name, description, product
and evidence, so tests can prove the pages show it as text and run nothing.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from pathlib import Path

import sqlite_utils

from export_finder.schema import TABLES, ensure_table

XSS_FIRM_ID = "F0000000bad"
XSS_NAME = '<script>window.__xss = 1</script> Acme <b>Bold</b> & "Quoted" Plastics'
XSS_DESCRIPTION = (
    'We mould <img src=x onerror="window.__xss = 2"> plastic containers and ship them to Japan. '
    "<iframe src=javascript:alert(1)></iframe>"
)

PLACES = [  # city, county, ZIP, latitude, longitude
    ("Los Angeles", "Los Angeles", "90021", 34.0292, -118.2386),
    ("Long Beach", "Los Angeles", "90813", 33.7823, -118.1957),
    ("Torrance", "Los Angeles", "90501", 33.8324, -118.3107),
    ("Ontario", "San Bernardino", "91761", 34.0346, -117.5916),
    ("Fontana", "San Bernardino", "92335", 34.0873, -117.4645),
    ("Riverside", "Riverside", "92507", 33.9756, -117.3383),
    ("Anaheim", "Orange", "92806", 33.8388, -117.8706),
    ("Irvine", "Orange", "92618", 33.6668, -117.7349),
    ("San Diego", "San Diego", "92121", 32.8986, -117.2023),
    ("Fresno", "Fresno", "93721", 36.7339, -119.7837),
    ("Bakersfield", "Kern", "93308", 35.4245, -119.0413),
    ("Stockton", "San Joaquin", "95206", 37.9104, -121.3033),
    ("Sacramento", "Sacramento", "95815", 38.6094, -121.4445),
    ("Oakland", "Alameda", "94607", 37.8066, -122.2956),
    ("San Jose", "Santa Clara", "95112", 37.3478, -121.8916),
]

PRODUCTS = [  # product, HS4, HS6
    ("nitrile exam gloves", "4015", "401519"),
    ("almonds", "0802", "080212"),
    ("wine", "2204", "220421"),
    ("plastic containers", "3923", "392310"),
    ("aircraft parts", "8803", "880330"),
    ("surgical instruments", "9018", "901890"),
    ("face masks", "6307", "630790"),
    ("hand sanitizer", "3808", "380894"),
    ("cotton fabric", "5208", "520811"),
    ("steel fasteners", "7318", "731815"),
    ("solar panels", "8541", "854143"),
    ("animal feed", "2309", "230990"),
    ("paper packaging", "4819", "481910"),
    ("dried fruit", "0813", "081320"),
    ("circuit boards", "8534", "853400"),
]

MARKETS = [
    ("JPN", "Japan"),
    ("CHN", "China"),
    ("KOR", "South Korea"),
    ("AUS", "Australia"),
    ("TWN", "Taiwan"),
    ("VNM", "Vietnam"),
    ("MEX", "Mexico"),
    ("CAN", "Canada"),
]
CERTS = ["ISO 9001", "ISO 13485", "AS9100", "FDA registered", "Organic"]
WORDS = ["Pacific", "Golden", "Sierra", "Coastal", "Valley", "Summit", "Harbor", "Mesa", "Redwood", "Bay",
         "Sun", "Mission", "Delta", "Orchard", "Canyon", "Vista", "Pioneer", "Western", "Premier", "Allied"]
SUFFIX = ["Industries", "Manufacturing", "Products", "Inc.", "Co.", "Works", "Labs", "Foods", "Corp."]
SOURCES = ["member_directory", "ppe_marketplace"]


def band_of(score: float) -> str:
    if score >= 80:
        return "Very high"
    if score >= 60:
        return "High"
    if score >= 40:
        return "Medium"
    if score >= 20:
        return "Low"
    return "Very low"


def _id(*parts) -> str:
    """16 hex digits: no collision at millions of rows (10 digits collided at 1.6M hints)."""
    return hashlib.sha1("\n".join(map(str, parts)).encode()).hexdigest()[:16]


CHAPTER_TITLES = {
    "40": "Rubber and articles thereof", "08": "Edible fruit and nuts", "22": "Beverages, spirits and vinegar",
    "39": "Plastics and articles thereof", "88": "Aircraft, spacecraft, and parts thereof",
    "90": "Optical, medical or surgical instruments", "63": "Other made up textile articles",
    "38": "Miscellaneous chemical products", "52": "Cotton", "73": "Articles of iron or steel",
    "85": "Electrical machinery and equipment", "23": "Residues from the food industries; animal fodder",
    "48": "Paper and paperboard", "21": "Miscellaneous edible preparations",
}


def _reference_rows(add) -> None:
    """Reference rows for the codes the synthetic firms use (tables the refdata stage fills)."""
    if "hs_chapters" in TABLES:
        for code, title in sorted(CHAPTER_TITLES.items()):
            add("hs_chapters", {"code": code, "description": title, "edition": "HS2022", "source": "synthetic"})
        for product, hs4, hs6 in PRODUCTS:
            add("hs_headings", {"code": hs4, "description": f"Heading of {product}", "parent": hs4[:2],
                                "edition": "HS2022", "source": "synthetic"})
            add("hs_subheadings", {"code": hs6, "description": product.capitalize(), "parent": hs4,
                                   "edition": "HS2022", "source": "synthetic"})
    if "countries" in TABLES:
        for iso3, name in MARKETS:
            add("countries", {"iso3": iso3, "name": name, "source": "synthetic"})
    chapters = sorted({hs4[:2] for _p, hs4, _h in PRODUCTS})
    if "hs_sections" in TABLES:
        add("hs_sections", {"code": "I", "description": "Synthetic section", "edition": "HS2022", "source": "synthetic"})
    for k, code in enumerate(chapters):
        if "chapter_trade" in TABLES:
            add("chapter_trade", {"year": 2024, "hs_code": code, "description": CHAPTER_TITLES.get(code),
                                  "port_value_usd": 1e8 * (k + 1), "us_containerized_usd": 1e9 * (k + 1),
                                  "port_share": 0.1, "source": "synthetic"})
        for rank, (iso3, name) in enumerate(MARKETS, 1):
            if "chapter_markets" in TABLES:
                add("chapter_markets", {"year": 2024, "hs_code": code, "partner_iso3": iso3, "country": name,
                                        "port_value_usd": 1e8 / rank, "us_containerized_usd": 1e9 / rank,
                                        "port_share": 0.1, "port_rank": rank, "lead_market": int(rank <= 5),
                                        "source": "synthetic"})
            if "trade_flows" in TABLES:
                add("trade_flows", {"year": 2024, "partner_iso3": iso3, "country": name, "hs_level": 2,
                                    "hs_code": code, "measure": "port_la_containerized", "value_usd": 1e8 / rank,
                                    "source": "synthetic"})
    if "port_facts" in TABLES:
        add("port_facts", {"kind": "synthetic", "item": "containers", "value": 1.0, "unit": "TEU", "year": 2024,
                           "source": "synthetic"})
    if "trade_flows_rejected" in TABLES:
        add("trade_flows_rejected", {"row_key": "synthetic:1", "loaded_from": "synthetic", "raw": "{}",
                                     "reason": "synthetic rejected row"})
    if "refdata_runs" in TABLES:
        add("refdata_runs", {"run_id": "synthetic", "run_at": "2026-01-01T00:00:00Z", "trade_source": "file",
                             "rows": len(chapters) * len(MARKETS), "rejected": 1, "sources": "{}"})


def populate(work_db, firms: int = 60, seed: int = 7, batch: int = 20000) -> dict:
    """Fill every contract table of ``work_db`` with ``firms`` synthetic firms; return counts."""
    work_db = Path(work_db)
    db = sqlite_utils.Database(work_db)
    for name in TABLES:
        ensure_table(db, name)
    db.conn.close()
    conn = sqlite3.connect(str(work_db))
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA journal_mode=MEMORY")
    rng = random.Random(seed)
    counts = {name: 0 for name in TABLES}
    buffers: dict[str, list[dict]] = {name: [] for name in TABLES}

    def add(table: str, row: dict) -> None:
        buffers[table].append(row)
        if len(buffers[table]) >= batch:
            flush(table)

    def flush(table: str) -> None:
        rows = buffers[table]
        if not rows:
            return
        cols = list(TABLES[table][0])
        conn.executemany(
            f"INSERT INTO [{table}] ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
            [tuple(r.get(c) for c in cols) for r in rows],
        )
        counts[table] += len(rows)
        rows.clear()

    run_id = "R" + _id("run", seed)
    crawl_run = "C" + _id("crawl", seed)
    add("crawl_runs", {"run_id": crawl_run, "source": "synthetic", "start_url": "http://127.0.0.1/",
                       "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:10:00Z",
                       "status": "finished", "pages": firms, "listings": firms, "invalid": 0})
    add("model_runs", {"run_id": run_id, "run_at": "2026-01-01T00:20:00Z", "model_version": "synthetic-1",
                       "training_rows": firms, "positives": firms // 3, "features": json.dumps(["exports"]),
                       "estimator": "synthetic", "card": "Synthetic rows for tests and benchmarks."})
    for i in range(firms):
        xss = i == 0
        # "F" + 10 hex digits, unique by construction (the index), hash-looking by the prefix.
        firm_id = XSS_FIRM_ID if xss else "F" + _id("firm", seed)[:4] + f"{i:06x}"
        city, county, zip_code, lat, lon = PLACES[rng.randrange(len(PLACES))]
        name = XSS_NAME if xss else f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIX)} {i}"
        made = rng.sample(PRODUCTS, rng.randint(1, 3))
        if xss:
            made = [PRODUCTS[3]]
        exports = rng.random() < 0.45
        markets = rng.sample(MARKETS, 3)
        certs = rng.sample(CERTS, rng.randint(0, 2))
        source = SOURCES[i % 2]
        url = f"http://127.0.0.1:8101/{source}/firm/{i}"
        desc = XSS_DESCRIPTION if xss else (
            f"{name} makes {', '.join(p[0] for p in made)} in {city}, California."
            + (f" We export to {markets[0][1]} and {markets[1][1]}." if exports else "")
        )
        listing_id = _id("listing", seed, i)
        # About one firm in five has no coordinates of its own: publish places it at its ZIP.
        has_point = rng.random() > 0.2
        add("listings", {"listing_id": listing_id, "source": source, "url": url,
                         "fetched_at": "2026-01-01T00:05:00Z", "http_status": 200,
                         "content_sha256": _id("content", i) * 6, "name": name,
                         "website": f"https://example-{i}.test", "street": f"{100 + i} Main St",
                         "city": city, "state": "CA", "postal_code": zip_code, "description": desc,
                         "products": json.dumps([p[0] for p in made]), "certifications": ", ".join(certs),
                         "validation_status": "ok", "problems": "[]", "crawl_run_id": crawl_run})
        add("firms", {"firm_id": firm_id, "name": name, "name_key": name.lower(),
                      "website": f"https://example-{i}.test", "domain": f"example-{i}.test",
                      "street": f"{100 + i} Main St", "city": city, "state": "CA", "postal_code": zip_code,
                      "county": county,
                      "latitude": lat + rng.uniform(-0.05, 0.05) if has_point else None,
                      "longitude": lon + rng.uniform(-0.05, 0.05) if has_point else None,
                      "phone": f"+1213555{i % 10000:04d}", "description": desc,
                      "products_text": json.dumps([p[0] for p in made]), "categories": "[]",
                      "certifications": ", ".join(certs), "employees": str(rng.randint(5, 500)),
                      "year_founded": rng.randint(1950, 2020), "n_sources": 1,
                      "sources": json.dumps([source]), "source_urls": json.dumps([url]), "in_california": 1})
        add("firm_listings", {"firm_id": firm_id, "listing_id": listing_id, "match_rule": "first",
                              "match_score": 1.0})
        for j, (product, hs4, hs6) in enumerate(made):
            product_id = "P" + _id(firm_id, j)
            surface = "<b>plastic</b> containers<script>window.__xss = 3</script>" if xss else product
            sentence = f"{name} makes {surface} in {city}." if not xss else XSS_DESCRIPTION
            add("products", {"product_id": product_id, "firm_id": firm_id, "product": product,
                             "surface": surface, "sentence": sentence, "source_url": url, "method": "product_list"})
            confidence = round(rng.uniform(0.35, 0.97), 2)
            alt = PRODUCTS[(PRODUCTS.index((product, hs4, hs6)) + 1) % len(PRODUCTS)]
            for rank, (h4, h6, conf) in enumerate([(hs4, hs6, confidence), (alt[1], alt[2], round(confidence / 3, 2))], 1):
                add("hs_hints", {"hint_id": "H" + _id(product_id, rank), "product_id": product_id,
                                 "firm_id": firm_id, "rank": rank, "hs6": h6, "hs4": h4, "hs2": h4[:2],
                                 "hs_edition": "HS2022", "confidence": conf, "uncertain": int(conf < 0.5),
                                 "method": "synthetic", "explanation": f"synthetic hint for '{product}'"})
        if exports:
            for k in range(2):
                add("signals", {"signal_id": "S" + _id(firm_id, "m", k), "firm_id": firm_id,
                                "kind": "export_market", "value": markets[k][1], "country_iso3": markets[k][0],
                                "negated": 0, "sentence": f"We export to {markets[0][1]} and {markets[1][1]}.",
                                "source_url": url})
        for k, cert in enumerate(certs):
            add("signals", {"signal_id": "S" + _id(firm_id, "c", k), "firm_id": firm_id, "kind": "certification",
                            "value": cert, "negated": 0, "sentence": f"Certified {cert}.", "source_url": url})
        score = round(min(100.0, max(0.0, rng.gauss(62 if exports else 38, 15))), 1)
        band = band_of(score)
        add("scores", {"firm_id": firm_id, "score": score, "band": band,
                       "band_sentence": f"{band} export fit (score {score} of 100).",
                       "probability": round(score / 100, 3), "readiness": score, "market_fit": round(score * 0.9, 1),
                       "low_confidence": int(rng.random() < 0.1), "model_version": "synthetic-1", "run_id": run_id})
        reasons = [("exports", 12.5 if exports else -8.0,
                    "The firm says it already exports." if exports else "No export evidence was found."),
                   ("hs_chapter_port_value", 6.1, f"Its products' HS chapter {made[0][1][:2]} ships through the port."),
                   ("certifications", 2.0 * len(certs), f"{len(certs)} certifications found.")]
        for rank, (feature, contribution, sentence) in enumerate(reasons, 1):
            cites = {"cites_table": "hs_chapters", "cites_key": json.dumps({"code": made[0][1][:2]}),
                     "cites_column": "description"} if feature == "hs_chapter_port_value" else {}
            add("score_reasons", {"firm_id": firm_id, "rank": rank, "feature": feature,
                                  "contribution": contribution, "sentence": sentence, "source": url, **cites})
        for rank, (iso3, country) in enumerate(markets, 1):
            add("market_suggestions", {"firm_id": firm_id, "rank": rank, "partner_iso3": iso3, "country": country,
                                       "hs_code": made[0][1][:2], "hs_level": 2,
                                       "port_value_usd": 1e8 / rank, "us_value_usd": 1e9 / rank,
                                       "port_share": 0.1, "year": 2024,
                                       "source": "census_porths:2704_los_angeles:CNT_VAL_YR",
                                       "sentence": f"{country} bought ${100 / rank:.0f}M of chapter {made[0][1][:2]} "
                                                   "through the Port of LA in 2024."})
    _reference_rows(add)
    for table in TABLES:
        flush(table)
    conn.commit()
    conn.close()
    return counts


def published_synthetic(folder, firms: int = 60, seed: int = 7) -> Path:
    """Populate ``folder/work.db`` and publish it to ``folder/export_finder.db``; return that path."""
    from .publish import publish

    folder = Path(folder)
    populate(folder / "work.db", firms=firms, seed=seed)
    out = folder / "export_finder.db"
    publish(folder / "work.db", out)
    return out
