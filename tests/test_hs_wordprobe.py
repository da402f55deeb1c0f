"""The learned word classifier (nlp/hs/wordprobe.py): its fit, its file, and above all that the
ranker's training features come from fits that never saw the row (cross-fitting)."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.hs import wordprobe as wp_mod
from nlp.hs.probe import fold_of
from nlp.hs.wordprobe import LOG_FLOOR, WordProbe, cross_fitted, fit


class _FakeIndex:
    """What the classifier reads of an ``Index``: examples (text, hs4, group) and their headings."""

    def __init__(self, examples, head_codes):
        self.examples = examples
        self.head_codes = head_codes
        self.head_pos = {c: i for i, c in enumerate(head_codes)}
        self.ex_head = np.array([self.head_pos[e["hs4"]] for e in examples])


# Each heading its own material and article words; each product group a few wordings of them.
_WORDS = [("cotton", "shirt"), ("steel", "bolt"), ("rubber", "tyre"), ("glass", "bottle"),
          ("oak", "chair"), ("copper", "wire")]
_FILL = ["new", "blue", "large", "small", "heavy", "light", "plain", "printed"]


def _corpus(groups_per_head=4, per_group=3, seed=0):
    rng = np.random.default_rng(seed)
    codes = [f"{6100 + i}" for i in range(len(_WORDS))]
    examples = []
    for h, (code, (a, b)) in enumerate(zip(codes, _WORDS)):
        for g in range(groups_per_head):
            for w in range(per_group):
                fill = " ".join(rng.choice(_FILL, 2, replace=False))
                examples.append({"text": f"{fill} {a} {b} model {h}{g}{w}", "hs4": code, "group": f"g{h}-{g}"})
    return _FakeIndex(examples, codes), codes


def test_classifier_learns_the_headings_from_their_words():
    ix, codes = _corpus()
    wp = fit([e["text"] for e in ix.examples], ix.ex_head, len(codes))
    queries = [f"a {a} {b}" for a, b in _WORDS] + [f"{a} for sale" for a, _ in _WORDS]
    lp = wp.log_proba(queries)
    assert wp.known.all()
    assert (lp.argmax(axis=1) == np.tile(np.arange(len(codes)), 2)).all()
    assert (lp >= LOG_FLOOR).all() and (lp <= 0).all()
    assert np.allclose(np.exp(lp).sum(axis=1), 1.0, atol=1e-3)


def test_pruning_keeps_the_largest_weights():
    coef = np.array([[0.1, -3.0, 0.2], [2.0, 0.0, -0.05]], dtype=np.float32)
    W = wp_mod.prune(coef, 2 / 6).toarray()
    assert np.array_equal(W, [[0, -3.0, 0], [2.0, 0, 0]])


def test_a_heading_without_examples_reads_the_floor():
    ix, codes = _corpus()
    keep = np.flatnonzero(ix.ex_head != 2)
    wp = fit([ix.examples[i]["text"] for i in keep], ix.ex_head[keep], len(codes))
    lp = wp.log_proba(["rubber tyre"])
    assert not wp.known[2] and wp.known.sum() == len(codes) - 1
    assert lp[0, 2] == LOG_FLOOR


def test_saved_classifier_reads_back_close_and_keeps_its_meta(tmp_path):
    ix, codes = _corpus()
    wp = fit([e["text"] for e in ix.examples], ix.ex_head, len(codes))
    wp.meta = {"examples": "abc"}
    path = tmp_path / "w.npz"
    size = wp.save(path)
    back = WordProbe.load(path)
    assert size == path.stat().st_size and back.vocab == wp.vocab
    assert back.meta["examples"] == "abc"
    q = ["steel bolt", "oak chair, printed", "nothing known here"]
    assert np.abs(back.log_proba(q) - wp.log_proba(q)).max() < 0.02  # float16 weights


def test_cross_fitted_features_never_see_the_row_or_the_drill_heading():
    """A product alone under its heading: its own fit cannot know that heading (floor); a drill
    row's heading is unknown to its fit although other products of it exist; a plain row of a
    heading with other products keeps a fit that knows its heading."""
    ix, codes = _corpus()
    lonely = {"text": "zinc ingot unwrought", "hs4": "7901", "group": "lonely"}
    ix = _FakeIndex(ix.examples + [lonely], codes + ["7901"])
    texts = ["zinc ingot unwrought", "steel bolt", "glass bottle"]
    excl = ["lonely", ("hs4", codes[1]), "g3-1"]
    out = cross_fitted(ix, texts, excl, folds=3, cache=False)
    assert out[0, ix.head_pos["7901"]] == LOG_FLOOR
    assert out[1, ix.head_pos[codes[1]]] == LOG_FLOOR
    assert out[2].argmax() == ix.head_pos[codes[3]]
    # the full fit (no cross-fitting) knows the lonely product and the drill heading
    full = fit([e["text"] for e in ix.examples], ix.ex_head, len(ix.head_codes)).log_proba(texts)
    assert full[0].argmax() == ix.head_pos["7901"] and full[1].argmax() == ix.head_pos[codes[1]]


def test_cross_fitted_plain_rows_leave_out_their_whole_fold():
    """The row's fold's fit is exactly a fit without every example of the fold's groups: a query
    worded as an example of its own group reads what that fit reads."""
    ix, codes = _corpus(groups_per_head=3, per_group=2)
    q = ix.examples[0]
    out = cross_fitted(ix, [q["text"]], [q["group"]], folds=4, cache=False)
    f = fold_of(q["group"], 4)
    keep = np.flatnonzero([fold_of(e["group"], 4) != f for e in ix.examples])
    assert not any(ix.examples[i]["group"] == q["group"] for i in keep)
    ref = fit([ix.examples[i]["text"] for i in keep], ix.ex_head[keep], len(codes)).log_proba([q["text"]])
    assert np.allclose(out, ref, atol=1e-5)


def test_candidate_columns_are_the_classifier_s_log_probability_and_rank():
    from nlp.hs.hinter import get_hinter
    from nlp.hs.noise import clean
    from nlp.hs.ranker import FEATURES, build_candidates
    from nlp.hs.wordprobe import for_index

    h = get_hinter()
    texts = ["Powder-free nitrile examination gloves for clinics", "Knitted cotton pullovers for men"]
    vecs = h.encoder.encode(texts)
    lp = for_index(h.index).log_proba([clean(t) for t in texts])
    c_lp, c_rank = FEATURES.index("word_lp"), FEATURES.index("word_rank")
    for i, c in enumerate(build_candidates(h.index, texts, vecs, h.lexicon)):
        assert np.allclose(c.X[:, c_lp], lp[i, c.heads], atol=1e-6)
        best = int(np.argmax(lp[i]))
        if best in c.heads:
            assert c.X[c.heads.index(best), c_rank] == 1.0
        assert (c.X[:, c_rank] <= 1.0).all() and (c.X[:, c_rank] > 0).all()
    fake = np.full_like(lp, LOG_FLOOR)
    for c in build_candidates(h.index, texts, vecs, h.lexicon, word_logp=fake):
        assert (c.X[:, c_lp] == LOG_FLOOR).all()


def test_shipped_classifier_matches_the_data():
    """wordprobe.npz was fitted on the examples the hinter searches and the training files as
    they are now (else: python -m nlp.hs.train)."""
    from nlp.hs.hinter import get_hinter
    from nlp.hs.train import file_hash, training_files
    from nlp.hs.wordprobe import WORD_FILE, examples_digest

    if not WORD_FILE.exists():
        pytest.fail(f"{WORD_FILE} is missing: run python -m nlp.hs.train")
    shipped = WordProbe.load(WORD_FILE)
    assert shipped.meta["data_hash"] == file_hash(training_files())
    assert shipped.meta["examples"] == examples_digest(get_hinter().index)
    assert shipped.W.shape == (len(shipped.vocab), len(get_hinter().index.head_codes))
