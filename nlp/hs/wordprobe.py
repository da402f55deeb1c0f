"""A learned word classifier over the labelled examples: a text's words and word pairs -> heading,
read by the ranker as two more features per candidate (``word_lp``, ``word_rank``).

Why: the encoder probe (``probe.py``) reads the text's MiniLM vector, which blurs the single
words customs text turns on ("knitted", "vulcanised", "of cotton", "unwrought", "parts of"); the
ranker's TF-IDF feature matches those words against the nomenclature's own texts only, never
against the ~19,000 labelled wordings. This is a linear classifier over TF-IDF word 1-2 grams
(the project's ``textnorm.norm`` words, stop words kept: "of cotton" is a pair) fitted on the
same examples as the encoder probe and the neighbour search (corpus wordings and lexicon terms:
``index.examples`` with ``index.ex_head``): a one-vs-rest logistic loss by stochastic gradient
(scikit-learn's ``SGDClassifier``), its weights pruned to the largest 1% (measured: the same
top-1/top-3 heading on CBP validation, hs_dev and the held-out firm set as the dense weights).

Training the ranker needs the classifier's view of a corpus row *as if the row were new*:
``cross_fitted`` gives it from fits that never saw the row's product, and for the unseen-heading
drill rows never saw their heading (the encoder probe's folds, ``probe.fold_plan``). At hint
time one fit on every example is used: shipped as ``nlp/data/hs/wordprobe.npz`` (vocabulary,
idf, sparse float16 weights), rebuilt by ``python -m nlp.hs.train``; ``for_index`` fits a fresh
one in memory when the shipped file does not match the index's examples (a changed corpus, or the
hs_dev cross-validation's folds).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .nomenclature import DATA_DIR
from .probe import LOG_FLOOR, fold_plan, kept_on_index  # the probe's floor: ranker._probe_columns reads both
from .textnorm import norm

WORD_FILE = DATA_DIR / "wordprobe.npz"
ALPHA = 1e-6      # SGD's L2 strength (chosen standalone on CBP validation and hs_dev: see docs/nlp.md)
EPOCHS = 30       # at most this many passes over the examples
TOL = 1e-3        # scikit-learn's stopping tolerance (the same fit on every run: seeded shuffles)
KEEP = 0.01       # share of the (vocabulary x heading) weights kept, largest magnitude first ...
MIN_KEPT = 200    # ... but at least this many per heading on average (small corpora keep every weight)
SEED = 2022
FOLDS = 5
NGRAMS = (1, 2)


def config() -> str:
    return f"alpha={ALPHA}|epochs={EPOCHS}|tol={TOL}|keep={KEEP}|min_kept={MIN_KEPT}|ngrams={NGRAMS}|seed={SEED}"


def examples_digest(index) -> str:
    """What a fit depends on: the examples' texts and headings, in order, and the settings."""
    h = hashlib.sha256(config().encode())
    for e in index.examples:
        h.update(b"\x00" + e["text"].encode() + b"\x01" + e["hs4"].encode())
    return h.hexdigest()[:20]


