"""The subheading probe (nlp/hs/subprobe.py): its per-heading fit, its file, that the picker's
training rows read it cross-fitted (from fits that never saw the row's product), and that its
values reach the picker's features and scores."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.hs import subprobe as SP
from nlp.hs.probe import fold_of


class _FakeIndex:
    """What the probe reads of an ``Index``: examples with subheadings, their vectors, and the
    nomenclature's subheadings (bounds per heading, their texts' vectors)."""

    def __init__(self, examples, vecs, sub_codes, sub_vecs):
        self.examples = examples
        self.E_ex = np.asarray(vecs, dtype=np.float32)
        self.sub_codes = sub_codes
        self.sub_pos = {c: i for i, c in enumerate(sub_codes)}
        self.head_codes = sorted({c[:4] for c in sub_codes})
        self.head_pos = {c: i for i, c in enumerate(self.head_codes)}
        self.sub_head = np.array([self.head_pos[c[:4]] for c in sub_codes])
        self.sub_bounds = [(int(np.flatnonzero(self.sub_head == h)[0]), int(np.flatnonzero(self.sub_head == h)[-1]) + 1)
                           for h in range(len(self.head_codes))]
        self.E_sub = np.asarray(sub_vecs, dtype=np.float32)
        self.ex_sub = np.array([self.sub_pos.get(e.get("hs6") or "", -1) for e in examples])
        self.ex_head = np.array([self.head_pos[e["hs4"]] for e in examples])


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _toy(dim=24, seed=0, groups=5, per=3):
    """Two headings of 3 and 2 subheadings (one single-subheading heading besides), each
    subheading a direction; a few product groups per subheading, each a few noisy wordings."""
    rng = np.random.default_rng(seed)
    subs = ["840110", "840120", "840190", "850110", "850190", "860100"]
    centres = _unit(rng.standard_normal((len(subs), dim)))
    examples, vecs = [], []
    for k, code in enumerate(subs):
        for g in range(groups):
            for w in range(per):
                examples.append({"text": f"{code}-{g} wording {w}", "hs4": code[:4], "hs6": code, "group": f"g{code}-{g}"})
                vecs.append(_unit(centres[k] + 0.25 * rng.standard_normal(dim)))
    sub_vecs = _unit(centres + 0.5 * rng.standard_normal(centres.shape))
    return _FakeIndex(examples, np.array(vecs), subs, sub_vecs), centres


def test_fit_in_the_rows_span_is_the_fit_on_every_column(monkeypatch):
    """``fit_heading`` fits in the span of its rows (a few columns, not 384): the L2-penalised
    optimum is the same model, so run to a tight tolerance both give the same probabilities."""
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setattr(SP, "TOL", 1e-10)
    monkeypatch.setattr(SP, "MAX_ITER", 20000)
    ix, centres = _toy(dim=40, groups=2, per=2)  # 4 + 3 rows per subheading: fewer rows than columns
    h = ix.head_pos["8401"]
    lo, hi = ix.sub_bounds[h]
    ex = np.flatnonzero(ix.ex_head == h)
    W, b = SP.fit_heading(ix, h, ex, c=5.0)
    X = np.vstack([ix.E_ex[ex], ix.E_sub[lo:hi]]).astype(np.float64)
    y = np.concatenate([ix.ex_sub[ex] - lo, np.arange(hi - lo)])
    w = np.concatenate([np.ones(len(ex)), np.full(hi - lo, SP.DESC_WEIGHT)])
    ref = LogisticRegression(C=5.0, tol=1e-10, max_iter=20000).fit(X, y, sample_weight=w)
    Q = _unit(centres[lo:hi] + 0.3).astype(np.float32)
    mine = np.exp([SP.log_softmax(q @ W + b) for q in Q])
    assert np.abs(mine - ref.predict_proba(Q)).max() < 1e-3


def test_probe_learns_the_subheadings_and_reads_back_from_its_file(tmp_path):
    ix, centres = _toy()
    sp = SP.fit_subprobe(ix)
    for h in SP.multi_headings(ix):
        lo, hi = ix.sub_bounds[h]
        for k in range(lo, hi):
            lp = sp.log_proba(centres[k], lo, hi)
            assert lp.argmax() == k - lo and np.isclose(np.exp(lp).sum(), 1.0, atol=1e-6)
    single = ix.head_pos["8601"]
    assert SP.multi_headings(ix) == [0, 1] and single not in SP.multi_headings(ix)
    size = sp.save(tmp_path / "sp.npz")
    back = SP.SubProbe.load(tmp_path / "sp.npz")
    assert size > 0 and back.meta["examples"] == SP.examples_digest(ix)
    lo, hi = ix.sub_bounds[0]
    assert np.abs(back.log_proba(centres[1], lo, hi) - sp.log_proba(centres[1], lo, hi)).max() < 1e-2


def test_cross_fitted_rows_come_from_fits_without_their_product():
    """A training row is scored by a fit without every example of its group's fold (so without
    its own product), and a drill row by a fit on the heading's nomenclature texts alone."""
    ix, _ = _toy()
    h = ix.head_pos["8401"]
    lo, hi = ix.sub_bounds[h]
    rows = [i for i, e in enumerate(ix.examples) if e["hs4"] == "8401"][::4]
    vecs = ix.E_ex[rows]
    groups = [ix.examples[i]["group"] for i in rows]
    excl = list(groups)
    excl[0] = ("hs4", "8401")  # an unseen-heading drill row
    got = SP.cross_fitted(ix, vecs, [h] * len(rows), excl, cache=False)
    mine = np.flatnonzero(ix.ex_head == h)
    full = SP.fit_subprobe(ix)
    desc_W, desc_b = SP.fit_heading(ix, h, mine[:0])
    assert np.allclose(got[0], SP.log_softmax(vecs[0] @ desc_W + desc_b), atol=1e-5)
    for k in range(1, len(rows)):
        f = fold_of(groups[k])
        kept = mine[[fold_of(ix.examples[j]["group"]) != f for j in mine]]
        assert not any(ix.examples[j]["group"] == groups[k] for j in kept)
        W, b = SP.fit_heading(ix, h, kept)
        assert np.allclose(got[k], SP.log_softmax(vecs[k] @ W + b), atol=1e-5)
    # the full fit has seen these rows: it is surer of their own subheading than the cross-fit
    gold = ix.ex_sub[rows[1:]] - lo
    full_lp = np.array([full.log_proba(v, lo, hi)[g] for v, g in zip(vecs[1:], gold)])
    cross_lp = np.array([got[k][g] for k, g in zip(range(1, len(rows)), gold)])
    assert full_lp.mean() > cross_lp.mean()
    # a heading of one subheading, or none, gives no values
    assert SP.cross_fitted(ix, vecs[:2], [ix.head_pos["8601"], None], groups[:2], cache=False) == [None, None]


