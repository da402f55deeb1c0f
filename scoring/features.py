"""Firm features for the readiness model, and the label they must never contain.

Why here and nowhere else: the label (the firm says it exports, names markets abroad or a
distributor abroad) and the features come from the same extract stage. Keeping both in one
module, with the label's signal kinds named once (``LABEL_SIGNAL_KINDS``) and every feature's
origin declared (``FEATURE_SOURCES``), lets a test prove that no label evidence reaches the
model. The features are facts about the firm itself: size, age, certifications, how many
directories list it, website, distance to the port, what it makes.

The ``ColumnTransformer`` works on a plain numpy object array (no pandas in the stack), with
columns addressed by position in ``NUMERIC + CATEGORICAL``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

# Signals that define the label: they never enter the features.
LABEL_SIGNAL_KINDS = frozenset({"exports", "export_market", "distributor_abroad", "no_export"})
POSITIVE_SIGNAL_KINDS = frozenset({"exports", "export_market", "distributor_abroad"})

# San Pedro Bay, Port of Los Angeles (approximate centre of the port's terminals).
PORT_LAT, PORT_LON = 33.7361, -118.2631

NUMERIC = [
    "log_employees",
    "years_in_business",
    "n_certifications",
    "international_certs",
    "n_sources",
    "has_website",
    "distance_to_port_km",
    "n_products",
    "n_hs_chapters",
    "log_facility_sqft",
]
CATEGORICAL = ["hs_section", "county"]
COLUMNS = NUMERIC + CATEGORICAL

# Where each feature comes from: (table, column or signal kind). A test checks that no
# label-defining signal kind is named here, and that changing those signals changes nothing.
FEATURE_SOURCES = {
    "log_employees": [("firms", "employees"), ("signals", "employees")],
    "years_in_business": [("firms", "year_founded"), ("signals", "year_founded")],
    "n_certifications": [("firms", "certifications"), ("signals", "certification")],
    "international_certs": [("firms", "certifications"), ("signals", "certification")],
    "n_sources": [("firms", "n_sources")],
    "has_website": [("firms", "website"), ("firms", "domain")],
    "distance_to_port_km": [("firms", "latitude"), ("firms", "longitude")],
    "n_products": [("products", "product_id")],
    "n_hs_chapters": [("hs_hints", "hs2")],
    "log_facility_sqft": [("signals", "facility_size")],
    "hs_section": [("hs_hints", "hs2"), ("hs_chapters", "section")],
    "county": [("firms", "county")],
}

# Plain words for each feature, used by the reasons.
FEATURE_LABELS = {
    "log_employees": "size (employees)",
    "years_in_business": "years in business",
    "n_certifications": "certifications",
    "international_certs": "certifications to international standards (ISO, AS9100, CE ...)",
    "n_sources": "number of directories listing it",
    "has_website": "a website",
    "distance_to_port_km": "distance to the Port of LA",
    "n_products": "number of products recognised",
    "n_hs_chapters": "number of product groups (HS chapters)",
    "log_facility_sqft": "facility size",
    "hs_section": "kind of products (HS section)",
    "county": "county",
}

# Certifications to standards that buyers abroad recognise (ISO, aerospace, automotive, CE
# marking, food-safety schemes benchmarked by the Global Food Safety Initiative, halal), as
# against domestic registrations (FDA, EPA, UL, USDA organic, kosher).
INTERNATIONAL_CERT = re.compile(
    r"\b(iso\s?\d{3,5}|as\s?9100|iatf|ce\b|ce mark|nadcap|mdsap|brc|brcgs|globalg\.?a\.?p|sqf|fssc|ifs\b|halal)", re.I
)
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def parse_count(text) -> float | None:
    """Employees or square feet as written ("50-99", "about 120", "1,200+", "10k") -> a number.

    A range becomes its geometric middle, which suits sizes spread over orders of magnitude.
    """
    if text is None:
        return None
    if isinstance(text, (int, float)):
        return float(text) if text > 0 else None
    s = str(text).lower().replace("\u2013", "-")
    numbers = []
    for m in NUMBER.finditer(s):
        value = float(m.group().replace(",", ""))
        tail = s[m.end() : m.end() + 1]
        if tail == "k":
            value *= 1000
        numbers.append(value)
    numbers = [n for n in numbers if n > 0]
    if not numbers:
        return None
    if len(numbers) >= 2 and ("-" in s or " to " in s):
        return math.sqrt(numbers[0] * numbers[1])
    return numbers[0]


def split_certifications(text) -> list[str]:
    if not text:
        return []
    try:
        value = json.loads(text)
        if isinstance(value, list):
            return [str(v).strip() for v in value if str(v).strip()]
    except (TypeError, ValueError):
        pass
    return [p.strip() for p in re.split(r"[;,|/]\s*|\s+and\s+", str(text)) if p.strip()]


def _cert_key(text) -> str:
    """"FDA-registered" and "FDA registered" are one certification."""
    words = re.sub(r"[^a-z0-9.]+", " ", str(text).lower()).split()
    if words and words[-1] in ("certified", "certification", "registered", "approved", "listed"):
        words = words[:-1] or words
    return " ".join(words)


def haversine_km(lat1, lon1, lat2, lon2) -> float:
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


@dataclass
class FirmData:
    """Everything the score needs about the firms, read once from the working database."""

    firm_ids: list[str]
    X: np.ndarray  # object array, columns COLUMNS
    y: np.ndarray  # 1: export evidence found, 0: none (or says it does not export)
    has_text: np.ndarray  # bool: the firm has any description or product text
    evidence_count: np.ndarray  # int: facts the readiness part can use
    firms: dict[str, dict] = field(default_factory=dict)
    chapters: dict[str, list[dict]] = field(default_factory=dict)  # firm -> hs hints by chapter
    label_evidence: dict[str, list[dict]] = field(default_factory=dict)


def _rows(db, sql, params=()):
    return db.execute(sql, params).fetchall()


def read_firm_data(db, reference_year: int | None = None) -> FirmData:
    """Build the feature matrix and labels from ``firms``, ``products``, ``hs_hints``, ``signals``.

    Only signals whose kind is outside ``LABEL_SIGNAL_KINDS`` feed the features; the label is
    read from the others. Missing facts stay missing (NaN), to be imputed inside the Pipeline.
    """
    reference_year = reference_year or dt.date.today().year
    tables = set(db.table_names())
    firm_cols = ["firm_id", "name", "website", "domain", "county", "latitude", "longitude", "certifications", "employees", "year_founded", "n_sources", "description", "products_text", "city"]
    have = set(db["firms"].columns_dict) if "firms" in tables else set()
    select = ", ".join(c if c in have else f"NULL AS {c}" for c in firm_cols)
    firms = {}
    order = []
    for row in _rows(db, f"SELECT {select} FROM firms ORDER BY firm_id") if "firms" in tables else []:
        rec = dict(zip(firm_cols, row))
        firms[rec["firm_id"]] = rec
        order.append(rec["firm_id"])

    signals: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    label_evidence: dict[str, list[dict]] = defaultdict(list)
    if "signals" in tables:
        for firm_id, kind, value, iso3, negated, sentence, url in _rows(
            db, "SELECT firm_id, kind, value, country_iso3, negated, sentence, source_url FROM signals"
        ):
            if kind in LABEL_SIGNAL_KINDS:
                label_evidence[firm_id].append({"kind": kind, "value": value, "country_iso3": iso3, "negated": negated or 0, "sentence": sentence, "source_url": url})
            elif not negated:
                signals[firm_id][kind].append(value)

    n_products: dict[str, int] = defaultdict(int)
    if "products" in tables:
        for firm_id, n in _rows(db, "SELECT firm_id, count(*) FROM products GROUP BY firm_id"):
            n_products[firm_id] = n

    section_of = {}
    if "hs_chapters" in tables:
        section_of = {code: section for code, section in _rows(db, "SELECT code, section FROM hs_chapters")}
    chapters: dict[str, list[dict]] = defaultdict(list)
    if "hs_hints" in tables:
        have_hints = set(db["hs_hints"].columns_dict)
        product_col = "product_id" if "product_id" in have_hints else "NULL"
        products = {}
        if "products" in tables:
            products = {pid: (prod, sent, url) for pid, prod, sent, url in _rows(db, "SELECT product_id, coalesce(surface, product), sentence, source_url FROM products")}
        # All ranked guesses of one product vote for its chapter with their confidence: three
        # weak guesses in chapter 76 outweigh one weak guess in chapter 26.
        per_product: dict[tuple, list] = defaultdict(list)
        for firm_id, pid, rank, hs2, hs4, hs6, conf, uncertain in _rows(
            db, f"SELECT firm_id, {product_col}, rank, hs2, hs4, hs6, confidence, uncertain FROM hs_hints ORDER BY firm_id, {product_col}, rank"
        ):
            hs2 = (hs2 or (hs4 or hs6 or "")[:2]) or None
            if hs2:
                per_product[(firm_id, pid)].append((rank if rank is not None else 1, hs2, hs4, hs6, conf if conf is not None else 0.0, int(uncertain or 0)))
        for (firm_id, pid), guesses in per_product.items():
            chapters[firm_id].append(_product_chapter(guesses, products.get(pid, (None, None, None))))

    n = len(order)
    X = np.empty((n, len(COLUMNS)), dtype=object)
    y = np.zeros(n, dtype=int)
    has_text = np.zeros(n, dtype=bool)
    evidence = np.zeros(n, dtype=int)
    for i, firm_id in enumerate(order):
        f = firms[firm_id]
        sig = signals.get(firm_id, {})
        employees = parse_count(f["employees"])
        if employees is None:
            for v in sig.get("employees", []):
                employees = parse_count(v)
                if employees is not None:
                    break
        year = f["year_founded"]
        if not year:
            for v in sig.get("year_founded", []):
                m = re.search(r"(1[89]\d\d|20\d\d)", str(v))
                if m:
                    year = int(m.group(1))
                    break
        years = float(max(0, reference_year - int(year))) if year else np.nan
        certs = {_cert_key(c) for c in split_certifications(f["certifications"])}
        certs |= {_cert_key(v) for v in sig.get("certification", []) if v}
        certs.discard("")
        international = float(sum(1 for c in certs if INTERNATIONAL_CERT.search(c)))
        website = float(bool(f["website"] or f["domain"]))
        if f["latitude"] is not None and f["longitude"] is not None:
            distance = haversine_km(float(f["latitude"]), float(f["longitude"]), PORT_LAT, PORT_LON)
        else:
            distance = np.nan
        sqft = None
        for v in sig.get("facility_size", []):
            sqft = parse_count(v)
            if sqft:
                break
        hints = chapters.get(firm_id, [])
        confident = [h for h in hints if not h["uncertain"]] or hints
        distinct = sorted({h["hs2"] for h in confident})
        if confident:
            weight: dict[str, float] = defaultdict(float)
            for h in confident:
                weight[h["hs2"]] += h["confidence"] or 0.01
            top = sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            section = section_of.get(top) or f"chapter {top}"
        else:
            section = "none"
        X[i] = [
            math.log10(employees) if employees else np.nan,
            years,
            float(len(certs)),
            international,
            float(f["n_sources"] or 1),
            website,
            distance,
            float(n_products.get(firm_id, 0)),
            float(len(distinct)),
            math.log10(sqft) if sqft else np.nan,
            section,
            f["county"] or "unknown",
        ]
        ev = label_evidence.get(firm_id, [])
        positive = any(e["kind"] in POSITIVE_SIGNAL_KINDS and not e["negated"] for e in ev)
        y[i] = int(positive)
        has_text[i] = bool((f["description"] or "").strip() or _nonempty_json(f["products_text"]) or n_products.get(firm_id))
        evidence[i] = sum(
            [
                employees is not None,
                bool(year),
                bool(certs),
                bool(hints),
                (f["n_sources"] or 1) >= 2,
                bool(website),
                bool(sqft),
            ]
        )
    return FirmData(order, X, y, has_text, evidence, firms, dict(chapters), dict(label_evidence))


CHAPTER_SURE = 0.5  # a product's chapter is "uncertain" below this summed confidence


def _product_chapter(guesses: list[tuple], product: tuple) -> dict:
    """One product's chapter: the chapter whose guesses' confidences sum highest.

    The heading and subheading are kept only when the best-ranked guess lies in that chapter.
    The chapter counts as uncertain when the summed confidence is under ``CHAPTER_SURE`` and
    the extract stage marked its best guess in that chapter uncertain.
    """
    weight: dict[str, float] = defaultdict(float)
    for _rank, hs2, _hs4, _hs6, conf, _unc in guesses:
        weight[hs2] += conf
    guesses = sorted(guesses)
    chapter = max(weight, key=lambda c: (weight[c], -min(g[0] for g in guesses if g[1] == c)))
    best = next(g for g in guesses if g[1] == chapter)
    confidence = min(1.0, weight[chapter])
    return {
        "hs2": chapter,
        "hs4": best[2],
        "hs6": best[3],
        "confidence": confidence,
        "uncertain": int(bool(best[5]) and confidence < CHAPTER_SURE),
        "product": product[0],
        "sentence": product[1],
        "source_url": product[2],
    }


def _nonempty_json(text) -> bool:
    if not text:
        return False
    try:
        return bool(json.loads(text))
    except (TypeError, ValueError):
        return bool(str(text).strip())


def to_float(X):
    """Numeric columns arrive in an object array; the imputer wants floats."""
    return np.asarray(X, dtype=float)


def to_str(X):
    return np.asarray(X, dtype=str)


def make_column_transformer(dense: bool = False) -> ColumnTransformer:
    """Numeric: floats, median-imputed with missing-indicators, scaled. Categorical: one-hot.

    Rare categories (fewer than 10 firms) are pooled so the model does not learn one firm.
    """
    numeric_idx = list(range(len(NUMERIC)))
    categorical_idx = list(range(len(NUMERIC), len(COLUMNS)))
    numeric = Pipeline(
        [
            ("float", FunctionTransformer(to_float, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]
    )
    categorical = Pipeline(
        [
            ("str", FunctionTransformer(to_str, feature_names_out="one-to-one")),
            ("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=10, sparse_output=not dense)),
        ]
    )
    return ColumnTransformer([("num", numeric, numeric_idx), ("cat", categorical, categorical_idx)], sparse_threshold=0.0 if dense else 0.3)


def reference_row(X: np.ndarray) -> np.ndarray:
    """A "typical firm": the median of each numeric column, the most common category.

    A fact most firms do not give (facility size, often) stays unknown in the typical firm, so
    a firm is not credited or blamed for leaving out what most leave out.
    """
    ref = np.empty(len(COLUMNS), dtype=object)
    for j, name in enumerate(COLUMNS):
        col = X[:, j]
        if name in NUMERIC:
            values = np.asarray(col, dtype=float)
            known = values[~np.isnan(values)]
            ref[j] = float(np.median(known)) if known.size and known.size * 2 >= values.size else np.nan
        else:
            values, counts = np.unique(np.asarray(col, dtype=str), return_counts=True)
            ref[j] = str(values[np.argmax(counts)]) if values.size else "unknown"
    return ref
