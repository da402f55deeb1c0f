"""``get_hinter().hint(texts)``: ranked HS 2022 hints with calibrated confidence and reasons.

Order of evidence: a valid code written in the text wins outright (method ``code-in-text``);
otherwise the gated ranker (``ranker.py``) scores candidate headings from the encoder, TF-IDF,
the lexicon and the nearest labelled examples (method ``ranker``; ``fusion`` when no trained
ranker ships). ``confidence`` is the calibrated probability that the hint's heading (hs4) is
right; hints below ``UNCERTAIN_BELOW`` are returned with ``uncertain: True`` and must never be
shown as a fact.
"""

from __future__ import annotations

import gc
import re
import threading
from functools import lru_cache

import numpy as np

from . import HS_EDITION, apparel, chemistry, composite, noise
from .codes import find_codes
from .corpus import load_corpus
from .encoder import get_encoder
from .lexicon import get_lexicon
from .nomenclature import DATA_DIR, get, wording
from .probe import for_index
from .wordprobe import for_index as word_for_index
from .ranker import FEATURES, REGISTERS, Ranker, build_candidates, fallback_scores, formula_batch, head_end
from .retrieval import Index
from .subheading import load_picker
from .subprobe import for_index as subprobe_for_index
from .textnorm import shorten

RANKER_FILE = DATA_DIR / "ranker.json"
UNCERTAIN_BELOW = 0.5  # documented in docs/nlp.md: below it, the heading is wrong at least half the time
MAX_CHARS = 2000
# Highest confidence for a text none of whose words the hinter knows: the encoder still finds
# nearest codes for it, but nothing in the text supports them (a right heading there is luck).
UNKNOWN_WORDS_CAP = 0.1
# The learned subheading picker orders the subheadings of the top hint only (what top-1
# subheading accuracy reads); lower hints keep the fixed formula: on three hints the picker costs
# about 0.35 ms a text and hs-hint fell under 0.7x the raw encoder (docs/nlp.md, "Speed").
PICKER_HINTS = 1
_HAS_LETTER = re.compile(r"[^\W\d_]")
_KNN_MAX, _ENC_SUB = FEATURES.index("knn_max"), FEATURES.index("enc_sub")  # columns the explanations read


def lexicon_examples(entries: list[dict]) -> list[dict]:
    return [{"text": e["term"], "hs4": e["hs4"], "hs6": e.get("hs6") or "", "group": f"lex:{e['line']}"}
            for e in entries]


