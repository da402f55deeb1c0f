"""The learned subheading picker: its evidence (numbers, materials, residuals), its saved model,
its training rows, and that it changes only the subheading, never the heading or confidence."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nlp.hs import subheading as S


@pytest.fixture(scope="module")
def hinter():
    """The process-wide hinter (shared with the other HS tests when run together)."""
    from nlp.hs.hinter import get_hinter

    return get_hinter()


# --- numbers and units (the reader itself: tests/test_hs_quantities.py) ------------------------
def test_picker_reads_the_nomenclature_ranges(hinter):
    st = S.static_for(hinter.index)
    bounds = {c: st.bounds[k] for k, c in enumerate(hinter.index.sub_codes)}
    (b,) = bounds["870322"]  # "cylinder capacity over 1000 but not over 1500cc"
    assert (b.kind, b.lo, b.hi) == ("volume", 1000.0, 1500.0)
    assert bounds["850152"] and not bounds["850140"]
    assert S.number_agreement(S.read_quantities("1,200 cc sedan"), bounds["870322"]) == 1.0
    assert S.number_agreement(S.read_quantities("2.0 l sedan"), bounds["870322"]) == -1.0


# --- materials --------------------------------------------------------------------------------
def test_material_rules_on_the_nomenclature(hinter):
    st = S.static_for(hinter.index)
    rule = {c: st.material[k] for k, c in enumerate(hinter.index.sub_codes)}
    assert rule["611020"] == ("in", frozenset({"cotton"}))
    assert rule["611030"] == ("in", frozenset({"man_made"}))
    # "of textile materials (other than wool or fine animal hair, cotton or man-made fibres)"
    assert rule["611090"] == ("out", frozenset({"wool", "cotton", "man_made"}))
    # "n.e.c. in item no. 6204.1": what the specific siblings of its group do not take
    assert rule["620419"] == ("out", frozenset({"wool", "cotton", "synthetic"}))
    # "of weaves n.e.c.": the n.e.c. is about the weave, the material is still cotton
    assert rule["520819"] == ("in", frozenset({"cotton"}))
    assert rule["850152"] is None
    assert S.material_agreement("cotton", rule["611020"]) == 1.0
    assert S.material_agreement("cotton", rule["611090"]) == -1.0
    assert S.material_agreement("veg_fibre", rule["611090"]) == 1.0   # linen, ramie: "other"
    assert S.material_agreement("synthetic", rule["611030"]) == 1.0   # synthetic is man-made
    assert S.material_agreement(None, rule["611020"]) == 0.0


def test_residual_subheadings():
    assert S.is_residual("847190", "Magnetic or optical readers ..., not elsewhere specified or included")
    assert S.is_residual("620419", "Suits; women's or girls', of textile materials n.e.c. in item no. 6204.1")
    assert S.is_residual("610990", "T-shirts ...; of textile materials (other than cotton), knitted or crocheted")
    assert not S.is_residual("850152", "Electric motors; AC motors, multi-phase, of an output exceeding 750W")


# --- the saved model --------------------------------------------------------------------------
def _toy_matrix(seed=0, queries=60, per=4):
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(queries * per, len(S.BASE_FEATURES)))
    y = np.zeros(queries * per, dtype=int)
    y[np.arange(queries) * per + rng.integers(0, per, queries)] = 1
    B[y == 1, 0] += 2.0   # the right one is more similar, so the fit has something to learn
    return B, y, np.repeat(np.arange(queries), per)


def test_saved_model_scores_like_the_fitted_one_and_checks_its_features():
    B, y, qid = _toy_matrix()
    picker = S.fit(B, y)
    again = S.SubheadingPicker.from_json(json.loads(json.dumps(picker.to_json())))
    np.testing.assert_allclose(again.score_matrix(B), picker.score_matrix(B), rtol=1e-12)
    assert S.top1(picker.score_matrix(B), y, qid) > 0.6
    bad = picker.to_json() | {"features": S.FEATURES[:-1]}
    with pytest.raises(ValueError, match="other features"):
        S.SubheadingPicker.from_json(bad)
    with pytest.raises(ValueError, match="not a subheading picker"):
        S.SubheadingPicker.from_json(picker.to_json() | {"kind": "logreg-pairwise"})


def test_absent_artifact_means_no_picker(tmp_path):
    assert S.load_picker(tmp_path / "absent.json") is None


def test_shipped_picker_matches_the_data_and_beats_the_formula():
    """subheading.json was trained on the corpus and lexicon as they are now (else:
    python -m nlp.hs.subheading), and held out it beats the fixed formula it replaces."""
    from nlp.hs.corpus import CORPUS_DIR
    from nlp.hs.lexicon import LEXICON_FILE
    from nlp.hs.train import file_hash

    meta = json.loads(S.PICKER_FILE.read_text())["meta"]
    assert meta["data_hash"] == file_hash(sorted(CORPUS_DIR.glob("*.txt")) + [LEXICON_FILE])
    assert meta["cv"]["heldout_top1_picker"] > meta["cv"]["heldout_top1_old_formula"]


# --- training rows ----------------------------------------------------------------------------
def test_training_rows_hide_the_row_own_product(hinter):
    """Leave-one-group-out: a corpus row must not find itself among its heading's examples."""
    from nlp.hs.corpus import load_corpus
    from nlp.hs.ranker import build_candidates

    rows = [r for r in load_corpus() if r["hs4"] in ("6110", "8501")][:6]
    texts = [r["text"] for r in rows]
    vecs = hinter.encoder.encode(texts)
    seen = build_candidates(hinter.index, texts, vecs, hinter.lexicon)
    hidden = build_candidates(hinter.index, texts, vecs, hinter.lexicon, [r["group"] for r in rows])
    k = S.BASE_FEATURES.index("hknn")
    B1, y1, q1, _ = S.training_matrix(hinter.index, rows, seen)
    B2, y2, q2, keep = S.training_matrix(hinter.index, rows, hidden, [r["group"] for r in rows])
    assert keep == list(range(len(rows))) and np.array_equal(y1, y2)
    assert np.bincount(q2, weights=y2).tolist() == [1.0] * len(rows)   # one right answer each
    assert np.all(B1[y1 == 1, k] > 0.999)        # it finds itself when not hidden...
    assert np.all(B2[y2 == 1, k] < 0.999)        # ...and not when its group is hidden
    drilled = S.training_matrix(hinter.index, rows, hidden, [("hs4", r["hs4"]) for r in rows])[0]
    assert np.all(drilled[:, k] == 0)            # unseen-heading drill: no example of the heading


