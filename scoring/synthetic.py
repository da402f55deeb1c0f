"""A synthetic population of firms written into the upstream tables, for tests and benchmarks.

Why: the score must be tested and timed before (and independently of) the crawl and extract
stages, and at sizes (400,000 firms) the sample sites do not reach. The rows follow the
working-database schema exactly (``firms``, ``products``, ``hs_hints``, ``signals``); whether a
firm exports is drawn from a stated model (bigger, older, certified, better-listed firms in
export-heavy industries export more), and only some exporters say so, as in life. Nothing here
is real, and nothing here is used by the score itself.
"""

from __future__ import annotations

import json
import math

import numpy as np

from export_finder.schema import ensure_table

# (chapter, product words, export effect on the log-odds)
INDUSTRIES = [
    ("84", "CNC machined pump housings", 0.6),
    ("85", "printed circuit board assemblies", 0.6),
    ("90", "surgical instruments", 0.8),
    ("39", "injection moulded plastic parts", 0.1),
    ("94", "office furniture", -0.3),
    ("73", "steel fasteners", -0.1),
    ("61", "knit t-shirts", -0.4),
    ("08", "almonds and pistachios", 0.9),
    ("22", "wine", 0.5),
    ("20", "canned tomatoes", 0.2),
    ("33", "skin care creams", 0.4),
    ("30", "dietary supplements and medicines", 0.3),
    ("87", "truck parts", 0.2),
    ("40", "nitrile gloves", 0.0),
    ("48", "corrugated boxes", -0.6),
    ("95", "toys", -0.2),
    ("76", "aluminium extrusions", 0.1),
    ("21", "sauces and food preparations", 0.1),
]
PLACES = [
    ("Los Angeles", "Los Angeles", 34.05, -118.25),
    ("Long Beach", "Los Angeles", 33.77, -118.19),
    ("Irvine", "Orange", 33.68, -117.83),
    ("Ontario", "San Bernardino", 34.06, -117.65),
    ("Riverside", "Riverside", 33.95, -117.40),
    ("San Diego", "San Diego", 32.72, -117.16),
    ("Fresno", "Fresno", 36.74, -119.79),
    ("San Jose", "Santa Clara", 37.34, -121.89),
    ("Oakland", "Alameda", 37.80, -122.27),
    ("Sacramento", "Sacramento", 38.58, -121.49),
]
CERTS = ["ISO 9001", "AS9100", "FDA registered", "ISO 13485", "UL listed", "Women-owned"]
MARKETS = ["JPN", "KOR", "CHN", "AUS", "TWN", "CAN", "MEX", "DEU", "VNM", "GBR"]


