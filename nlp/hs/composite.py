"""Composite goods: parts of machines and vehicles, and sets / kits (GIR 3(b)), as ranker inputs.

Two pieces of classification logic that rulings apply and a text's wording alone misses:

- **Parts** (section XVI note 2, section XVII note 3, and the "parts" headings). A text that
  names a part "of / for" a machine or vehicle ("snow blower part", "parts for tractors", "a
  bucket used on hydraulic excavators") is drawn to the heading that provides for the parts of
  the *whole's* heading: 8431 for 8425-8430, 8409 for 8407-8408, 8708 for 8701-8705 ... or the
  whole's own heading when that heading provides for its parts itself (8450.90 washing-machine
  parts). The map is read from the nomenclature's own texts (``parts_heading_map``), not from a
  hand list: a heading whose description says "parts ... of heading no. 8425 to 8430" takes the
  parts of the headings it names; a heading whose own description or one of whose subheadings
  says "parts" keeps its own. A part that is a good of its own heading (bearings 8482, valves
  8481, pulleys 8483) is what the encoder and lexicon features already find; the ranker weighs
  the two.
- **Sets and kits** (GIR 3(b): a set put up for retail sale is classified by the component that
  gives it its essential character). A "kit / set ... containing / consisting of / includes X, Y
  and Z" is judged by its components, not by the word "kit": each component is matched to its
  own best heading, and a candidate heading gets the share of the components it holds and
  whether it is the first component's heading. Sets of tools of two or more of headings 8202 to
  8205 are their own heading (8206), as that heading's text says.

``analyse`` is meant to be called once per block of texts from ``ranker._build_block`` (one
line, ``composite = analyse(index, texts, cand)`` before the candidate pairs are read): it adds the
parts headings and the components' headings to the candidates, and returns a ``Composite`` whose
``columns`` are the ranker inputs ``COMPOSITE_FEATURES``. Texts with neither a parts nor a set cue
cost one regex pass each and no encoder call.

**Not wired into the ranker.** Measured with a full retrain (docs/nlp.md, "Parts and sets"), none
of the three inputs, nor ``parts_of`` alone, improved CBP validation (all three: top-3 heading
70.8 -> 68.8%; ``parts_of`` alone: 70.8 -> 70.8%, top-1 heading 55.2 -> 54.5%), so by the
project's rule they stay out of ``rules.RULE_FEATURES`` and the shipped model; the module, its
tests and the figures are kept for the next attempt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .materials import _WORD_RE as _MATERIAL_WORD_RE
from .materials import material_mask
from .nomenclature import get, headings, subheadings

COMPOSITE_FEATURES = ["parts_of", "set_share", "set_first"]
# The ones ``columns`` returns, i.e. what would be appended to ``rules.RULE_FEATURES`` when wired
# in (none is today: measured figures in docs/nlp.md, "Parts and sets").
ACTIVE_FEATURES = list(COMPOSITE_FEATURES)

# --- parts ----------------------------------------------------------------------------------
_HEAD_CODE = r"(\d{2}\.?\d{2})"
_RANGE = re.compile(_HEAD_CODE + r"\s*(?:to|-|–)\s*" + _HEAD_CODE)
_CODE = re.compile(r"(?<![\d.])" + _HEAD_CODE + r"(?![\d.]?\d)")
_PARTS_WORD = re.compile(r"\bparts?\b", re.I)
_EXCLUSION = re.compile(r"\b(?:other than|excluding|except|not)\b[^;)]*", re.I)


def _code(s: str) -> str:
    return s.replace(".", "")


@lru_cache(maxsize=1)
def parts_heading_map() -> dict[str, str]:
    """Machine or article heading -> the heading that takes its parts, read from the nomenclature.

    1. A heading whose own description or one of whose subheadings' descriptions says "parts"
       takes its own parts (8450.90 "parts" of washing machines, 8607 "parts thereof", 8442.40).
    2. Otherwise a heading whose description speaks of parts and names the heading ("Parts
       suitable for use solely or principally with the machinery of headings 8425 to 8430")
       takes its parts (ranges expanded over the headings that exist; a heading named after
       "other than / excluding" is not meant).
    Headings with neither are left out: their parts follow the general rule (8487 / 8548, or
    a heading of their own), which this map does not guess.
    """
    codes = {h["code"] for h in headings()}
    own = {h["code"] for h in headings() if _PARTS_WORD.search(_EXCLUSION.sub(" ", h["description"]))}
    own |= {s["parent"] for s in subheadings() if _PARTS_WORD.search(_EXCLUSION.sub(" ", s["description"]))}
    out: dict[str, str] = {c: c for c in own}
    for h in headings():
        desc = _EXCLUSION.sub(" ", h["description"])  # "other than those of heading no. 8516" names no whole
        if not _PARTS_WORD.search(desc):
            continue
        named: set[str] = set()
        for a, b in _RANGE.findall(desc):
            lo, hi = int(_code(a)), int(_code(b))
            if 0 < hi - lo < 100:
                named |= {f"{c:04d}" for c in range(lo, hi + 1) if f"{c:04d}" in codes}
        for c in _CODE.findall(desc):
            if _code(c) in codes:
                named.add(_code(c))
        named.discard(h["code"])
        for m in named:
            out.setdefault(m, h["code"])
    return out


# A part named with its whole. Patterns (lower case), first match wins:
#   "parts / components / accessories of|for (use in|with) <whole>"
#   "as a part / component of <whole>"
#   "<whole> part(s) / component(s)" ("snow blower part", "washing machine parts")
#   "used / designed / intended ... in|on|with|for <whole>", "for use with <whole>": no part word,
#   so the whole must then be a machine, vehicle or instrument heading that provides for parts
#   (sections XVI-XIX, ``parts_heading_map``), checked in ``analyse`` with the encoder. A plain
#   "<article> for <whole>" is not read: in firm text it names the market far more often than a
#   machine ("rugged laptops for field crews", "titanium bar for aerospace" matched 8708 and 8807).
_PART_NOUN = r"(?:spare parts?|replacement parts?|parts?|components?|accessories|accessory|spares)"
_DET = r"(?:(?:an?|the|all|any|most|various|such|certain|their|its)\s+)*"
_WHOLE = r"([a-z0-9][a-z0-9 /'&.-]{2,80}?)"
_WHOLE_END = (r"(?=\s*(?:[,;:()]|$|\s(?:and|or|which|that|consisting|comprising|composed|made|of|"
              r"including|includes|with|to|from|by|in order|as|being|having|used|designed|for)\b))")
_PARTS_OF = re.compile(r"\b" + _PART_NOUN + r"\s+(?:of|for|to fit|fitting)\s+(?:use\s+(?:in|with|on)\s+)?"
                       + _DET + _WHOLE + _WHOLE_END)
_AS_PART = re.compile(r"\bas\s+(?:an?\s+)?(?:integral\s+)?(?:part|component)s?\s+of\s+" + _DET + _WHOLE + _WHOLE_END)
_WHOLE_PART = re.compile(r"(?:^|[,;:(]\s*|\b(?:an?|the|of|for)\s+)([a-z][a-z0-9 /'&-]{2,60}?)\s+"
                         + _PART_NOUN + r"\b")
_USED_IN = re.compile(r"\b(?:(?:used|designed|intended|suitable|made|built)\s+(?:solely\s+|principally\s+|"
                      r"specifically\s+|exclusively\s+)*(?:for\s+use\s+)?(?:in|on|with|for)|for\s+use\s+(?:in|on|with))\s+"
                      + _DET + _WHOLE + _WHOLE_END)
# "part" that names no part: "in part", "part number", "two-part", "parts per million".
_NOT_PART = re.compile(r"\b(?:in|for the most|on the)\s+parts?\b|\bparts?\s+(?:no\b|number|#|per\s+(?:million|billion))"
                       r"|\w-(?:parts?|components?)\b|\b(?:two|three|four|multi)\s+parts?\b", re.I)
# Words before "parts" that describe the parts, not a whole ("related parts", "plastic parts").
_PART_ADJ = re.compile(r"(?:^|\s)(?:related|working|moving|wear|wearing|spare|replacement|small|other|various|"
                       r"machined|precision|custom|oem|aftermarket|stamped|cast|forged|molded|moulded|turned|"
                       r"assorted|loose|individual|component|automotive|auto|body)$")
# A whole whose last word names an activity or a field, not a thing.
_ACTIVITY = re.compile(r"(?:ion|ment|ing|ance|ence)s?$|\b(?:purposes?|industry|industries|applications?|uses?|"
                       r"procedures?|operations?|processes|work|works|sector|trade|market|manufacture)$")
_LEAD_DET = re.compile(r"^" + _DET)
_WEAK_WHOLE = re.compile(r"^(?:use|uses|a|an|the|other|this|these|such|all|various|machine|machines|"
                         r"equipment|apparatus|vehicles?|industry|industrial|automotive industry|other materials?|materials?)$")


@dataclass
class PartsCue:
    """What a text says about a part: the whole it belongs to and how it was said."""

    whole: str
    explicit: bool  # a part word ("part", "component") was said, not only "used in"


def parts_cue(text: str) -> PartsCue | None:
    """The whole a text's part belongs to ("snow blower part" -> "snow blower"), or None.

    Only the words of the text: whether the whole is a machine whose parts have a heading is
    decided in ``analyse`` with the nomenclature.
    """
    low = _NOT_PART.sub(" ", (text or "").lower())
    for rx, explicit in ((_PARTS_OF, True), (_AS_PART, True), (_WHOLE_PART, True), (_USED_IN, False)):
        for m in rx.finditer(low):
            whole = re.sub(r"\s+", " ", m.group(1)).strip(" -/.'")
            whole = _LEAD_DET.sub("", whole).strip()
            if rx is _WHOLE_PART:  # "<whole> parts": the words just before "parts", after any preposition
                whole = re.split(r"\b(?:with|of|for|in|on|from|and|or)\s+", whole)[-1].strip()
                if _PART_ADJ.search(whole):
                    continue
            if material_mask(whole) and not re.search(r"[a-z]{3}", _MATERIAL_WORD_RE.sub(" ", whole)):
                continue  # "parts of stainless steel": the part's material, not its whole
            if _ACTIVITY.search(whole):
                continue  # "used in the manufacture of ...", "for agricultural purposes": a use, not a whole
            if len(whole) >= 3 and not _WEAK_WHOLE.match(whole):
                return PartsCue(whole, explicit)
    return None


# --- sets and kits ----------------------------------------------------------------------------
_SET_WORD = re.compile(r"\b(?:kits?|sets?|assortments?|outfits?|combo|combination pack|gift box|"
                       r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten)[- ](?:pc|pcs|piece|pieces)\b)", re.I)
_LIST_MARK = re.compile(r"\b(?:containing|contains|consisting of|consists of|comprising|comprises|composed of|"
                        r"that includes|which includes|includes|including|made up of|with)\s+", re.I)
_SET_OF = re.compile(r"\s+of\s+", re.I)  # "a set of saucepans, a stockpot and a pan": "of" right after the set word
_LIST_END = re.compile(r"(?:,?\s*\b(?:all|each|both)\b\s+(?:packaged|packed|put up|presented|contained|housed|"
                       r"made|of)\b|,?\s*\b(?:packaged|packed|put up|presented|housed|sold|imported)\b|"
                       r",?\s*\bin an?\s+(?:[\w-]+\s+){0,3}(?:case|pouch|box|bag|tray|tin|container|carry)\b|[;(])", re.I)
_SPLIT = re.compile(r"\s*,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+&\s+|\s+plus\s+")
_LEAD = re.compile(r"^(?:(?:an?|the|one|two|three|four|five|six|seven|eight|nine|ten|\d+|several|various|"
                   r"assorted|pair of|pairs of|set of|sets of|some|other)\s+)+", re.I)
SET_MAX_COMPONENTS = 8
# Heading of "sets of tools of two or more of headings 8202 to 8205" (GIR 3(b) written into HS).
TOOL_SET_HEADING, TOOL_SET_FROM, TOOL_SET_TO = "8206", 8202, 8205


def set_components(text: str) -> list[str]:
    """The components a set / kit text lists ("a kit containing a jack, jack stands and a bag"
    -> ["jack", "jack stands", "bag"]), or [] when the text is no set or lists fewer than two."""
    if not text or not _SET_WORD.search(text):
        return []
    sw = _SET_WORD.search(text)
    m = _SET_OF.match(text, sw.end()) or _LIST_MARK.search(text, sw.start())
    if not m:
        return []
    rest = text[m.end():]
    such = re.search(r"\bsuch as\s+", rest, re.I)
    if such and such.start() < 60:
        rest = rest[such.end():]
    end = _LIST_END.search(rest)
    if end:
        rest = rest[: end.start()]
    comps = []
    for piece in _SPLIT.split(rest.strip(" .")):
        piece = _LEAD.sub("", piece.strip(" .:")).strip()
        if piece and re.search(r"[a-z]{3}", piece, re.I):
            comps.append(piece)
    return comps[:SET_MAX_COMPONENTS] if len(comps) >= 2 else []


# --- per block ----------------------------------------------------------------------------------
K_WHOLE = 5        # the whole's best headings considered
TAU_WHOLE = 0.05   # softmax temperature over them (as the neighbours' vote)
USED_IN_MIN_SIM = 0.45  # "used in <whole>" without a part word: the whole must match a machine this well
MACHINE_CHAPTERS = (84, 93)  # sections XVI-XIX: machinery, vehicles, aircraft, ships, instruments, clocks, music, arms


@dataclass
class Composite:
    """Per text of a block: heading index -> feature value, for each of ``COMPOSITE_FEATURES``."""

    n: int
    values: list[list[dict]] = field(default_factory=list)  # values[f][i] = {heading index: value}

    def columns(self, rows, heads) -> np.ndarray:
        """Values for candidate pairs (``rows[k]``, ``heads[k]``): a sorted-key lookup, so a block
        where few texts have a cue costs one search, not a loop over every candidate."""
        rows, heads = np.asarray(rows, dtype=np.int64), np.asarray(heads, dtype=np.int64)
        out = np.zeros((len(rows), len(COMPOSITE_FEATURES)), dtype=np.float32)
        width = int(heads.max()) + 1 if len(heads) else 1
        keys = rows * width + heads
        for f, per_text in enumerate(self.values):
            ent = [(r * width + h, v) for r, d in enumerate(per_text) for h, v in d.items() if h < width]
            if not ent:
                continue
            ek = np.array([e[0] for e in ent], dtype=np.int64)
            ev = np.array([e[1] for e in ent], dtype=np.float32)
            order = np.argsort(ek)
            ek, ev = ek[order], ev[order]
            at = np.clip(np.searchsorted(ek, keys), 0, len(ek) - 1)
            hit = ek[at] == keys
            out[hit, f] = ev[at[hit]]
        return out


def _heading_sims(index, vecs: np.ndarray) -> np.ndarray:
    """Encoder similarity of each vector to each heading: the heading text or its best subheading."""
    return np.maximum(vecs @ index.E_head.T, np.maximum.reduceat(vecs @ index.E_sub.T, index.sub_start, axis=1))


def analyse(index, texts, cand: np.ndarray | None = None) -> Composite:
    """Parts and set features for a block of texts; marks the headings they name in ``cand``.

    ``cand`` (texts x headings, bool) is the candidate mask of ``ranker._build_block``: the parts
    heading of each whole and each component's heading become candidates.
    """
    from .encoder import get_encoder

    n = len(texts)
    comp = Composite(n, [[{} for _ in range(n)] for _ in COMPOSITE_FEATURES])
    cues = [parts_cue(t) for t in texts]
    sets = [set_components(t) for t in texts]
    phrases = sorted({c.whole for c in cues if c} | {p for s in sets for p in s})
    if not phrases:
        return comp
    vec = dict(zip(phrases, get_encoder().encode(phrases)))
    sims = dict(zip(phrases, _heading_sims(index, np.stack([vec[p] for p in phrases]))))
    pmap = parts_heading_map()
    pos = index.head_pos
    for i, cue in enumerate(cues):
        if not cue:
            continue
        s = sims[cue.whole]
        top = np.argsort(-s)[:K_WHOLE]
        if not cue.explicit:
            # "used in <whole>" says part only when the whole is a machine, apparatus, vehicle or
            # instrument (sections XVI-XIX, whose notes carry the parts rules) whose parts have a home.
            code0 = index.head_codes[top[0]]
            if s[top[0]] < USED_IN_MIN_SIM or code0 not in pmap or not MACHINE_CHAPTERS[0] <= int(code0[:2]) <= MACHINE_CHAPTERS[1]:
                continue
        w = np.exp((s[top] - s[top[0]]) / TAU_WHOLE)
        w /= w.sum()
        d = comp.values[0][i]
        for m, wm in zip(top, w):
            code = index.head_codes[m]
            p = pmap.get(code)
            if p is None or p not in pos:
                continue
            ph = pos[p]
            d[ph] = d.get(ph, 0.0) + float(wm)
            if ph != m:  # the whole itself, whose parts are classified elsewhere
                d[int(m)] = d.get(int(m), 0.0) - float(wm)
            if cand is not None:
                cand[i, ph] = True
    tool_lo, tool_hi = TOOL_SET_FROM, TOOL_SET_TO
    for i, parts in enumerate(sets):
        if not parts:
            continue
        best = [int(np.argmax(sims[p])) for p in parts]
        codes = [index.head_codes[b] for b in best]
        tools = [c for c in codes if tool_lo <= int(c) <= tool_hi]
        share: dict[int, float] = {}
        for b in best:
            share[b] = share.get(b, 0.0) + 1.0 / len(parts)
        for b in set(best):  # half credit for the rest of the heading's chapter
            same_chap = sum(1 for c in codes if c[:2] == index.head_codes[b][:2] and pos[c] != b)
            share[b] += 0.5 * same_chap / len(parts)
        first = {best[0]: 1.0}
        if len(set(tools)) >= 2 and TOOL_SET_HEADING in pos:
            ts = pos[TOOL_SET_HEADING]
            share[ts] = len(tools) / len(parts)
            if tool_lo <= int(codes[0]) <= tool_hi:
                first[ts] = 1.0
        comp.values[1][i] = share
        comp.values[2][i] = first
        if cand is not None:
            for b in share:
                cand[i, b] = True
    return comp


def columns(composite: Composite | None, rows, heads) -> np.ndarray:
    """``ACTIVE_FEATURES`` columns for candidate pairs; zeros when no analysis was made."""
    if composite is None:
        return np.zeros((len(rows), len(ACTIVE_FEATURES)), dtype=np.float32)
    return composite.columns(rows, heads)[:, [COMPOSITE_FEATURES.index(f) for f in ACTIVE_FEATURES]]


def describe(code: str) -> str:
    """The heading's description (for explanations and tests)."""
    node = get(code)
    return node["description"] if node else ""
