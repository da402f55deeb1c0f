"""Sets and kits (GIR 3(b)) as a rule after ranking: the heading a set's components say.

Why: customs texts describe a set by its contents ("a 2 ton lift kit consisting of a trolley jack,
jack stands, wheel chocks and a carrying bag"). The ranker reads the text as a whole, so the
word "kit" and the longest component pull it where the corpus' wordings sit. The nomenclature
has two readings for a set put up for retail sale:

- **Heading 8206**: "tools of two or more of headings 82.02 to 82.05, put up in sets for retail
  sale" (GIR 3(b) written into the heading). A set whose components are mostly hand tools of two
  or more of those headings is that heading, whatever else the text says.
- **GIR 3(b)**: otherwise a set is classified as the component that gives it its essential
  character. The rule only speaks when that is plain from the list: one heading holds more than
  half the components, or half of them including the first named (the article the set is
  built around). A list that splits among several headings says nothing here.

Each component's heading is the hinter's own top hint for the component's words (lexicon, corpus
neighbours and encoder, not the encoder alone, which matched short names badly: docs/nlp.md,
"Parts and sets"). Like ``chemistry.apply_to_hints``, the rule does not vote in the ranker: it
brings the heading into the first ``RULE_TOP`` hints, method ``gir-3b``, with an explanation that
lists the components and their headings. A code written in the text wins.

Texts with no set word and no list cost one regex pass; a set text costs one more ``hint`` call
on its (at most ``SET_MAX_COMPONENTS``) components.
"""

from __future__ import annotations

import re

from .chemistry import lift_heading
from .nomenclature import wording

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



# --- the rule after ranking ---------------------------------------------------------------------
RULE_TOP = 3
# Confidence floor of a heading the rule brings in (the ranker's probability is kept when higher).
RULE_CONFIDENCE = 0.7
# Fewest components for the essential-character reading: "1 of 2 components, the first" is no
# reading (on the corpus' two-component sets it named a wrong heading every time it fired).
GIR3B_MIN_COMPONENTS = 3


# Sets the nomenclature names as such: the set has its own heading, whatever its components
# are ("First-aid boxes and kits" 3006.50 holds bandages of 3005 and scissors of 8213). Words of
# the text -> heading, from the heading and subheading texts that say "sets" / "kits".
NAMED_SETS = [
    (re.compile(r"\bfirst[- ]aid\b", re.I), "3006", "3006.50 first-aid boxes and kits"),
    (re.compile(r"\btravel\s+(?:[\w-]+\s+)?(?:toilet|toiletry|sewing|shoe|grooming|vanity|clothes?)\b|"
                r"\b(?:sewing|shoe[- ]?(?:care|shine|cleaning))\s+(?:kit|set)s?\b", re.I),
     "9605", "9605 travel sets for personal toilet, sewing, shoe or clothes cleaning"),
    (re.compile(r"\b(?:manicure|pedicure)\b", re.I), "8214", "8214.20 manicure or pedicure sets"),
    (re.compile(r"\bpen\s+and\s+pencil\b", re.I), "9608", "9608.50 pen and pencil sets"),
    (re.compile(r"\b(?:drawing|drafting|geometry)\s+(?:instrument\s+)?(?:kit|set)s?\b", re.I), "9017",
     "9017 drawing sets"),
    (re.compile(r"\b(?:paint|colou?r|watercolou?r)\s+(?:kit|set|box)e?s?\b", re.I), "3213", "3213.10 colours in sets"),
    (re.compile(r"\b(?:needlepoint|cross[- ]stitch|tapestry|latch[- ]hook|rug[- ]making)\b", re.I), "6308",
     "6308 sets of woven fabric and yarn for making up"),
]


def named_set(text: str) -> tuple[str, str] | None:
    """The heading of a set the nomenclature names as such, and why; None for other texts."""
    if not _SET_WORD.search(text or ""):
        return None
    for rx, code, said in NAMED_SETS:
        if rx.search(text):
            return code, f"a set the nomenclature names ({said})"
    return None