# --- in the hinter ----------------------------------------------------------------------------
def test_picker_changes_only_the_subheading(hinter):
    """Heading order and confidence are the ranker's alone; the fallback formula gives the same
    headings and confidences when the picker is switched off."""
    from nlp.hs.hinter import Hinter

    old = Hinter(index=hinter.index, ranker=hinter.ranker, lexicon=hinter.lexicon, subheading=False)
    assert hinter.subheading is not None and old.subheading is None
    texts = ["Men's crew-neck knitted sweater, 100% acrylic", "Three-phase AC induction motor, 5.5 kW",
             "Woven cotton shirting fabric, dyed, 120 g/m2", "qwzx plorb", "Visors, HTS 3926.20.9050"]
    for register in ("firm", "customs"):
        for a, b in zip(hinter.hint(texts, register=register), old.hint(texts, register=register)):
            assert [(h["hs4"], h["confidence"]) for h in a] == [(h["hs4"], h["confidence"]) for h in b]
            assert all(h["hs6"][:4] == h["hs4"] for h in a)


def test_picker_reads_material_and_thresholds(hinter):
    hints = hinter.hint(["Men's crew-neck knitted sweater, 100% acrylic",
                         "Three-phase AC induction motor, 5.5 kW, foot mounted"])
    assert hints[0][0]["hs6"] == "611030"
    assert hints[1][0]["hs6"] == "850152"


