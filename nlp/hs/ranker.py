"""Candidate headings and their features, and the learned ranker that scores them.

For each text, candidate headings come from four searches (encoder over heading and subheading
texts, TF-IDF over headings, nearest labelled examples, lexicon terms). Each candidate gets the
features below; a model trained on the project's corpus (``train.py``) turns them into the
probability that the candidate is the right heading, then a calibration map fitted on held-out
folds makes that probability honest. The nearest-example features are *gated*: ``nn_gap`` says
how far the best example of this heading is from the best example of any heading, and ``seen``
whether the heading has examples at all, so the model learns to trust the neighbours only when
one is close, and to fall back on the nomenclature text for headings the corpus never saw.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np

from .encoder import get_encoder
from .noise import clean
from .rules import RULE_FEATURES, rule_columns

# The linear probe over the encoder (nlp/hs/probe.py): the candidate heading's log-probability
# and its rank among all headings (docs/nlp.md, "A linear probe over the encoder").
PROBE_FEATURES = ["probe_lp", "probe_rank"]
N_PROBE = 0  # the probe's best headings added to the candidates
# The learned word classifier (nlp/hs/wordprobe.py): the candidate heading's log-probability and
# its rank among all headings (docs/nlp.md, "A learned word classifier (eleventh round)").
WORD_FEATURES = ["word_lp", "word_rank"]

FEATURES = [
    "enc_head", "enc_sub", "enc_rank", "tfidf", "tfidf_rank", "knn_max", "knn_vote", "knn_top1",
    "nn_sim", "nn_gap", "seen", "lex", "lex_any", "chap_vote", "chap_enc", "enc_margin", "knit_agree",
    "head_enc", "head_knn",
] + RULE_FEATURES + PROBE_FEATURES + WORD_FEATURES  # HS rules (rules.py); encoder probe (probe.py); word classifier (wordprobe.py)
# Eleventh round (docs/nlp.md, "Probe variants and text length"): columns computed only when
# named in FEATURES, so a variant is tried (and kept) by listing it, with no second code path.
# ``log_words``: the text's length (log, capped as the calibration's); ``probe_p``: the probe's
# probability; ``chap_probe``: the probe's log-probability summed over the candidate's chapter;
# ``head_probe_lp`` / ``head_probe_rank``: the probe read on a long text's head-phrase vector.
VARIANT_FEATURES = ["log_words", "probe_p", "chap_probe", "head_probe_lp", "head_probe_rank"]
HEAD_PROBE = ("head_probe_lp", "head_probe_rank")
# Kept after that section's comparison: the probability, the chapter's share and the head phrase's
# probe (after every other column, so columns added elsewhere keep their places).
FEATURES += ["probe_p", "chap_probe", "head_probe_lp", "head_probe_rank"]
_KNIT_WORDS = {"knit", "knitted", "knitting", "crochet", "crocheted", "jersey", "fleece", "interlock", "rib-knit"}
_WOVEN_WORDS = {"woven", "weave", "twill", "poplin", "denim", "canvas", "oxford", "chambray", "broadcloth"}


# Every word of the two sets (and "not knitted") contains one of these: a text without any of
# them says neither, which is most texts, and is answered without splitting it into words.
_KNIT_OR_WOVEN = re.compile("|".join(sorted({"knit", "crochet", "jersey", "fleece", "interlock", "woven", "weave",
                                             "twill", "poplin", "denim", "canvas", "oxford", "chambray", "broadcloth"})))
assert all(_KNIT_OR_WOVEN.search(w) for w in _KNIT_WORDS | _WOVEN_WORDS)


def knit_signal(text: str) -> float:
    """+1 when the text says knitted, -1 when it says woven, 0 when it says neither (or both)."""
    low = text.lower()
    if not _KNIT_OR_WOVEN.search(low):
        return 0.0
    words = set(low.replace("-", " ").split()) | set(low.split())
    words = {w.strip(".,;:()") for w in words}
    knit, woven = bool(words & _KNIT_WORDS), bool(words & _WOVEN_WORDS)
    if "not knitted" in low:
        knit, woven = False, True
    return 1.0 if knit and not woven else -1.0 if woven and not knit else 0.0


def word_count(text: str) -> int:
    return len(text.split())


# The head phrase of a long description: the words before the first "of / for / with / , ..."
# ("Gloves of vulcanized rubber, for surgical use" -> "Gloves"). In customs language the head
# names the article and the rest its material, use or construction, which can pull the whole-text
# vector towards another heading (a ruling's "for use in wine making" towards wine).
_HEAD_SPLIT = re.compile(r"\s*[,;:(\[]|\s+(?:of|for|with|from|in|on|used|which|that|having|containing|"
                         r"consisting|composed|made|designed|intended|suitable|put up)\s+", re.I)
HEAD_MIN_WORDS = 10  # shorter texts are read whole (6 measured: CBP validation up, hs_dev CV down 2 rows)


def head_end(text: str) -> int | None:
    """Where the head phrase of a text of ``HEAD_MIN_WORDS`` words or more ends (a character
    offset: the head is ``text[:end].strip()``), or None. The encoder pools the head's tokens
    from the text's own forward pass by this offset (``Encoder.encode_with_heads``)."""
    n = word_count(text)
    if n < HEAD_MIN_WORDS:
        return None
    m = _HEAD_SPLIT.search(text)
    if not m or m.start() == 0:
        return None
    head = text[: m.start()]
    return len(head.rstrip()) if head.strip() and word_count(head) < n else None


def head_phrase(text: str) -> str | None:
    """The head phrase of a text of ``HEAD_MIN_WORDS`` words or more, or None."""
    end = head_end(text)
    return None if end is None else text[:end].strip()


K_NEIGHBOURS = 15
TAU = 0.05
N_ENC, N_TFIDF = 12, 8
N_HEAD = 4  # candidates from the head phrase's encoder match


@dataclass
class Candidates:
    """Candidate headings for one text, their feature rows and per-subheading scores."""

    heads: list[int]
    X: np.ndarray
    sub_scores: object = None  # _SubScores: .get(heading) -> [(subheading index, score)]
    lex_terms: dict[int, str] = field(default_factory=dict)
    neighbour: dict[int, tuple[str, float]] = field(default_factory=dict)
    n_words: int = 0  # the text's length, read by the calibration map (register)


CHUNK = 512  # texts per block: bounds the (texts x examples) similarity matrix in memory


