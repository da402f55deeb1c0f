"""HS hints: nomenclature, codes in text, corpus and lexicon validity, hinter behaviour, commands."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp.hs.codes import find_codes
from nlp.hs.corpus import CorpusError, load_corpus, load_labelled_csv
from nlp.hs.lexicon import load_lexicon
from nlp.hs.nomenclature import check_tree, get, is_valid, load_nomenclature


@pytest.fixture(scope="session")
def hinter():
    """The process-wide hinter, built once per test session (encoder, vectors, ranker)."""
    from nlp.hs.hinter import get_hinter

    return get_hinter()


# --- nomenclature -------------------------------------------------------------------------
def test_nomenclature_shape_and_levels():
    rows = load_nomenclature()
    levels = {}
    for r in rows:
        levels[r["level"]] = levels.get(r["level"], 0) + 1
        assert r["edition"] == "HS2022"
        assert set(r) >= {"code", "level", "description", "parent", "edition"}
        assert r["description"].strip()
    assert levels["section"] == 21
    assert levels["chapter"] == 96  # 01-97 without 77 (reserved); 99 is national, left out
    assert 1220 <= levels["heading"] <= 1230
    assert 5600 <= levels["subheading"] <= 5620
    assert check_tree() == []


def test_every_subheading_sits_under_its_heading():
    for r in load_nomenclature():
        if r["level"] == "subheading":
            assert r["parent"] == r["code"][:4]
        if r["level"] == "heading":
            assert r["parent"] == r["code"][:2]


@pytest.mark.parametrize("code", ["848510", "880621", "850760", "854911", "240412", "382219", "441882",
                                  "300241", "401512", "854143", "870124", "3926.20", "0101", "97"])
def test_hs2022_codes_are_valid(code):
    assert is_valid(code)


@pytest.mark.parametrize("code", ["401511", "854140", "846210", "382200", "9999", "99", "999999",
                                  "77", "1234", "12345", "abcd", "", None, "3926.2"])
def test_non_hs2022_codes_are_rejected(code):
    """HS 2017 codes replaced in 2022 (401511, 854140, 846210, 382200) and junk are not valid."""
    assert not is_valid(code)


def test_description_fixes_applied():
    assert "minister" not in get("940199")["description"]
    assert "drone" in get("8806")["description"].lower()
    assert get("230990")["description"].startswith("Preparations of a kind used in animal feeding")
    assert "spark-ignition" in get("870230")["description"]  # not 8702.20's diesel hybrid again
    assert "photosensitive" not in get("854151")["description"]
    assert "light commercial" not in get("401190")["description"]


# --- codes written in text ---------------------------------------------------------------
@pytest.mark.parametrize("text,hs6,hs4,kind", [
    ("Classified under HTS 3926.20.9050", "392620", "3926", "hts"),
    ("HS code 401519, powder free", "401519", "4015", "hs"),
    ("HS: 4015.19", "401519", "4015", "hs"),
    ("Schedule B 8471.30.0100 laptops", "847130", "8471", "schedule_b"),
    ("Schedule B no. 0802120000", "080212", "0802", "schedule_b"),
    ("tariff code 85176200", "851762", "8517", "hts"),
    ("HTSUS 6307.90.9845 masks", "630790", "6307", "hts"),
    ("our almonds ship under 0802.12", "080212", "0802", "hs"),
])
def test_find_codes_reads_valid_codes(text, hs6, hs4, kind):
    found = [c for c in find_codes(text) if c["valid"]]
    assert found and found[0]["hs6"] == hs6 and found[0]["hs4"] == hs4 and found[0]["kind"] == kind


def test_find_codes_heading_only_and_rejections():
    (c,) = find_codes("HS heading 8485")
    assert c["valid"] and c["level"] == "heading" and c["hs6"] is None
    (bad,) = find_codes("HS code 9999.99")
    assert not bad["valid"] and "not an HS 2022 heading" in bad["reason"]
    (old,) = find_codes("HTS 4015.11.0100")  # HS 2017 subheading: heading still valid
    assert old["valid"] and old["level"] == "heading" and "not in HS 2022" in old["reason"]


@pytest.mark.parametrize("text", ["Call 949-555-0199", "Irvine, CA 92618", "since 1985, 40000 sq ft",
                                  "part no. 123456", "ISO 9001:2015 certified", ""])
def test_find_codes_ignores_numbers_that_are_not_codes(text):
    assert [c for c in find_codes(text) if c["valid"]] == []


# --- the project's corpus and lexicon ----------------------------------------------------
def test_every_corpus_code_is_valid_and_corpus_is_broad():
    rows = load_corpus(check=True)  # raises on any invalid code
    assert len(rows) >= 2000
    for r in rows:
        assert is_valid(r["hs6"]) and r["hs6"][:4] == r["hs4"] and get(r["hs6"])["level"] == "subheading"
    chapters = {r["hs4"][:2] for r in rows}
    assert len(chapters) >= 85
    assert len({r["hs4"] for r in rows}) >= 500


def test_every_lexicon_code_is_valid():
    entries = load_lexicon(check=True)
    assert len(entries) >= 300
    for e in entries:
        assert is_valid(e["hs4"]) and len(e["hs4"]) == 4
        if e.get("hs6"):
            assert is_valid(e["hs6"]) and e["hs6"][:4] == e["hs4"]


def test_shipped_ranker_matches_the_data():
    """ranker.json was trained on the corpus, lexicon and firm calibration set as they are now
    (else: python -m nlp.hs.train)."""
    from nlp.hs.hinter import RANKER_FILE
    from nlp.hs.train import file_hash, training_files

    meta = json.loads(RANKER_FILE.read_text())["meta"]
    assert meta["data_hash"] == file_hash(training_files())
    assert meta["cv"]["heldout_ece_calibrated"] <= 0.05


def test_labelled_csv_rejects_bad_codes(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("text,hs4,hs6\nwidgets,9999,999999\n")
    with pytest.raises(CorpusError):
        load_labelled_csv(p, check=True)


# --- the hinter -------------------------------------------------------------------------
PLAIN = [  # the project's own examples (not rows of any shared evaluation file)
    ("Powder-free nitrile examination gloves for clinics", "4015"),
    ("Kiln-dried Douglas fir two-by-fours", "4407"),
    ("Lithium-ion battery packs for e-bikes", "8507"),
    ("Industrial metal 3D printers using laser powder bed fusion", "8485"),
    ("Quadcopter drones for aerial photography", "8806"),
    ("Dry roasted and salted almonds in retail bags", "2008"),
    ("California Chardonnay wine, 750 ml bottles", "2204"),
    ("Alcohol-based hand sanitizer gel in pump bottles", "3808"),
    ("Used oak wine barrels for whiskey aging", "4416"),
    ("Men's 100% cotton crew-neck t-shirts, knitted", "6109"),
]


@pytest.mark.parametrize("text,hs4", PLAIN)
def test_plain_products_land_in_top3_heading(hinter, text, hs4):
    hints = hinter.hint([text])[0]
    assert hs4 in [h["hs4"] for h in hints[:3]], (text, hints[:3])


def test_hint_shape_confidence_and_uncertain_flag(hinter):
    out = hinter.hint(["Stainless steel commercial kitchen sinks", "", "   ", "qwzx plorb"], top=5)
    assert len(out) == 4 and out[1] == [] and out[2] == []
    for hints in (out[0], out[3]):
        assert 1 <= len(hints) <= 5
        for h in hints:
            assert set(h) >= {"hs6", "hs4", "hs2", "confidence", "uncertain", "method", "explanation"}
            assert 0.0 <= h["confidence"] <= 1.0
            assert h["uncertain"] == (h["confidence"] < hinter.uncertain_below)
            assert h["hs6"][:4] == h["hs4"] and h["hs4"][:2] == h["hs2"] and is_valid(h["hs6"])
            assert h["explanation"]
        confs = [h["confidence"] for h in hints if h["method"] != "code-in-text"]
        assert confs == sorted(confs, reverse=True)
    assert out[0][0]["hs4"] == "7324"
    assert out[3][0]["uncertain"]  # gibberish must not look like a fact


def test_text_of_unknown_words_is_never_confident(hinter):
    """Gibberish or a language the hinter does not read keeps its order but stays under the cap."""
    from nlp.hs.hinter import UNKNOWN_WORDS_CAP

    for text in ("qwzx plorb", "glvoes", "guantes de nitrilo"):
        hints = hinter.hint([text])[0]
        assert hints and all(h["confidence"] <= UNKNOWN_WORDS_CAP and h["uncertain"] for h in hints)
        assert "no word of the text is known" in hints[0]["explanation"]
    assert hinter.hint(["Nitrile gloves"])[0][0]["confidence"] > 0.5


def test_register_corrections_are_fitted_on_held_out_rows():
    """Both registers carry a correction fitted on rows outside the corpus: the firm one on the
    project's calibration set, the customs one on CBP validation (when that file was present)."""
    from nlp.hs.hinter import RANKER_FILE

    cal = json.loads(RANKER_FILE.read_text())["calibration"]
    assert cal["firm"]["fitted_on"] == "calibration_firm.csv" and cal["firm"]["rows"] >= 200
    if cal.get("customs"):
        assert cal["customs"]["fitted_on"] == "cbp_rulings_validation.csv"


