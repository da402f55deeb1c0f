"""The score: deterministic, better than the baseline, no label leak, reasons that add up,
figures that match the reference tables they cite, a row for every firm."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from export_finder.schema import ensure_table, open_work_db
from scoring import refdata
from scoring.bands import band_for
from scoring.features import FEATURE_SOURCES, LABEL_SIGNAL_KINDS, read_firm_data
from scoring.markets import pct, usd
from scoring.refdata import load_refdata
from scoring.score import score
from scoring.synthetic import write_population

N_FIRMS = 1500


def build(path, trade_file=None, n=N_FIRMS, seed=11, **kwargs):
    db = open_work_db(path)
    truth = write_population(db, n, seed=seed)
    if trade_file is not None:
        load_refdata(path, from_file=trade_file)
    return truth, score(path, **kwargs)


@pytest.fixture(scope="module")
def scored(tmp_path_factory, shared_data):
    path = tmp_path_factory.mktemp("score") / "work.db"
    truth, summary = build(path, shared_data / "trade_by_hs_partner.csv", folds=3)
    return open_work_db(path), summary, truth, path


def test_every_firm_gets_one_row_in_range_and_band(scored):
    db, summary, truth, _ = scored
    rows = list(db["scores"].rows)
    assert len(rows) == len(truth) == summary["firms"]
    for r in rows:
        assert 0 <= r["score"] <= 100
        assert r["band"] == band_for(r["score"])[0]
        assert r["band_sentence"].startswith(band_for(r["score"])[1])


def test_firms_without_products_or_text_still_get_a_marked_row(scored):
    db, *_ = scored
    bare = [r["firm_id"] for r in db.query("select firm_id from firms where description is null and products_text is null")]
    assert bare
    for firm_id in bare:
        row = db["scores"].get(firm_id)
        assert row["low_confidence"] == 1 and "no products or description" in row["low_confidence_reason"]
        assert row["market_fit"] is None and row["market_fit_note"].startswith("no data")
        assert row["score"] == pytest.approx(row["readiness"], abs=1e-3)


def test_model_beats_the_baseline_on_held_out_folds(scored):
    db, summary, *_ = scored
    run = db["model_runs"].get(summary["run_id"])
    assert run["cv_roc_auc"] > run["baseline_roc_auc"] + 0.05
    assert run["cv_brier"] < run["baseline_brier"]
    candidates = json.loads(run["candidates"])
    assert run["estimator"] in candidates and "prior" in candidates and "size_only_logistic" in candidates


def test_model_card_is_complete(scored):
    db, summary, *_ = scored
    run = db["model_runs"].get(summary["run_id"])
    for column in ("training_rows", "positives", "features", "estimator", "params", "cv_roc_auc", "cv_brier", "baseline_roc_auc", "baseline_brier", "calibration", "reference_sources", "run_at", "seed"):
        assert run[column] not in (None, "", "[]", "{}"), column
    assert json.loads(run["reference_sources"])["trade_flows"]["retrieved"] == "2025-04"
    table = json.loads(run["calibration"])
    assert sum(c["n"] for c in table) == summary["training_rows"]
    assert "learns the sample generator" in run["card"]


def test_training_is_deterministic(tmp_path):
    _, first = build(tmp_path / "a.db", n=400, seed=5, folds=3)
    _, second = build(tmp_path / "b.db", n=400, seed=5, folds=3)
    assert first["run_id"] == second["run_id"]
    a = list(open_work_db(tmp_path / "a.db").query("select firm_id, score, probability from scores order by firm_id"))
    b = list(open_work_db(tmp_path / "b.db").query("select firm_id, score, probability from scores order by firm_id"))
    assert a == b


def test_score_twice_changes_nothing(scored):
    db, summary, _, path = scored
    before = list(db.query("select * from scores order by firm_id"))
    again = score(path, folds=3)
    assert again["run_id"] == summary["run_id"]
    assert list(db.query("select * from scores order by firm_id")) == before


def test_no_label_signal_is_a_feature_source():
    named = {kind for sources in FEATURE_SOURCES.values() for table, kind in sources if table == "signals"}
    assert not named & LABEL_SIGNAL_KINDS


def test_label_signals_do_not_move_the_features(tmp_path):
    """Flip every firm's export evidence: the label changes, the feature matrix must not."""
    db = open_work_db(tmp_path / "w.db")
    write_population(db, 400, seed=3)
    before = read_firm_data(db, reference_year=2025)
    signals = ensure_table(db, "signals")
    exporters = {r["firm_id"] for r in db.query("select distinct firm_id from signals where kind in ('exports','export_market','distributor_abroad')")}
    db.execute("delete from signals where kind in ('exports','export_market','distributor_abroad','no_export')")
    for i, firm_id in enumerate(before.firm_ids):
        if firm_id not in exporters:
            kind = ("exports", "export_market", "distributor_abroad")[i % 3]
            signals.insert({"signal_id": f"flip{i}", "firm_id": firm_id, "kind": kind, "value": "Japan", "country_iso3": "JPN", "negated": 0, "sentence": "We export to Japan.", "source_url": "https://example.test"})
    db.conn.commit()
    after = read_firm_data(db, reference_year=2025)
    assert before.firm_ids == after.firm_ids
    assert not np.array_equal(before.y, after.y)
    assert np.array_equal(before.X.astype(str), after.X.astype(str))


