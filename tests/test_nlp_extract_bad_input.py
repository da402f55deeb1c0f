"""Bad input to the extract stage: rows or a clear reason, never a crash (hypothesis + cases)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from export_finder.schema import ensure_table, open_work_db
from nlp.extract import MAX_CHARS, clean_text, extract
from nlp.pipeline import build_pipeline

from .test_nlp_extract import TinyHinter

HOSTILE = [
    "<script>alert('x')</script>We manufacture <b>aluminum ladders</b>.",
    "Robert'); DROP TABLE firms;-- We make cedar planters.",
    "' OR 1=1 -- ; DELETE FROM products; We produce steel drums.",
    "<img src=x onerror=alert(1)><iframe src='javascript:alert(1)'></iframe>",
    "\x00\x01\x02 control characters \x7f",
    "{{7*7}} ${jndi:ldap://127.0.0.1/a} %s%s%s%n",
]


def firm(firm_id, description, products_text="[]", **extra):
    row = {"firm_id": firm_id, "description": description, "products_text": products_text,
           "certifications": "", "employees": "", "year_founded": None, "source_urls": "[]"}
    row.update(extra)
    return row


def run(path, rows):
    db = open_work_db(path)
    ensure_table(db, "firms")
    db["firms"].insert_all(rows, pk="firm_id", replace=True)
    return extract(path, hinter=TinyHinter()), db


def test_named_bad_inputs_give_rows_or_reasons(work_db_path):
    huge = "We manufacture steel drums. " + ("lorem ipsum dolor " * 12_000) + " We also make oak barrels."
    rows = [
        firm("F-empty", ""),
        firm("F-none", None, products_text=None),
        firm("F-huge", huge),
        firm("F-german", "Wir stellen hochwertige Edelstahlventile und Pumpen für die Industrie her, seit 1980 in Kalifornien."),
        firm("F-japanese", "当社はステンレス製バルブを製造しています。日本と韓国に輸出しています。"),
        firm("F-numbers", "1234 5678 90 000 2020 2021 2022 555-0100"),
        firm("F-badjson", "We make rope.", products_text="not json ["),
        firm("F-dictjson", "", products_text=json.dumps([{"name": "Oak barrels"}, 7, None, ["hemp rope"]])),
        firm("F-badyear", "We make tiles.", year_founded="unknown", employees="lots"),
        *[firm(f"F-hostile-{i}", text) for i, text in enumerate(HOSTILE)],
    ]
    summary, db = run(work_db_path, rows)
    assert summary["firms"] == len(rows)
    notes = summary["notes"]
    assert notes["no text: empty description and product list"] == 3  # "", None, and markup only
    assert notes["descriptions cut (too long)"] == 1
    assert notes["description looks non-English"] >= 1
    assert notes["products_text is not JSON: read as one entry"] == 1
    assert notes["html"] >= 2
    products = {(r["firm_id"], r["product"]) for r in db.query("select firm_id, product from products")}
    assert ("F-huge", "steel drum") in products
    assert ("F-hostile-0", "aluminum ladder") in products
    assert ("F-dictjson", "oak barrel") in products and ("F-dictjson", "hemp rope") in products
    assert not any(p.startswith(("<", "drop table", "script")) for _, p in products)
    assert db["firms"].count == len(rows)  # the SQL in the text stayed text
    sentences = [r["sentence"] for r in db.query("select sentence from products union all select sentence from signals")]
    assert not any("<script" in s or "onerror" in s for s in sentences)


def test_clean_text_strips_markup_and_keeps_words():
    text, notes = clean_text("<p>Hello&nbsp;<b>world</b></p><script>evil()</script><style>p{}</style>")
    assert text == "Hello world" and notes == ["html"]
    assert clean_text("a < b and c > d")[0] == "a < b and c > d"


def test_description_cut_is_bounded(work_db_path):
    summary, db = run(work_db_path, [firm("F1", "We make rope. " * 20_000)])
    assert summary["notes"]["descriptions cut (too long)"] == 1
    assert all(len(r["sentence"]) <= MAX_CHARS for r in db.query("select sentence from products"))


texts = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=st.sampled_from(list("<>/&;'\"-=()[]{}0123456789 .,\n\tabcXYZ")), max_size=300),
    st.lists(st.sampled_from(["We manufacture", "valves", ",", "and", "<b>", "</b>", "export", "to", "Japan", "not",
                              "ISO 9001", "HS 8481.80", "since 1990", "50,000 sq ft", "DROP TABLE", "\x00", "é", "🙂"]),
             max_size=40).map(" ".join),
)


# Integers bounded to SQLite's 64-bit range: the working db (written by resolve) can only hold those,
# and an unbounded draw made the test's own setup insert fail now and then.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(description=texts, entries=st.lists(texts, max_size=4), year=st.one_of(st.none(), st.integers(-2**63, 2**63 - 1), st.text(max_size=6)))
def test_any_text_never_crashes(work_db_path, description, entries, year):
    summary, db = run(work_db_path, [firm("F1", description, json.dumps(entries), year_founded=year, employees=description[:20])])
    assert summary["firms"] == 1
    for row in db.query("select * from products"):
        assert row["product"] and row["product"] == row["product"].lower()
    for row in db.query("select * from signals"):
        assert row["kind"] in {"exports", "export_market", "distributor_abroad", "no_export", "certification",
                               "employees", "year_founded", "facility_size", "hs_code"}


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(hs_hints=False)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts)
def test_components_accept_any_text(nlp, text):
    doc = nlp(clean_text(text)[0])
    assert isinstance(doc._.ef_products, list) and isinstance(doc._.ef_signals, list)