def test_calibration_set_is_outside_the_corpus():
    """The firm calibration rows are no corpus wording, so their probabilities are held-out."""
    from nlp.hs.corpus import load_corpus
    from nlp.hs.train import load_firm_calibration

    corpus = {r["text"].lower() for r in load_corpus(check=False)}
    assert not [r["text"] for r in load_firm_calibration() if r["text"].lower() in corpus]


def test_register_changes_confidence_not_order(hinter):
    """The customs register re-maps confidence (fitted on customs rows) but never re-ranks."""
    text = ["Gloves of vulcanized rubber, powder-free, for medical examination, in boxes of 100"]
    firm, customs = hinter.hint(text)[0], hinter.hint(text, register="customs")[0]
    assert [h["hs6"] for h in firm] == [h["hs6"] for h in customs]
    assert [h["confidence"] for h in customs] == sorted((h["confidence"] for h in customs), reverse=True)
    with pytest.raises(ValueError, match="register"):
        hinter.hint(text, register="legal")


def test_calibration_map_reads_length_and_neighbour():
    """The firm map is a function of the logit, word count and nearest example, monotone in the logit."""
    from nlp.hs.hinter import RANKER_FILE
    from nlp.hs.ranker import Ranker

    cal = Ranker.load(RANKER_FILE).calibration
    q = np.linspace(0.05, 0.95, 19)
    for nn in (0.4, 0.7, 0.95):
        for nw in (2, 8, 20):
            p = cal(q, np.full(len(q), nn), nw)
            assert np.all((p >= 0) & (p <= 1)) and np.all(np.diff(p) > 0), (nn, nw)
    assert not np.allclose(cal(q, np.full(len(q), 0.4), 8), cal(q, np.full(len(q), 0.95), 8))


