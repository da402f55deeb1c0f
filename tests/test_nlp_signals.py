"""ef_signals: export statements, negations, markets, distributors, certifications, size facts."""

from __future__ import annotations

import pytest

from nlp.pipeline import build_pipeline


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(hs_hints=False)


def signals(nlp, text):
    return {(s["kind"], s["value"], s["negated"]) for s in nlp(text)._.ef_signals}


def test_export_markets_from_names_aliases_and_demonyms(nlp):
    found = signals(nlp, "We export to South Korea and the UK. Our Japanese customers buy most of our output.")
    assert ("exports", "exports", 0) in found
    assert {("export_market", "KOR", 0), ("export_market", "GBR", 0), ("export_market", "JPN", 0)} <= found


def test_negations_give_no_export_and_no_market(nlp):
    for text in ["We do not export.", "Domestic only: we sell within California.", "We have no plans to export to Mexico."]:
        found = signals(nlp, text)
        assert any(k == "no_export" and n == 1 for k, _, n in found), text
        assert not any(k in {"exports", "export_market"} for k, _, _ in found), text


def test_distributor_abroad_is_tied_to_the_country_it_names(nlp):
    found = signals(nlp, "We export to Japan and have distributors in Germany.")
    assert ("distributor_abroad", "DEU", 0) in found
    assert ("distributor_abroad", "JPN", 0) not in found


def test_home_country_and_imports_are_not_markets(nlp):
    found = signals(nlp, "Made in the USA from steel imported from China, sold to customers nationwide.")
    assert not any(k == "export_market" for k, _, _ in found)


def test_certifications_and_hedges(nlp):
    found = signals(nlp, "Our plant is ISO 9001:2015 and AS9100D certified, FDA-registered and NSF listed. We are working toward ISO 13485.")
    assert {("certification", "ISO 9001", 0), ("certification", "AS9100", 0), ("certification", "FDA registered", 0), ("certification", "NSF", 0)} <= found
    assert ("certification", "ISO 13485", 1) in found


def test_size_age_and_written_hs_codes(nlp):
    found = signals(nlp, "Established in 1962, we employ 85 people in a 45,000 sq. ft. plant. HTS 8481.80.9050; HS 9999.99.")
    assert {("year_founded", "1962", 0), ("employees", "85", 0), ("facility_size", "45000 sq ft", 0), ("hs_code", "8481809050", 0)} <= found
    assert not any(k == "hs_code" and v.startswith("9999") for k, v, _ in found)