def test_reasons_add_up_to_the_score(scored):
    db, *_ = scored
    sums = dict(db.execute("select firm_id, sum(contribution) from score_reasons group by firm_id").fetchall())
    for firm_id, total in db.execute("select firm_id, score from scores").fetchall():
        assert sums[firm_id] == pytest.approx(total, abs=1e-6)
    shown = db.execute("select count(*) from score_reasons where part in ('readiness','market_fit')").fetchone()[0]
    assert shown >= len(sums) * 2  # most firms have real reasons, not just start + other
    others = [abs(r[0]) for r in db.execute("select contribution from score_reasons where part='other'")]
    assert np.median(others) < 5  # the reasons shown explain most of the score


def _cited(db, table, key):
    where = " and ".join(f"{k} = ?" for k in key)
    return next(db.query(f"select * from {table} where {where}", list(key.values())))


MONEY = re.compile(r"\$[\d,.]+(?: bn| M)?")
PERCENT = re.compile(r"\d+\.\d%|under 0\.1%")


def test_every_figure_in_a_reason_matches_the_table_it_cites(scored):
    db, *_ = scored
    rows = list(db.query("select * from score_reasons where cites_table is not null"))
    assert rows
    for r in rows:
        cited = _cited(db, r["cites_table"], json.loads(r["cites_key"]))
        assert r["figure"] == cited[r["cites_column"]]
        allowed_money = {usd(cited.get(c)) for c in ("port_value_usd", "us_containerized_usd") if cited.get(c) is not None}
        allowed_pct = {pct(cited["port_share"])} if cited.get("port_share") is not None else set()
        assert set(MONEY.findall(r["sentence"])) <= allowed_money, r["sentence"]
        assert set(PERCENT.findall(r["sentence"])) <= allowed_pct, r["sentence"]


def test_every_market_suggestion_matches_the_table_it_cites(scored):
    db, *_ = scored
    rows = list(db.query("select * from market_suggestions"))
    assert rows
    per_firm = {}
    for r in rows:
        cited = _cited(db, r["cites_table"], json.loads(r["cites_key"]))
        assert r["port_value_usd"] == cited["port_value_usd"] > 0
        assert r["us_value_usd"] == cited["us_containerized_usd"]
        assert r["port_share"] == cited["port_share"]
        assert (r["partner_iso3"], r["country"], r["year"]) == (cited["partner_iso3"], cited["country"], cited["year"])
        assert set(MONEY.findall(r["sentence"])) == {usd(cited["port_value_usd"]), usd(cited["us_containerized_usd"])}
        assert PERCENT.findall(r["sentence"]) == [pct(cited["port_share"])]
        assert r["source"].startswith("US Census Bureau")
        per_firm.setdefault(r["firm_id"], []).append(r["partner_iso3"])
    assert all(len(v) <= 3 and len(set(v)) == len(v) for v in per_firm.values())


def test_without_trade_figures_the_market_part_says_no_data(tmp_path, monkeypatch):
    monkeypatch.setattr(refdata, "DEFAULT_TRADE_FILE", tmp_path / "absent.csv")
    load_refdata(tmp_path / "w.db")
    _, summary = build(tmp_path / "w.db", n=300, seed=2, folds=3)
    db = open_work_db(tmp_path / "w.db")
    assert summary["no_market_data"] == summary["firms"] == 300
    notes = {r[0] for r in db.execute("select market_fit_note from scores")}
    assert notes == {"no data: no trade figures are loaded (run `export-finder refdata`)"}
    assert db.execute("select count(*) from market_suggestions").fetchone()[0] == 0


