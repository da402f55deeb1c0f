"""The neighbour search's bfloat16 pre-filter finds the same neighbours, to the last bit, as the
full float32 product it replaces (``ranker.nearest_examples``; docs/nlp.md, "Speed, ninth round").

Why these cases: the pre-filter is exact only if (1) its error bound holds, (2) every example tied
with a row's 15th best is re-scored, (3) rows with nothing close (a negative threshold) fall back
to every column, and (4) the re-scoring product sums each dot product as the full one does. Each
is built in on purpose below: clustered examples stored grouped (as the corpus is), exact
duplicate examples (ties), rows far from everything, and the real example set with corpus texts.
"""

from __future__ import annotations

import numpy as np
import pytest

from nlp.hs import codes, ranker


class _Index:
    """The two attributes ``nearest_examples`` reads."""

    def __init__(self, E: np.ndarray):
        self.E_ex = E


def _unit(X: np.ndarray) -> np.ndarray:
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def _clustered(rng, n_clusters: int, per: int, dim: int = 384, spread: float = 0.35) -> np.ndarray:
    centres = rng.standard_normal((n_clusters, dim))
    E = np.repeat(centres, per, axis=0) + spread * rng.standard_normal((n_clusters * per, dim))
    # stored as the shipped vectors are: float16 values in float32
    return _unit(E).astype(np.float16).astype(np.float32)


@pytest.fixture
def forced(monkeypatch):
    monkeypatch.setattr(ranker, "PREFILTER", True)


def _check(index, V):
    want = ranker._nearest(V @ index.E_ex.T)
    got = ranker.nearest_examples(index, V)
    assert got[0].shape == want[0].shape
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])  # bit for bit, not close
    return got


@pytest.mark.parametrize("seed", [0, 1])
def test_prefilter_equals_full_product_on_clustered_examples(forced, seed):
    rng = np.random.default_rng(seed)
    E = _clustered(rng, 120, 30)  # 3,600 examples, each cluster contiguous (as headings are)
    index = _Index(E)
    # texts near an example, near a cluster centre, and a few unrelated
    near = E[rng.integers(0, len(E), 300)] + 0.2 * rng.standard_normal((300, 384))
    centre = E[rng.integers(0, len(E), 100)] + 0.6 * rng.standard_normal((100, 384))
    V = _unit(np.vstack([near, centre, rng.standard_normal((30, 384))]))
    _check(index, V)


def test_prefilter_keeps_ties_in_example_order(forced):
    """Duplicated examples (two wordings with one vector) tie; the first in example order wins,
    as in ``_nearest``, also when the tie sits across the 15th place."""
    rng = np.random.default_rng(5)
    base = _clustered(rng, 60, 40)
    dup = rng.integers(0, len(base), 600)
    E = np.vstack([base, base[dup]])  # every duplicate after its original
    index = _Index(E)
    V = _unit(E[dup[:200]] + 0.05 * rng.standard_normal((200, 384)))
    nbr, sims = _check(index, V)
    assert (sims[:, :-1] >= sims[:, 1:]).all()


def test_rows_with_nothing_close_take_every_column(forced):
    """A row whose k-th best is not positive cannot use the int16 reading of bfloat16 values: its
    group is re-scored over all examples (still the same answer)."""
    rng = np.random.default_rng(7)
    E = _clustered(rng, 40, 64)
    index = _Index(E)
    # the negated mean direction of all examples: every similarity is low or negative
    away = -E.mean(axis=0, keepdims=True)
    V = _unit(np.vstack([np.repeat(away, 40, axis=0) + 0.01 * rng.standard_normal((40, 384)),
                         E[rng.integers(0, len(E), 160)]]))
    _check(index, V)


def test_small_batches_and_small_example_sets_use_the_plain_product(forced, monkeypatch):
    rng = np.random.default_rng(9)
    E = _clustered(rng, 10, 100)  # under PREFILTER_MIN_EXAMPLES
    called = []
    monkeypatch.setattr(ranker, "_bf16_examples", lambda index: called.append(1))
    _check(_Index(E), _unit(rng.standard_normal((300, 384))))
    E = _clustered(rng, 50, 60)
    _check(_Index(E), _unit(rng.standard_normal((5, 384))))  # under PREFILTER_MIN_ROWS
    assert not called


def test_switch_off_gives_the_plain_product(monkeypatch):
    monkeypatch.setattr(ranker, "PREFILTER", False)
    rng = np.random.default_rng(11)
    index = _Index(_clustered(rng, 40, 80))
    monkeypatch.setattr(ranker, "_bf16_examples", lambda index: pytest.fail("pre-filter used"))
    _check(index, _unit(rng.standard_normal((200, 384))))


def test_example_set_change_rebuilds_the_bfloat16_copy(forced):
    rng = np.random.default_rng(13)
    index = _Index(_clustered(rng, 40, 80))
    V = _unit(index.E_ex[rng.integers(0, len(index.E_ex), 200)] + 0.3 * rng.standard_normal((200, 384)))
    _check(index, V)
    index.E_ex = _clustered(rng, 50, 70)
    _check(index, V)