def test_batched_features_equal_pair_by_pair(hinter):
    """``features_batch`` computes every (text, heading) pair in one pass: each pair's rows must be
    the rows of ``features`` for that pair alone, to the last bit (no pair sees another's values),
    in training (a hidden group, a hidden heading) as in hinting."""
    from nlp.hs.ranker import build_candidates

    texts = ["100% cotton knitted T-shirts for men", "Electric motors, AC, 1.5 kW, three-phase",
             "Leather briefcases and attache cases", "frozen boneless beef cuts", "qwzx plorb",
             "Women's trousers of synthetic fibres, woven, 65% polyester 35% cotton"]
    vecs = hinter.encoder.encode(texts)
    for exclude in (None, ["g1", "", "g3", "", "", "g6"], [("hs4", "6109"), None, None, ("hs4", "0202"), None, None]):
        cands = build_candidates(hinter.index, texts, vecs, hinter.lexicon)
        hinter.subheading.attach(cands, vecs)
        jobs = []
        for i, c in enumerate(cands):
            if exclude is not None:
                c.sub_scores.cache["exclude"] = exclude[i]
            jobs += [(c.sub_scores, h) for h in c.heads]
        batch = S.features_batch(jobs)
        alone = np.vstack([S.features(ss, h) for ss, h in jobs])
        assert batch.shape == (len(alone), len(S.BASE_FEATURES)) and len(jobs) > 50
        assert np.array_equal(batch, alone)
    assert S.features_batch([]).shape == (0, len(S.BASE_FEATURES))


# --- polymer names, parts, residuals (seventh round) ------------------------------------------
def test_polymer_names_meet_the_nomenclature_wording():
    words = lambda t: S._picker_norm(t).split()
    assert "polymerofethylene" in words("disposable floor mats of polyethylene sheeting")
    assert "polymerofethylene" in words("Plastics; plates, sheets, film, of polymers of ethylene, non-cellular")
    assert "polymerofethylene" in words("HDPE bottles")
    assert "polymerofvinylchloride" in words("poly(vinyl chloride) pipe")
    assert "polymerofvinylchloride" in words("PVC pipe")
    assert "polymerofstyrene" in words("expanded polystyrene trays")
    # PET is a polyester, not a polymer of ethylene; lower-case "pp" is no abbreviation
    assert not any(w.startswith("polymerof") for w in words("polyethylene terephthalate film, pp. 4"))


def test_parts_feature(hinter):
    st = S.static_for(hinter.index)
    is_parts = {c: bool(st.parts[k]) for k, c in enumerate(hinter.index.sub_codes)}
    assert is_parts["848190"] and not is_parts["848120"] and not is_parts["848180"]
    assert S._part_cue("a transmission spool valve part used in an automatic transmission") == 1.0
    assert S._part_cue("a spacer ring used in a pneumatic valve") == 0.5
    assert S._part_cue("hydraulic relief valves") == 0.0
    from nlp.hs.ranker import build_candidates

    texts = ["spool valve parts for hydraulic transmissions", "hydraulic relief valves"]
    cands = build_candidates(hinter.index, texts, hinter.encoder.encode(texts), hinter.lexicon)
    h = hinter.index.head_pos["8481"]
    lo, _ = hinter.index.sub_bounds[h]
    col = S.BASE_FEATURES.index("part")
    part = S.features(cands[0].sub_scores, h)[:, col]
    whole = S.features(cands[1].sub_scores, h)[:, col]
    at = hinter.index.sub_pos["848190"] - lo
    assert part[at] == 1.0 and (np.delete(part, at) == -1.0).all()
    assert whole[at] == -0.5 and (np.delete(whole, at) == 0.0).all()


def test_other_than_inside_a_specific_subheading_is_not_residual():
    assert not S.is_residual("850161", "Generators; AC generators, (alternators), other than photovoltaic generators, "
                                       "of an output not exceeding 75kVA")
    assert S.is_residual("120241", "Ground-nuts; other than seed, not roasted or otherwise cooked, in shell")


