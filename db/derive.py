"""Derived columns, the ``opportunities`` table and the views of the published database.

Why derive at all: a person facets firms by county, HS chapter and score band on one page.
Those facts live in four tables; joining them on every page of 400,000 firms is what made
the faceted page take seconds in STACK.md's measurements. Publishing them once, on one row per
firm with composite indexes, makes the page fast. Every derived value keeps its nature visible:
``hs_chapter`` comes with ``hs_chapter_confidence`` (a guess), ``location_precision`` says
whether the point is the firm's own or its ZIP centroid.
"""

from __future__ import annotations

import json
import re

import sqlite_utils

# The Port of Los Angeles (San Pedro Bay, the port's main container terminals), as a point.
PORT_OF_LA = (33.7406, -118.2712)

CERT_SPLIT = re.compile(r"[,;/|\n]+")


# Columns the published tables have beyond the working-database contract.
EXTRA_COLUMNS: dict[str, dict[str, type]] = {
    "firms": {
        "hs_chapter": str,  # chapter of the firm's best HS hint: a guess
        "hs_chapter_confidence": float,
        "top_products": str,
        "certification_list": str,  # JSON list, for an array facet
        "found_in": str,  # the sources, sorted and joined: a cheap scalar facet
        "location_precision": str,  # "address" | "zip_centroid"
        "km_to_port_la": float,
    },
}


def add_firm_columns(db: sqlite_utils.Database) -> None:
    """Fill the derived directory columns of ``firms`` (NULL where upstream found nothing)."""

    # Best HS hint of the firm: certain hints first, then the most confident.
    db.execute(
        """
        UPDATE firms SET (hs_chapter, hs_chapter_confidence) = (
            SELECT h.hs2, h.confidence FROM hs_hints h
            WHERE h.firm_id = firms.firm_id AND h.rank = 1 AND h.hs2 IS NOT NULL
            ORDER BY coalesce(h.uncertain, 0), h.confidence DESC LIMIT 1
        )
        """
    )
    # Products the extract stage recognised; the listing's own product list when it found none.
    # "; " between them: a product name may itself hold commas ("masks, ear loop, 50/box").
    db.execute(
        """
        UPDATE firms SET top_products = coalesce(
            (SELECT group_concat(product, '; ') FROM (
                SELECT DISTINCT p.product FROM products p WHERE p.firm_id = firms.firm_id
                AND p.product IS NOT NULL LIMIT 8)),
            CASE WHEN json_valid(firms.products_text) THEN
                (SELECT group_concat(value, '; ') FROM (
                    SELECT DISTINCT j.value FROM json_each(firms.products_text) j
                    WHERE j.type = 'text' LIMIT 8))
            END
        )
        """
    )
    _certification_lists(db)
    db.execute(
        """
        UPDATE firms SET found_in = CASE
            WHEN json_valid(sources) AND json_type(sources) = 'array' THEN
                (SELECT group_concat(value, ', ') FROM (
                    SELECT DISTINCT value FROM json_each(firms.sources) ORDER BY value))
            ELSE sources END
        """
    )

    db.execute(
        """
        UPDATE firms SET location_precision = CASE
            WHEN latitude IS NOT NULL AND longitude IS NOT NULL THEN 'address' END
        """
    )
    db.execute(
        """
        UPDATE firms SET latitude = z.latitude, longitude = z.longitude,
                         location_precision = 'zip_centroid'
        FROM zip_centroids z
        WHERE (firms.latitude IS NULL OR firms.longitude IS NULL)
          AND z.zip = substr(firms.postal_code, 1, 5)
        """
    )
    # One spelling of a county for the facet: "Los Angeles", as zip_centroids has it.
    db.execute(
        "UPDATE firms SET county = trim(substr(county, 1, length(county) - 7)) WHERE county LIKE '% County'"
    )
    db.execute(
        """
        UPDATE firms SET county = z.county FROM zip_centroids z
        WHERE coalesce(firms.county, '') = '' AND z.zip = substr(firms.postal_code, 1, 5)
        """
    )
    db.conn.create_function("ef_km_to_port", 2, _km_to_port, deterministic=True)
    db.execute(
        "UPDATE firms SET km_to_port_la = round(ef_km_to_port(latitude, longitude), 1) "
        "WHERE latitude IS NOT NULL AND longitude IS NOT NULL"
    )


