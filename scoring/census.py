"""Live loader for the US Census Bureau's international trade API (exports by port and by HS).

Why: the shared file holds HS chapters only; the API also answers at HS4 and HS6, and for
later years. Two endpoints, each asked once per commodity:

- ``timeseries/intltrade/exports/porths`` with ``PORT=2704`` (Los Angeles, CA): the port's
  containerized vessel exports by destination (``CNT_VAL_YR``);
- ``timeseries/intltrade/exports/hs``: all US ports, containerized (``CNT_VAL_YR``) and air
  (``AIR_VAL_YR``) exports by destination.

The API answers a JSON array of arrays: the first row is the header (the ``get`` variables, then
the predicates such as ``E_COMMODITY``, ``COMM_LVL``, ``time``), every value a string. Census
groupings (``CTY_CODE`` starting with 0, such as the EU, and ``-``, the total for all countries)
are skipped and counted; a country name that matches no ISO 3166 code is rejected with its
reason, never guessed. This module is used only when a network is there; tests serve responses
in the API's own shape from a server on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import unicodedata

import httpx
import pycountry

API_BASE = "https://api.census.gov/data/timeseries/intltrade/exports"
LA_PORT = "2704"
SOURCES = {
    "port_la_containerized": "census_porths:2704_los_angeles:CNT_VAL_YR",
    "us_containerized": "census_hs:all_us_ports:CNT_VAL_YR",
    "us_air": "census_hs:all_us_ports:AIR_VAL_YR",
}
# Census country names that differ from every name pycountry knows.
CENSUS_NAMES = {
    "KOREA, SOUTH": "KOR",
    "KOREA, NORTH": "PRK",
    "BURMA": "MMR",
    "RUSSIA": "RUS",
    "VIETNAM": "VNM",
    "TAIWAN": "TWN",
    "LAOS": "LAO",
    "IRAN": "IRN",
    "SYRIA": "SYR",
    "BOLIVIA": "BOL",
    "VENEZUELA": "VEN",
    "TANZANIA": "TZA",
    "MOLDOVA": "MDA",
    "MACEDONIA": "MKD",
    "NORTH MACEDONIA": "MKD",
    "CZECH REPUBLIC": "CZE",
    "TURKEY": "TUR",
    "BRUNEI": "BRN",
    "CAPE VERDE": "CPV",
    "SWAZILAND": "SWZ",
    "MICRONESIA": "FSM",
    "VATICAN CITY": "VAT",
    "DENMARK, EXCEPT GREENLAND": "DNK",
    "KOSOVO": "XKX",
    "GAZA STRIP ADMINISTERED BY ISRAEL": "PSE",
    "WEST BANK ADMINISTERED BY ISRAEL": "PSE",
    "FALKLAND ISLANDS (ISLAS MALVINAS)": "FLK",
    "CONGO, DEMOCRATIC REPUBLIC OF THE CONGO": "COD",
    "CONGO, REPUBLIC OF THE CONGO": "COG",
    "ST KITTS AND NEVIS": "KNA",
    "ST LUCIA": "LCA",
    "ST VINCENT AND THE GRENADINES": "VCT",
    "MACAU": "MAC",
    "HONG KONG": "HKG",
}


class CensusAPIError(Exception):
    """The API answered something other than its JSON table; the message quotes it."""


def _plain(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(text.upper().split())


@functools.cache
def _name_index() -> dict[str, str]:
    """Every ISO 3166 name pycountry knows (name, official, common), accents removed -> alpha-3."""
    index = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                index.setdefault(_plain(value), c.alpha_3)
    return index


def iso3_for(census_name: str) -> str | None:
    """ISO 3166 alpha-3 for a Census country name, or None (an exact name match, never a guess)."""
    plain = _plain(census_name)
    return CENSUS_NAMES.get(plain) or _name_index().get(plain)


def parse_table(payload) -> list[dict]:
    """The API's array of arrays -> a list of dicts keyed by the header row."""
    if payload is None:
        return []
    if not isinstance(payload, list) or not payload or not isinstance(payload[0], list):
        raise CensusAPIError(f"not a Census API table: {str(payload)[:200]}")
    header = payload[0]
    return [dict(zip(header, row)) for row in payload[1:]]


def _get(client: httpx.Client, url: str, params: dict) -> list[dict]:
    try:
        response = client.get(url, params=params)
    except httpx.HTTPError as exc:  # no network, DNS, timeout: say which URL and why
        raise CensusAPIError(f"{url} could not be reached: {exc}") from exc
    if response.status_code == 204:  # the API's answer when nothing matches
        return []
    if response.status_code != 200:
        raise CensusAPIError(f"{response.request.url} answered {response.status_code}: {response.text[:200]}")
    try:
        return parse_table(response.json())
    except json.JSONDecodeError as exc:
        raise CensusAPIError(f"{response.request.url} did not answer JSON: {response.text[:200]}") from exc