@pytest.mark.slow
def test_scoring_40000_firms_works(tmp_path, shared_data):
    truth, summary = build(tmp_path / "w.db", shared_data / "trade_by_hs_partner.csv", n=40000, seed=9, max_train_rows=8000)
    assert summary["firms"] == 40000
    db = open_work_db(tmp_path / "w.db")
    assert db["scores"].count == 40000
    assert db.execute("select count(distinct firm_id) from score_reasons").fetchone()[0] == 40000


def test_first_market_suggestion_is_the_market_the_reasons_name(scored):
    db, *_ = scored
    pairs = list(
        db.query(
            "select r.cites_key reason_key, m.cites_key market_key from score_reasons r join market_suggestions m "
            "on m.firm_id = r.firm_id and m.rank = 1 where r.feature = 'best_market'"
        )
    )
    assert pairs
    assert all(json.loads(p["reason_key"]) == json.loads(p["market_key"]) for p in pairs)


def test_heading_figures_are_used_where_the_data_has_them(tmp_path):
    """With heading-level (HS4) figures loaded (as the Census API gives them), a firm whose
    product is guessed at heading 0802 gets the heading's figures; one at 0804 falls back to
    the chapter and says so."""
    import csv

    from scoring.markets import MarketData, firm_market_fit

    rows = [
        ("JPN", 2, "08", 900, "census_porths:2704_los_angeles:CNT_VAL_YR"),
        ("JPN", 2, "08", 3000, "census_porths:all_us_ports:CNT_VAL_YR"),
        ("JPN", 4, "0802", 600, "census_porths:2704_los_angeles:CNT_VAL_YR"),
        ("JPN", 4, "0802", 1000, "census_porths:all_us_ports:CNT_VAL_YR"),
        ("KOR", 4, "0802", 50, "census_porths:2704_los_angeles:CNT_VAL_YR"),
        ("KOR", 4, "0802", 500, "census_porths:all_us_ports:CNT_VAL_YR"),
    ]
    path = tmp_path / "t.csv"
    with open(path, "w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["year", "flow", "reporter_iso3", "partner_iso3", "hs_level", "hs_code", "value_usd", "source"])
        for iso3, level, code, value, source in rows:
            w.writerow([2024, "export", "USA", iso3, level, code, value, source])
    load_refdata(tmp_path / "w.db", from_file=path)
    data = MarketData(open_work_db(tmp_path / "w.db"))
    almonds = firm_market_fit(data, [{"hs2": "08", "hs4": "0802", "hs6": None, "confidence": 0.9, "uncertain": 0, "product": "almonds"}])
    assert almonds.chapter == "0802" and "no data" not in (almonds.note or "")
    assert "heading 0802" in almonds.components[0].sentence and almonds.components[0].cites_key == {"year": 2024, "hs_code": "0802"}
    assert [s["partner_iso3"] for s in almonds.suggestions] == ["JPN", "KOR"] and almonds.suggestions[0]["port_share"] == 0.6
    dates = firm_market_fit(data, [{"hs2": "08", "hs4": "0804", "hs6": None, "confidence": 0.9, "uncertain": 0, "product": "dates"}])
    assert dates.chapter == "08" and "no data at heading level (0804)" in dates.note


def test_score_without_firms_says_what_is_missing(tmp_path):
    from click.testing import CliRunner

    from export_finder.cli import cli

    assert "run `export-finder resolve` first" in score(tmp_path / "empty.db")["reason"]
    result = CliRunner().invoke(cli, ["score", "--work-db", str(tmp_path / "empty.db")])
    assert result.exit_code == 1 and "resolve" in result.output


@pytest.mark.slow
def test_model_beats_the_baseline_on_the_sample_sites(tmp_path, shared_data):
    """The whole chain on the bundled sample sites (generate, crawl, resolve, refdata, extract,
    score): on held-out folds the readiness model beats the every-firm-alike baseline."""
    from export_finder.demo import build

    paths = build(tmp_path / "demo", firms=800, seed=2020)
    db = open_work_db(paths["work_db"])
    run = next(db.query("select * from model_runs order by run_at desc limit 1"))
    assert run["positives"] >= 30
    assert run["cv_roc_auc"] > run["baseline_roc_auc"] + 0.05 and run["cv_brier"] < run["baseline_brier"]
    assert db["scores"].count == db["firms"].count
