"""A learned subheading signal: per heading, a logistic regression from a text's frozen encoder
vector to the heading's 6-digit subheadings, read by the subheading picker as two more features
(``sp_lp``, the log-probability within the heading, and ``sp_gap``, how far it is behind the
heading's best subheading).

Why: the picker's neighbour features read the few nearest labelled examples of a subheading
(one odd example can carry them); a probe weighs every example of every subheading of the
heading at once. Last round the same kind of probe for the heading (``probe.py``) was the
signal that carried best from CBP validation to the test file. Per heading, not one softmax over
all 5,612 subheadings: the picker compares subheadings of one heading only, so the probe is
trained on exactly that question (a sibling is the only competitor) and each heading's fit is
small and independent, which makes cross-fitting cheap.

Training rows of heading ``h``: its labelled examples (``index.examples`` with a subheading:
corpus wordings and lexicon terms, the same examples as the neighbour search), plus each of its
subheadings' own nomenclature text (``index.E_sub``) as one row, so every subheading is a class,
even one no example names (then the probe reads the wording only, like the ``enc`` feature).

Training the picker needs the probe's view of a corpus row as if the row were new:
``cross_fitted`` scores a row from a fit that never saw its product (the probe's grouped folds,
``probe.fold_of``) or, for the unseen-heading drill rows, from a fit on the heading's nomenclature
texts only. At hint time one fit on every example is used, shipped as ``nlp/data/hs/subprobe.npz``
(float16 weights), rebuilt by ``python -m nlp.hs.train``; ``for_index`` fits one in memory when
the shipped file does not match the index's examples.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from pathlib import Path

import numpy as np

from .nomenclature import DATA_DIR
from .probe import FOLDS, fold_of, kept_on_index

SUBPROBE_FILE = DATA_DIR / "subprobe.npz"
C = 100.0  # inverse L2 strength: corpus cross-fitted top-1 within heading 44.8 / 60.3 / 65.9 / 68.1% at C = 1 / 10 / 100 (w=1) / 100 (w=3)
DESC_WEIGHT = 3.0  # a subheading's own nomenclature text counts as 3 rows (w = 0.3 / 1 / 3 at C = 10: 57.7 / 60.3 / 65.1%)
MAX_ITER = 200
TOL = 1e-3
LOG_FLOOR = -12.0


def examples_digest(index, c: float = C) -> str:
    """What a fit depends on: the examples' texts and subheadings, in order, the nomenclature's
    subheadings, and the constants."""
    h = hashlib.sha256(f"C={c}|w={DESC_WEIGHT}|subs={len(index.sub_codes)}".encode())
    for e in index.examples:
        h.update(b"\x00" + e["text"].encode() + b"\x01" + (e.get("hs6") or "").encode())
    return h.hexdigest()[:20]


def multi_headings(index) -> list[int]:
    """Headings with two subheadings or more (the only ones the picker scores)."""
    return [h for h in range(len(index.head_codes)) if index.sub_bounds[h][1] - index.sub_bounds[h][0] >= 2]


def examples_by_heading(index) -> dict[int, np.ndarray]:
    """Positions of the examples naming a subheading, per heading (ascending)."""
    named = np.flatnonzero(index.ex_sub >= 0)
    heads = np.asarray(index.sub_head)[index.ex_sub[named]]  # the heading of the subheading named
    order = np.argsort(heads, kind="stable")
    named, heads = named[order], heads[order]
    cuts = np.searchsorted(heads, np.arange(len(index.head_codes) + 1))
    return {h: named[a:b] for h, (a, b) in enumerate(zip(cuts[:-1], cuts[1:])) if b > a}


def one_thread():
    """BLAS on one thread for the many tiny fits. Why: each fit is a 25 x 384 SVD and a few dozen
    L-BFGS steps; with the default thread pool on this shared 2-core machine the threads' start
    and wait cost 60 times the arithmetic (60 headings: 19.5 s against 0.35 s on one thread)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


