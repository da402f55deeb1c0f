"""A linear probe over the frozen encoder: a multinomial logistic regression from a text's vector
to its heading, read by the ranker as one more feature per candidate (``probe_lp``, ``probe_rank``).

Why: the neighbours' vote reads the 15 nearest labelled examples only, so one odd example can
carry it; the probe weighs every example of every heading at once and is a smoother signal of the
same evidence (standalone on CBP validation, top-1 heading 55.2% against the vote's 53.2%).

Trained on the neighbour examples themselves (corpus wordings and lexicon terms: ``index.examples``
with ``index.E_ex`` and ``index.ex_head``), so probe and neighbour search always know the same
examples. Training the ranker needs the probe's view of a corpus row *as if the row were new*:
``cross_fitted`` gives it from probes that never saw the row's product (grouped folds) and, for
the unseen-heading drill rows, never saw their heading at all (see ``train.drill_exclusions``).
At hint time one probe fitted on every example is used: shipped as ``nlp/data/hs/probe.npz``
(float16 weights, ~0.9 MB), rebuilt by ``python -m nlp.hs.train``; ``for_index`` fits a fresh one
in memory when the shipped file does not match the index's examples (a changed corpus).
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import numpy as np

from .nomenclature import DATA_DIR

PROBE_FILE = DATA_DIR / "probe.npz"
C = 10.0          # inverse L2 strength, as scikit-learn's LogisticRegression (chosen on CBP validation)
MAX_ITER = 300
TOL = 1e-3        # scikit-learn's stopping tolerance (~30 lbfgs iterations; C and TOL measured together)
LOG_FLOOR = -12.0  # log-probability given to a heading the probe has no example of (and the lowest one read)
FOLDS = 5


def examples_digest(index, c: float | None = None) -> str:
    """What a probe's fit depends on: the examples' texts and headings, in order, and C."""
    c = C if c is None else c
    h = hashlib.sha256(f"C={c}".encode())
    for e in index.examples:
        h.update(b"\x00" + e["text"].encode() + b"\x01" + e["hs4"].encode())
    return h.hexdigest()[:20]


def fit_weights(X: np.ndarray, y: np.ndarray, n_classes: int, c: float | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multinomial logistic regression (scikit-learn, lbfgs, ``TOL``): ``(W (d, K), b (K,), known)``.

    Classes without rows are ``known = False`` (their log-probability reads ``LOG_FLOOR``).
    Always fitted from zero, never warm-started from another fit: a fold's probe started from the
    full probe (which saw the fold's rows) stops at once under this tolerance and would leak them
    (measured: a fold fit started there took 0 iterations). scikit-learn's fit, not a float32
    L-BFGS written here: the latter, run to a tighter tolerance, scored 3 points lower on CBP
    validation (51.3 against 55.2% top-1 standalone) at no lower cost on this machine.
    """
    from sklearn.linear_model import LogisticRegression

    c = C if c is None else c
    present = np.unique(y)
    known = np.zeros(n_classes, dtype=bool)
    known[present] = True
    W = np.zeros((X.shape[1], n_classes), dtype=np.float32)
    b = np.zeros(n_classes, dtype=np.float32)
    if len(present) == 1:  # one class: it is certain (scikit-learn refuses to fit one class)
        return W, b, known
    clf = LogisticRegression(C=c, max_iter=MAX_ITER, tol=TOL).fit(np.asarray(X, dtype=np.float32), y)
    if len(present) == 2:  # scikit-learn's binary form: one weight vector for the second class
        W[:, present[1]] = clf.coef_[0]
        b[present[1]] = clf.intercept_[0]
    else:
        W[:, clf.classes_] = clf.coef_.T
        b[clf.classes_] = clf.intercept_
    return W, b, known


class Probe:
    """Fitted probe weights over the index's headings (columns in ``index.head_codes`` order)."""

    def __init__(self, W: np.ndarray, b: np.ndarray, known: np.ndarray, meta: dict | None = None):
        self.W = np.ascontiguousarray(W, dtype=np.float32)
        self.b = np.where(known, b, 0.0).astype(np.float32)
        self.known = np.asarray(known, dtype=bool)
        self.meta = meta or {}

    def log_proba(self, V: np.ndarray) -> np.ndarray:
        """(n, H) log-probability of each heading, clipped below at ``LOG_FLOOR``; headings the
        probe has no example of read ``LOG_FLOOR``. One (n x 384) @ (384 x H) product."""
        Z = np.asarray(V, dtype=np.float32) @ self.W
        Z += self.b
        if not self.known.all():
            Z[:, ~self.known] = -np.inf
        m = Z.max(axis=1, keepdims=True)
        Z -= m
        lse = np.log(np.exp(Z).sum(axis=1, keepdims=True))
        Z -= lse
        np.maximum(Z, LOG_FLOOR, out=Z)
        return Z

    def save(self, path: Path = PROBE_FILE) -> int:
        """float16 weights, float32 intercepts; returns the file's size in bytes.

        float16: half the file (0.87 MB compressed). Measured against the float32 fit it was made
        from, on CBP validation and hs_dev: every probability within 2.6e-4, every log-probability
        of a heading above 1e-3 within 1.2e-3, the same best heading for every row. (Training's
        calibration fits read the float32 fit; hints read the file.)"""
        tmp = Path(path).with_suffix(".tmp.npz")
        np.savez_compressed(tmp, W=self.W.astype(np.float16), b=self.b.astype(np.float32), known=self.known,
                            **{f"meta_{k}": np.array(str(v)) for k, v in self.meta.items()})
        tmp.replace(path)
        return Path(path).stat().st_size

    @classmethod
    def load(cls, path: Path = PROBE_FILE) -> "Probe":
        with np.load(path) as z:
            meta = {k[5:]: str(z[k]) for k in z.files if k.startswith("meta_")}
            return cls(z["W"].astype(np.float32), z["b"], z["known"], meta)