def set_heading(codes: list[str]) -> tuple[str, str] | None:
    """The heading a set's component headings say (``codes``, in the order named), and why; None
    when the reading is not plain.

    8206 first: two or more of headings 8202-8205 among the components, and those tools at least
    half of them. Else GIR 3(b), for a list of ``GIR3B_MIN_COMPONENTS`` or more: a heading held
    by more than half of the components, or by half of them including the first.
    """
    n = len(codes)
    if n < 2:
        return None
    tools = [c for c in codes if TOOL_SET_FROM <= int(c) <= TOOL_SET_TO]
    if len(set(tools)) >= 2 and 2 * len(tools) >= n:
        return TOOL_SET_HEADING, (f"{len(tools)} of {n} components are hand tools of headings "
                                  f"{', '.join(sorted(set(tools)))}: heading {TOOL_SET_HEADING} takes tools of two or "
                                  f"more of headings 8202 to 8205 put up in sets")
    if n < GIR3B_MIN_COMPONENTS:
        return None
    for code in dict.fromkeys(codes):
        k = codes.count(code)
        if 2 * k > n or (2 * k == n and codes[0] == code):
            return code, (f"{k} of {n} components{' including the first' if codes[0] == code and 2 * k == n else ''} "
                          f"are heading {code}: GIR 3(b), a set is classified as the component that gives it its "
                          f"essential character")
    return None


def components_to_hint(text: str) -> list[str]:
    """The components ``apply_to_hints`` would hint for ``text`` (none when the set is named).

    Why: the hinter hints the components of all set texts of a block in one call (one encoder
    batch and one ranking pass) and hands each text its components with their hints as
    ``component_hints``, instead of one small ``hint()`` call per set text. A text without a set
    word (most texts) is answered by one search, not the two that ``named_set`` and
    ``set_components`` would each make: both need the word.
    """
    if not text or not _SET_WORD.search(text):
        return []
    return [] if named_set(text) is not None else set_components(text)


def apply_to_hints(text: str, hints: list[dict], cands, conf, hinter, register: str = "firm",
                   top: int = RULE_TOP,
                   component_hints: list[tuple[str, list[dict]]] | None = None) -> list[dict]:
    """Bring the heading a set's components say into the first ``top`` hints (method ``gir-3b``).

    ``cands``/``conf``: the ranker's candidates and probabilities for this text; ``hinter``: hints
    the components (same ``register``) and gives ``index`` and ``_hint``. Returns ``hints`` itself
    when the text is no set, lists fewer than two components, the reading is not plain, or the
    heading is already among the first ``top``. ``component_hints``: (component, its hints) for
    each of ``components_to_hint(text)`` when the caller has read and hinted them (in one batch),
    else the text is read and its components hinted here.
    """
    if not hints or top <= 0 or any(x["method"] == "code-in-text" for x in hints):
        return hints
    if component_hints is None:
        said = named_set(text)
        comps = [] if said is not None else set_components(text)  # a named set needs no components
        per = hinter.hint(comps, top=1, register=register) if comps else []
    else:
        comps, per = [c for c, _ in component_hints], [h for _, h in component_hints]
        said = None if comps else named_set(text)
    listed, hs6 = "", None
    if comps:
        if all(per):
            codes = [p[0]["hs4"] for p in per]
            said = set_heading(codes)
            listed = f"a set of {len(comps)} components ({'; '.join(f'{c} -> {h}' for c, h in zip(comps, codes))}); "
            # GIR 3(b): the set is classified as its essential component, so its subheading too
            hs6 = next((p[0]["hs6"] for p in per if said and p[0]["hs4"] == said[0]), None)
    if said is None:
        return hints
    code, reason = said
    return lift_heading(hints, code, RULE_CONFIDENCE, cands, conf, hinter, "gir-3b",
                        lambda p_rank, note: (f"gir-3b: {listed}{reason}: heading {code} ({wording(code, 80)}); "
                                              f"ranker probability {p_rank:.2f}{note}"), top, reorder=True, hs6=hs6)
