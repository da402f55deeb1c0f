"""The speed-ups of the hint path compute the same numbers as the plain formulas they replace.

Why: every change for speed in ``hint()`` must leave the hints unchanged (docs/nlp.md, "Speed");
these tests keep the fast forms tied to the obvious ones, so a later edit of either side that
changes a number fails here rather than silently moving a confidence.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.hs import ranker
from nlp.hs.hinter import RANKER_FILE


def _random_model(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    m = n + n * (n - 1) // 2
    return {"mean": rng.normal(size=n).tolist(), "scale": rng.uniform(0.5, 2, n).tolist(),
            "mean2": rng.normal(size=m).tolist(), "scale2": rng.uniform(0.5, 2, m).tolist(),
            "coef": rng.normal(size=m).tolist(), "intercept": float(rng.normal())}


def _expanded(model: ranker._LinearModel, X: np.ndarray) -> np.ndarray:
    """The model as trained: standardise, all pairwise products, standardise, dot."""
    Z = ranker.pairwise((np.asarray(X, dtype=np.float64) - model.mean) / model.scale)
    z = ((Z - model.mean2) / model.scale2) @ model.coef + model.intercept
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


@pytest.mark.parametrize("n,seed", [(2, 0), (5, 1), (20, 2)])
def test_quadratic_form_equals_pairwise_expansion(n, seed):
    model = ranker._LinearModel(_random_model(n, seed))
    X = np.random.default_rng(seed + 10).normal(size=(300, n)).astype(np.float32)
    p = model.predict_proba(X)
    assert p.shape == (300, 2)
    np.testing.assert_allclose(p[:, 1], _expanded(model, X), rtol=0, atol=1e-12)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_shipped_ranker_quadratic_form_equals_expansion():
    rk = ranker.Ranker.load(RANKER_FILE)
    X = np.random.default_rng(3).uniform(-1, 2, size=(500, len(ranker.FEATURES))).astype(np.float32)
    np.testing.assert_allclose(rk.model.predict_proba(X)[:, 1], _expanded(rk.model, X), rtol=0, atol=1e-12)


def test_model_with_wrong_number_of_weights_is_refused():
    data = _random_model(4, 0)
    data["coef"] = data["coef"][:-1]
    with pytest.raises(ValueError, match="pairwise"):
        ranker._LinearModel(data)


@pytest.fixture(scope="module")
def index():
    from nlp.hs.retrieval import Index

    return Index()  # nomenclature only: what sub_similarities reads


@pytest.mark.parametrize("n", [1, 7, 300])
def test_sub_similarities_equal_product_and_reduceat(index, n):
    rng = np.random.default_rng(n)
    vecs = rng.normal(size=(n, index.E_sub.shape[1])).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    S_sub, sub_max = index.sub_similarities(vecs)
    plain = vecs @ index.E_sub.T
    assert S_sub.shape == plain.shape and sub_max.shape == (n, len(index.head_codes))
    # the maximum is exact whatever the order; the product is the same BLAS sum either way
    np.testing.assert_array_equal(sub_max, np.maximum.reduceat(S_sub, index.sub_start, axis=1))
    np.testing.assert_allclose(S_sub, plain, rtol=0, atol=1e-6)
    if n > 1:
        np.testing.assert_array_equal(S_sub, plain)


def _knit_signal_plain(text: str) -> float:
    """The word-set reading, without the no-stem shortcut."""
    words = set(text.lower().replace("-", " ").split()) | set(text.lower().split())
    words = {w.strip(".,;:()") for w in words}
    knit, woven = bool(words & ranker._KNIT_WORDS), bool(words & ranker._WOVEN_WORDS)
    if "not knitted" in text.lower():
        knit, woven = False, True
    return 1.0 if knit and not woven else -1.0 if woven and not knit else 0.0


_PIECES = sorted(ranker._KNIT_WORDS | ranker._WOVEN_WORDS) + [
    "not knitted", "Knitted", "WOVEN", "knitwear", "-", ",", "(", ")", " ", "cotton", "shirts", "İ", "denims."]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=6)), max_size=8))
def test_knit_signal_shortcut_changes_nothing(pieces):
    text = " ".join(pieces)
    assert ranker.knit_signal(text) == _knit_signal_plain(text)


def test_knit_signal_reads_both_ways():
    assert ranker.knit_signal("Men's knitted cotton pullovers") == 1.0
    assert ranker.knit_signal("woven denim jeans") == -1.0
    assert ranker.knit_signal("rib-knit and woven panels") == 0.0
    assert ranker.knit_signal("shirts, not knitted") == -1.0
    assert ranker.knit_signal("steel bolts") == 0.0
