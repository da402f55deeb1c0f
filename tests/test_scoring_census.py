"""The Census API loader, on responses in the API's own JSON shape built from the shared file's
rows and served from 127.0.0.1 (tests never leave the machine)."""

from __future__ import annotations

import csv
import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import httpx
import pycountry
import pytest

from export_finder.schema import open_work_db
from scoring.census import CENSUS_NAMES, CensusAPIError, fetch_trade_flows, iso3_for, load_from_census, parse_table

CHAPTERS = ("08", "84", "39")
MEASURE = {
    "census_porths:2704_los_angeles:CNT_VAL_YR": "port_la_containerized",
    "census_porths:all_us_ports:CNT_VAL_YR": "us_containerized",
    "census_porths:all_us_ports:AIR_VAL_YR": "us_air",
}
CENSUS_NAME_OF = {iso3: name for name, iso3 in CENSUS_NAMES.items() if iso3 != "PSE"}


def census_name(iso3: str) -> str:
    """A country as the Census API writes it: upper case, Census's own short forms."""
    if iso3 in CENSUS_NAME_OF:
        return CENSUS_NAME_OF[iso3]
    if iso3 == "PSE":
        return "WEST BANK ADMINISTERED BY ISRAEL"
    return pycountry.countries.get(alpha_3=iso3).name.upper()