def fit_heading(index, h: int, ex: np.ndarray, c: float = C) -> tuple[np.ndarray, np.ndarray]:
    """``(W (d, S), b (S,))`` for heading ``h``'s S subheadings, fitted on examples ``ex`` (positions
    in ``index.examples``) and the subheadings' own texts. Always from zero (no warm start: a fold
    fit started from the full fit would stop at once and keep what it saw).

    Fitted in the rows' own span: with ``X = U s Vt`` (thin SVD, rank r <= rows), the logits read
    ``X W = (U s)(Vt W)`` and a part of ``W`` outside the rows' span only adds to the L2 penalty, so
    the L2-penalised optimum is ``W = Vt.T @ beta`` with ``beta`` the same regression on the r
    columns ``U s``. The same model, fitted on ~20 columns instead of 384: the 957 headings' fits
    took 133 s on 384 columns and take a few seconds this way.
    """
    from sklearn.linear_model import LogisticRegression

    lo, hi = index.sub_bounds[h]
    S = hi - lo
    X = np.vstack([index.E_ex[ex], index.E_sub[lo:hi]]).astype(np.float64)
    y = np.concatenate([index.ex_sub[ex] - lo, np.arange(S)])
    w = np.concatenate([np.ones(len(ex)), np.full(S, DESC_WEIGHT)])
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    r = int((s > s[0] * 1e-6).sum())
    Z = U[:, :r] * s[:r]
    B = np.zeros((r, S))
    b = np.zeros(S)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at TOL on a few headings: the fit is still usable
        clf = LogisticRegression(C=c, max_iter=MAX_ITER, tol=TOL).fit(Z, y, sample_weight=w)
    if S == 2:  # scikit-learn's binary form: one weight vector for the second class
        B[:, 1], b[1] = clf.coef_[0], clf.intercept_[0]
    else:
        B[:, clf.classes_], b[clf.classes_] = clf.coef_.T, clf.intercept_
    return (Vt[:r].T @ B).astype(np.float32), b.astype(np.float32)