def test_batched_features_equal_one_text_at_a_time(hinter, monkeypatch):
    """Candidates are built for a whole batch at once (in blocks): no text may see another's rows."""
    from nlp.hs import ranker

    texts = ["Stainless steel commercial kitchen sinks", "Gloves of vulcanized rubber, powder-free, for "
             "medical examination", "almonds", "Polyethylene pump bottles for lotion, 250 ml", "qwzx plorb"]
    vecs = hinter.encoder.encode(texts)
    monkeypatch.setattr(ranker, "CHUNK", 2)
    batch = ranker.build_candidates(hinter.index, texts, vecs, hinter.lexicon)
    for i, t in enumerate(texts):
        one = ranker.build_candidates(hinter.index, [t], vecs[i : i + 1], hinter.lexicon)[0]
        assert one.heads == batch[i].heads
        np.testing.assert_allclose(one.X, batch[i].X, rtol=1e-5, atol=1e-6)
    scored = hinter.ranker.scores_batch(batch)
    for c, conf in zip(batch, scored):
        np.testing.assert_allclose(conf, hinter.ranker.scores(c.X, c.n_words)[1], rtol=1e-9)


def test_nearest_examples_are_the_best_in_order():
    """The neighbour search (block maxima, then the few blocks that can hold the k best) returns
    what a full sort returns: the k largest values, best first, equal values in column order."""
    from nlp.hs import ranker

    rng = np.random.default_rng(3)
    k = ranker.K_NEIGHBOURS
    for shape in ((40, 12345), (7, 1000), (3, 20), (5, 3)):
        S = rng.random(shape, dtype=np.float32)
        S[:, 17 % shape[1]] = S[:, 3 % shape[1]]  # exact ties, as identical example vectors give
        S[0] = 0.5  # a row of one value: its first k columns
        if shape[1] > 300:
            S[1, 200:300] = -1.0  # hidden examples (training) never chosen over others
        idx, vals = ranker._nearest(S)
        full = np.argsort(-S, axis=1, kind="stable")[:, : min(k, shape[1])]
        assert np.array_equal(idx, full) and np.array_equal(vals, np.take_along_axis(S, full, axis=1))


def test_code_in_text_wins(hinter):
    hints = hinter.hint(["Visors, HTS 3926.20.9050"])[0]
    assert hints[0]["method"] == "code-in-text" and hints[0]["hs6"] == "392620"
    assert not hints[0]["uncertain"]
    bad = hinter.hint(["gloves, HS code 9999.99"])[0]
    assert all(h["method"] != "code-in-text" for h in bad)