@pytest.fixture(scope="module")
def figures(shared_data):
    out = defaultdict(dict)  # (chapter, iso3) -> measure -> value
    with open(shared_data / "trade_by_hs_partner.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["hs_code"] in CHAPTERS:
                out[(row["hs_code"], row["partner_iso3"])][MEASURE[row["source"]]] = float(row["value_usd"])
    return out


def api_tables(figures):
    """The two endpoints' answers per chapter, header first, every value a string, with the
    groupings and total rows the real API mixes in."""
    porths, hs = {}, {}
    for chapter in CHAPTERS:
        cells = {iso3: m for (c, iso3), m in figures.items() if c == chapter}
        port = [["CNT_VAL_YR", "CTY_CODE", "CTY_NAME", "PORT", "PORT_NAME", "E_COMMODITY", "PORT", "COMM_LVL", "time"]]
        us = [["CNT_VAL_YR", "AIR_VAL_YR", "CTY_CODE", "CTY_NAME", "E_COMMODITY", "COMM_LVL", "time"]]
        for n, (iso3, m) in enumerate(sorted(cells.items())):
            code = str(1000 + 10 * n)
            if "port_la_containerized" in m:
                port.append([str(int(m["port_la_containerized"])), code, census_name(iso3), "2704", "LOS ANGELES, CA", chapter, "2704", "HS2", "2024-12"])
            if "us_containerized" in m or "us_air" in m:
                us.append([str(int(m.get("us_containerized", 0))), str(int(m.get("us_air", 0))), code, census_name(iso3), chapter, "HS2", "2024-12"])
        port_total = sum(m.get("port_la_containerized", 0) for m in cells.values())
        port.append([str(int(port_total)), "-", "TOTAL FOR ALL COUNTRIES", "2704", "LOS ANGELES, CA", chapter, "2704", "HS2", "2024-12"])
        us.append(["12345", "678", "0003", "EUROPEAN UNION", chapter, "HS2", "2024-12"])
        us.append(["1", "1", "9999", "ATLANTIS", chapter, "HS2", "2024-12"])
        porths[chapter], hs[chapter] = port, us
    return porths, hs


@pytest.fixture(scope="module")
def census_server(figures):
    porths, hs = api_tables(figures)
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            seen.append((url.path, q))
            tables = porths if url.path.endswith("/porths") else hs if url.path.endswith("/hs") else None
            if tables is None or q.get("E_COMMODITY") not in tables:
                self.send_response(204)
                self.end_headers()
                return
            body = json.dumps(tables[q["E_COMMODITY"]]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/data/timeseries/intltrade/exports", seen
    server.shutdown()
    server.server_close()


def test_fetch_reads_the_api_shape_back_to_the_file_figures(census_server, figures):
    base, seen = census_server
    flows, rejected, counts = fetch_trade_flows(2024, commodities=list(CHAPTERS) + ["97"], base_url=base)
    got = {(f["hs_code"], f["partner_iso3"], f["measure"]): f["value_usd"] for f in flows}
    expected = {(c, iso3, m): v for (c, iso3), ms in figures.items() for m, v in ms.items()}
    assert got == expected
    assert counts["aggregates_skipped"] == 2 * len(CHAPTERS)
    assert [json.loads(r["raw"])["CTY_NAME"] for r in rejected] == ["ATLANTIS"] * len(CHAPTERS)
    port_requests = [q for path, q in seen if path.endswith("/porths")]
    assert all(q["PORT"] == "2704" and q["COMM_LVL"] == "HS2" and q["time"] == "2024-12" and "CNT_VAL_YR" in q["get"] for q in port_requests)
    assert {q["E_COMMODITY"] for path, q in seen if path.endswith("/hs")} >= set(CHAPTERS) | {"97"}


def test_load_from_census_fills_the_reference_tables(census_server, figures, tmp_path):
    base, _ = census_server
    summary = load_from_census(tmp_path / "w.db", commodities=list(CHAPTERS), base_url=base)
    db = open_work_db(tmp_path / "w.db")
    assert summary["trade_source"] == "census_api" and summary["trade_flows_rejected"] == len(CHAPTERS)
    jpn = db["chapter_markets"].get((2024, "08", "JPN"))
    assert jpn["port_value_usd"] == figures[("08", "JPN")]["port_la_containerized"]
    assert jpn["port_share"] == pytest.approx(figures[("08", "JPN")]["port_la_containerized"] / figures[("08", "JPN")]["us_containerized"])
    assert {r["hs_code"] for r in db["chapter_trade"].rows} == set(CHAPTERS)
    assert db.execute("select count(*) from trade_flows where retrieved is null or source is null").fetchone()[0] == 0


def test_census_names_map_to_iso_without_guessing():
    assert iso3_for("KOREA, SOUTH") == "KOR" and iso3_for("Japan") == "JPN" and iso3_for("CÔTE D'IVOIRE") == "CIV"
    assert iso3_for("ATLANTIS") is None and iso3_for("EUROPEAN UNION") is None


def test_api_errors_are_named():
    def answer(request):
        if "porths" in request.url.path:
            return httpx.Response(500, text="Internal error: unknown variable CNT_VAL_YR")
        return httpx.Response(204)

    client = httpx.Client(transport=httpx.MockTransport(answer))
    with pytest.raises(CensusAPIError, match="answered 500"):
        fetch_trade_flows(commodities=["08"], base_url="http://census.test", client=client)
    with pytest.raises(CensusAPIError, match="not a Census API table"):
        parse_table({"error": "bad"})
    assert parse_table(None) == []


def test_no_network_is_a_named_error():
    def refuse(request):
        raise httpx.ConnectError("network unreachable", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    with pytest.raises(CensusAPIError, match="could not be reached"):
        fetch_trade_flows(commodities=["08"], base_url="http://census.test", client=client)


def test_cli_refdata_from_census(census_server, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from export_finder.cli import cli

    base, _ = census_server
    monkeypatch.setenv("EXPORT_FINDER_CENSUS_API", base)
    result = CliRunner().invoke(cli, ["refdata", "--work-db", str(tmp_path / "w.db"), "--from-census", "--year", "2024"])
    # the fake API knows only three chapters; the other 93 answer "no content", as the real one does for empty queries
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["census"]["requests"] == 2 * 96
    assert {r["hs_code"] for r in open_work_db(tmp_path / "w.db")["chapter_trade"].rows} == set(CHAPTERS)


def test_heading_level_load_keeps_the_chapters(census_server, figures, tmp_path):
    """Asked for headings, the loader also loads chapters, so firms can fall back to them."""
    base, seen = census_server
    summary = load_from_census(tmp_path / "w.db", level=4, commodities=["0802"], base_url=base)
    db = open_work_db(tmp_path / "w.db")
    assert summary["trade_source"] == "census_api"
    assert {r["hs_code"] for r in db["chapter_trade"].rows} == set(CHAPTERS)  # the fake API has no 0802
    assert any(q.get("COMM_LVL") == "HS4" and q.get("E_COMMODITY") == "0802" for _, q in seen)