def build_candidates(index, texts, vecs, lexicon, exclude_groups=None, heads=None, probe_logp=None,
                     word_logp=None, head_probe_logp=None) -> list[Candidates]:
    """Features for every candidate heading of every text, in blocks of ``CHUNK`` texts.

    ``exclude_groups[i]`` hides examples of that group from text ``i`` (leave-one-group-out
    features for training, so a row never finds itself or its own rewordings). ``heads``:
    ``([head_end(t) for t in texts], head vectors)`` from ``Encoder.encode_with_heads`` when the
    caller has them already (the hinter does); else they are taken here from the encoder (its
    cache, or one more pass over the texts that have a head: training's case), pooled the same way.

    Every text is read through ``noise.clean`` first (country of origin, item numbers, count
    prefixes cut; docs/nlp.md, "Customs text noise and candidate recall"): training, the
    calibration fits and the hinter all see the same cleaned text. A text the cleaning changed
    is embedded again here; the hinter cleans before it encodes, so for it nothing changes.

    ``probe_logp[i]``: the probe's log-probabilities for text ``i`` (training passes cross-fitted
    ones, ``probe.cross_fitted``); by default the index's probe (``probe.for_index``) reads the
    texts' vectors, one product per block. With ``exclude_groups`` and no ``probe_logp`` the probe
    has seen the hidden rows: fine for a diagnostic, never for fitting anything.
    ``word_logp[i]``: the same for the word classifier (``wordprobe.cross_fitted`` /
    ``wordprobe.for_index``, which reads the cleaned texts).
    ``head_probe_logp[i]``: the same for text ``i``'s head-phrase vector (rows of texts without a
    head are not read); required with ``probe_logp`` when ``HEAD_PROBE`` features are used.
    """
    cleaned = [clean(t) for t in texts]
    changed = [i for i, (t, c) in enumerate(zip(texts, cleaned)) if c != t]
    texts = cleaned
    if changed:
        vecs = np.array(vecs, copy=True)
        vecs[changed] = get_encoder().encode([texts[i] for i in changed])
        heads = None  # the changed texts' heads are read again below
        if head_probe_logp is not None:
            raise ValueError("head_probe_logp needs texts already cleaned (noise.clean)")
    if heads is None:
        ends = [head_end(t) for t in texts]
        hv = np.zeros((len(texts), vecs.shape[1] if len(vecs) else 0), dtype=np.float32)
        rows = [i for i, e in enumerate(ends) if e is not None]
        if rows:
            hv[rows] = get_encoder().encode_with_heads([texts[i] for i in rows], [ends[i] for i in rows])[1]
    else:
        ends, hv = heads
    out: list[Candidates] = []
    for a in range(0, len(texts), CHUNK):
        b = a + CHUNK
        out += _build_block(index, texts[a:b], vecs[a:b], lexicon,
                            None if exclude_groups is None else exclude_groups[a:b], (ends[a:b], hv[a:b]),
                            None if probe_logp is None else probe_logp[a:b],
                            None if word_logp is None else word_logp[a:b],
                            None if head_probe_logp is None else head_probe_logp[a:b])
    return out


