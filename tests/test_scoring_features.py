"""Feature parsing and the pieces of the score that are plain functions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from export_finder.schema import ensure_table, open_work_db
from scoring.bands import BANDS, band_for
from scoring.features import COLUMNS, haversine_km, make_column_transformer, parse_count, read_firm_data, reference_row, split_certifications
from scoring.markets import pct, usd


@pytest.mark.parametrize(
    "text, expected",
    [
        ("50-99", math.sqrt(50 * 99)),
        ("50 to 99", math.sqrt(50 * 99)),
        ("about 120 people", 120),
        ("1,200+", 1200),
        ("10k", 10000),
        ("1000+", 1000),
        (35, 35),
        ("", None),
        (None, None),
        ("unknown", None),
        ("0", None),
    ],
)
def test_parse_count(text, expected):
    got = parse_count(text)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_split_certifications():
    assert split_certifications("ISO 9001, AS9100; FDA registered") == ["ISO 9001", "AS9100", "FDA registered"]
    assert split_certifications('["ISO 13485", "UL listed"]') == ["ISO 13485", "UL listed"]
    assert split_certifications(None) == []


def test_distance_to_the_port():
    # downtown Los Angeles is about 30 km from the port; San Francisco about 560 km
    assert 25 < haversine_km(34.05, -118.25, 33.7361, -118.2631) < 40
    assert 530 < haversine_km(37.77, -122.42, 33.7361, -118.2631) < 600


def test_bands_cover_0_to_100_with_a_sentence_each():
    assert [b[1] for b in BANDS] == ["Very high", "High", "Medium", "Low", "Very low"]
    assert band_for(100)[0] == "Very high" and band_for(80)[0] == "Very high" and band_for(79.99)[0] == "High"
    assert band_for(0)[0] == "Very low"
    assert all(sentence.endswith(".") for _, _, sentence in BANDS)
    with pytest.raises(ValueError):
        band_for(float("nan"))


def test_money_and_share_words():
    assert usd(1_576_477_435) == "$1.58 bn" and usd(23_412_000) == "$23.4 M" and usd(512_300) == "$512,300"
    assert pct(0.1923) == "19.2%" and pct(0.0004) == "under 0.1%" and pct(None) == "no data"


def test_firm_with_nothing_but_a_name_reads_as_missing_not_zero(tmp_path):
    db = open_work_db(tmp_path / "w.db")
    ensure_table(db, "firms").insert({"firm_id": "F1", "name": "Bare Name Inc"})
    data = read_firm_data(db, reference_year=2025)
    row = dict(zip(COLUMNS, data.X[0]))
    assert math.isnan(row["log_employees"]) and math.isnan(row["years_in_business"]) and math.isnan(row["distance_to_port_km"])
    assert row["hs_section"] == "none" and row["county"] == "unknown"
    assert data.y[0] == 0 and not data.has_text[0] and data.evidence_count[0] == 0


def test_negated_export_signal_is_not_a_positive_label(tmp_path):
    db = open_work_db(tmp_path / "w.db")
    ensure_table(db, "firms").insert_all([{"firm_id": "F1", "name": "A"}, {"firm_id": "F2", "name": "B"}])
    ensure_table(db, "signals").insert_all(
        [
            {"signal_id": "s1", "firm_id": "F1", "kind": "exports", "value": "yes", "negated": 1},
            {"signal_id": "s2", "firm_id": "F2", "kind": "export_market", "value": "Japan", "country_iso3": "JPN", "negated": 0},
        ]
    )
    data = read_firm_data(db, reference_year=2025)
    assert dict(zip(data.firm_ids, data.y.tolist())) == {"F1": 0, "F2": 1}


def test_column_transformer_handles_missing_and_unseen_values():
    X = np.array(
        [[1.0, 10.0, 1.0, 1.0, 1.0, 1.0, 30.0, 2.0, 1.0, np.nan, "XVI", "Los Angeles"]] * 12
        + [[np.nan, np.nan, 0.0, 0.0, 2.0, 0.0, np.nan, 0.0, 0.0, 4.0, "none", "Orange"]] * 12,
        dtype=object,
    )
    ct = make_column_transformer(dense=True).fit(X)
    out = ct.transform(np.array([[2.0, np.nan, 0.0, 0.0, 1.0, 1.0, 5.0, 1.0, 1.0, np.nan, "never seen", "Kern"]], dtype=object))
    assert np.isfinite(out).all()
    ref = reference_row(X)
    assert ref[COLUMNS.index("log_employees")] == 1.0 and ref[COLUMNS.index("county")] in ("Los Angeles", "Orange")


def test_a_products_ranked_guesses_vote_for_its_chapter():
    from scoring.features import _product_chapter

    guesses = [(1, "76", "7602", "760200", 0.15, 1), (2, "26", "2606", "260600", 0.13, 1), (3, "76", "7610", "761010", 0.12, 1), (4, "76", "7604", None, 0.05, 1)]
    got = _product_chapter(guesses, ("aluminum storefront system", "We build aluminum storefront systems.", "http://x.test"))
    assert got["hs2"] == "76" and got["hs4"] == "7602" and got["confidence"] == pytest.approx(0.32) and got["uncertain"] == 1
    guesses = [(1, "26", "2606", None, 0.2, 1), (2, "76", "7610", None, 0.15, 1), (3, "76", "7604", None, 0.1, 1)]
    got = _product_chapter(guesses, (None, None, None))
    assert got["hs2"] == "76" and got["hs4"] == "7610"  # the chapter's own best heading, not rank 1's
    sure = _product_chapter([(1, "84", "8413", "841370", 0.8, 0)], (None, None, None))
    assert sure["uncertain"] == 0 and sure["confidence"] == 0.8
