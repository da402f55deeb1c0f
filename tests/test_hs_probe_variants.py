"""The eleventh round's optional ranker columns (``ranker.VARIANT_FEATURES``): each reads what its
docstring says, and the head-phrase probe is cross-fitted in training like the text's own."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.hs import ranker as R
from nlp.hs.probe import LOG_FLOOR, for_index

TEXTS = [
    "Gloves of vulcanized rubber, powder-free, for medical examination use in hospitals and clinics",
    "Kiln-dried Douglas fir two-by-fours",
]


@pytest.fixture()
def every_variant(monkeypatch):
    """FEATURES with every optional column listed after the shipped ones (the shipped hinter is
    built first: its ranker reads the shipped columns)."""
    _hinter()
    base = [f for f in R.FEATURES if f not in R.VARIANT_FEATURES]
    monkeypatch.setattr(R, "FEATURES", base + list(R.VARIANT_FEATURES))
    return {f: R.FEATURES.index(f) for f in R.VARIANT_FEATURES}


def _hinter():
    from nlp.hs.hinter import get_hinter

    return get_hinter()


def test_variant_columns_read_length_probe_chapter_and_head(every_variant):
    h = _hinter()
    ix = h.index
    ends = [R.head_end(t) for t in TEXTS]
    assert ends[0] is not None and ends[1] is None  # one long text with a head, one short without
    vecs, hv = h.encoder.encode_with_heads(TEXTS, ends)
    probe = for_index(ix)
    lp, head_lp = probe.log_proba(vecs), probe.log_proba(hv[:1])
    col = every_variant
    for i, c in enumerate(R.build_candidates(ix, TEXTS, vecs, h.lexicon, heads=(ends, hv))):
        assert c.X.shape[1] == len(R.FEATURES)
        n = R.word_count(TEXTS[i])
        assert np.allclose(c.X[:, col["log_words"]], np.log1p(min(n, R.NW_CAP)))
        assert np.allclose(c.X[:, col["probe_p"]], np.exp(lp[i, c.heads]), atol=1e-6)
        chap = ix.chap_pos_of_head[c.heads]
        summed = np.array([np.exp(lp[i, ix.chap_pos_of_head == k]).sum() for k in chap])
        assert np.allclose(c.X[:, col["chap_probe"]], np.maximum(np.log(summed), LOG_FLOOR), atol=1e-4)
        # the head probe reads the head's vector for the long text, the text's own for the short one
        want = head_lp[0] if i == 0 else lp[i]
        assert np.allclose(c.X[:, col["head_probe_lp"]], want[c.heads], atol=1e-6)
        best = int(np.argmax(want))
        if best in c.heads:
            assert c.X[c.heads.index(best), col["head_probe_rank"]] == 1.0
    assert not np.allclose(head_lp[0], lp[0], atol=0.1)  # the head is read apart from the text


def test_head_probe_in_training_needs_its_own_cross_fitted_matrix(every_variant):
    """Cross-fitted text columns beside full-probe head columns would let the probe vouch for a
    training row's own heading through its head phrase: refused."""
    h = _hinter()
    ends = [R.head_end(t) for t in TEXTS]
    vecs, hv = h.encoder.encode_with_heads(TEXTS, ends)
    fake = np.full((len(TEXTS), len(h.index.head_codes)), LOG_FLOOR, dtype=np.float32)
    with pytest.raises(ValueError, match="head_probe_logp"):
        R.build_candidates(h.index, TEXTS, vecs, h.lexicon, heads=(ends, hv), probe_logp=fake)
    # given both, the head columns read the given matrix (the floor here), not the full probe
    c = R.build_candidates(h.index, TEXTS, vecs, h.lexicon, heads=(ends, hv), probe_logp=fake,
                           head_probe_logp=fake)[0]
    assert (c.X[:, every_variant["head_probe_lp"]] == LOG_FLOOR).all()


def test_training_scores_head_vectors_with_the_row_s_own_fold_probes(monkeypatch, every_variant):
    """``train.candidate_matrix`` cross-fits the head vectors in one call with the texts, under
    the same exclusions, so a head row's probe is its text's probe (never one that saw the row)."""
    from nlp.hs import train

    seen = {}

    def fake_cross_fitted(index, vecs, exclusions, *a, **k):
        seen["vecs"], seen["excl"] = vecs, list(exclusions)
        return np.full((len(vecs), len(index.head_codes)), LOG_FLOOR, dtype=np.float32)

    monkeypatch.setattr(train, "cross_fitted", fake_cross_fitted)
    h = _hinter()
    rows = [{"text": t, "hs4": hs4, "group": g} for t, hs4, g in
            zip(TEXTS, ("4015", "4407"), ("corpus:gloves", "corpus:fir"))]
    train.candidate_matrix(h.index, h.lexicon, rows)
    excl = train.drill_exclusions(rows)
    assert len(seen["vecs"]) == 3 and seen["excl"] == excl + [excl[0]]  # two texts, then the one head