def generate_rows(n_firms: int, seed: int = 7, no_text_share: float = 0.05) -> dict[str, list[dict]]:
    """Rows for ``firms``, ``products``, ``hs_hints``, ``signals`` and the true labels."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[dict]] = {"firms": [], "products": [], "hs_hints": [], "signals": [], "truth": []}
    industry = rng.integers(0, len(INDUSTRIES), n_firms)
    place = rng.integers(0, len(PLACES), n_firms)
    employees = np.clip(np.round(np.exp(rng.normal(3.2, 1.2, n_firms))), 1, 5000).astype(int)
    founded = rng.integers(1950, 2024, n_firms)
    n_sources = 1 + rng.binomial(2, 0.3, n_firms)
    website = rng.random(n_firms) < 0.8
    no_text = rng.random(n_firms) < no_text_share
    noise = rng.normal(0, 0.5, n_firms)
    for i in range(n_firms):
        firm_id = f"S{i:09d}"
        chapter, product, effect = INDUSTRIES[industry[i]]
        city, county, lat, lon = PLACES[place[i]]
        n_cert = rng.binomial(3, min(0.9, 0.1 + 0.08 * math.log(employees[i] + 1)))
        certs = list(rng.choice(CERTS, size=n_cert, replace=False)) if n_cert else []
        age = 2024 - founded[i]
        logit = -4.2 + 0.8 * math.log(employees[i]) + 0.6 * n_cert + 0.02 * age + 1.3 * effect + 0.4 * (n_sources[i] - 1) + 0.5 * website[i] + noise[i]
        exports = rng.random() < 1 / (1 + math.exp(-logit))
        says_so = exports and rng.random() < 0.75 and not no_text[i]
        band = _band(int(employees[i]), rng)
        out["firms"].append(
            {
                "firm_id": firm_id,
                "name": f"Synthetic Firm {i}",
                "name_key": f"synthetic firm {i}",
                "website": f"https://firm{i}.example" if website[i] else None,
                "domain": f"firm{i}.example" if website[i] else None,
                "city": city,
                "state": "CA",
                "postal_code": None,
                "county": county,
                "latitude": lat + rng.normal(0, 0.05),
                "longitude": lon + rng.normal(0, 0.05),
                "description": None if no_text[i] else f"We make {product} in {city}.",
                "products_text": None if no_text[i] else json.dumps([product]),
                "certifications": ", ".join(certs) or None,
                "employees": band,
                "year_founded": int(founded[i]) if rng.random() < 0.85 else None,
                "n_sources": int(n_sources[i]),
                "sources": json.dumps(["synthetic"]),
                "in_california": 1,
            }
        )
        out["truth"].append({"firm_id": firm_id, "exports": int(exports)})
        if no_text[i]:
            continue
        pid = f"P{i:09d}"
        out["products"].append({"product_id": pid, "firm_id": firm_id, "product": product, "surface": product, "sentence": f"We make {product} in {city}.", "source_url": f"https://directory.example/firm/{i}", "method": "synthetic"})
        out["hs_hints"].append({"hint_id": f"H{i:09d}", "product_id": pid, "firm_id": firm_id, "rank": 1, "hs6": None, "hs4": None, "hs2": chapter, "hs_edition": "HS2022", "confidence": float(np.round(rng.uniform(0.4, 0.95), 3)), "uncertain": 0, "method": "synthetic", "explanation": "synthetic"})
        if says_so:
            market = MARKETS[rng.integers(0, len(MARKETS))]
            out["signals"].append({"signal_id": f"X{i:09d}", "firm_id": firm_id, "kind": "export_market", "value": market, "country_iso3": market, "negated": 0, "sentence": f"We ship to customers in {market}.", "source_url": f"https://directory.example/firm/{i}"})
        elif not exports and rng.random() < 0.1:
            out["signals"].append({"signal_id": f"N{i:09d}", "firm_id": firm_id, "kind": "no_export", "value": "domestic only", "country_iso3": None, "negated": 0, "sentence": "We serve customers across California.", "source_url": f"https://directory.example/firm/{i}"})
        for c_i, cert in enumerate(certs):
            out["signals"].append({"signal_id": f"C{i:09d}{c_i}", "firm_id": firm_id, "kind": "certification", "value": cert, "country_iso3": None, "negated": 0, "sentence": f"Certified {cert}.", "source_url": f"https://directory.example/firm/{i}"})
    return out


def _band(employees: int, rng) -> str:
    """Employees as a directory writes them: a band most of the time, a number otherwise."""
    if rng.random() < 0.3:
        return str(employees)
    for low, high in ((1, 9), (10, 49), (50, 99), (100, 249), (250, 499), (500, 999)):
        if employees <= high:
            return f"{low}-{high}"
    return "1000+"


def write_population(db, n_firms: int, seed: int = 7, **kwargs) -> dict:
    """Insert a synthetic population into ``db``; return the true labels by firm."""
    rows = generate_rows(n_firms, seed=seed, **kwargs)
    with db.atomic():
        for name in ("firms", "products", "hs_hints", "signals"):
            table = ensure_table(db, name)
            if rows[name]:
                table.insert_all(rows[name], batch_size=5000, replace=True)
    return {r["firm_id"]: r["exports"] for r in rows["truth"]}