def _ranks(M: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """0-based rank of ``M[rows, cols]`` within its row (number of larger values), batched.

    One sort per row and one search over the concatenated sorted rows (each row shifted by a
    constant larger than its range), instead of a full argsort and a scatter per text.
    """
    n, width = M.shape
    # Sorted in the matrix's own float32 (a cheaper sort), then widened: float32 -> float64 is
    # exact, so the sorted rows are the same numbers as sorting the widened matrix.
    sorted_rows = np.sort(M, axis=1).astype(np.float64)
    span = float(sorted_rows[:, -1].max() - sorted_rows[:, 0].min()) + 1.0 if n else 1.0
    flat = (sorted_rows + span * np.arange(n)[:, None]).ravel()
    pos = np.searchsorted(flat, M[rows, cols].astype(np.float64) + span * rows, side="right")
    return width - (pos - rows * width)


def _build_block(index, texts, vecs, lexicon, exclude_groups, heads, probe_logp=None, word_logp=None,
                 head_probe_logp=None
                 ) -> list[Candidates]:
    n = len(texts)
    if n == 0:
        return []
    H = len(index.head_codes)
    # Head phrases of long texts: their vectors (the head's tokens pooled from the text's own
    # forward pass, see build_candidates) go through the same products as the texts' (one pass
    # over each matrix), one row per text that has a head.
    ends, head_vecs = heads
    hp_rows = np.array([i for i, e in enumerate(ends) if e is not None], dtype=int)
    hv = head_vecs[hp_rows] if len(hp_rows) else None
    allv = vecs if hv is None else np.concatenate([vecs, hv])
    # The neighbour search first when nothing is hidden: its bfloat16 part runs on torch's
    # threads, best before numpy's BLAS products below (see nearest_examples).
    near = nearest_examples(index, allv) if exclude_groups is None and len(index.examples) > 0 else None
    S_head_all = allv @ index.E_head.T
    S_sub_all, sub_max_all = index.sub_similarities(allv)
    S_head, S_sub, sub_max = S_head_all[:n], S_sub_all[:n], sub_max_all[:n]   # (n, H), (n, S), (n, H)
    enc = np.maximum(S_head, sub_max)
    T = (index.tfidf.transform(texts) @ index.T_head.T).toarray().astype(np.float32, copy=False)
    rix = np.arange(n)
    cand = np.zeros((n, H), dtype=bool)
    cand[rix[:, None], np.argpartition(-enc, N_ENC - 1, axis=1)[:, :N_ENC]] = True
    t_top = np.argpartition(-T, N_TFIDF - 1, axis=1)[:, :N_TFIDF]
    cand[rix[:, None], t_top] |= T[rix[:, None], t_top] > 0
    knn_vote = np.zeros((n, H), dtype=np.float32)
    knn_max = np.zeros((n, H), dtype=np.float32)
    nn_sim = np.zeros(n, dtype=np.float32)
    top1 = np.full(n, -1)
    hidden = np.full(n, -1)  # the unseen-heading drill: this row's heading has no examples
    nbr = sims = w = None
    head_enc = enc
    if len(hp_rows):
        head_enc = enc.copy()
        he = np.maximum(S_head_all[n:], sub_max_all[n:])
        head_enc[hp_rows] = he
        cand[hp_rows[:, None], np.argpartition(-he, N_HEAD - 1, axis=1)[:, :N_HEAD]] = True
    head_knn = knn_max
    if len(index.examples) > 0:
        hidden_ex = None
        if exclude_groups is None:
            # Nothing hidden: the same neighbours without every (text, example) product in float32.
            nbr_all, sims_all = near
            nbr, sims = nbr_all[:n], sims_all[:n]
        else:
            S_ex_all = allv @ index.E_ex.T
            S_ex = S_ex_all[:n]
            groups = np.array([e.get("group", "") for e in index.examples])
            hidden_ex = np.zeros(S_ex.shape, dtype=bool)
            for i, g in enumerate(exclude_groups):
                if isinstance(g, tuple):  # ("hs4", code): hide the whole heading (unseen-heading drill)
                    hidden[i] = index.head_pos[g[1]]
                    hidden_ex[i] = index.ex_head == hidden[i]
                elif g:
                    hidden_ex[i] = groups == g
            S_ex[hidden_ex] = -1.0
            nbr, sims = _nearest(S_ex)
        nn_sim = sims[:, 0]
        nh = index.ex_head[nbr]
        top1 = nh[:, 0]
        w = np.exp((sims - nn_sim[:, None]) / TAU)
        w /= w.sum(axis=1, keepdims=True)
        rk = np.repeat(rix, nbr.shape[1])
        np.add.at(knn_vote, (rk, nh.ravel()), w.ravel())
        np.maximum.at(knn_max, (rk, nh.ravel()), sims.ravel())
        cand[rix[:, None], nh[:, :8]] = True
        head_knn = knn_max
        if len(hp_rows):
            if hidden_ex is not None:
                S_hx = S_ex_all[n:]
                S_hx[hidden_ex[hp_rows]] = -1.0
                hn, hs = _nearest(S_hx)
            else:
                hn, hs = nbr_all[n:], sims_all[n:]
            head_knn = knn_max.copy()
            head_knn[hp_rows] = 0.0
            hr = np.repeat(hp_rows, hn.shape[1])
            np.maximum.at(head_knn, (hr, index.ex_head[hn].ravel()), hs.ravel())
    seen = np.zeros(H, dtype=bool)
    seen[index.ex_head] = True
    lex = np.zeros((n, H), dtype=np.float32)
    lex_any = np.zeros(n, dtype=np.float32)
    lex_terms: list[dict] = [{} for _ in range(n)]
    lex_sub: list[dict] = [{} for _ in range(n)]
    if lexicon is not None:
        for i, text in enumerate(texts):
            hits = lexicon.match(text)
            lex_any[i] = float(bool(hits))
            for hit in hits:
                h = index.head_pos.get(hit["hs4"])
                if h is None:
                    continue
                if hit["n_words"] > lex[i, h]:
                    lex[i, h] = hit["n_words"]
                    lex_terms[i][h] = hit["term"]
                if hit.get("hs6") in index.sub_pos:
                    lex_sub[i][index.sub_pos[hit["hs6"]]] = 1.0
                cand[i, h] = True
    given = probe_logp is not None
    plp = _probe_block(index, vecs, probe_logp, cand)
    wlp = _word_block(index, texts, word_logp)
    rows, heads = np.nonzero(cand)
    cp = index.chap_pos_of_head[heads]
    chap_vote = np.add.reduceat(knn_vote, index.chap_start, axis=1)
    chap_enc = np.maximum.reduceat(enc, index.chap_start, axis=1)
    kmax = knn_max[rows, heads]
    knit = np.array([knit_signal(t) for t in texts], dtype=np.float32)
    X = np.column_stack([
        S_head[rows, heads], sub_max[rows, heads], 1.0 / (1 + _ranks(enc, rows, heads)), T[rows, heads],
        1.0 / (1 + _ranks(T, rows, heads)), kmax, knn_vote[rows, heads], (heads == top1[rows]),
        nn_sim[rows], np.where(kmax > 0, nn_sim[rows] - kmax, 1.0), seen[heads] & (heads != hidden[rows]),
        np.minimum(lex[rows, heads], 4.0), lex_any[rows], chap_vote[rows, cp], chap_enc[rows, cp],
        enc.max(axis=1)[rows] - enc[rows, heads], knit[rows] * index.head_knit[heads],
        head_enc[rows, heads], head_knn[rows, heads], rule_columns(texts, index.head_codes, rows, heads),
        _probe_columns(plp, rows, heads), _probe_columns(wlp, rows, heads),
    ] + _variant_columns(index, texts, plp, hp_rows, hv, head_probe_logp, given, rows, heads)).astype(np.float32)
    bounds = np.searchsorted(rows, np.arange(n + 1))
    out = []
    for i in range(n):
        a, b = bounds[i], bounds[i + 1]
        nb = _Neighbours(index, nbr[i], sims[i], texts[i]) if nbr is not None else {}
        out.append(Candidates(heads[a:b].tolist(), X[a:b],
                              _SubScores(index, S_sub[i], nbr[i] if nbr is not None else None,
                                         w[i] if w is not None else None, lex_sub[i],
                                         sims[i] if sims is not None else None, texts[i]),
                              lex_terms[i], nb, word_count(texts[i])))
    return out


def _probe_block(index, vecs, probe_logp, cand):
    """The block's (n, H) probe log-probabilities (None without examples); adds the probe's
    ``N_PROBE`` best headings to ``cand``."""
    if probe_logp is None:
        from .probe import for_index

        probe = for_index(index)
        if probe is None:
            return None
        probe_logp = probe.log_proba(vecs)
    if N_PROBE:
        n = len(probe_logp)
        cand[np.arange(n)[:, None], np.argpartition(-probe_logp, N_PROBE - 1, axis=1)[:, :N_PROBE]] = True
    return probe_logp


def _variant_columns(index, texts, plp, hp_rows, hv, head_probe_logp, given, rows, heads) -> list:
    """The ``VARIANT_FEATURES`` named in ``FEATURES``, in that order (none: an empty list)."""
    names = [f for f in FEATURES if f in VARIANT_FEATURES]
    if not names:
        return []
    from .probe import LOG_FLOOR

    cols = {}
    if "log_words" in names:
        nw = np.array([word_count(t) for t in texts], dtype=np.float32)
        cols["log_words"] = np.log1p(np.minimum(nw, NW_CAP))[rows]
    if "probe_p" in names:
        cols["probe_p"] = np.zeros(len(rows)) if plp is None else np.exp(plp[rows, heads])
    if "chap_probe" in names:
        if plp is None:
            cols["chap_probe"] = np.full(len(rows), LOG_FLOOR)
        else:
            chap = np.add.reduceat(np.exp(plp), index.chap_start, axis=1)
            cols["chap_probe"] = np.maximum(np.log(np.maximum(chap, 1e-30)), LOG_FLOOR)[rows, index.chap_pos_of_head[heads]]
    if any(f in names for f in HEAD_PROBE):
        hplp = plp
        if plp is not None and len(hp_rows):
            hplp = plp.copy()
            if head_probe_logp is not None:
                hplp[hp_rows] = head_probe_logp[hp_rows]
            elif given:  # cross-fitted text columns with full-probe head columns would leak
                raise ValueError("head_probe_logp is needed beside probe_logp for the head-probe features")
            else:
                from .probe import for_index

                hplp[hp_rows] = for_index(index).log_proba(hv)
        lp, rk = _probe_columns(hplp, rows, heads).T
        cols["head_probe_lp"], cols["head_probe_rank"] = lp, rk
    return [cols[f] for f in names]


def _probe_columns(plp, rows, heads) -> np.ndarray:
    """``PROBE_FEATURES`` for candidate pairs: log-probability, 1 / (1 + rank)."""
    if plp is None:
        from .probe import LOG_FLOOR

        return np.column_stack([np.full(len(rows), LOG_FLOOR), np.zeros(len(rows))])
    return np.column_stack([plp[rows, heads], 1.0 / (1 + _ranks(plp, rows, heads))])


def _word_block(index, texts, word_logp):
    """The block's (n, H) word-classifier log-probabilities (None without examples): the given
    ones (training's cross-fitted), else the index's classifier on the cleaned texts. Its floor
    equals the probe's, so ``_probe_columns`` reads both. (Its best headings as extra candidates
    were measured and not kept: docs/nlp.md, "A learned word classifier".)"""
    if word_logp is not None:
        return word_logp
    from .wordprobe import for_index

    wp = for_index(index)
    return None if wp is None else wp.log_proba(texts)


NEAREST_BLOCK = 128  # columns per block in the neighbour search's first pass

# The neighbour search's bfloat16 pre-filter (``nearest_examples``).
PREFILTER = None            # None: used when a one-time timing finds it faster; True / False: forced
PREFILTER_MIN_ROWS = 128    # fewer rows (one description, a few set components): the plain product
PREFILTER_MIN_EXAMPLES = 2048
PREFILTER_CHUNK = 256       # rows per bfloat16 product (see nearest_examples)
RESCORE_ROWS = 32           # rows re-scored together in float32 (over the union of their candidates)
RESCORE_MIN_COLS = 256      # at least this many columns per re-scoring product (see nearest_examples)
_BF16_UNIT = 2.0 ** -8      # bfloat16's unit round-off (8 significant bits, round to nearest)


def nearest_examples(index, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_nearest(V @ index.E_ex.T)``, equal to the last bit, without most of the product.

    Why: that float32 product over every labelled example was the largest single cost of a hint
    (~90 ms per 1,000 texts over 18k examples) and grows with the corpus. Two steps instead:

    1. a bfloat16 product over all examples (``torch``; on a CPU with bfloat16 units, AMX or
       AVX512-BF16, a quarter to a third of the float32 product's time), and per row the k-th
       largest of its block maxima ``t`` (blocks of ``NEAREST_BLOCK`` examples, shuffled; k
       blocks hold a value ``>= t``, so the k-th largest value ``a_k >= t``);
    2. the exact float32 similarities (the same BLAS product as before, on fewer columns) of the
       examples whose bfloat16 value is at least ``t - 2 eps``, and the k best of them.

    Why it is exact: for unit vectors, rounding both to bfloat16 moves each product term by at most
    ``(2u + u^2) |q_i x_i|`` and their sum by at most ``(2u + u^2) |q| |x|``; rounding the result to
    bfloat16 adds half a unit in its last place (``2^-8`` for values up to 2; ``eps`` allows a whole
    ``2^-8``), the float32 sums ~1e-5: ``eps`` below bounds ``|bf16 - float32|`` with the vectors'
    actual norms. Any of a row's k best examples has float32 value ``>= v_k >= t - eps`` (k examples
    have bfloat16 value ``>= t``, so float32 ``>= t - eps``), so its bfloat16 value is
    ``>= t - 2 eps``: it is re-scored, with every example tied with it. Rows are re-scored in
    groups of ``RESCORE_ROWS`` over the union of their candidates (a few per cent of the examples),
    with columns in example order, so ties keep example order as in ``_nearest``. The re-scored
    values are bit-for-bit those of the full product: OpenBLAS sums each dot product in the same
    order for any number of rows and columns, except in its small-matrix kernels, which the
    ``RESCORE_*`` minima keep clear of (tested, ``tests/test_hs_speed_prefilter.py``; hints
    checked byte-identical).
    """
    E = index.E_ex
    n, m = len(V), len(E)
    if n < PREFILTER_MIN_ROWS or m < PREFILTER_MIN_EXAMPLES or not _prefilter_on(index):
        return _nearest(V @ E.T)
    import torch

    Eb, perm, norm_max = _bf16_examples(index)
    V = np.ascontiguousarray(V, dtype=np.float32)
    k = min(K_NEIGHBOURS, m)
    B = NEAREST_BLOCK
    Vb = torch.from_numpy(V).to(torch.bfloat16)
    q_norm = np.sqrt(np.einsum("ij,ij->i", V.astype(np.float64), V.astype(np.float64)))
    # inputs' rounding + the result's rounding (half a unit in the last place up to 2, allowed a
    # whole one) + float32 sums
    eps = ((2 * _BF16_UNIT + _BF16_UNIT ** 2) * q_norm * norm_max
           + 2.0 ** -8 * np.maximum(1.0, q_norm * norm_max) + 1e-4)
    nbr = np.empty((n, k), dtype=np.intp)
    sims = np.empty((n, k), dtype=np.float32)
    # Rows in chunks of about PREFILTER_CHUNK (each at least half of it, n >= PREFILTER_MIN_ROWS):
    # a chunk's bfloat16 matrix stays in cache from the product to the re-scoring (the whole
    # matrix at once made the product itself almost twice as slow on 28k examples).
    chunks = np.linspace(0, n, -(-n // PREFILTER_CHUNK) + 1).astype(int)
    # bfloat16 values read through their bits as int16: for positive values the order is the
    # same (sign bit clear, exponent then mantissa), and every negative value is below every
    # positive one; the thresholds are positive (groups where one is not take every column).
    # All of torch's work first, then numpy's: interleaved, the two libraries' thread pools
    # (OpenBLAS's workers keep spinning a while after each product) fought over the two cores
    # and the search took longer than the plain product in wall time.
    prods = []
    for c0, c1 in zip(chunks[:-1], chunks[1:]):
        At = (Vb[c0:c1] @ Eb).view(torch.int16)  # (rows, M)
        prods.append((At.numpy(), At.view(c1 - c0, At.shape[1] // B, B).amax(dim=2).numpy()))
    for (c0, c1), (A, bmax) in zip(zip(chunks[:-1], chunks[1:]), prods):
        nb = bmax.shape[1]
        t16 = np.partition(bmax, nb - k, axis=1)[:, nb - k]  # k-th largest block maximum <= a_k
        t = (t16.astype(np.int32) << 16).view(np.float32).astype(np.float64)
        thr = (t - 2 * eps[c0:c1]).astype(np.float32)
        ok = (t16 > 0) & (thr > 0)
        # bfloat16 bits of the threshold, truncated: a positive value truncated is rounded down
        thr16 = (thr.view(np.int32) >> 16).astype(np.int16)
        groups = max(1, (c1 - c0) // RESCORE_ROWS)  # each group has RESCORE_ROWS rows or more
        cuts = np.linspace(0, c1 - c0, groups + 1).astype(int)
        for a, b in zip(cuts[:-1], cuts[1:]):
            rows = slice(c0 + a, c0 + b)
            if ok[a:b].all():
                hit = np.flatnonzero((A[a:b] >= thr16[a:b, None]).any(axis=0))
                cols = np.sort(perm[hit[hit < m]])
                if len(cols) < RESCORE_MIN_COLS:
                    cols = np.union1d(cols, np.arange(min(m, RESCORE_MIN_COLS)))
                idx, val = _top_k(V[rows] @ E[cols].T, k)
                nbr[rows] = cols[idx]
            else:  # a row with nothing close: every column
                idx, val = _nearest(V[rows] @ E.T)
                nbr[rows] = idx
            sims[rows] = val
    return nbr, sims


def _top_k(S: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the ``k`` best columns and their values, best first, equal values in column order
    (as ``_nearest``), for a matrix of a few thousand columns: the k-th value by ``np.partition``,
    then only the cells at or above it sorted."""
    n, m = S.shape
    t = np.partition(S, m - k, axis=1)[:, m - k]
    rr, cc = np.nonzero(S >= t[:, None])  # row by row, columns ascending
    return _best_per_row(rr, cc, S[rr, cc], n, k)


def _bf16_examples(index):
    """The examples' vectors in bfloat16 as columns (384 x M), in a fixed shuffled order and padded
    with zero vectors to whole blocks of ``NEAREST_BLOCK`` (made once per example set), the order,
    and their largest norm. Why shuffled: examples come grouped by heading, so a text's nearest ones
    would crowd a few blocks and the k-th largest block maximum would sit far below the k-th largest
    value."""
    import torch

    if getattr(index, "_ex_bf16_of", None) is not index.E_ex:
        E = np.ascontiguousarray(index.E_ex, dtype=np.float32)
        m = len(E)
        perm = np.random.default_rng(0).permutation(m)
        padded = np.zeros((-(-m // NEAREST_BLOCK) * NEAREST_BLOCK, E.shape[1]), dtype=np.float32)
        padded[:m] = E[perm]
        norm_max = float(np.sqrt(np.einsum("ij,ij->i", E.astype(np.float64), E.astype(np.float64))).max())
        index._ex_bf16 = (torch.from_numpy(padded).to(torch.bfloat16).T.contiguous(), perm, norm_max)
        index._ex_bf16_of = index.E_ex
    return index._ex_bf16


_PREFILTER_FAST: bool | None = None


def _prefilter_on(index) -> bool:
    """Whether to use the bfloat16 pre-filter: ``PREFILTER`` when set, else a one-time timing of
    both products on this CPU (without bfloat16 units the pre-filter can be slower). Either way the
    result is the same (``nearest_examples``), only its cost differs."""
    global _PREFILTER_FAST
    if PREFILTER is not None:
        return bool(PREFILTER)
    if _PREFILTER_FAST is None:
        try:
            import time

            import torch
        except ImportError:  # pragma: no cover - torch comes with the encoder
            _PREFILTER_FAST = False
            return False
        rng = np.random.default_rng(0)
        V = rng.standard_normal((256, 384)).astype(np.float32)
        E = rng.standard_normal((4096, 384)).astype(np.float32)
        Vb, Eb = torch.from_numpy(V).to(torch.bfloat16), torch.from_numpy(E).to(torch.bfloat16)
        best = {}
        for name, f in (("f32", lambda: V @ E.T), ("bf16", lambda: Vb @ Eb.T)):
            runs = []
            for _ in range(3):
                t = time.perf_counter()
                f()
                runs.append(time.perf_counter() - t)
            best[name] = min(runs)
        # the pre-filter also pays a top-k and the re-scoring: worth it only well under the float32 cost
        _PREFILTER_FAST = best["bf16"] < 0.5 * best["f32"]
    return _PREFILTER_FAST


def _nearest(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the ``K_NEIGHBOURS`` best columns and their values, best first; equal values in
    column order.

    Why not ``argpartition`` over the ~12k examples: it builds a full int64 index matrix (eight
    times the bytes of ``S``) and was a fifth of what ``hint()`` adds to the encoder. Instead:
    the maximum of each block of ``NEAREST_BLOCK`` columns (one pass over ``S``, no copy); the
    k-th largest block maximum ``t`` is a lower bound for the k-th largest value (k blocks hold
    a value >= t), so the k best values all lie in blocks whose maximum is >= t, usually k to
    2k blocks; only those are gathered and sorted.
    """
    n, m = S.shape
    k = min(K_NEIGHBOURS, m)
    nb, rem = divmod(m, NEAREST_BLOCK)
    if n == 0 or k == 0 or nb + (rem > 0) <= k:
        order = np.argsort(-S, axis=1, kind="stable")[:, :k]
        return order, np.take_along_axis(S, order, axis=1)
    B = NEAREST_BLOCK
    blocks = S[:, :nb * B].reshape(n, nb, B)  # a view: rows are contiguous
    bmax = blocks.max(axis=2)
    tail = None
    if rem:
        tail = np.full((n, B), -np.inf, dtype=S.dtype)
        tail[:, :rem] = S[:, nb * B:]
        bmax = np.concatenate([bmax, tail.max(axis=1, keepdims=True)], axis=1)
    w = bmax.shape[1]
    t = np.partition(bmax, w - k, axis=1)[:, w - k]
    r, b = np.nonzero(bmax >= t[:, None])  # row by row, blocks in column order
    vals = np.empty((len(r), B), dtype=S.dtype)
    main = b < nb
    vals[main] = blocks[r[main], b[main]]
    if tail is not None:
        vals[~main] = tail[r[~main]]
    # The kept cells' coordinates (row-major, as a mask would list them), without building a
    # column number for every cell of the gathered blocks.
    kb, kc = np.nonzero(vals >= t[r][:, None])
    rr = r[kb]
    cc = b[kb] * B + kc
    vv = vals[kb, kc]
    return _best_per_row(rr, cc, vv, n, k)


def _best_per_row(rr: np.ndarray, cc: np.ndarray, vv: np.ndarray, n: int, k: int):
    """From kept cells (rows ``rr`` ascending, columns ``cc`` ascending within a row, values
    ``vv``; at least ``k`` per row), each row's ``k`` best columns and values, best first, equal
    values in column order: the last step of ``_nearest`` and ``_top_k``."""
    order = np.lexsort((-vv, rr))  # by row, then value descending; stable, so ties in column order
    count = np.bincount(rr, minlength=n)
    pick = order[(np.cumsum(count) - count)[:, None] + np.arange(k)]
    return cc[pick], vv[pick]


class _Neighbours:
    """The closest labelled example of each heading among a text's neighbours (for explanations),
    read only when a hint is explained."""

    def __init__(self, index, nbr, sims, text: str = ""):
        self.index, self.nbr, self.sims, self.text = index, nbr, sims, text
        self._best: dict | None = None

    def _table(self) -> dict:
        """Heading -> (example text, similarity). Among equally close examples of a heading (two
        wordings the encoder cannot tell apart, such as "attaché" and "attache"), one written
        exactly as the text is quoted; otherwise the first in the neighbour order."""
        if self._best is None:
            self._best = {}
            examples = self.index.examples
            # best first: the first of a heading is its closest
            nbr = np.asarray(self.nbr)
            for j, h, s in zip(nbr.tolist(), self.index.ex_head[nbr].tolist(), np.asarray(self.sims).tolist()):
                if s <= 0:
                    break
                if h not in self._best:
                    self._best[h] = (examples[j]["text"], s)
                elif s == self._best[h][1] and examples[j]["text"] == self.text:
                    self._best[h] = (self.text, s)
        return self._best

    def __contains__(self, h) -> bool:
        return h in self._table()

    def __getitem__(self, h):
        return self._table()[h]


SUB_VOTE_WEIGHT = 0.6  # neighbours' subheading votes, added to the encoder similarity
SUB_LEX_WEIGHT = 0.3   # a lexicon term naming the subheading
SUB_TOP = 3            # subheadings kept per heading (the hinter shows the best one)


class _SubScores:
    """Subheadings of a heading ranked for one text, computed only for the headings shown.

    ``picker`` (``subheading.SubheadingPicker``, set by the hinter) scores them when present;
    else the fixed formula below does.
    """

    picker = None

    def __init__(self, index, s_sub_row, nbr, weights, lex_sub, sims=None, text=""):
        self.index, self.row, self.lex = index, s_sub_row, lex_sub
        self.nbr, self.weights, self.sims, self.text = nbr, weights, sims, text
        self.cache: dict = {}  # per-text values the picker computes once
        self._vote: dict[int, float] | None = None
        self._extras: dict | None = None
        self._done: dict[int, list[tuple[int, float]]] = {}

    @property
    def vote(self) -> dict[int, float]:
        """The neighbours' softmax weights summed per subheading."""
        if self._vote is None:
            self._vote = {}
            if self.nbr is not None:
                for s, wj in zip(self.index.ex_sub[self.nbr].tolist(), np.asarray(self.weights).tolist()):
                    if s >= 0:
                        self._vote[s] = self._vote.get(s, 0.0) + wj
        return self._vote

    @property
    def extras(self) -> dict[int, list[tuple[int, float]]]:
        """Heading -> the formula's additions to its subheadings' scores, ``(subheading,
        weight x value)``, in the order the formula adds them (votes, then lexicon terms): built
        once per text, so a heading's scores touch only its own few additions."""
        if self._extras is None:
            self._extras = {}
            sub_head = self.index.sub_head_list
            for extra, weight in ((self.vote, SUB_VOTE_WEIGHT), (self.lex, SUB_LEX_WEIGHT)):
                for s, v in extra.items():
                    self._extras.setdefault(sub_head[s], []).append((s, weight * v))
        return self._extras

    def get(self, h, default=None, formula: bool = False):
        """The best subheadings of heading ``h`` as ``[(subheading index, score)]``; ``formula``
        asks for the fixed formula even when a picker is set (the hinter's lower hints)."""
        if h not in self._done:
            lo, hi = self.index.sub_bounds[h]
            if self.picker is not None and not formula:
                score = self.picker.scores(self, h)
            else:
                score = self.row[lo:hi].astype(np.float64)
                for s, add in self.extras.get(h, ()):
                    score[s - lo] += add
            self.keep(h, lo, score)
        return self._done[h] or default

    def keep(self, h, lo, score) -> None:
        """Remember heading ``h``'s best subheadings from one score per subheading."""
        if len(score) == 1:  # one subheading (about one hint in ten): nothing to sort
            self._done[h] = [(lo, float(score[0]))]
            return
        order = np.argsort(-score)[:SUB_TOP]
        self._done[h] = list(zip((order + lo).tolist(), score[order].tolist()))


def formula_batch(jobs) -> None:
    """``get(h, formula=True)`` for many ``(_SubScores, heading)`` pairs in one pass (the hinter's
    lower hints: about four per text, each a few microseconds of numpy calls when done alone).

    The same numbers as one at a time: each heading's scores are its row's float64 values with
    its additions made one by one in the same order, and its best ``SUB_TOP`` are taken from one
    stable sort of all the pairs' scores (by pair, then score descending). ``np.argsort``, which
    ``keep`` uses, is not stable: where two of the first ``SUB_TOP`` + 1 sorted scores of a heading
    are equal (two "Other" subheadings with one wording), that heading goes through ``keep``
    itself, so ties are ordered exactly as before.
    """
    # a pair asked twice is scored twice, to the same result (no set of pairs: fewer objects)
    todo = [(ss, h) for ss, h in jobs if h not in ss._done]
    if not todo:
        return
    index = todo[0][0].index
    heads = np.fromiter((h for _, h in todo), dtype=np.int64, count=len(todo))
    ends = np.append(index.sub_start[1:], len(index.sub_codes))
    lo, hi = index.sub_start[heads], ends[heads]
    sizes = hi - lo
    starts = np.cumsum(sizes) - sizes
    lo_l, hi_l, at_l = lo.tolist(), hi.tolist(), starts.tolist()
    score = np.concatenate([ss.row[a:b] for (ss, _), a, b in zip(todo, lo_l, hi_l)]).astype(np.float64)
    for (ss, h), l, at in zip(todo, lo_l, at_l):
        for s, add in ss.extras.get(h, ()):
            score[at + s - l] += add
    seg = np.repeat(np.arange(len(todo)), sizes)
    order = np.lexsort((-score, seg))
    val = score[order]
    rank = np.arange(len(order)) - starts[seg]  # the position inside its heading (order keeps segments)
    tie = np.zeros(len(todo), dtype=bool)
    pair = (val[1:] == val[:-1]) & (seg[1:] == seg[:-1]) & (rank[:-1] < SUB_TOP)
    tie[seg[1:][pair]] = True
    keep_l = ((sizes == 1) | tie).tolist()
    sub_l, val_l = (order - starts[seg] + lo[seg]).tolist(), val.tolist()
    for (ss, h), l, n, at, alone in zip(todo, lo_l, sizes.tolist(), at_l, keep_l):
        if alone:  # one subheading, or ties: exactly as get() would
            ss.keep(h, l, score[at:at + n])
        else:
            end = at + min(SUB_TOP, n)
            ss._done[h] = list(zip(sub_l[at:end], val_l[at:end]))


# Hand-set fusion used until a trained model exists (and as the "fusion" method's fallback).
FALLBACK_WEIGHTS = dict(enc_sub=6.0, enc_head=2.0, tfidf=3.0, knn_vote=3.0, knn_max=2.0, lex=1.0)


def fallback_scores(X: np.ndarray) -> np.ndarray:
    z = np.zeros(len(X), dtype=np.float64)
    for name, w in FALLBACK_WEIGHTS.items():
        z += w * X[:, FEATURES.index(name)]
    z = np.exp(z - z.max())
    return z / z.sum()


NW_CAP = 40  # word counts above this are read as 40: the corpus that fits the map has none longer
REGISTERS = ("firm", "customs")


def calibration_features(q: np.ndarray, nn_sim: np.ndarray, n_words) -> np.ndarray:
    """Inputs of the calibration map: the ranker's logit, the text's length and how close the
    nearest labelled example is, with their products with the logit.

    Why these: a probability normalised over the candidates means something different for a
    three-word phrase than for a fourteen-word sentence, and for a text with a near-identical
    example than for one with nothing close; one isotonic curve over all rows made firm text
    under-confident (ECE 0.077 on hs_dev.csv, cross-validated).
    """
    q = np.clip(np.asarray(q, dtype=np.float64), 1e-4, 1 - 1e-4)
    logit = np.log(q / (1 - q))
    lw = np.log1p(np.minimum(np.broadcast_to(np.asarray(n_words, dtype=np.float64), logit.shape), NW_CAP))
    nn = np.asarray(nn_sim, dtype=np.float64)
    return np.column_stack([logit, lw, logit * lw, nn, nn * logit])


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


class Calibration:
    """Maps the ranker's normalised probability to the probability that the heading is right.

    Two steps. The *base map*: a logistic over ``calibration_features`` fitted on held-out folds
    of the corpus rows (``train.fit_ranker``). Then a two-number Platt correction per register,
    fitted on held-out text of that register that is in no training set: ``firm`` on the
    project's own firm-style calibration set (``nlp/data/hs/calibration_firm.csv``, written apart
    from the corpus), ``customs`` on the CBP rulings *validation* file. Why: the corpus' held-out
    folds are harder than real text of either register (a product alone under its heading, the
    unseen-heading drill), so the base map alone made firm text under-confident (ECE 0.085 on
    hs_dev.csv, cross-validated) and rulings over-confident (0.24 on the CBP test file).
    Two numbers, not more: refitted on 4/5 of the 154 validation rows and scored on the rest,
    richer customs maps (more inputs, isotonic, customs corpus rows, shrinking) did no better than
    this one, and each correction keeps its cross-fitted figures beside it (``train``'s
    ``cross_fit_correction``; ``calibration_study``; docs/nlp.md).
    """

    def __init__(self, coef, intercept, customs=None, firm=None):
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = float(intercept)
        self.customs = customs  # {"a": slope, "b": intercept, ...} or None
        self.firm = firm

    def base(self) -> "Calibration":
        """The base map alone (what the register corrections are fitted on)."""
        return Calibration(self.coef, self.intercept)

    def __call__(self, q, nn_sim, n_words, register: str = "firm", rid=None) -> np.ndarray:
        """Confidences of candidates; ``rid`` says which text each belongs to (default: one text),
        read only by a correction that uses the logit gap between a text's candidates."""
        if register not in REGISTERS:
            raise ValueError(f"register must be one of {REGISTERS}, not {register!r}")
        p = _sigmoid(calibration_features(q, nn_sim, n_words) @ self.coef + self.intercept)
        correction = self.customs if register == "customs" else self.firm
        return apply_correction(correction, p, rid) if correction else p

    def to_json(self) -> dict:
        return {"kind": "logistic-register", "coef": self.coef.tolist(), "intercept": self.intercept,
                "firm": self.firm, "customs": self.customs}

    @classmethod
    def from_json(cls, d: dict) -> "Calibration":
        return cls(d["coef"], d["intercept"], d.get("customs"), d.get("firm"))


def _logit(p):
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


GAP_CAP = 10.0  # a text with one candidate reads as a gap this wide


def logit_gaps(p, rid=None) -> np.ndarray:
    """Per candidate, its base logit minus the best *other* candidate's of the same text: the
    margin of a text's top candidate over its second (positive, capped at ``GAP_CAP``), and for
    every other candidate its distance below the top (negative). ``rid``: the text of each
    candidate (default: all one text)."""
    z = _logit(p)
    if len(z) == 0:
        return z
    rid = np.zeros(len(z), dtype=int) if rid is None else np.asarray(rid)
    n = int(rid.max()) + 1
    order = np.lexsort((-z, rid))
    first = np.searchsorted(rid[order], np.arange(n))
    count = np.bincount(rid, minlength=n)
    present, has_two = count > 0, count > 1
    best = np.full(n, -np.inf)
    second = np.full(n, -np.inf)
    best[present] = z[order[first[present]]]
    second[has_two] = z[order[first[has_two] + 1]]
    is_top = np.zeros(len(z), dtype=bool)
    is_top[order[first[present]]] = True
    gap = np.where(is_top, z - second[rid], z - best[rid])
    return np.minimum(gap, GAP_CAP)


def apply_correction(correction: dict, p, rid=None, gaps=None) -> np.ndarray:
    """A register's Platt correction applied to base-map probabilities.

    Two forms. ``{"a", "b"}``: ``sigmoid(a * logit + b)``. ``{"a", "g", "b"}`` also reads the
    logit gap of each candidate to the best other candidate of its text (``logit_gaps``): how far
    a top hint leads its runner-up says something the logit alone does not (in firm text a wide
    lead adds confidence; in rulings the base map's wide leads were the over-confident ones, so
    there the fitted ``g`` is negative; docs/nlp.md, "Customs correction, chosen out of sample").
    Both keep the order of a text's hints: the fit only keeps
    the gap form with a > 0, a + g > 0 and a + 2g > 0 (``train.fit_platt_gap``), which makes the
    map increasing in the logit for the top candidate and for the others alike. ``gaps``: the
    candidates' ``logit_gaps`` when the caller has them already (the cross-fitting scores only
    each row's top candidate, whose gap reads the whole row).
    """
    z = correction["a"] * _logit(p) + correction["b"]
    if correction.get("g"):
        z = z + correction["g"] * (logit_gaps(p, rid) if gaps is None else gaps)
    return _sigmoid(z)


NN_COL = FEATURES.index("nn_sim")


class Ranker:
    """A fitted scikit-learn classifier over ``FEATURES`` plus its calibration map."""

    def __init__(self, model, calibration: Calibration | None = None, meta=None):
        self.model = model
        self.calibration = calibration
        self.meta = meta or {}

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Probability per candidate, normalised over the text's candidates."""
        p = self.model.predict_proba(X)[:, 1].astype(np.float64)
        s = p.sum()
        return p / s if s > 0 else np.full(len(p), 1.0 / max(len(p), 1))

    def calibrate(self, q: np.ndarray, X: np.ndarray, n_words, register: str = "firm") -> np.ndarray:
        if self.calibration is None:
            return q
        return self.calibration(q, X[:, NN_COL], n_words, register)

    def scores(self, X: np.ndarray, n_words=8, register: str = "firm") -> tuple[np.ndarray, np.ndarray]:
        q = self.raw(X)
        return q, self.calibrate(q, X, n_words, register)

    def scores_batch(self, cands: list, register: str = "firm") -> list[np.ndarray]:
        """Calibrated scores for many texts' candidates in one pass (same as ``scores`` per text)."""
        if not cands:
            return []
        sizes = np.array([len(c.heads) for c in cands])
        rid = np.repeat(np.arange(len(cands)), sizes)
        X = np.vstack([c.X for c in cands])
        p = self.model.predict_proba(X)[:, 1].astype(np.float64)
        tot = np.bincount(rid, weights=p, minlength=len(cands))
        q = np.where(tot[rid] > 0, p / np.maximum(tot[rid], 1e-300), 1.0 / np.maximum(sizes[rid], 1))
        nw = np.array([c.n_words for c in cands])[rid]
        conf = q if self.calibration is None else self.calibration(q, X[:, NN_COL], nw, register, rid)
        return np.split(conf, np.cumsum(sizes)[:-1])

    def to_json(self) -> dict:
        m = self.model
        return {"kind": "logreg-pairwise", "features": FEATURES,
                "mean": m.named_steps["scale"].mean_.tolist(),
                "scale": m.named_steps["scale"].scale_.tolist(),
                "mean2": m.named_steps["scale2"].mean_.tolist(),
                "scale2": m.named_steps["scale2"].scale_.tolist(),
                "coef": m.named_steps["clf"].coef_[0].tolist(),
                "intercept": float(m.named_steps["clf"].intercept_[0]),
                "calibration": None if self.calibration is None else self.calibration.to_json(),
                "meta": self.meta}

    @classmethod
    def from_json(cls, data: dict) -> "Ranker":
        if data.get("features") != FEATURES:
            raise ValueError("ranker was trained on other features: run `python -m nlp.hs.train`")
        cal = data.get("calibration")
        if not cal:
            raise ValueError("ranker has no calibration map (older format): run `python -m nlp.hs.train`")
        return cls(_LinearModel(data), Calibration.from_json(cal), data.get("meta"))

    @classmethod
    def load(cls, path) -> "Ranker":
        return cls.from_json(json.loads(open(path).read()))


def pairwise(Z: np.ndarray) -> np.ndarray:
    """Features then their pairwise products, in scikit-learn's PolynomialFeatures order."""
    n = Z.shape[1]
    i, j = np.triu_indices(n, k=1)
    return np.hstack([Z, Z[:, i] * Z[:, j]])


class _LinearModel:
    """The saved model, applied with numpy (no pickle: a JSON file can be read and checked).

    The model is linear in the standardised features ``Z`` and their pairwise products, so its
    score is a quadratic form: ``const + Z @ w1 + sum_(a<b) W[a, b] Z_a Z_b``, with the second
    standardisation folded into ``w1``, ``W`` and ``const`` once at load. Why: expanding the ~20k
    candidate rows of a batch into 210 product columns (``pairwise``) was the ranker's whole cost
    (~50 ms a 1,000 texts); ``(Z @ W) * Z`` summed per row is the same number for a 20 x 20 product
    (only the order of the additions differs: a gap of ~1e-15 to ~1e-6 in a probability,
    which train.py checks on every retrain).
    """

    def __init__(self, data: dict):
        self.mean = np.array(data["mean"])
        self.scale = np.array(data["scale"])
        self.mean2 = np.array(data["mean2"])
        self.scale2 = np.array(data["scale2"])
        self.coef = np.array(data["coef"])
        self.intercept = data["intercept"]
        n = len(self.mean)
        if len(self.coef) != n + n * (n - 1) // 2:
            raise ValueError(f"ranker has {len(self.coef)} weights, not {n} features and their pairwise products")
        w = self.coef / self.scale2
        self.w1 = w[:n]
        self.W = np.zeros((n, n))
        self.W[np.triu_indices(n, k=1)] = w[n:]
        self.const = self.intercept - float(self.mean2 @ w)

    def predict_proba(self, X):
        Z = (np.asarray(X, dtype=np.float64) - self.mean) / self.scale
        z = Z @ self.w1 + np.einsum("ij,ij->i", Z @ self.W, Z) + self.const
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
        return np.stack([1 - p, p], axis=1)
