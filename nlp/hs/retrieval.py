"""Search over the nomenclature and the labelled examples: the ranker's raw signals.

One ``Index`` holds, for the 1,228 headings and 5,612 subheadings of HS 2022: their encoder
vectors, a TF-IDF matrix (per heading: its text, its subheadings' texts and its lexicon terms),
and the labelled examples (corpus and lexicon terms) with their vectors for the nearest-neighbour
signals. Vectors of fixed texts are computed once and cached on disk under ``var/cache/hs``
(keyed by a hash of the texts and the model), or read from the shipped
``nlp/data/hs/embeddings.npz`` when it matches.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from .encoder import MODEL_NAME, get_encoder
from .nomenclature import DATA_DIR, headings, subheadings
from .textnorm import norm, tokens
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

STOP_WORDS = sorted({t for w in ENGLISH_STOP_WORDS for t in tokens(w)})

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = PROJECT_ROOT / "var" / "cache" / "hs"
SHIPPED_EMBEDDINGS = DATA_DIR / "embeddings.npz"
REDUCEAT_UP_TO = 64  # texts: below this many, sub_similarities takes its maxima with reduceat


def _digest(texts: list[str]) -> str:
    h = hashlib.sha256(MODEL_NAME.encode())
    for t in texts:
        h.update(b"\x00" + t.encode())
    return h.hexdigest()[:20]


def embed_fixed(texts: list[str], name: str) -> np.ndarray:
    """Vectors for a fixed list of texts: shipped file, then disk cache, then the encoder."""
    key = _digest(texts)
    if SHIPPED_EMBEDDINGS.exists():
        with np.load(SHIPPED_EMBEDDINGS) as z:
            if f"{name}__{key}" in z.files:
                return z[f"{name}__{key}"].astype(np.float32)
    path = CACHE_DIR / f"{name}-{key}.npy"
    if path.exists():
        return np.load(path).astype(np.float32)
    vecs = get_encoder().raw_encode(texts)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vecs.astype(np.float16))
    tmp.replace(path)
    return vecs.astype(np.float16).astype(np.float32)


def _knit_flag(h: dict) -> float:
    d = h["description"].lower()
    if h["code"][:2] == "61" or h["code"] in ("6001", "6002", "6003", "6004", "6005", "6006"):
        return 1.0
    if h["code"][:2] == "62" or "not knitted" in d:
        return -1.0
    if "knitted or crocheted" in d:
        return 1.0
    return 0.0


def heading_text(h: dict) -> str:
    return h["description"]


class Index:
    """Nomenclature and example vectors, with the searches the ranker and baselines need."""

    def __init__(self, examples: list[dict] | None = None, lexicon_entries: list[dict] | None = None):
        self.heads = headings()
        self.subs = subheadings()
        self.head_codes = [h["code"] for h in self.heads]
        self.head_pos = {c: i for i, c in enumerate(self.head_codes)}
        self.sub_codes = [s["code"] for s in self.subs]
        self.sub_pos = {c: i for i, c in enumerate(self.sub_codes)}
        self.sub_head = np.array([self.head_pos[s["parent"]] for s in self.subs])
        self.sub_head_list = self.sub_head.tolist()  # the same, for per-item Python lookups
        self.chap_of_head = np.array([int(c[:2]) for c in self.head_codes])
        # Subheadings come in code order, so each heading's subheadings are one contiguous run.
        assert np.all(np.diff(self.sub_head) >= 0)
        self.sub_start = np.searchsorted(self.sub_head, np.arange(len(self.heads)))
        self.subs_of_head = [np.arange(a, b) for a, b in
                             zip(self.sub_start, list(self.sub_start[1:]) + [len(self.subs)])]
        self.sub_bounds = [(int(a), int(b)) for a, b in
                           zip(self.sub_start, list(self.sub_start[1:]) + [len(self.subs)])]
        # Headings with more than one subheading, and the one subheading of each other heading
        # (for ``sub_similarities``).
        self._multi_sub_runs = [(h, a, b) for h, (a, b) in enumerate(self.sub_bounds) if b - a > 1]
        self._single_sub = np.array([h for h, (a, b) in enumerate(self.sub_bounds) if b - a == 1], dtype=np.intp)
        self._single_sub_row = self.sub_start[self._single_sub]
        if any(b <= a for a, b in self.sub_bounds):
            raise ValueError("a heading without subheadings: sub_similarities needs one at least")
        self.heads_of_chap = {c: np.where(self.chap_of_head == c)[0] for c in set(self.chap_of_head.tolist())}
        # Headings are in code order too, so each chapter is one contiguous run of headings.
        chap_list = sorted(set(self.chap_of_head.tolist()))
        self.chap_pos_of_head = np.searchsorted(chap_list, self.chap_of_head)
        self.chap_start = np.searchsorted(self.chap_pos_of_head, np.arange(len(chap_list)))
        # Knitted (+1) or woven / not knitted (-1) headings: HS splits apparel and fabrics on it.
        self.head_knit = np.array([_knit_flag(h) for h in self.heads], dtype=np.float32)
        self.E_head = embed_fixed([heading_text(h) for h in self.heads], "headings")
        self.E_sub = embed_fixed([s["description"] for s in self.subs], "subheadings")
        self.lexicon_entries = lexicon_entries or []
        # TF-IDF per heading: heading + subheadings + lexicon terms (the ranker's lexical signal).
        docs = [heading_text(h) for h in self.heads]
        for s in self.subs:
            docs[self.head_pos[s["parent"]]] += " ; " + s["description"]
        for e in self.lexicon_entries:
            docs[self.head_pos[e["hs4"]]] += " ; " + e["term"]
        self.tfidf = TfidfVectorizer(preprocessor=norm, ngram_range=(1, 2), sublinear_tf=True,
                                     min_df=1, stop_words=STOP_WORDS, dtype=np.float32)
        self.T_head = self.tfidf.fit_transform(docs)
        # Every word the nomenclature and the lexicon use (examples add theirs in set_examples).
        self._nomenclature_words = {w for w in self.tfidf.vocabulary_ if " " not in w}
        # Baseline TF-IDF: every description its own document, nomenclature only.
        self.base_docs_head = np.concatenate([np.arange(len(self.heads)), self.sub_head])
        self.base_tfidf = TfidfVectorizer(preprocessor=norm, sublinear_tf=True, stop_words=STOP_WORDS,
                                          dtype=np.float32)
        self.T_base = self.base_tfidf.fit_transform(
            [heading_text(h) for h in self.heads] + [s["description"] for s in self.subs])
        self.set_examples(examples or [])

    def sub_similarities(self, vecs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(vecs @ E_sub.T, its maximum over each heading's subheadings)``: shapes (n, S), (n, H).

        Computed as ``E_sub @ vecs.T`` (each subheading a row): each heading's subheadings are
        then contiguous rows, and their maximum is a few whole-row ``np.maximum`` calls per
        heading instead of ``np.maximum.reduceat`` over ~1,228 short runs inside every text's
        row, which cost as much as the product itself. The same float32 numbers: BLAS adds up each
        dot product in the same order either way (checked equal to the last bit), and a maximum
        does not depend on the order. The first array is returned as a transposed view.

        The per-heading maxima are ``np.maximum.reduce`` itself (``np.max`` adds a Python wrapper
        of a few microseconds to each of the ~960 calls: half their cost), and for a few texts
        (``REDUCEAT_UP_TO``) one ``np.maximum.reduceat`` over the row runs: the loop's fixed cost
        (~1 ms) is what a single description or a handful of set components pays, while on long
        columns ``reduceat`` is the slower one (35 ms against 3 ms for 1,000 texts). Every
        heading has at least one subheading (so no run is empty, which ``reduceat`` would read
        as the run's first row): checked in ``__init__``.
        """
        ST = self.E_sub @ vecs.T
        if ST.shape[1] <= REDUCEAT_UP_TO:
            M = np.maximum.reduceat(ST, self.sub_start, axis=0)
        else:
            M = np.empty((len(self.sub_bounds), ST.shape[1]), dtype=ST.dtype)
            M[self._single_sub] = ST[self._single_sub_row]
            reduce = np.maximum.reduce
            for h, a, b in self._multi_sub_runs:
                reduce(ST[a:b], axis=0, out=M[h])
        return ST.T, np.ascontiguousarray(M.T)

    @staticmethod
    def prime_examples(examples: list[dict]) -> None:
        """Read the vectors of a fixed example set from disk (or compute and cache them once)."""
        texts = sorted({e["text"] for e in examples})
        if texts:
            get_encoder().prime(texts, embed_fixed(texts, "examples"))

    def set_examples(self, examples: list[dict]) -> None:
        """Labelled examples for the neighbour signals (corpus rows and lexicon terms)."""
        self.examples = examples
        self.known_words = set(self._nomenclature_words)
        for e in examples:
            self.known_words.update(tokens(e["text"]))
        if examples:
            self.E_ex = get_encoder().encode([e["text"] for e in examples])
            self.ex_head = np.array([self.head_pos[e["hs4"]] for e in examples])
            self.ex_sub = np.array([self.sub_pos.get(e.get("hs6") or "", -1) for e in examples])
        else:
            self.E_ex = np.zeros((0, 384), dtype=np.float32)
            self.ex_head = np.zeros(0, dtype=int)
            self.ex_sub = np.zeros(0, dtype=int)

    def knows_a_word(self, text: str) -> bool:
        """Whether any content word of the text is one the nomenclature, lexicon or examples use.

        A text none of whose words is known ("qwzx plorb", a line of another language) still gets
        the encoder's nearest codes, but nothing in it supports them.
        """
        stop = self._stop
        return any(w in self.known_words for w in tokens(text) if w not in stop and not w.isdigit())

    _stop = frozenset(STOP_WORDS)

    # --- the two baselines -------------------------------------------------------------
    def rank_heads_from_doc_scores(self, scores: np.ndarray, doc_head: np.ndarray, top: int) -> list[list[int]]:
        """Per row: distinct headings in order of their best-scoring document."""
        out = []
        for row in scores:
            best = np.full(len(self.heads), -np.inf, dtype=np.float32)
            np.maximum.at(best, doc_head, row)
            order = np.argsort(-best)[:top]
            out.append([int(i) for i in order])
        return out

    def baseline_tfidf(self, texts: list[str], top: int = 5) -> list[list[tuple[str, str]]]:
        """TF-IDF nearest description over the nomenclature: [(hs4, best hs6 or '')]."""
        q = self.base_tfidf.transform(texts)
        sims = (q @ self.T_base.T).toarray()
        return self._doc_ranking(sims, top)

    def baseline_encoder(self, texts: list[str], top: int = 5, vecs: np.ndarray | None = None):
        """The raw encoder's nearest description (headings and subheadings)."""
        q = get_encoder().encode(texts) if vecs is None else vecs
        sims = np.concatenate([q @ self.E_head.T, q @ self.E_sub.T], axis=1)
        return self._doc_ranking(sims, top)

    def _doc_ranking(self, sims: np.ndarray, top: int):
        n_head = len(self.heads)
        out = []
        for row in sims:
            order = np.argsort(-row)
            seen, ranked = set(), []
            for j in order:
                h = int(self.base_docs_head[j])
                if h in seen:
                    continue
                seen.add(h)
                if j >= n_head:
                    sub = self.sub_codes[j - n_head]
                else:
                    subs = np.where(self.sub_head == h)[0]
                    sub = self.sub_codes[subs[np.argmax(row[n_head + subs])]] if len(subs) else ""
                ranked.append((self.head_codes[h], sub))
                if len(ranked) >= top:
                    break
            out.append(ranked)
        return out