def fetch_trade_flows(year: int = 2024, commodities=None, level: int = 2, base_url: str = API_BASE, client: httpx.Client | None = None, api_key: str | None = None) -> tuple[list[dict], list[dict], dict]:
    """Fetch the port's and all US ports' exports by destination for each commodity.

    ``commodities``: the HS codes to ask for at ``level`` digits (default: chapters 01-97).
    Returns ``(trade_flows rows, rejected rows, counts)``, ready for
    :func:`scoring.refdata.load_refdata` (``flows=``).
    """
    if commodities is None:
        commodities = [f"{i:02d}" for i in range(1, 98) if i != 77]
    own_client = client is None
    client = client or httpx.Client(timeout=60.0)
    retrieved = dt.date.today().isoformat()
    flows, rejected = [], []
    counts = {"requests": 0, "aggregates_skipped": 0}
    common = {"COMM_LVL": f"HS{level}", "time": f"{year}-12"}
    if api_key:
        common["key"] = api_key
    try:
        for code in commodities:
            port_rows = _get(client, f"{base_url}/porths", {"get": "CNT_VAL_YR,CTY_CODE,CTY_NAME,PORT,PORT_NAME", "E_COMMODITY": code, "PORT": LA_PORT, **common})
            us_rows = _get(client, f"{base_url}/hs", {"get": "CNT_VAL_YR,AIR_VAL_YR,CTY_CODE,CTY_NAME", "E_COMMODITY": code, **common})
            counts["requests"] += 2
            for rows, measures, endpoint in ((port_rows, {"CNT_VAL_YR": "port_la_containerized"}, "porths"), (us_rows, {"CNT_VAL_YR": "us_containerized", "AIR_VAL_YR": "us_air"}, "hs")):
                for n, raw in enumerate(rows):
                    cty = str(raw.get("CTY_CODE", "")).strip()
                    name = str(raw.get("CTY_NAME", "")).strip()
                    if cty.startswith("0") or cty in ("-", "") or name.upper().startswith("TOTAL"):
                        counts["aggregates_skipped"] += 1
                        continue
                    iso3 = iso3_for(name)
                    if iso3 is None:
                        rejected.append({"row_key": f"census:{endpoint}:{code}:{n}", "raw": json.dumps(raw), "reason": f"CTY_NAME: {name!r} matches no ISO 3166 country"})
                        continue
                    for variable, measure in measures.items():
                        value = raw.get(variable)
                        try:
                            number = float(value)
                        except (TypeError, ValueError):
                            rejected.append({"row_key": f"census:{endpoint}:{code}:{n}:{variable}", "raw": json.dumps(raw), "reason": f"{variable}: {value!r} is not a number"})
                            continue
                        if number == 0:
                            continue  # as in the shared file: no value recorded
                        flows.append(
                            {
                                "year": year,
                                "partner_iso3": iso3,
                                "country": _country(iso3),
                                "hs_level": level,
                                "hs_code": str(raw.get("E_COMMODITY", code)).zfill(level),
                                "measure": measure,
                                "value_usd": number,
                                "source": SOURCES[measure],
                                "retrieved": retrieved,
                            }
                        )
    finally:
        if own_client:
            client.close()
    flows = _sum_duplicates(flows)
    counts.update({"rows": len(flows), "rejected": len(rejected)})
    return flows, rejected, counts


def _country(iso3: str) -> str:
    from .refdata import country_name

    return country_name(iso3) or iso3


def _sum_duplicates(flows: list[dict]) -> list[dict]:
    """Two Census names for one ISO code (Gaza and the West Bank: PSE) are summed, as in the file."""
    merged: dict[tuple, dict] = {}
    for f in flows:
        key = (f["year"], f["partner_iso3"], f["hs_level"], f["hs_code"], f["measure"])
        if key in merged:
            merged[key]["value_usd"] += f["value_usd"]
        else:
            merged[key] = dict(f)
    return list(merged.values())


def load_from_census(work_db, year: int = 2024, commodities=None, level: int = 2, base_url: str | None = None, client=None, api_key=None) -> dict:
    """Fetch from the API and load every reference table with those figures.

    ``base_url`` defaults to ``$EXPORT_FINDER_CENSUS_API`` or the Census API itself;
    ``api_key`` to ``$CENSUS_API_KEY`` (the API answers up to 500 calls a day without one).
    """
    import os

    from .refdata import load_refdata

    base_url = base_url or os.environ.get("EXPORT_FINDER_CENSUS_API") or API_BASE
    api_key = api_key or os.environ.get("CENSUS_API_KEY")

    flows, rejected, counts = fetch_trade_flows(year, commodities if level == 2 else None, 2, base_url, client, api_key)
    if level > 2:
        # Chapters first (every firm falls back to its chapter), then the finer codes: by
        # default every heading or subheading of HS 2022 (thousands of calls: set an API key).
        if commodities is None:
            from nlp.hs.nomenclature import load_nomenclature

            name = {4: "heading", 6: "subheading"}[level]
            commodities = [r["code"] for r in load_nomenclature() if str(r["level"]) in (name, str(level))]
        finer, finer_rejected, finer_counts = fetch_trade_flows(year, commodities, level, base_url, client, api_key)
        flows, rejected = flows + finer, rejected + finer_rejected
        counts = {k: counts.get(k, 0) + finer_counts.get(k, 0) for k in set(counts) | set(finer_counts)}
    summary = load_refdata(work_db, flows=flows, rejected=rejected, loaded_from=f"{base_url} (porths, hs; {year}, HS{level})", retrieved=dt.date.today().isoformat())
    summary["census"] = counts
    return summary