def test_a_planted_product_is_not_recited():
    """A product near subheading 840110's examples in wording but labelled 840120 (a direction of
    its own besides): the full fit learns it and names 840120 for its own wording; the cross-fitted
    view, from a fit that never saw the product, must not be told (it reads 840110)."""
    ix, centres = _toy(dim=24)
    rng = np.random.default_rng(5)
    odd = _unit(centres[0] + 0.8 * _unit(rng.standard_normal(24))).astype(np.float32)
    h = ix.head_pos["8401"]
    lo, hi = ix.sub_bounds[h]
    extra = [{"text": f"odd wording {w}", "hs4": "8401", "hs6": "840120", "group": "odd"} for w in range(4)]
    ix2 = _FakeIndex(ix.examples + extra, np.vstack([ix.E_ex, np.repeat(odd[None], 4, axis=0)]),
                     ix.sub_codes, ix.E_sub)
    seen = SP.fit_subprobe(ix2).log_proba(odd, lo, hi)
    crossed = SP.cross_fitted(ix2, odd[None], [h], ["odd"], cache=False)[0]
    assert seen.argmax() == 1 and crossed.argmax() == 0 and crossed[1] < seen[1] - 1.0


@pytest.fixture(scope="module")
def hinter():
    from nlp.hs.hinter import get_hinter

    return get_hinter()


