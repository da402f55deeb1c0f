"""The extract stage on a real working database: rows, evidence, ids, idempotence, bad input."""

from __future__ import annotations

import json

import pytest

from export_finder.schema import ensure_table, open_work_db
from nlp.extract import extract


class TinyHinter:
    """Stands in for nlp.hs in tests: one fixed candidate per text, and it counts the texts."""

    def __init__(self):
        self.texts: list[str] = []

    def hint(self, texts, top=5):
        self.texts.extend(texts)
        return [[{"hs6": "401519", "hs4": "4015", "hs2": "40", "confidence": 0.8, "uncertain": False,
                  "method": "tiny", "explanation": f"'{t}' tiny"}] for t in texts]


FIRMS = [
    {
        "firm_id": "F0000000001",
        "description": "Acme Gloves makes nitrile exam gloves and vinyl gloves for hospitals. We export to Canada and Mexico.",
        "products_text": json.dumps(["Nitrile exam gloves, powder free", "Isolation gowns"]),
        "certifications": "ISO 13485; FDA registered",
        "employees": "50-99",
        "year_founded": 1998,
        "source_urls": json.dumps(["http://127.0.0.1:8101/firm/acme"]),
    },
    {
        "firm_id": "F0000000002",
        "description": "We do not export. We manufacture redwood picnic tables.",
        "products_text": "[]",
        "certifications": "",
        "employees": "",
        "year_founded": None,
        "source_urls": json.dumps(["http://127.0.0.1:8101/firm/redwood"]),
    },
    {"firm_id": "F0000000003", "description": "", "products_text": None, "certifications": None,
     "employees": None, "year_founded": None, "source_urls": "[]"},
]


@pytest.fixture
def work_db(work_db_path):
    db = open_work_db(work_db_path)
    ensure_table(db, "firms")
    db["firms"].insert_all(FIRMS)
    return work_db_path


def table(path, name, order):
    return list(open_work_db(path).query(f"select * from {name} order by {order}"))


def test_rows_with_evidence_and_hints(work_db):
    hinter = TinyHinter()
    summary = extract(work_db, hinter=hinter)
    assert summary["firms"] == 3
    products = {(r["firm_id"], r["product"]): r for r in table(work_db, "products", "product_id")}
    gloves = products[("F0000000001", "nitrile exam glove")]
    assert gloves["method"] == "product_list" and gloves["source_url"] == "http://127.0.0.1:8101/firm/acme"
    assert ("F0000000001", "vinyl glove") in products and ("F0000000002", "redwood picnic table") in products
    assert not any(p == "hospital" for _, p in products)
    hints = table(work_db, "hs_hints", "hint_id")
    assert {h["product_id"] for h in hints} == {p["product_id"] for p in products.values()}
    assert all(h["hs_edition"] == "HS2022" and h["rank"] == 1 for h in hints)
    # each distinct phrase is asked once, even when two texts of a firm name it
    assert len(hinter.texts) == len(set(hinter.texts))
    signals = {(r["firm_id"], r["kind"], r["value"]): r for r in table(work_db, "signals", "signal_id")}
    assert ("F0000000001", "export_market", "CAN") in signals
    assert ("F0000000001", "export_market", "MEX") in signals
    assert ("F0000000001", "certification", "ISO 13485") in signals
    assert ("F0000000001", "employees", "50-99") in signals
    assert signals[("F0000000002", "no_export", "no export")]["negated"] == 1
    assert signals[("F0000000001", "export_market", "MEX")]["sentence"] == "We export to Canada and Mexico."
    assert summary["notes"]["no text: empty description and product list"] == 1


def test_second_run_changes_nothing(work_db):
    extract(work_db, hinter=TinyHinter())
    first = [table(work_db, t, k) for t, k in (("products", "product_id"), ("hs_hints", "hint_id"), ("signals", "signal_id"))]
    extract(work_db, hinter=TinyHinter())
    second = [table(work_db, t, k) for t, k in (("products", "product_id"), ("hs_hints", "hint_id"), ("signals", "signal_id"))]
    assert first == second and first[0]


def test_changed_firm_text_replaces_its_rows(work_db):
    extract(work_db, hinter=TinyHinter())
    db = open_work_db(work_db)
    db["firms"].update("F0000000002", {"description": "We manufacture cedar planters."})
    extract(work_db, hinter=TinyHinter())
    names = [r["product"] for r in db.query("select product from products where firm_id = 'F0000000002'")]
    assert names == ["cedar planter"]
    assert not list(db.query("select * from signals where firm_id = 'F0000000002' and kind = 'no_export'"))


def test_missing_hinter_gives_products_without_hints_and_says_why(work_db):
    class Broken:
        def hint(self, texts, top=5):
            raise RuntimeError("HS hinter unavailable: test")

    summary = extract(work_db, hinter=Broken())
    assert summary["products"] > 0 and summary["hs_hints"] == 0
    assert any("HS hinter unavailable" in k for k in summary["notes"])


def test_no_firms_table_is_a_clear_reason(work_db_path):
    summary = extract(work_db_path, hinter=TinyHinter())
    assert summary["firms"] == 0 and "resolve" in summary["reason"]


@pytest.mark.slow
def test_worker_processes_write_the_same_rows(work_db_path, tmp_path):
    """n_process=2 (spaCy in workers, hints in the main process) gives the rows n_process=1 gives."""
    rows = [dict(f, firm_id=f"{f['firm_id']}-{i}") for i in range(40) for f in FIRMS]
    out = {}
    for n in (1, 2):
        path = tmp_path / f"w{n}.db"
        db = open_work_db(path)
        ensure_table(db, "firms")
        db["firms"].insert_all(rows)
        extract(path, n_process=n, hinter=TinyHinter())
        out[n] = [table(path, t, k) for t, k in (("products", "product_id"), ("hs_hints", "hint_id"), ("signals", "signal_id"))]
    assert out[1] == out[2] and out[1][0]


@pytest.mark.slow
def test_generator_truth_is_read_well():
    """A regression guard on the sample generator's truth (development figures in the doc)."""
    from nlp.eval.evaluate import evaluate_sample

    result = evaluate_sample(150, seed=77)
    assert result["products_lenient"]["recall"] > 0.85
    assert result["export_market"]["precision"] > 0.9