class Hinter:
    hs_edition = HS_EDITION

    def __init__(self, index: Index | None = None, ranker: Ranker | None = None, lexicon=None,
                 uncertain_below: float = UNCERTAIN_BELOW, subheading=None):
        self.lexicon = lexicon if lexicon is not None else get_lexicon()
        if index is None:
            examples = load_corpus() + lexicon_examples(self.lexicon.entries)
            Index.prime_examples(examples)
            index = Index(examples, self.lexicon.entries)
        self.index = index
        for_index(index)  # the encoder probe's weights (probe.py), read once here, not at the first hint
        word_for_index(index)  # the word classifier's (wordprobe.py), likewise
        if ranker is None and RANKER_FILE.exists():
            ranker = Ranker.load(RANKER_FILE)
        self.ranker = ranker
        # subheading=None loads the shipped picker (absent: the fixed formula); False forces the formula.
        self.subheading = load_picker() if subheading is None else (subheading or None)
        if self.subheading is not None:
            subprobe_for_index(index)  # the subheading probe's weights (subprobe.py), read once here
        self.uncertain_below = uncertain_below
        self.encoder = get_encoder()
        self._lock = threading.Lock()

    @property
    def method(self) -> str:
        return "ranker" if self.ranker is not None else "fusion"

    def hint(self, texts: list[str], top: int = 5, exclude_groups=None, register: str = "firm") -> list[list[dict]]:
        """Hints for each text, best first; ``[]`` for an empty or code-free blank text.

        ``register`` says which calibration the confidences follow: ``"firm"`` (a firm's own
        words, the pipeline's case) or ``"customs"`` (ruling or broker language, where the same
        evidence is right less often; see docs/nlp.md, reliability tables).
        """
        if register not in REGISTERS:
            raise ValueError(f"register must be one of {REGISTERS}, not {register!r}")
        # Python's cyclic garbage collector paused for the call. Why: a call keeps ~15 objects
        # per text alive until it returns (candidates, their score tables, the hints); the
        # collector, run on allocation counts, kept finding them alive, moving them to its oldest
        # generation, and every few calls of 1,000 texts traversed the whole heap (~450k objects,
        # mostly the loaded libraries' code): 50-70 ms per 1,000 texts, a tenth of what hint()
        # adds to the encoder. Reference counting still frees everything as before; cyclic
        # garbage a call makes waits until it returns. Re-entrant (the set rule's inner call) and
        # left as found: only the call that paused it turns it back on.
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._hint_texts(texts, top, exclude_groups, register)
        finally:
            if paused:
                gc.enable()

    def _hint_texts(self, texts: list[str], top: int, exclude_groups, register: str) -> list[list[dict]]:
        results: list[list[dict]] = [[] for _ in texts]
        clean = [(t or "")[:MAX_CHARS] if isinstance(t, str) else "" for t in texts]
        # Text with no letters at all (only digits, punctuation, symbols) names no product: it
        # gets hints only from a valid code written in it, else none.
        todo = [i for i, t in enumerate(clean) if t.strip() and (_HAS_LETTER.search(t) or
                                                                 any(k["valid"] for k in find_codes(t)))]
        if not todo or top <= 0:
            return results
        model_texts = [clean[i] for i in todo]
        # Long texts' head phrases are pooled from the texts' own forward pass (one encoder call;
        # docs/nlp.md, "Speed, tenth round"). Retrieval reads the text without its origin, item
        # numbers and count prefix (noise.py); codes, chemical names, sets and garments are read
        # from the text as written.
        search_texts = [noise.clean(t) for t in model_texts]
        ends = [head_end(t) for t in search_texts]
        vecs, head_vecs = self.encoder.encode_with_heads(search_texts, ends)
        excl = None if exclude_groups is None else [exclude_groups[i] for i in todo]
        cands = build_candidates(self.index, search_texts, vecs, self.lexicon, excl, (ends, head_vecs))
        if self.subheading is not None:
            self.subheading.attach(cands, vecs)
        if self.ranker is not None:
            confs = self.ranker.scores_batch(cands, register)
        else:
            confs = [fallback_scores(c.X) for c in cands]
        if self.subheading is not None:
            self.subheading.prefetch(cands, confs, PICKER_HINTS)
        # the set rule's components, all texts' at once (docs/nlp.md, "Parts and sets")
        comps = [composite.components_to_hint(t) for t in model_texts]
        flat = [x for cs in comps for x in cs]
        per = self.hint(flat, top=1, register=register) if flat else []
        comp_hints, at = [], 0
        for cs in comps:
            comp_hints.append(list(zip(cs, per[at:at + len(cs)])))
            at += len(cs)
        knowns = [self.index.knows_a_word(t) for t in model_texts]
        written = [[k for k in find_codes(t) if k["valid"]] for t in model_texts]  # read once per text
        orders = self._formula_prefetch(cands, confs, knowns, written, top)
        for i, text, c, conf, ch, known, order, codes in zip(todo, model_texts, cands, confs, comp_hints, knowns,
                                                             orders, written):
            if not known:
                conf = conf * min(1.0, UNKNOWN_WORDS_CAP / max(float(conf.max()), 1e-12))  # order kept
            results[i] = self._hints_for(text, c, top, conf, order, codes)
            results[i] = chemistry.apply_to_hints(text, results[i], c, conf, self)  # docs/nlp.md, "Chemical names"
            results[i] = composite.apply_to_hints(text, results[i], c, conf, self, register,
                                                  component_hints=ch)  # "Parts and sets"
            results[i] = apparel.apply_to_hints(text, results[i], c, conf, self)  # docs/nlp.md, "Garments and fibres"
            if not known:
                for h in results[i]:
                    # a code written in the text, or a chemical name the reader parsed, is known
                    if h["method"] not in ("code-in-text", "chem-name"):
                        h["explanation"] += " [no word of the text is known to the nomenclature, lexicon or corpus]"
            if len(texts[i]) > MAX_CHARS:
                for h in results[i]:
                    h["explanation"] += f" [text cut to its first {MAX_CHARS:,} of {len(texts[i]):,} characters]"
        return results

    def _formula_prefetch(self, cands, confs, knowns, written, top: int) -> list:
        """The subheadings of every text's lower hints in one pass (``ranker.formula_batch``), and
        each text's candidate order for ``_hints_for``.

        Only where the hints are known in advance: a text with no valid code written in it and a
        known word (its confidences are not rescaled) shows its candidates in confidence order,
        one per heading, so its hints 2..``top`` are the candidates at positions 1..``top``-1 (0..
        without a picker), each scored by the fixed formula. Other texts (None) are left to
        ``_hints_for`` as before. ``written``: each text's valid codes, as ``_hints_for`` reads them.
        """
        first = PICKER_HINTS if self.subheading is not None else 0
        orders: list = [None] * len(cands)
        jobs = []
        for k, (c, conf, known, codes) in enumerate(zip(cands, confs, knowns, written)):
            if not known or codes:
                continue
            order = np.argsort(-conf).tolist()
            orders[k] = order
            ss = c.sub_scores
            jobs += [(ss, c.heads[r]) for r in order[first:top]]
        formula_batch(jobs)
        return orders

    def _hints_for(self, text: str, c, top: int, conf: np.ndarray, order: list | None = None,
                   written: list | None = None) -> list[dict]:
        ix = self.index
        if order is None:
            order = np.argsort(-conf).tolist()
        hints: list[dict] = []
        if written is None:
            written = [k for k in find_codes(text) if k["valid"]]
        used: set[str] = set()
        for k in written:
            hs4 = k["hs4"]
            h = ix.head_pos.get(hs4)
            hs6 = k["hs6"]
            if hs6 is None and h is not None and c.sub_scores.get(h):
                hs6 = ix.sub_codes[c.sub_scores.get(h)[0][0]]
            elif hs6 is None:
                subs = ix.subs_of_head[h] if h is not None else []
                hs6 = ix.sub_codes[subs[0]] if len(subs) else hs4 + "00"
            key = hs6
            if key in used:
                continue
            used.add(key)
            hints.append(self._hint(hs6, 0.97 if k["level"] == "subheading" else 0.95, "code-in-text",
                                    f"code {k['raw']} written in the text ({k['kind'].upper().replace('_', ' ')}), "
                                    f"valid in HS 2022: {hs4} {get(hs4)['description']}"))
        used_hs4 = {x["hs4"] for x in hints}
        quoted = None
        conf_list = conf.tolist()
        for r in order:
            if len(hints) >= top:
                break
            h = c.heads[r]
            subs = c.sub_scores.get(h, formula=len(hints) >= PICKER_HINTS) or []
            if not subs:
                continue
            hs6 = ix.sub_codes[subs[0][0]]
            if hs6 in used or ix.head_codes[h] in used_hs4:
                continue
            used.add(hs6)
            used_hs4.add(hs6[:4])
            p = conf_list[r]
            if written:
                p = min(p, 0.05)
            if quoted is None:
                quoted = shorten(text, 60)  # once per text, not once per hint
            hints.append(self._hint(hs6, p, self.method, self._explain(text, c, r, h, hs6, quoted)))
        return hints[:top]

    def _hint(self, hs6: str, conf: float, method: str, explanation: str) -> dict:
        conf = float(min(max(conf, 0.0), 1.0))
        return {"hs6": hs6, "hs4": hs6[:4], "hs2": hs6[:2], "confidence": round(conf, 4),
                "uncertain": conf < self.uncertain_below, "method": method,
                "hs_edition": HS_EDITION, "explanation": explanation}

    def _explain(self, text, c, r, h, hs6, quoted: str | None = None) -> str:
        ix = self.index
        code = ix.head_codes[h]
        x = c.X[r]
        parts = []
        if h in c.lex_terms:
            parts.append(f"trade term '{c.lex_terms[h]}' is listed under heading {code}")
        # The feature test first: the neighbour table is built only when some hint needs it.
        if x[_KNN_MAX] >= 0.6 and h in c.neighbour:
            ex, sim = c.neighbour[h]
            parts.append(f"closest labelled example '{shorten(ex, 50)}' (similarity {sim:.2f})")
        parts.append(f"text similarity {x[_ENC_SUB]:.2f} to the subheading wording")
        if quoted is None:
            quoted = shorten(text, 60)
        return (f"'{quoted}' matched heading {code}: {wording(code)}; "
                f"subheading {hs6}: {wording(hs6)} ({'; '.join(parts)})")


_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _build_hinter() -> Hinter:
    return Hinter()


def get_hinter() -> Hinter:
    """The process-wide hinter (built once: nomenclature vectors, corpus, ranker)."""
    with _LOCK:
        return _build_hinter()