class SubProbe:
    """Fitted weights for every subheading (columns in ``index.sub_codes`` order; zeros for the
    subheadings of one-subheading headings, which the picker never scores)."""

    def __init__(self, W: np.ndarray, b: np.ndarray, meta: dict | None = None):
        self.W = np.ascontiguousarray(W, dtype=np.float32)
        self.b = np.asarray(b, dtype=np.float32)
        self.meta = meta or {}

    def log_proba(self, v: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """Log-probability of each subheading ``lo..hi-1`` (one heading's) for vector ``v``."""
        return log_softmax(np.asarray(v, dtype=np.float32) @ self.W[:, lo:hi] + self.b[lo:hi])

    def save(self, path: Path = SUBPROBE_FILE) -> int:
        """float16 weights, float32 intercepts; returns the file's size in bytes."""
        tmp = Path(path).with_suffix(".tmp.npz")
        np.savez_compressed(tmp, W=self.W.astype(np.float16), b=self.b.astype(np.float32),
                            **{f"meta_{k}": np.array(str(v)) for k, v in self.meta.items()})
        tmp.replace(path)
        return Path(path).stat().st_size

    @classmethod
    def load(cls, path: Path = SUBPROBE_FILE) -> "SubProbe":
        with np.load(path) as z:
            meta = {k[5:]: str(z[k]) for k in z.files if k.startswith("meta_")}
            return cls(z["W"].astype(np.float32), z["b"], meta)


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max()
    z = z - np.log(np.exp(z).sum())
    return np.maximum(z, LOG_FLOOR)


def fit_subprobe(index, c: float = C) -> SubProbe:
    """One fit per multi-subheading heading on every example of the index."""
    t = time.time()
    d = index.E_ex.shape[1] if len(index.E_ex) else index.E_sub.shape[1]
    W = np.zeros((d, len(index.sub_codes)), dtype=np.float32)
    b = np.zeros(len(index.sub_codes), dtype=np.float32)
    by_head = examples_by_heading(index)
    with one_thread():
        for h in multi_headings(index):
            lo, hi = index.sub_bounds[h]
            W[:, lo:hi], b[lo:hi] = fit_heading(index, h, by_head.get(h, _NONE), c)
    return SubProbe(W, b, {"examples": examples_digest(index, c), "C": c, "rows": len(index.examples),
                           "seconds": round(time.time() - t, 1)})


_NONE = np.zeros(0, dtype=np.int64)


def for_index(index) -> SubProbe:
    """The subheading probe for the index's current examples, kept on the index: the shipped
    file when its digest matches, else a fit in memory (~5-15 s; ``probe.kept_on_index``)."""
    return kept_on_index(index, "subprobe", index.E_ex, SUBPROBE_FILE, SubProbe.load, examples_digest,
                         len(index.sub_codes), "the subheading probe", fit_subprobe)


def cross_fitted(index, vecs: np.ndarray, heads: list, exclusions: list, folds: int = FOLDS, c: float = C,
                 cache: bool = True) -> list:
    """Per training query ``i``: log-probabilities of heading ``heads[i]``'s subheadings (None when
    the heading has fewer than two, or ``heads[i]`` is None), from a fit that never saw the query.

    ``exclusions[i]`` as ``train.drill_exclusions``: the query's product group (the heading is fitted
    without every example in the group's fold, ``probe.fold_of``: so without the group itself and
    its rewordings), or ``("hs4", code)`` for an unseen-heading drill row (fitted on the heading's
    nomenclature texts alone, as if the corpus had never named it). At most ``folds + 1`` fits per
    heading, only for headings some query needs; cached under ``var/cache/hs`` keyed by the inputs.
    """
    from .retrieval import CACHE_DIR

    n = len(heads)
    key = hashlib.sha256(f"{examples_digest(index, c)}|{folds}".encode())
    key.update(np.ascontiguousarray(vecs, dtype=np.float32).tobytes())
    key.update(repr(list(heads)).encode() + repr(list(exclusions)).encode())
    path = CACHE_DIR / f"subprobe-crossfit-{key.hexdigest()[:20]}.npz"
    out: list = [None] * n
    if cache and path.exists():
        with np.load(path) as z:
            flat, at, rows = z["lp"].astype(np.float64), z["at"], z["rows"]
        for k, i in enumerate(rows.tolist()):
            out[i] = flat[at[k]:at[k + 1]]
        return out
    by_head = examples_by_heading(index)
    ex_fold = np.array([fold_of(str(e.get("group", "")), folds) for e in index.examples])
    jobs: dict[tuple[int, int], list[int]] = {}
    for i, (h, g) in enumerate(zip(heads, exclusions)):
        if h is None:
            continue
        lo, hi = index.sub_bounds[h]
        if hi - lo < 2:
            continue
        f = -1 if isinstance(g, tuple) else fold_of(str(g), folds)
        jobs.setdefault((h, f), []).append(i)
    with one_thread():
        for (h, f), rows in sorted(jobs.items()):
            ex = by_head.get(h, _NONE)
            ex = ex[:0] if f < 0 else ex[ex_fold[ex] != f]
            W, b = fit_heading(index, h, ex, c)
            for i in rows:
                # rounded as the cache stores them, so a cached run reads the same numbers
                out[i] = log_softmax(np.asarray(vecs[i], dtype=np.float32) @ W + b).astype(np.float32).astype(np.float64)
    if cache:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        rows = [i for i in range(n) if out[i] is not None]
        at = np.cumsum([0] + [len(out[i]) for i in rows])
        flat = np.concatenate([out[i] for i in rows]) if rows else np.zeros(0)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, lp=flat.astype(np.float32), at=at, rows=np.array(rows, dtype=np.int64))
        tmp.replace(path)
    return out