def _km_to_port(lat, lon):
    from .publish import haversine_km

    if lat is None or lon is None:
        return None
    return haversine_km(float(lat), float(lon), *PORT_OF_LA)


def _certification_lists(db: sqlite_utils.Database) -> None:
    """One JSON list per firm: certifications the extract stage found, else the listing's text."""
    found: dict[str, list[str]] = {}
    for firm_id, value in db.execute(
        "SELECT firm_id, value FROM signals WHERE kind = 'certification' AND coalesce(negated, 0) = 0 "
        "AND value IS NOT NULL ORDER BY firm_id, value"
    ).fetchall():
        found.setdefault(firm_id, [])
        if value.strip() and value.strip() not in found[firm_id]:
            found[firm_id].append(value.strip())
    for firm_id, text in db.execute(
        "SELECT firm_id, certifications FROM firms WHERE certifications IS NOT NULL AND certifications != ''"
    ).fetchall():
        if firm_id in found:
            continue
        items = []
        parsed = None
        if text.lstrip().startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
        for part in parsed if isinstance(parsed, list) else CERT_SPLIT.split(text):
            part = str(part).strip()
            if part and part not in items:
                items.append(part)
        if items:
            found[firm_id] = items
    updates = [(json.dumps(sorted(v)), k) for k, v in found.items()]
    begin = not db.conn.in_transaction
    if begin:
        db.conn.execute("BEGIN")  # one transaction, not one per row in autocommit mode
    db.conn.executemany("UPDATE firms SET certification_list = ? WHERE firm_id = ?", updates)
    if begin:
        db.conn.execute("COMMIT")


