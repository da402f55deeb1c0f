"""Candidate headings and their features, and the learned ranker that scores them.

For each text, candidate headings come from four searches (encoder over heading and subheading
texts, TF-IDF over headings, nearest labelled examples, lexicon terms). Each candidate gets the
features below; a model trained on the project's corpus (``train.py``) turns them into the
probability that the candidate is the right heading, then an isotonic map fitted on held-out
folds makes that probability honest. The nearest-example features are *gated*: ``nn_gap`` says
how far the best example of this heading is from the best example of any heading, and ``seen``
whether the heading has examples at all, so the model learns to trust the neighbours only when
one is close, and to fall back on the nomenclature text for headings the corpus never saw.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

FEATURES = [
    "enc_head", "enc_sub", "enc_rank", "tfidf", "tfidf_rank", "knn_max", "knn_vote", "knn_top1",
    "nn_sim", "nn_gap", "seen", "lex", "lex_any", "chap_vote", "chap_enc", "enc_margin", "knit_agree",
]
_KNIT_WORDS = {"knit", "knitted", "knitting", "crochet", "crocheted", "jersey", "fleece", "interlock", "rib-knit"}
_WOVEN_WORDS = {"woven", "weave", "twill", "poplin", "denim", "canvas", "oxford", "chambray", "broadcloth"}


def knit_signal(text: str) -> float:
    """+1 when the text says knitted, -1 when it says woven, 0 when it says neither (or both)."""
    words = set(text.lower().replace("-", " ").split()) | set(text.lower().split())
    words = {w.strip(".,;:()") for w in words}
    knit, woven = bool(words & _KNIT_WORDS), bool(words & _WOVEN_WORDS)
    if "not knitted" in text.lower():
        knit, woven = False, True
    return 1.0 if knit and not woven else -1.0 if woven and not knit else 0.0


def word_count(text: str) -> int:
    return len(text.split())


K_NEIGHBOURS = 15
TAU = 0.05
N_ENC, N_TFIDF = 12, 8


@dataclass
class Candidates:
    """Candidate headings for one text, their feature rows and per-subheading scores."""

    heads: list[int]
    X: np.ndarray
    sub_scores: object = None  # _SubScores: .get(heading) -> [(subheading index, score)]
    lex_terms: dict[int, str] = field(default_factory=dict)
    neighbour: dict[int, tuple[str, float]] = field(default_factory=dict)
    n_words: int = 0  # the text's length, read by the calibration map (register)


def build_candidates(index, texts, vecs, lexicon, exclude_groups=None) -> list[Candidates]:
    """Features for every candidate heading of every text (vectorised per batch).

    ``exclude_groups[i]`` hides examples of that group from text ``i`` (leave-one-group-out
    features for training, so a row never finds itself or its own rewordings).
    """
    n = len(texts)
    if n == 0:
        return []
    S_head = vecs @ index.E_head.T                      # (n, H)
    S_sub = vecs @ index.E_sub.T                        # (n, S)
    H = len(index.head_codes)
    sub_max = np.maximum.reduceat(S_sub, index.sub_start, axis=1)
    enc = np.maximum(S_head, sub_max)
    T = (index.tfidf.transform(texts) @ index.T_head.T).toarray().astype(np.float32)
    has_ex = len(index.examples) > 0
    if has_ex:
        S_ex = vecs @ index.E_ex.T
        if exclude_groups is not None:
            groups = np.array([e.get("group", "") for e in index.examples])
            for i, g in enumerate(exclude_groups):
                if isinstance(g, tuple):  # ("hs4", code): hide the whole heading (unseen-heading drill)
                    S_ex[i, index.ex_head == index.head_pos[g[1]]] = -1.0
                elif g:
                    S_ex[i, groups == g] = -1.0
    seen_all = np.zeros(H, dtype=bool)
    if has_ex:
        seen_all[index.ex_head] = True
        k_all = min(K_NEIGHBOURS, S_ex.shape[1])
        nbr_all = np.argpartition(-S_ex, k_all - 1, axis=1)[:, :k_all]
    # Ranks in one batched sort each (a rank is the position of a heading in the sorted row).
    enc_orders = np.argsort(-enc, axis=1)
    enc_ranks = np.empty_like(enc_orders)
    np.put_along_axis(enc_ranks, enc_orders, np.arange(H)[None, :].repeat(n, 0), axis=1)
    t_orders = np.argsort(-T, axis=1)
    t_ranks = np.empty_like(t_orders)
    np.put_along_axis(t_ranks, t_orders, np.arange(H)[None, :].repeat(n, 0), axis=1)
    chap_enc = np.maximum.reduceat(enc, index.chap_start, axis=1)
    out = []
    for i in range(n):
        seen_heads = seen_all
        if exclude_groups is not None and isinstance(exclude_groups[i], tuple):
            seen_heads = seen_all.copy()
            seen_heads[index.head_pos[exclude_groups[i][1]]] = False
        enc_i, t_i = enc[i], T[i]
        enc_order, enc_rank = enc_orders[i], enc_ranks[i]
        t_order, t_rank = t_orders[i], t_ranks[i]
        cands = list(enc_order[:N_ENC]) + [h for h in t_order[:N_TFIDF] if t_i[h] > 0]
        knn_max = np.zeros(H, dtype=np.float32)
        knn_vote = np.zeros(H, dtype=np.float32)
        nn_sim, top1 = 0.0, -1
        sub_vote: dict[int, float] = {}
        neighbour: dict[int, tuple[str, float]] = {}
        if has_ex:
            row = S_ex[i]
            nbr = nbr_all[i]
            nbr = nbr[np.argsort(-row[nbr])]
            nn_sim = float(row[nbr[0]])
            top1 = int(index.ex_head[nbr[0]])
            w = np.exp((row[nbr] - nn_sim) / TAU)
            w /= w.sum()
            for j, wj in zip(nbr, w):
                h = int(index.ex_head[j])
                knn_vote[h] += wj
                if row[j] > knn_max[h]:
                    knn_max[h] = row[j]
                    neighbour[h] = (index.examples[j]["text"], float(row[j]))
                s = int(index.ex_sub[j])
                if s >= 0:
                    sub_vote[s] = sub_vote.get(s, 0.0) + float(wj)
            cands += [int(index.ex_head[j]) for j in nbr[:8]]
        lex_hits = lexicon.match(texts[i]) if lexicon is not None else []
        lex = np.zeros(H, dtype=np.float32)
        lex_terms: dict[int, str] = {}
        lex_sub: dict[int, float] = {}
        for hit in lex_hits:
            h = index.head_pos.get(hit["hs4"])
            if h is None:
                continue
            if hit["n_words"] > lex[h]:
                lex[h] = hit["n_words"]
                lex_terms[h] = hit["term"]
            if hit.get("hs6") in index.sub_pos:
                lex_sub[index.sub_pos[hit["hs6"]]] = 1.0
            cands.append(h)
        cands = list(dict.fromkeys(int(c) for c in cands))
        ca = np.array(cands)
        cp = index.chap_pos_of_head[ca]
        chap_vote = np.bincount(index.chap_pos_of_head, weights=knn_vote, minlength=len(index.chap_start))
        kmax = knn_max[ca]
        X = np.column_stack([
            S_head[i, ca], sub_max[i, ca], 1.0 / (1 + enc_rank[ca]), t_i[ca], 1.0 / (1 + t_rank[ca]),
            kmax, knn_vote[ca], (ca == top1).astype(np.float32), np.full(len(ca), nn_sim),
            np.where(kmax > 0, nn_sim - kmax, 1.0), seen_heads[ca].astype(np.float32),
            np.minimum(lex[ca], 4.0), np.full(len(ca), float(bool(lex_hits))), chap_vote[cp],
            chap_enc[i, cp], enc_i[enc_order[0]] - enc_i[ca], knit_signal(texts[i]) * index.head_knit[ca],
        ]).astype(np.float32)
        out.append(Candidates(cands, X, _SubScores(index, S_sub[i], sub_vote, lex_sub), lex_terms, neighbour,
                              word_count(texts[i])))
    return out


SUB_VOTE_WEIGHT = 0.6  # neighbours' subheading votes, added to the encoder similarity
SUB_LEX_WEIGHT = 0.3   # a lexicon term naming the subheading


class _SubScores:
    """Subheadings of a heading ranked for one text, computed only for the headings shown."""

    def __init__(self, index, s_sub_row, sub_vote, lex_sub):
        self.index, self.row, self.vote, self.lex = index, s_sub_row, sub_vote, lex_sub
        self._done: dict[int, list[tuple[int, float]]] = {}

    def get(self, h, default=None):
        if h not in self._done:
            subs = self.index.subs_of_head[h]
            score = self.row[subs].astype(np.float64)
            for extra, weight in ((self.vote, SUB_VOTE_WEIGHT), (self.lex, SUB_LEX_WEIGHT)):
                for s, v in extra.items():
                    if subs[0] <= s <= subs[-1]:
                        score[s - subs[0]] += weight * v
            order = np.argsort(-score)
            self._done[h] = [(int(subs[k]), float(score[k])) for k in order]
        return self._done[h] or default


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

    ``firm``: a logistic map over ``calibration_features`` fitted on held-out folds of the
    training rows (``train.fit_ranker``). ``customs``: the firm map followed by a two-number
    Platt correction fitted on held-out customs-language rows (CBP rulings *validation* file),
    because customs text is a different register: the same features mean more errors there
    (ECE 0.24 on the CBP test file with the firm map alone).
    """

    def __init__(self, coef, intercept, customs=None):
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = float(intercept)
        self.customs = customs  # {"a": slope, "b": intercept, ...} or None

    def __call__(self, q, nn_sim, n_words, register: str = "firm") -> np.ndarray:
        if register not in REGISTERS:
            raise ValueError(f"register must be one of {REGISTERS}, not {register!r}")
        p = _sigmoid(calibration_features(q, nn_sim, n_words) @ self.coef + self.intercept)
        if register == "customs" and self.customs:
            p = _sigmoid(self.customs["a"] * _logit(p) + self.customs["b"])
        return p

    def to_json(self) -> dict:
        return {"kind": "logistic-register", "coef": self.coef.tolist(), "intercept": self.intercept,
                "customs": self.customs}

    @classmethod
    def from_json(cls, d: dict) -> "Calibration":
        return cls(d["coef"], d["intercept"], d.get("customs"))


def _logit(p):
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


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
    """The saved model, applied with numpy (no pickle: a JSON file can be read and checked)."""

    def __init__(self, data: dict):
        self.mean = np.array(data["mean"])
        self.scale = np.array(data["scale"])
        self.mean2 = np.array(data["mean2"])
        self.scale2 = np.array(data["scale2"])
        self.coef = np.array(data["coef"])
        self.intercept = data["intercept"]

    def predict_proba(self, X):
        Z = pairwise((np.asarray(X, dtype=np.float64) - self.mean) / self.scale)
        z = ((Z - self.mean2) / self.scale2) @ self.coef + self.intercept
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
        return np.stack([1 - p, p], axis=1)