def _vectoriser(vocabulary=None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(preprocessor=norm, ngram_range=NGRAMS, sublinear_tf=True, dtype=np.float32,
                           vocabulary=vocabulary)


class WordProbe:
    """A fitted word classifier: vocabulary, idf, sparse (V, H) weights, intercepts, known headings.

    Columns are in ``index.head_codes`` order. Only the vocabulary and idf are kept of the
    vectoriser (no pickle): ``log_proba`` builds the same TF-IDF rows from them."""

    def __init__(self, vocab: list[str], idf: np.ndarray, W: sp.spmatrix, b: np.ndarray, known: np.ndarray,
                 meta: dict | None = None):
        self.vocab = list(vocab)
        self.idf = np.asarray(idf, dtype=np.float32)
        self.W = sp.csr_matrix(W, dtype=np.float32)
        self.known = np.asarray(known, dtype=bool)
        self.b = np.where(self.known, b, 0.0).astype(np.float32)
        self.meta = meta or {}
        self._vec = None

    @property
    def vectoriser(self):
        if self._vec is None:
            v = _vectoriser({w: i for i, w in enumerate(self.vocab)})
            v.idf_ = self.idf.astype(np.float64)
            self._vec = v
        return self._vec

    def scores(self, texts: list[str]) -> np.ndarray:
        """(n, H) raw scores (each heading's logit)."""
        X = self.vectoriser.transform(texts)
        Z = np.asarray((X @ self.W).todense(), dtype=np.float32)
        Z += self.b
        return Z

    def log_proba(self, texts: list[str]) -> np.ndarray:
        """(n, H) log-softmax of the headings' scores, clipped below at ``LOG_FLOOR``; headings
        the fit had no example of read ``LOG_FLOOR``. One sparse product and one softmax.

        A softmax over one-vs-rest logits: not a calibrated probability, a scale on which the
        candidates of one text compare (the ranker's calibration map does the rest)."""
        Z = self.scores(texts)
        if not self.known.all():
            Z[:, ~self.known] = -np.inf
        Z -= Z.max(axis=1, keepdims=True)
        Z -= np.log(np.exp(Z).sum(axis=1, keepdims=True))
        np.maximum(Z, LOG_FLOOR, out=Z)
        return Z

    def save(self, path: Path = WORD_FILE) -> int:
        """Vocabulary as one newline-joined string, idf float32, CSR weights with int16 heading
        columns and float16 values; returns the file's size in bytes."""
        if any("\n" in w for w in self.vocab):
            raise ValueError("a vocabulary entry holds a newline: cannot be saved one a line")
        W = self.W.tocsr()
        tmp = Path(path).with_suffix(".tmp.npz")
        np.savez_compressed(tmp, vocab=np.frombuffer("\n".join(self.vocab).encode(), dtype=np.uint8),
                            idf=self.idf, indptr=W.indptr.astype(np.int32), indices=W.indices.astype(np.int16),
                            data=W.data.astype(np.float16), shape=np.array(W.shape), b=self.b, known=self.known,
                            **{f"meta_{k}": np.array(str(v)) for k, v in self.meta.items()})
        tmp.replace(path)
        return Path(path).stat().st_size

    @classmethod
    def load(cls, path: Path = WORD_FILE) -> "WordProbe":
        with np.load(path) as z:
            meta = {k[5:]: str(z[k]) for k in z.files if k.startswith("meta_")}
            vocab = bytes(z["vocab"]).decode().split("\n") if len(z["vocab"]) else []
            W = sp.csr_matrix((z["data"].astype(np.float32), z["indices"].astype(np.int32), z["indptr"]),
                              shape=tuple(z["shape"]))
            return cls(vocab, z["idf"], W, z["b"], z["known"], meta)


def fit(texts: list[str], y: np.ndarray, n_classes: int) -> WordProbe:
    """Vectoriser and classifier fitted on ``texts`` (headings ``y``, positions in 0..n_classes).

    Always from zero (no warm start from a fit that saw other rows). Headings without rows are
    ``known = False``; one heading alone is certain (scikit-learn refuses to fit one class)."""
    from sklearn.linear_model import SGDClassifier

    y = np.asarray(y)
    present = np.unique(y)
    known = np.zeros(n_classes, dtype=bool)
    known[present] = True
    vec = _vectoriser()
    X = vec.fit_transform(texts)
    vocab = [w for w, _ in sorted(vec.vocabulary_.items(), key=lambda kv: kv[1])]
    idf = vec.idf_.astype(np.float32)
    b = np.zeros(n_classes, dtype=np.float32)
    if len(present) == 1:
        return WordProbe(vocab, idf, sp.csr_matrix((len(vocab), n_classes), dtype=np.float32), b, known)
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    clf = SGDClassifier(loss="log_loss", alpha=ALPHA, max_iter=EPOCHS, tol=TOL, random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    coef = clf.coef_.astype(np.float32)  # (K, V), or (1, V) in scikit-learn's binary form
    cols = present if len(present) > 2 else present[1:]  # the heading of each row of coef
    b[cols] = clf.intercept_
    del clf
    W = prune(coef, max(KEEP, MIN_KEPT / coef.shape[1])).T.tocoo()      # (V, K), then each class's weights in its heading's column
    W = sp.csr_matrix((W.data, (W.row, cols[W.col])), shape=(len(vocab), n_classes))
    return WordProbe(vocab, idf, W, b, known)


def prune(coef: np.ndarray, keep: float) -> sp.csr_matrix:
    """The ``keep`` share of the weights largest in magnitude (at least one), the rest zero."""
    a = np.abs(coef).ravel()
    k = max(1, int(round(keep * a.size)))
    thr = np.partition(a, a.size - k)[a.size - k] if k < a.size else 0.0
    del a
    return sp.csr_matrix(np.where(np.abs(coef) >= thr, coef, 0.0).astype(np.float32))


def fit_index(index) -> WordProbe:
    """One classifier on every example of the index."""
    t = time.time()
    wp = fit([e["text"] for e in index.examples], index.ex_head, len(index.head_codes))
    wp.meta.update({"examples": examples_digest(index), "config": config(), "rows": len(index.examples),
                    "seconds": round(time.time() - t, 1)})
    return wp


def for_index(index) -> WordProbe | None:
    """The classifier for the index's current examples (None when it has none), kept on the index
    while its examples are the list it was matched to: the shipped file when its digest matches,
    else a fit in memory (``probe.kept_on_index``)."""
    if len(index.examples) == 0:
        return None
    wp = kept_on_index(index, "wordprobe", index.examples, WORD_FILE, WordProbe.load, examples_digest,
                       len(index.head_codes), "the word classifier", fit_index)
    wp.vectoriser  # built here (~0.6 s: scikit-learn checks the 68k-word vocabulary), not at the first hint
    return wp


def cross_fitted(index, texts: list[str], exclusions: list, folds: int = FOLDS, cache: bool = True) -> np.ndarray:
    """(n, H) log-probabilities of training queries, each from a fit that never saw it.

    The encoder probe's scheme and its folds (``probe.fold_plan``): ``exclusions[i]`` is the query's product
    group, or ``("hs4", code)`` for an unseen-heading drill row. Plain rows fall in folds by
    their group and a fold's fit leaves out every example of the fold's groups; drill rows fall in
    folds by their heading and a fold's fit leaves out every example of the fold's drill headings.
    The vectoriser is refitted per fold too (its vocabulary and idf never read the left-out rows).
    ``2 x folds`` fits, cached on disk under ``var/cache/hs`` keyed by everything they read.
    """
    from .retrieval import CACHE_DIR

    n = len(exclusions)
    H = len(index.head_codes)
    key = hashlib.sha256(f"{examples_digest(index)}|{folds}|{H}".encode())
    for t in texts:
        key.update(b"\x00" + t.encode())
    key.update(repr(list(exclusions)).encode())
    path = CACHE_DIR / f"wordprobe-crossfit-{key.hexdigest()[:20]}.npy"
    if cache and path.exists():
        return np.load(path).astype(np.float32)
    out = np.full((n, H), LOG_FLOOR, dtype=np.float32)
    ex_text = [e["text"] for e in index.examples]
    for rows, keep in fold_plan(index, exclusions, folds):
        kept = np.flatnonzero(keep)
        wp = fit([ex_text[i] for i in kept], index.ex_head[kept], H)
        out[rows] = wp.log_proba([texts[i] for i in rows])
    if cache:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, out.astype(np.float16))
        tmp.replace(path)
        out = out.astype(np.float16).astype(np.float32)  # the same numbers a cached run reads
    return out
