"""Reference data: the trade figures load whole, derive correctly, and bad rows are kept."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from export_finder.cli import cli
from export_finder.schema import open_work_db
from scoring import refdata
from scoring.refdata import TradeDataMissing, load_refdata

FIELDS = ["year", "flow", "reporter_iso3", "partner_iso3", "hs_level", "hs_code", "value_usd", "source"]
PORT = "census_porths:2704_los_angeles:CNT_VAL_YR"
US_CNT = "census_porths:all_us_ports:CNT_VAL_YR"
US_AIR = "census_porths:all_us_ports:AIR_VAL_YR"


def write_csv(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for r in rows:
            writer.writerow({"year": 2024, "flow": "export", "reporter_iso3": "USA", "hs_level": 2, **r})
    return path


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory, shared_data):
    path = tmp_path_factory.mktemp("refdata") / "work.db"
    summary = load_refdata(path, from_file=shared_data / "trade_by_hs_partner.csv")
    return open_work_db(path), summary


def test_shared_file_loads_whole_with_the_readme_totals(shared_db):
    db, summary = shared_db
    assert summary["trade_flows"] == 28885 and summary["trade_flows_rejected"] == 0
    totals = dict(db.execute("select measure, sum(value_usd) from trade_flows group by measure").fetchall())
    # shared/data/README.md: $33.8 bn at port 2704, $303.2 bn containerized and $632.3 bn air, all ports
    assert round(totals["port_la_containerized"] / 1e9, 1) == 33.8
    assert round(totals["us_containerized"] / 1e9, 1) == 303.2
    assert round(totals["us_air"] / 1e9, 1) == 632.3
    assert db.execute("select count(*) from trade_flows where source is null or retrieved is null").fetchone()[0] == 0


def test_port_top_partners_match_the_readme(shared_db):
    db, _ = shared_db
    top = [r[0] for r in db.execute("select partner_iso3 from trade_flows where measure='port_la_containerized' group by partner_iso3 order by sum(value_usd) desc limit 5")]
    assert top == ["CHN", "JPN", "KOR", "AUS", "TWN"]


def test_chapter_markets_are_derived_from_the_flows(shared_db):
    db, _ = shared_db
    rows = list(db.query("select * from chapter_markets where port_value_usd > 0 order by hs_code, partner_iso3"))
    assert rows
    for r in rows[::97]:
        flows = dict(db.execute("select measure, value_usd from trade_flows where year=? and hs_level=2 and hs_code=? and partner_iso3=?", [r["year"], r["hs_code"], r["partner_iso3"]]).fetchall())
        assert r["port_value_usd"] == flows["port_la_containerized"]
        assert r["us_containerized_usd"] == flows.get("us_containerized")
        assert r["port_share"] == pytest.approx(flows["port_la_containerized"] / flows["us_containerized"])
        assert r["market_size_usd"] == pytest.approx(flows.get("us_containerized", 0) + flows.get("us_air", 0))
    # lead markets: the port's five largest destinations per chapter, by value
    chapter = db["chapter_trade"].get((2024, "08"))
    expected = [r[0] for r in db.execute("select partner_iso3 from chapter_markets where hs_code='08' and port_value_usd > 0 order by port_value_usd desc limit 5")]
    assert json.loads(chapter["lead_markets"]) == expected
    assert chapter["port_value_usd"] == pytest.approx(db.execute("select sum(value_usd) from trade_flows where hs_code='08' and measure='port_la_containerized'").fetchone()[0])


def test_other_reference_tables(shared_db):
    db, summary = shared_db
    assert summary["hs_chapters"] >= 96 and summary["hs_headings"] > 1000 and summary["hs_sections"] == 21
    chapter = db["hs_chapters"].get("08")
    assert chapter["containerisable"] == 1 and "project's own mapping" in chapter["containerisable_note"]
    assert db["hs_chapters"].get("27")["containerisable"] == 0
    assert db["countries"].get("JPN")["name"] == "Japan"
    facts = list(db["port_facts"].rows)
    assert facts and all(f["source"] and f["year"] for f in facts)
    soy = db["port_facts"].get(("top_export_commodity", "Soybeans", 2019))
    assert json.loads(soy["hs_chapters"]) == ["12"]
    run = list(db["refdata_runs"].rows)[0]
    assert run["trade_source"] == "file" and len(run["sha256"]) == 64


def test_bad_rows_are_kept_with_their_reason(tmp_path):
    path = write_csv(
        tmp_path / "trade.csv",
        [
            {"partner_iso3": "JPN", "hs_code": "08", "value_usd": 1000, "source": PORT},
            {"partner_iso3": "JPN", "hs_code": "08", "value_usd": 4000, "source": US_CNT},
            {"partner_iso3": "ZZZ", "hs_code": "08", "value_usd": 5, "source": PORT},
            {"partner_iso3": "KOR", "hs_code": "8x", "value_usd": 5, "source": PORT},
            {"partner_iso3": "KOR", "hs_code": "08", "value_usd": "n/a", "source": PORT},
            {"partner_iso3": "KOR", "hs_code": "08", "value_usd": 5, "source": "census_porths:9999:ALL_VAL_YR"},
            {"partner_iso3": "JPN", "hs_code": "08", "value_usd": 999, "source": PORT},
        ],
    )
    summary = load_refdata(tmp_path / "w.db", from_file=path)
    db = open_work_db(tmp_path / "w.db")
    assert summary["trade_flows"] == 2 and summary["trade_flows_rejected"] == 5
    reasons = sorted(r["reason"].split(":")[0] for r in db["trade_flows_rejected"].rows)
    assert reasons == ["duplicate key", "hs_code", "partner_iso3", "source", "value_usd"]
    market = db["chapter_markets"].get((2024, "08", "JPN"))
    assert market["port_share"] == 0.25 and market["port_rank"] == 1 and market["lead_market"] == 1


def test_missing_file_is_named(tmp_path, monkeypatch):
    with pytest.raises(TradeDataMissing, match="nowhere.csv"):
        load_refdata(tmp_path / "w.db", from_file=tmp_path / "nowhere.csv")
    monkeypatch.setattr(refdata, "DEFAULT_TRADE_FILE", tmp_path / "absent" / "trade_by_hs_partner.csv")
    summary = load_refdata(tmp_path / "w.db")
    assert summary["trade_source"] == "missing" and summary["trade_flows"] == 0
    assert "trade_by_hs_partner.csv" in summary["missing"][0] and "no data" in summary["missing"][0]
    assert summary["hs_chapters"] >= 96  # everything else still loads


def test_refdata_is_idempotent(tmp_path):
    path = write_csv(tmp_path / "t.csv", [{"partner_iso3": "JPN", "hs_code": "84", "value_usd": 7, "source": US_AIR}])
    first = load_refdata(tmp_path / "w.db", from_file=path)
    dump1 = list(open_work_db(tmp_path / "w.db").iterdump())
    second = load_refdata(tmp_path / "w.db", from_file=path)
    dump2 = list(open_work_db(tmp_path / "w.db").iterdump())
    assert first == second
    assert dump1 == dump2


def test_cli_refdata(tmp_path):
    path = write_csv(tmp_path / "t.csv", [{"partner_iso3": "AUS", "hs_code": "85", "value_usd": 10, "source": PORT}])
    result = CliRunner().invoke(cli, ["refdata", "--work-db", str(tmp_path / "w.db"), "--from-file", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["trade_flows"] == 1
    assert open_work_db(tmp_path / "w.db")["trade_flows"].get((2024, "AUS", 2, "85", "port_la_containerized"))["country"] == "Australia"