def test_prefilter_equals_full_product_on_the_corpus(forced):
    """The real example set (corpus wordings and lexicon terms) with corpus-like texts: the case
    the hinter runs (hints are also checked byte-identical outside the test suite)."""
    from nlp.hs.corpus import load_corpus
    from nlp.hs.encoder import get_encoder
    from nlp.hs.hinter import lexicon_examples
    from nlp.hs.lexicon import get_lexicon
    from nlp.hs.retrieval import Index

    examples = load_corpus() + lexicon_examples(get_lexicon().entries)
    Index.prime_examples(examples)
    E = get_encoder().encode([e["text"] for e in examples])
    index = _Index(E)
    rng = np.random.default_rng(17)
    # example vectors moved a little (close texts) and mixed pairs (texts between two products)
    a, b = rng.integers(0, len(E), 400), rng.integers(0, len(E), 400)
    V = _unit(np.vstack([E[a[:200]] + 0.02 * rng.standard_normal((200, 384)), E[a[200:]] + E[b[200:]]]))
    _check(index, V)


@pytest.mark.parametrize("text", ["", "cotton shirts", "item 123 in box 45", "HS 6403.99 boots",
                                  "code 8471", "8471.30.0100", "tel 555-1234", "１２３４"])
def test_find_codes_pretest_changes_nothing(text):
    """``find_codes`` answers a text without four digits in a row at once: the same as running
    both patterns (which both need four digits in a row)."""
    full = []
    for match in codes._KEYED_RE.finditer(text):
        full.append(match.start("code"))
    for match in codes._DOTTED_RE.finditer(text):
        full.append(match.start("code"))
    got = codes.find_codes(text)
    assert len(got) == len(set(full))
    if not codes._FOUR_DIGITS.search(text):
        assert got == [] and full == []


@pytest.fixture(scope="module")
def hinter():
    from nlp.hs.hinter import get_hinter

    return get_hinter()


def test_formula_batch_equals_get_one_heading_at_a_time(hinter):
    """``ranker.formula_batch`` keeps what ``_SubScores.get(h, formula=True)`` keeps, heading by
    heading, including headings whose subheadings tie ("Other" twice under one heading, equal
    scores made on purpose below) and headings with one subheading."""
    texts = ["men's cotton shirts, knitted", "stainless steel kitchen sinks", "frozen shrimp",
             "polyethylene film for packaging", "bolts of steel", "other", "parts of pumps",
             "wooden furniture for bedrooms", "lithium ion batteries", "tea"]
    vecs = hinter.encoder.encode(texts)
    ix = hinter.index

    def fresh():
        cands = ranker.build_candidates(ix, texts, vecs, hinter.lexicon)
        # ties made on purpose: the first two subheadings of every third candidate share a value
        for c in cands:
            c.sub_scores.row = np.array(c.sub_scores.row, copy=True)
            for h in c.heads[::3]:
                lo, hi = ix.sub_bounds[h]
                if hi - lo >= 2:
                    c.sub_scores.row[lo + 1] = c.sub_scores.row[lo]
        return cands

    one, batch = fresh(), fresh()
    jobs = [(c.sub_scores, h) for c in batch for h in c.heads]
    jobs += jobs[:5]  # a pair asked twice is scored once
    ranker.formula_batch(jobs)
    n_multi = 0
    for a, b in zip(one, batch):
        for h in a.heads:
            want = a.sub_scores.get(h, formula=True)
            assert b.sub_scores._done[h] == want
            n_multi += len(want) > 1
    assert n_multi > 50


def test_prefetched_lower_hints_equal_the_lazy_ones(hinter, monkeypatch):
    """The hinter's batched lower hints give the same hints as asking each heading in turn."""
    from nlp.hs import hinter as hinter_mod

    texts = ["cotton t-shirts", "HS 6403.99 leather boots", "qwzx plorb", "steel screws and bolts",
             "frozen boneless beef", "a set of kitchen knives and a block", "ceramic floor tiles"]
    fast = hinter.hint(texts, top=5)
    monkeypatch.setattr(hinter_mod, "formula_batch", lambda jobs: None)
    assert hinter.hint(texts, top=5) == fast


def test_hint_pauses_the_collector_and_leaves_it_as_found(hinter, monkeypatch):
    """The collector is off during a call (the speed reason is in ``Hinter.hint``), back on after
    it, also after an error, and left off when the caller had turned it off."""
    import gc

    seen = []
    real = type(hinter)._hint_texts

    def spy(self, *a, **k):
        seen.append(gc.isenabled())
        return real(self, *a, **k)

    monkeypatch.setattr(type(hinter), "_hint_texts", spy)
    assert gc.isenabled()
    hinter.hint(["a set of a knife and a fork", "cotton shirts"])
    assert gc.isenabled() and seen and not any(seen)  # the set rule's inner call too
    with pytest.raises(ValueError):
        hinter.hint(["x"], register="neither")
    assert gc.isenabled()

    def boom(self, *a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(type(hinter), "_hint_texts", boom)
    with pytest.raises(RuntimeError):
        hinter.hint(["cotton shirts"])
    assert gc.isenabled()
    gc.disable()
    try:
        monkeypatch.setattr(type(hinter), "_hint_texts", real)
        hinter.hint(["cotton shirts"])
        assert not gc.isenabled()
    finally:
        gc.enable()