# --- the siblings' own words, exclusions, polymers (eighth round) ------------------------------
def test_exclusion_clauses_are_cut_out_of_the_subheading_text():
    named, excluded = S.split_exclusions("Weighing machines; other than personal, conveyor or constant weight "
                                         "scales, having a maximum weighing capacity exceeding 30kg")
    assert "personal" in excluded and "conveyor" in excluded and "personal" not in named
    assert "maximum weighing capacity exceeding 30kg" in named  # the list ends at the comma after "or ..."
    named, excluded = S.split_exclusions("Fowls; not cut in pieces, frozen")
    assert excluded.strip() == "cut in pieces" and "frozen" in named
    # bounds and residual marks are not exclusions
    for text in ("Motors; of an output not exceeding 750W", "Valves; n.e.c., not elsewhere specified"):
        assert S.split_exclusions(text)[1] == ""


def test_denied_words_are_not_named_words():
    words, _, denied = S.text_words("Cast iron griddles for the stove, not enamelled")
    assert "enamelled" in denied and "enamelled" not in words and {"cast", "iron", "griddle"} <= words
    _, _, denied = S.text_words("knitted gloves, not impregnated, coated or covered, of acrylic")
    assert {"impregnated", "coated", "covered"} <= denied
    words, _, denied = S.text_words("a hand winch, not powered by an electric motor, for boats")
    assert {"powered", "electric", "motor"} <= denied and "boat" in words
    assert S.text_words("Steel dowel pins, non-threaded")[2] == {"threaded"}
    assert S.text_words("threaded steel rods")[2] == frozenset()
    # the nomenclature's "non-" is an exclusion too
    named, excluded = S.split_exclusions("Iron or non-alloy steel; bars")
    assert "alloy" in excluded and "alloy" not in named


def test_text_polymers_read_as_the_nomenclature_names_them():
    assert S.text_words("disposable floor mats made of polyethylene plastic sheeting")[1] == {"polymerofethylene"}
    # PET is a polyester, PVDC not a polymer of vinyl chloride, nylon a polyamide
    assert S.text_words("polyethylene terephthalate-polyvinylidene chloride film")[1] == {"polyester", "vinylidene"}
    assert S.text_words("PET bottles")[1] == {"polyester"}
    assert S.text_words("nylon 6 chips")[1] == {"polyamide"}
    assert S.text_words("steel bolts")[1] == frozenset()


def test_sibling_word_features(hinter):
    from nlp.hs.ranker import build_candidates

    index = hinter.index
    texts = ["a personal weighing scale, capacity 120 kg", "disposable floor mats of polyethylene sheeting",
             "cast iron griddles, not enamelled"]
    cands = build_candidates(index, texts, hinter.encoder.encode(texts), hinter.lexicon)
    col = {f: S.BASE_FEATURES.index(f) for f in ("own_words", "sib_words", "excl_words", "poly", "negated")}

    def rows(k, heading):
        h = index.head_pos[heading]
        lo, hi = index.sub_bounds[h]
        return dict(zip(index.sub_codes[lo:hi], S.features(cands[k].sub_scores, h)))

    scale = rows(0, "8423")
    assert scale["842310"][col["own_words"]] > 0 and scale["842310"][col["excl_words"]] == 0
    assert scale["842382"][col["excl_words"]] > 0  # "other than personal ... scales"
    assert scale["842382"][col["sib_words"]] == scale["842310"][col["own_words"]]
    film = rows(1, "3920")
    assert film["392010"][col["poly"]] == 1.0  # "of polymers of ethylene"
    assert film["392043"][col["poly"]] == -1.0  # "of polymers of vinyl chloride"
    assert film["392099"][col["poly"]] == 0.0  # "of plastics n.e.c.": names no polymer
    griddle = rows(2, "7323")
    assert griddle["732391"][col["negated"]] > 0  # "of cast iron, not enamelled"
    assert griddle["732392"][col["negated"]] < 0  # "of cast iron, enamelled"
    assert griddle["732393"][col["negated"]] == 0