def _keys(db: sqlite_utils.Database, keys: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The foreign keys whose target table exists (labels in facets and rows)."""
    return [k for k in keys if db[k[1]].exists()]


def build_firm_certifications(db: sqlite_utils.Database) -> None:
    """One row per firm and certification, with the sentence it was read from when known.

    Why a table: an array facet on ``firms`` makes SQLite de-duplicate every matching row
    whole; at 400,000 firms it took 1-2 s a page (docs/publish.md). A narrow table facets in
    milliseconds and each row links to the firm.
    """
    # The unary plus below keeps the planner on signals(firm_id, kind): without statistics
    # it chose (kind, value), one scan of every certification per row (hours at 400k firms).
    db["firm_certifications"].create(
        {"firm_id": str, "certification": str, "county": str, "hs_chapter": str,
         "sentence": str, "source_url": str},
        pk=("firm_id", "certification"),
        foreign_keys=_keys(db, [("firm_id", "firms", "firm_id"), ("hs_chapter", "hs_chapters", "code")]),
        replace=True,
    )
    db.execute(
        """
        INSERT OR IGNORE INTO firm_certifications (firm_id, certification, county, hs_chapter)
        SELECT f.firm_id, j.value, f.county, f.hs_chapter
        FROM firms f JOIN json_each(f.certification_list) j
        WHERE f.certification_list IS NOT NULL AND json_valid(f.certification_list)
        """
    )
    db.execute(
        """
        UPDATE firm_certifications SET (sentence, source_url) = (
            SELECT s.sentence, s.source_url FROM signals s
            WHERE s.firm_id = firm_certifications.firm_id AND +s.kind = 'certification'
              AND +s.value = firm_certifications.certification AND coalesce(s.negated, 0) = 0
            LIMIT 1)
        """
    )


def build_opportunities(db: sqlite_utils.Database) -> None:
    """One row per scored firm: what the staff's faceted page needs, with no join."""
    db["opportunities"].create(
        {
            "firm_id": str,
            "name": str,
            "city": str,
            "county": str,
            "hs_chapter": str,
            "hs_chapter_confidence": float,
            "top_products": str,
            "score": float,
            "band": str,
            "readiness": float,
            "market_fit": float,
            "low_confidence": int,
            "top_market_iso3": str,
            "top_market": str,
            "latitude": float,
            "longitude": float,
        },
        pk="firm_id",
        foreign_keys=_keys(db, [("firm_id", "firms", "firm_id"), ("hs_chapter", "hs_chapters", "code"),
                                ("top_market_iso3", "countries", "iso3")]),
        replace=True,
    )
    db.execute(
        """
        INSERT INTO opportunities
        SELECT s.firm_id, f.name, f.city, f.county, f.hs_chapter, f.hs_chapter_confidence,
               f.top_products, s.score, s.band, s.readiness, s.market_fit, s.low_confidence,
               m.partner_iso3, m.country, f.latitude, f.longitude
        FROM scores s
        JOIN firms f ON f.firm_id = s.firm_id
        LEFT JOIN market_suggestions m ON m.firm_id = s.firm_id AND m.rank = (
            SELECT min(rank) FROM market_suggestions m2 WHERE m2.firm_id = s.firm_id)
        """
    )


# The columns of the canned query "Score distribution by county", in its order.
DISTRIBUTION_SQL = """
    SELECT county, count(*) AS firms, round(avg(score), 1) AS mean_score,
           min(score) AS min_score, max(score) AS max_score,
           sum(band = 'Very high') AS very_high, sum(band = 'High') AS high,
           sum(band = 'Medium') AS medium, sum(band = 'Low') AS low,
           sum(band = 'Very low') AS very_low
    FROM opportunities
    WHERE county IS NOT NULL
    GROUP BY county
"""


def build_county_score_distribution(db: sqlite_utils.Database) -> None:
    """``county_score_distribution``: the canned query's answer, aggregated once at publish.

    Why: the aggregate reads every ``opportunities`` row (654 ms per call at 400,000 firms)
    and a published database never changes, so computing it on each request was pure waste;
    under 50 clients it passed the SQL time limit. The canned query now reads this small
    table (one row per county). Staff-only under ``--restricted`` like its source (a county
    with one scored firm would show that firm's score as min and max).
    """
    db["county_score_distribution"].create(
        {
            "county": str,
            "firms": int,
            "mean_score": float,
            "min_score": float,
            "max_score": float,
            "very_high": int,
            "high": int,
            "medium": int,
            "low": int,
            "very_low": int,
        },
        pk="county",
        replace=True,
    )
    db.execute(f"INSERT INTO county_score_distribution {DISTRIBUTION_SQL}")
    db["county_score_distribution"].create_index(["firms"], if_not_exists=True)


FACET_COUNTS_TYPE = "counted"  # the metadata facet type served from facet_counts (db/plugins/facet_counts.py)


def default_facets(metadata: dict) -> dict[str, list[str]]:
    """Each table's default facet columns as ``db/metadata.yml`` declares them (plain or ``counted``)."""
    found: dict[str, list[str]] = {}
    for database in (metadata.get("databases") or {}).values():
        for table, config in ((database or {}).get("tables") or {}).items():
            for facet in (config or {}).get("facets") or []:
                if isinstance(facet, str):
                    column = facet
                elif isinstance(facet, dict) and len(facet) == 1 and (
                        next(iter(facet)) in ("column", FACET_COUNTS_TYPE)):
                    column = next(iter(facet.values()))
                    column = column if isinstance(column, str) else column.get("column") or column.get("simple")
                else:
                    continue  # array and date facets are computed live
                found.setdefault(table, []).append(column)
    return found


def build_facet_counts(db: sqlite_utils.Database, facets: dict[str, list[str]]) -> int:
    """``facet_counts``: every default facet of every table over the whole table, counted once.

    Why: a table page with no filter facets every row. At 400,000 firms each of the
    directory's three facets was a full scan of a covering index (~30 ms each, the page's p95
    109 ms, the one page that missed its target), repeated on every visit to the landing page
    of a file that never changes. ``db/plugins/facet_counts.py`` answers those facets from this
    table when the page has no filter (any filter, search or ``_next`` page is counted live).
    NULL values are counted too (value NULL), so a column whose values are all NULL is still
    known to be counted; the facet leaves them out as Datasette's does. ``table_rows`` lets the
    plugin check the counts belong to the table it serves.
    """
    db.execute("DROP TABLE IF EXISTS facet_counts")
    db.execute(
        "CREATE TABLE facet_counts (table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
        "value, count INTEGER NOT NULL, table_rows INTEGER NOT NULL)"  # value untyped: keeps each type
    )
    rows = 0
    for table, columns in facets.items():
        if not db[table].exists():
            continue
        present = set(db[table].columns_dict)
        for column in dict.fromkeys(columns):
            if column not in present:
                continue
            rows += db.execute(
                f"INSERT INTO facet_counts SELECT ?, ?, [{column}], count(*), "
                f"(SELECT count(*) FROM [{table}]) FROM [{table}] GROUP BY [{column}]",
                [table, column],
            ).rowcount
    db.execute("CREATE INDEX facet_counts_table_column ON facet_counts (table_name, column_name)")
    return rows


VIEWS = {
    # Everything a person wants about a firm on one line. Scores and reasons: staff-only
    # under --restricted.
    "firm_overview": """
        SELECT f.firm_id, f.name, f.city, f.county, f.website, f.hs_chapter,
               f.hs_chapter_confidence, f.top_products, f.certification_list,
               s.score, s.band, s.band_sentence, s.low_confidence,
               (SELECT group_concat(sentence, ' | ') FROM (
                   SELECT sentence FROM score_reasons r WHERE r.firm_id = f.firm_id ORDER BY r.rank LIMIT 3)
               ) AS top_reasons,
               (SELECT group_concat(country, ', ') FROM (
                   SELECT country FROM market_suggestions m WHERE m.firm_id = f.firm_id ORDER BY m.rank LIMIT 5)
               ) AS suggested_markets,
               (SELECT count(*) FROM signals g WHERE g.firm_id = f.firm_id) AS evidence_sentences,
               f.sources, f.n_sources, f.latitude, f.longitude
        FROM firms f LEFT JOIN scores s ON s.firm_id = f.firm_id
    """,
    # Each recognised product with every HS hint (a guess, with its confidence).
    "product_hints": """
        SELECT p.product_id, p.firm_id, f.name AS firm_name, p.product, p.surface,
               h.rank, h.hs2, h.hs4, h.hs6, h.hs_edition, h.confidence, h.uncertain,
               h.method AS hint_method, h.explanation, p.sentence, p.source_url
        FROM products p
        JOIN firms f ON f.firm_id = p.firm_id
        LEFT JOIN hs_hints h ON h.product_id = p.product_id
    """,
    # Export evidence and facts read from text, each with its sentence and page.
    "export_evidence": """
        SELECT g.signal_id, g.firm_id, f.name AS firm_name, f.county, g.kind, g.value,
               g.country_iso3, g.negated, g.sentence, g.source_url
        FROM signals g JOIN firms f ON f.firm_id = g.firm_id
    """,
    # Suggested markets with the trade figures behind them. Staff-only under --restricted.
    "firm_markets": """
        SELECT m.firm_id, f.name AS firm_name, f.county, m.rank, m.partner_iso3, m.country,
               m.hs_code, m.hs_level, m.port_value_usd, m.us_value_usd, m.port_share, m.year,
               m.sentence, m.source
        FROM market_suggestions m JOIN firms f ON f.firm_id = m.firm_id
    """,
}


def create_views(db: sqlite_utils.Database) -> list[str]:
    for name, sql in VIEWS.items():
        db.create_view(name, sql.strip(), replace=True)
    return sorted(VIEWS)