def fit_probe(index, c: float | None = None) -> Probe:
    """One probe on every example of the index (``c``: the module's ``C`` when None, read at call
    time, so a study can set ``probe.C`` once)."""
    c = C if c is None else c
    W, b, known = fit_weights(index.E_ex, index.ex_head, len(index.head_codes), c)
    return Probe(W, b, known, {"examples": examples_digest(index, c), "C": c, "rows": len(index.examples)})


def kept_on_index(index, name: str, source, path: Path, load, digest, width: int, what: str, fit):
    """A fitted signal for the index's current examples, kept on the index as ``_<name>``.

    Shared by the encoder probe, the word classifier (``wordprobe``) and the subheading probe
    (``subprobe``). Every block of every hint asks, so it is answered from the index while
    ``source`` (the example vectors or the example list it was matched to; ``Index.set_examples``
    makes new ones) is the same object, not by hashing ~19k texts again (a few ms: what a one-text
    hint would pay each time). Otherwise: the shipped file at ``path`` when its digest
    (``digest(index)``) and its width (``width`` columns) match, else ``fit(index)`` in memory
    with a note on stderr (the cross-validation's folds, a corpus changed without retraining).
    """
    if getattr(index, f"_{name}_of", None) is source:
        return getattr(index, f"_{name}")
    key = digest(index)
    obj = None
    if path.exists():
        shipped = load(path)
        if shipped.meta.get("examples") == key and shipped.W.shape[1] == width:
            obj = shipped
    if obj is None:
        print(f"note: fitting {what} on {len(index.examples):,} examples ({path.name} is for other examples)",
              file=sys.stderr)
        t = time.time()
        obj = fit(index)
        obj.meta.setdefault("seconds", round(time.time() - t, 1))
    setattr(index, f"_{name}", obj)
    setattr(index, f"_{name}_of", source)
    return obj


def for_index(index) -> Probe | None:
    """The probe for the index's current examples (None when it has none), kept on the index:
    the shipped file when its digest matches the examples, else a fit in memory (``kept_on_index``)."""
    if len(index.examples) == 0:
        return None
    return kept_on_index(index, "probe", index.E_ex, PROBE_FILE, Probe.load, examples_digest,
                         len(index.head_codes), "the encoder probe", fit_probe)


def fold_of(group: str, folds: int = FOLDS) -> int:
    return int(hashlib.sha256(f"probe:{group}".encode()).hexdigest()[:8], 16) % folds


def fold_plan(index, exclusions: list, folds: int = FOLDS):
    """The cross-fitting's fits: ``(rows, keep)`` per fit, the query rows it scores and the mask
    of the examples it may read (see ``cross_fitted``; shared with ``wordprobe.cross_fitted``).
    Fits with no query or no example left are skipped (their rows keep the floor)."""
    ex_fold = np.array([fold_of(str(e.get("group", "")), folds) for e in index.examples])
    drill = np.array([isinstance(g, tuple) for g in exclusions], dtype=bool)
    q_fold = np.array([fold_of(f"hs4:{g[1]}" if isinstance(g, tuple) else str(g), folds) for g in exclusions])
    for f in range(folds):
        for rows, keep in (
            (np.flatnonzero((q_fold == f) & ~drill), ex_fold != f),
            (np.flatnonzero((q_fold == f) & drill), None),
        ):
            if not len(rows):
                continue
            if keep is None:
                heads = sorted({index.head_pos[exclusions[i][1]] for i in rows})
                keep = ~np.isin(index.ex_head, heads)
            if keep.any():
                yield rows, keep


def cross_fitted(index, vecs: np.ndarray, exclusions: list, folds: int = FOLDS, c: float | None = None,
                 cache: bool = True) -> np.ndarray:
    """(n, H) log-probabilities of training queries, each from a probe that never saw it.

    ``exclusions[i]`` as ``train.drill_exclusions``: the query's product group, or ``("hs4",
    code)`` for an unseen-heading drill row. Plain rows fall in ``folds`` folds by their group;
    a fold's probe leaves out every example of the fold's groups. Drill rows fall in folds by
    their heading; a fold's probe leaves out every example of the fold's drill headings (their
    own group with them), so the drill's heading is as unknown to the probe as to the neighbour
    search, while plain rows keep a probe that knows their heading from other products.
    ``2 x folds`` fits; cached on disk under ``var/cache/hs`` keyed by everything the fits read
    (examples, queries' vectors and exclusions, folds, C), so a retrain with unchanged data skips them.
    """
    from .retrieval import CACHE_DIR

    c = C if c is None else c
    n = len(exclusions)
    H = len(index.head_codes)
    key = hashlib.sha256(f"{examples_digest(index, c)}|{folds}|{H}".encode())
    key.update(np.ascontiguousarray(vecs, dtype=np.float32).tobytes())
    key.update(repr(list(exclusions)).encode())
    path = CACHE_DIR / f"probe-crossfit-{key.hexdigest()[:20]}.npy"
    if cache and path.exists():
        return np.load(path).astype(np.float32)
    out = np.full((n, H), LOG_FLOOR, dtype=np.float32)
    for rows, keep in fold_plan(index, exclusions, folds):
        W, b, known = fit_weights(index.E_ex[keep], index.ex_head[keep], H, c)
        out[rows] = Probe(W, b, known).log_proba(vecs[rows])
    if cache:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, out.astype(np.float16))
        tmp.replace(path)
        out = out.astype(np.float16).astype(np.float32)  # the same numbers a cached run reads
    return out
