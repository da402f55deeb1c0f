"""The linear probe over the encoder (nlp/hs/probe.py): its fit, its file, and above all that the
ranker's training features come from probes that never saw the row (cross-fitting)."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.hs import probe as probe_mod
from nlp.hs.probe import LOG_FLOOR, Probe, cross_fitted, fit_weights


class _FakeIndex:
    """What the probe reads of an ``Index``: examples (text, hs4, group), their vectors and headings."""

    def __init__(self, examples, vecs, head_codes):
        self.examples = examples
        self.E_ex = np.asarray(vecs, dtype=np.float32)
        self.head_codes = head_codes
        self.head_pos = {c: i for i, c in enumerate(head_codes)}
        self.ex_head = np.array([self.head_pos[e["hs4"]] for e in examples])


def _clusters(n_heads=6, groups_per_head=4, per_group=3, dim=16, seed=0):
    """Headings as well-separated directions; each product group a few noisy wordings."""
    rng = np.random.default_rng(seed)
    centres = np.linalg.qr(rng.standard_normal((dim, dim)))[0][:n_heads]
    codes = [f"{8400 + i}" for i in range(n_heads)]
    examples, vecs = [], []
    for h, code in enumerate(codes):
        for g in range(groups_per_head):
            for w in range(per_group):
                v = centres[h] + 0.15 * rng.standard_normal(dim)
                examples.append({"text": f"p{h}-{g} wording {w}", "hs4": code, "group": f"g{h}-{g}"})
                vecs.append(v / np.linalg.norm(v))
    return _FakeIndex(examples, np.array(vecs), codes), centres


def test_probe_learns_the_headings_and_reads_log_probabilities():
    ix, centres = _clusters()
    W, b, known = fit_weights(ix.E_ex, ix.ex_head, len(ix.head_codes))
    lp = Probe(W, b, known).log_proba(centres.astype(np.float32))
    assert known.all()
    assert (lp.argmax(axis=1) == np.arange(len(centres))).all()
    assert np.allclose(np.exp(lp).sum(axis=1), 1.0, atol=1e-3)  # no probability is near the floor here
    assert (lp >= LOG_FLOOR).all() and (lp <= 0).all()


def test_a_heading_without_examples_reads_the_floor():
    ix, centres = _clusters()
    keep = ix.ex_head != 2
    W, b, known = fit_weights(ix.E_ex[keep], ix.ex_head[keep], len(ix.head_codes))
    lp = Probe(W, b, known).log_proba(centres.astype(np.float32))
    assert not known[2] and known.sum() == len(ix.head_codes) - 1
    assert (lp[:, 2] == LOG_FLOOR).all()
    assert lp[2].argmax() != 2


def test_saved_probe_reads_back_close_and_keeps_its_meta(tmp_path):
    ix, centres = _clusters()
    p = Probe(*fit_weights(ix.E_ex, ix.ex_head, len(ix.head_codes)), meta={"examples": "abc", "C": 10.0})
    path = tmp_path / "probe.npz"
    size = p.save(path)
    q = Probe.load(path)
    assert size == path.stat().st_size and q.W.dtype == np.float32
    assert q.meta["examples"] == "abc"
    V = centres.astype(np.float32)
    assert np.abs(q.log_proba(V) - p.log_proba(V)).max() < 0.02  # float16 weights


def test_cross_fitted_features_never_see_the_row_or_the_drill_heading():
    """A product alone under its heading: its own probe cannot know that heading (floor); a drill
    row's heading is unknown to its probe although other products of it exist; a plain row of a
    heading with other products keeps a probe that knows its heading."""
    ix, centres = _clusters(groups_per_head=4)
    # one heading with a single product: the plain query of that product must read the floor
    lonely = {"text": "lonely product", "hs4": "8499", "group": "lonely"}
    ix = _FakeIndex(ix.examples + [lonely], np.vstack([ix.E_ex, centres[0] * -1.0]), ix.head_codes + ["8499"])
    vec = ix.E_ex[-1:]
    drill_q = ("hs4", "8401")  # heading 8401 has four products, all hidden for this query
    plain_g = "g3-1"          # heading 8403: three other products remain in other folds (or the same)
    vecs = np.vstack([vec, centres[1:2], centres[3:4]]).astype(np.float32)
    out = cross_fitted(ix, vecs, ["lonely", drill_q, plain_g], folds=3, cache=False)
    assert out[0, ix.head_pos["8499"]] == LOG_FLOOR
    assert out[1, ix.head_pos["8401"]] == LOG_FLOOR
    assert out[2, ix.head_pos["8403"]] > LOG_FLOOR and out[2].argmax() == ix.head_pos["8403"]
    # with the full probe (no cross-fitting) the lonely product and the drill heading are known
    full = Probe(*fit_weights(ix.E_ex, ix.ex_head, len(ix.head_codes))).log_proba(vecs)
    assert full[0, ix.head_pos["8499"]] > LOG_FLOOR and full[1].argmax() == ix.head_pos["8401"]


def test_cross_fitted_plain_rows_leave_out_their_whole_fold():
    """Every example whose group shares the query's fold is left out of its probe: a query
    identical to an example of its own group scores that example's heading no better than a
    probe fitted without that group."""
    ix, centres = _clusters(groups_per_head=3, per_group=2)
    q = 0  # first example's group
    g = ix.examples[q]["group"]
    out = cross_fitted(ix, ix.E_ex[q:q + 1], [g], folds=4, cache=False)
    f = probe_mod.fold_of(g, 4)
    keep = np.array([probe_mod.fold_of(e["group"], 4) != f for e in ix.examples])
    ref = Probe(*fit_weights(ix.E_ex[keep], ix.ex_head[keep], len(ix.head_codes))).log_proba(ix.E_ex[q:q + 1])
    assert np.allclose(out, ref, atol=1e-5)


def test_candidate_columns_are_the_probe_s_log_probability_and_rank():
    from nlp.hs.hinter import get_hinter
    from nlp.hs.probe import for_index
    from nlp.hs.ranker import FEATURES, build_candidates

    h = get_hinter()
    texts = ["Powder-free nitrile examination gloves for clinics", "Kiln-dried Douglas fir two-by-fours"]
    vecs = h.encoder.encode(texts)
    lp = for_index(h.index).log_proba(vecs)
    c_lp, c_rank = FEATURES.index("probe_lp"), FEATURES.index("probe_rank")
    for i, c in enumerate(build_candidates(h.index, texts, vecs, h.lexicon)):
        assert np.allclose(c.X[:, c_lp], lp[i, c.heads], atol=1e-6)
        best = int(np.argmax(lp[i]))
        if best in c.heads:
            assert c.X[c.heads.index(best), c_rank] == 1.0
        assert (c.X[:, c_rank] <= 1.0).all() and (c.X[:, c_rank] > 0).all()
    # an explicit matrix (training's cross-fitted one) is what the columns read
    fake = np.full_like(lp, LOG_FLOOR)
    for c in build_candidates(h.index, texts, vecs, h.lexicon, probe_logp=fake):
        assert (c.X[:, c_lp] == LOG_FLOOR).all()


def test_shipped_probe_matches_the_data():
    """probe.npz was fitted on the examples the hinter searches and the training files as they
    are now (else: python -m nlp.hs.train)."""
    from nlp.hs.hinter import get_hinter
    from nlp.hs.probe import PROBE_FILE, examples_digest
    from nlp.hs.train import file_hash, training_files

    if not PROBE_FILE.exists():
        pytest.fail(f"{PROBE_FILE} is missing: run python -m nlp.hs.train")
    shipped = Probe.load(PROBE_FILE)
    assert shipped.meta["data_hash"] == file_hash(training_files())
    assert shipped.meta["examples"] == examples_digest(get_hinter().index)
    assert shipped.W.shape == (384, len(get_hinter().index.head_codes))
