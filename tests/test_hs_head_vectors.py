"""Head-phrase vectors pooled from the text's own forward pass (docs/nlp.md, "Speed, tenth round").

The encoder runs once per text and pools its token embeddings twice: all tokens (the text's
vector, which must stay the vector sentence-transformers gives) and the head phrase's tokens
(by character offsets). These tests check both poolings against sentence-transformers' own
token embeddings, the cache (each distinct text and head once), and that training's path
(``build_candidates`` taking head vectors itself) and the hinter's give the same features.
"""

from __future__ import annotations

import numpy as np
import pytest

from nlp.hs.encoder import Encoder, _model
from nlp.hs.ranker import head_end, head_phrase

LONG = [
    "Gloves of vulcanized rubber, for surgical use, powder free, sizes small to extra large",
    "Stainless steel kitchen sinks with drain boards for commercial kitchens and restaurants",
    "Men's jackets (anoraks) of cotton denim, not knitted, with a zip front and two chest pockets",
    "  Ceramic tiles: glazed, for floors and walls, 30 by 30 centimetres, in boxes of twelve",
    "Pumps for liquids used in irrigation, centrifugal, electric motor of 2 kW, cast iron body",
]
SHORT = ["nitrile gloves", "cotton t-shirts, knitted", "x"]


def _token_pool(text: str, head: str) -> np.ndarray:
    """The head's vector the slow, independent way: sentence-transformers' token embeddings of
    the whole text, the first k word pieces after [CLS] where k is the head's own word-piece
    count (BERT splits at spaces and punctuation, so a prefix ending at a word keeps its pieces)."""
    model = _model()
    tokens = model.encode([text], output_value="token_embeddings", convert_to_numpy=False)[0]
    k = len(model.tokenizer(head)["input_ids"]) - 2
    v = tokens[1:1 + k].float().numpy().mean(axis=0)
    return v / np.linalg.norm(v)


def test_head_end_marks_the_head_phrase():
    for t in LONG + SHORT:
        end = head_end(t)
        head = head_phrase(t)
        assert (end is None) == (head is None)
        if end is not None:
            assert t[:end].strip() == head and t.lstrip().startswith(head)
    assert head_phrase(LONG[0]) == "Gloves"
    assert head_phrase(LONG[3]) == "Ceramic tiles"
    assert all(head_end(t) is None for t in SHORT)  # under ten words: read whole


def test_text_vectors_equal_the_plain_encoder():
    enc = Encoder()
    texts = LONG + SHORT
    vecs, heads = enc.raw_encode_heads(texts, [head_end(t) for t in texts])
    np.testing.assert_allclose(vecs, enc.raw_encode(texts), atol=2e-6)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    # rows without a head are zero, rows with one are unit vectors
    has = np.array([head_end(t) is not None for t in texts])
    assert not heads[~has].any()
    np.testing.assert_allclose(np.linalg.norm(heads[has], axis=1), 1.0, atol=1e-5)


def test_head_vectors_pool_the_heads_tokens_in_context():
    enc = Encoder()
    texts = [t for t in LONG if head_end(t) is not None]
    _, heads = enc.raw_encode_heads(texts, [head_end(t) for t in texts])
    alone = enc.raw_encode([head_phrase(t) for t in texts])
    for t, h, a in zip(texts, heads, alone):
        np.testing.assert_allclose(h, _token_pool(t, head_phrase(t)), atol=2e-5)
        # read in context, not alone: close to the head's own vector, but not it
        assert 0.3 < float(h @ a) < 0.999


def test_batches_do_not_change_the_vectors():
    """Order and batch size (padding) move a vector only by float rounding."""
    texts = LONG + SHORT
    ends = [head_end(t) for t in texts]
    v1, h1 = Encoder(batch_size=64).raw_encode_heads(texts, ends)
    v2, h2 = Encoder(batch_size=2).raw_encode_heads(texts[::-1], ends[::-1])
    np.testing.assert_allclose(v1, v2[::-1], atol=2e-6)
    np.testing.assert_allclose(h1, h2[::-1], atol=2e-6)


def test_cache_encodes_each_text_and_head_once(monkeypatch):
    enc = Encoder()
    calls = []
    real = enc.raw_encode_heads

    def spy(texts, ends):
        calls.append(list(texts))
        return real(texts, ends)

    monkeypatch.setattr(enc, "raw_encode_heads", spy)
    texts = [LONG[0], SHORT[0], LONG[0], LONG[1], SHORT[0]]
    ends = [head_end(t) for t in texts]
    v, h = enc.encode_with_heads(texts, ends)
    assert calls == [[LONG[0], SHORT[0], LONG[1]]]  # one call, each distinct text once
    np.testing.assert_array_equal(v[0], v[2])
    np.testing.assert_array_equal(h[0], h[2])
    v2, h2 = enc.encode_with_heads(texts, ends)
    assert len(calls) == 1  # all from the cache
    np.testing.assert_array_equal(v, v2)
    np.testing.assert_array_equal(h, h2)
    # a text whose vector is cached (plain encode, or primed) but not its head's is encoded
    # once more, and keeps the cached vector
    primed = np.full(384, 1 / np.sqrt(384), dtype=np.float32)
    enc.prime([LONG[2]], primed[None])
    v3, h3 = enc.encode_with_heads([LONG[2]], [head_end(LONG[2])])
    assert calls[-1] == [LONG[2]]
    np.testing.assert_array_equal(v3[0], primed)
    assert h3[0].any() and not np.array_equal(h3[0], primed)
    # the text alone (no head asked) is served from the cache
    enc.encode_with_heads([LONG[3], SHORT[1]], [None, None])
    assert calls[-1] == [LONG[3], SHORT[1]]
    n = len(calls)
    enc.encode_with_heads([LONG[3]], [None])
    assert len(calls) == n


def test_cache_bound_counts_heads():
    enc = Encoder(cache_size=3)
    enc.encode_with_heads(LONG[:3], [head_end(t) for t in LONG[:3]])
    assert len(enc._cache) == 3


def test_empty_input():
    enc = Encoder()
    v, h = enc.encode_with_heads([], [])
    assert v.shape == (0, 384) and h.shape == (0, 384)


@pytest.fixture(scope="module")
def hinter():
    from nlp.hs.hinter import get_hinter

    return get_hinter()


def test_training_path_reads_heads_like_the_hinter(hinter):
    """``build_candidates`` without head vectors (training, the picker's drill) pools them
    itself: the same candidates and features as the hinter's one-pass vectors."""
    from nlp.hs import ranker

    texts = LONG + SHORT + ["Made in China: " + LONG[1]]  # the last is changed by noise.clean
    enc = hinter.encoder
    vecs = enc.encode(texts)
    slow = ranker.build_candidates(hinter.index, texts, vecs, hinter.lexicon)
    clean = [ranker.clean(t) for t in texts]
    ends = [head_end(t) for t in clean]
    cv, hv = enc.encode_with_heads(clean, ends)
    fast = ranker.build_candidates(hinter.index, clean, cv, hinter.lexicon, None, (ends, hv))
    for a, b in zip(slow, fast):
        assert a.heads == b.heads
        np.testing.assert_allclose(a.X, b.X, atol=1e-4)