def test_repeated_texts_embedded_once(hinter):
    enc = hinter.encoder
    text = "Organic cold-pressed walnut oil, unique phrase 7731"
    before = len(enc._cache)
    a, b, c = hinter.hint([text, text, text])
    assert a == b == c
    assert len(enc._cache) == before + 1


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.text(max_size=300),
    st.text(alphabet="<>/=\"'&;{}[]()\\\x00\n\t", max_size=200),
    st.sampled_from(["<script>alert(1)</script> gloves", "Robert'); DROP TABLE hs_hints;--",
                     "Fabricamos guantes de nitrilo", "精密機械部品の製造", "1234 5678 9012 3456",
                     "HS 0000.00", "\u202e\u200b\ufeff", "<p>nitrile&nbsp;gloves</p>"]),
))
def test_hostile_text_never_crashes(hinter, text):
    hints = hinter.hint([text])[0]
    assert isinstance(hints, list)
    for h in hints:
        assert 0.0 <= h["confidence"] <= 1.0


def test_text_without_letters_gets_no_guess(hinter):
    none, coded = hinter.hint(["123 456 7890 -- 42%", "HS 4015.19 / 1000 pcs"])
    assert none == []
    assert coded and coded[0]["method"] == "code-in-text" and coded[0]["hs6"] == "401519"


def test_huge_text_is_cut_not_crashing(hinter):
    hints = hinter.hint(["nitrile gloves " * 20000])[0]
    assert hints and hints[0]["hs4"] == "4015"
    assert "text cut to its first 2,000 of 300,000 characters" in hints[0]["explanation"]


# --- commands ---------------------------------------------------------------------------
def test_hs_hint_input_gives_one_line_per_line(hinter):
    from nlp.hs.commands import hs_hint

    lines = ["nitrile exam gloves", "", "face shields", "nitrile exam gloves", "<b>almonds</b>"]
    out = io.StringIO()
    n = hs_hint(text=None, input_file=io.StringIO("\n".join(lines) + "\n"), top=3, out=out)
    got = [json.loads(x) for x in out.getvalue().splitlines()]
    assert n == len(lines) == len(got)
    assert [g["text"] for g in got] == lines
    assert got[1]["hints"] == []
    assert all(1 <= len(g["hints"]) <= 3 for i, g in enumerate(got) if i != 1)
    assert got[0] == got[3]
    assert set(got[0]["hints"][0]) >= {"hs6", "hs4", "hs2", "confidence", "method", "explanation"}


def test_hs_hint_single_text(hinter):
    from nlp.hs.commands import hs_hint

    out = io.StringIO()
    hs_hint(text="Frozen IQF strawberries", input_file=None, top=2, out=out)
    data = json.loads(out.getvalue())
    assert data["hs_edition"] == "HS2022" and len(data["hints"]) == 2


def test_hs_eval_on_a_tiny_labelled_csv(hinter, tmp_path):
    from nlp.hs.commands import hs_eval

    p = tmp_path / "labels.csv"
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "hs4", "hs6"])
        w.writerow(["Sterile latex surgical gloves", "4015", "401512"])
        w.writerow(["Corrugated cardboard shipping boxes", "4819", "481910"])
        w.writerow(["Fresh Hass avocados", "0804", "080440"])
        w.writerow(["Hydraulic excavator buckets", "8431", ""])
    result = hs_eval(p)
    assert result["rows"] == 4
    for key in ("hinter", "baseline_tfidf", "baseline_encoder"):
        block = result[key]
        for level in ("chapter", "heading", "subheading"):
            for k in (1, 3):
                v = block[f"top{k}_{level}"]
                assert v is None or 0.0 <= v <= 1.0
    assert result["hinter"]["top3_heading"] >= 0.75
    assert 0.0 <= result["hinter"]["ece"] <= 1.0
    assert result["baseline_tfidf"]["ece"] is None


def test_cli_hs_hint_through_click(hinter, tmp_path):
    from click.testing import CliRunner

    from export_finder.cli import cli

    src = tmp_path / "in.txt"
    src.write_text("wine barrels\n\nHS code 401519\n")
    res = CliRunner().invoke(cli, ["hs-hint", "--input", str(src), "--top", "1"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in res.output.splitlines()]
    assert len(rows) == 3 and rows[1]["hints"] == [] and rows[2]["hints"][0]["hs6"] == "401519"