def test_the_probe_reaches_the_picker(hinter):
    """Hinting reads the full fit's log-probabilities; a training row's given values replace them;
    the picker's scores move with them (its weight on ``sp_lp`` is not zero)."""
    from nlp.hs import subheading as S
    from nlp.hs.ranker import build_candidates

    texts = ["Men's crew-neck knitted sweater, 100% acrylic", "Three-phase AC induction motor, 5.5 kW"]
    vecs = hinter.encoder.encode(texts)
    cands = build_candidates(hinter.index, texts, vecs, hinter.lexicon)
    hinter.subheading.attach(cands, vecs)
    lp_col, gap_col = S.BASE_FEATURES.index("sp_lp"), S.BASE_FEATURES.index("sp_gap")
    sp = SP.for_index(hinter.index)
    for c, v, hs4 in zip(cands, vecs, ("6110", "8501")):
        h = hinter.index.head_pos[hs4]
        lo, hi = hinter.index.sub_bounds[h]
        B = S.features(c.sub_scores, h)
        assert np.allclose(B[:, lp_col], sp.log_proba(v, lo, hi))
        assert np.allclose(B[:, gap_col], B[:, lp_col].max() - B[:, lp_col])
        before = hinter.subheading.score_matrix(B)
        given = np.full(hi - lo, -5.0)
        given[-1] = 0.0
        c.sub_scores.cache["sublp"] = {h: given}
        B2 = S.features(c.sub_scores, h)
        assert np.array_equal(B2[:, lp_col], given) and np.array_equal(B2[:, gap_col], given.max() - given)
        assert not np.allclose(hinter.subheading.score_matrix(B2), before)
    assert hinter.subheading.features == S.FEATURES and "sp_lp" in S.FEATURES


def test_training_rows_read_the_cross_fitted_probe(hinter):
    """``training_matrix`` with exclusions gives each row the cross-fitted values of its heading
    (``subprobe.cross_fitted`` with the same exclusions), not the full fit that saw it."""
    from nlp.hs import subheading as S
    from nlp.hs.corpus import load_corpus
    from nlp.hs.ranker import build_candidates

    rows = [r for r in load_corpus() if r["hs4"] in ("6110", "8501") and r.get("hs6")][:4]
    texts = [r["text"] for r in rows]
    vecs = hinter.encoder.encode(texts)
    excl = [r["group"] for r in rows]
    excl[1] = ("hs4", rows[1]["hs4"])
    cands = build_candidates(hinter.index, texts, vecs, hinter.lexicon, excl)
    B, y, qid, keep = S.training_matrix(hinter.index, rows, cands, excl)
    heads = [hinter.index.head_pos[r["hs4"]] for r in rows]
    want = SP.cross_fitted(hinter.index, vecs, heads, excl, cache=False)
    col = S.BASE_FEATURES.index("sp_lp")
    full = SP.for_index(hinter.index)
    for q, (i, h) in enumerate(zip(keep, heads)):
        lo, hi = hinter.index.sub_bounds[h]
        got = B[qid == q, col]
        assert np.allclose(got, want[i], atol=1e-6)
        assert not np.allclose(got, full.log_proba(vecs[i], lo, hi), atol=1e-3)


def test_shipped_subprobe_matches_the_data(hinter):
    """subprobe.npz was fitted on the examples the hinter searches (else: python -m nlp.hs.train;
    without the file, or with a stale one, the hinter fits one in memory, with a note)."""
    if not SP.SUBPROBE_FILE.exists():
        pytest.fail(f"{SP.SUBPROBE_FILE} is missing: run python -m nlp.hs.train")
    shipped = SP.SubProbe.load(SP.SUBPROBE_FILE)
    assert shipped.meta["examples"] == SP.examples_digest(hinter.index)
    assert shipped.W.shape == (384, len(hinter.index.sub_codes))
