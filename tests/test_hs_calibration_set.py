"""The firm-style HS calibration set: it must load, hold valid HS 2022 codes and stay apart from hs_dev.csv.

The set fits the hinter's confidence correction on firms' own words, so a broken code would skew
the fit silently and a row shared with ``hs_dev.csv`` would leak the dev set into a figure reported
on it. These checks read the file only; they never run the hinter (rows were not chosen by it).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from nlp.hs.corpus import load_labelled_csv
from nlp.hs.nomenclature import get, is_valid

CALIBRATION = Path(__file__).resolve().parent.parent / "nlp" / "data" / "hs" / "calibration_firm.csv"


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


@pytest.fixture(scope="module")
def raw_rows() -> list[dict]:
    with open(CALIBRATION, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["text", "hs4", "hs6", "note"]
        return list(reader)


def test_loads_with_code_check():
    rows = load_labelled_csv(CALIBRATION, check=True)
    assert len(rows) >= 250


def test_codes_are_strings_under_their_heading(raw_rows):
    for lineno, row in enumerate(raw_rows, 2):
        hs4, hs6 = row["hs4"], row["hs6"]
        # Leading zeros are kept in the file itself, not only restored by the loader.
        assert len(hs4) == 4 and hs4.isdigit(), f"line {lineno}: hs4 {hs4!r}"
        assert is_valid(hs4) and get(hs4)["level"] == "heading", f"line {lineno}: {hs4} is not a heading"
        if hs6:
            assert len(hs6) == 6 and hs6.isdigit(), f"line {lineno}: hs6 {hs6!r}"
            assert is_valid(hs6) and get(hs6)["level"] == "subheading", f"line {lineno}: {hs6}"
            assert hs6[:4] == hs4, f"line {lineno}: {hs6} is not under {hs4}"


def test_texts_notes_and_coverage(raw_rows):
    texts = [_normalise(r["text"]) for r in raw_rows]
    assert len(set(texts)) == len(texts), "duplicate texts"
    for lineno, row in enumerate(raw_rows, 2):
        assert 3 <= len(row["text"].split()) <= 30, f"line {lineno}: 3-30 words"
        assert row["note"].strip(), f"line {lineno}: empty note"
    assert len({r["hs4"][:2] for r in raw_rows}) >= 50
    # Most rows must decide the subheading; an empty hs6 is for texts that cannot.
    assert sum(1 for r in raw_rows if not r["hs6"]) <= len(raw_rows) // 20


def test_no_text_of_hs_dev(raw_rows, shared_data):
    dev_path = shared_data / "hs_dev.csv"
    if not dev_path.exists():
        pytest.skip(f"{dev_path} is absent")
    with open(dev_path, newline="", encoding="utf-8") as fh:
        dev_texts = {_normalise(r["text"]) for r in csv.DictReader(fh)}
    shared = [r["text"] for r in raw_rows if _normalise(r["text"]) in dev_texts]
    assert not shared, f"rows copied from hs_dev.csv: {shared[:5]}"
