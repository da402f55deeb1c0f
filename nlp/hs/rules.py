"""HS classification rules read from the text, as ranker features (text x heading -> number).

The encoder and TF-IDF features see what a text is *about*; customs rulings often turn on a rule
they do not see. Each function here reads one such rule from the text and from the heading's own
nomenclature wording, in the pattern of ``ranker.knit_signal`` x ``Index.head_knit``: a signal
from the text, a flag per heading, and their product as one ranker input (the ranker's pairwise
products let it weigh the rule against the other evidence). All pure: text and codes in, numbers
out; the heading flags come from the nomenclature text (``nomenclature.get``), not from labels.

Rules covered (the figures that kept this one and dropped others are in docs/nlp.md, "Rule
features"):

- **Material** (the structure of sections VII-XV: chapter 39 plastics, 40 rubber, 44 wood,
  48 paper, 70 glass, 72-73 iron and steel, 74 copper, 76 aluminium, 82-83 base metal; headings
  elsewhere that name a material, "footwear with outer soles ... of rubber or plastics"): a
  material the text names agrees or disagrees with the heading's material.
- **Chief fibre** (section XI note 2(A): a textile of mixed fibres is classified as if of the
  fibre that predominates by weight): "60% cotton 40% polyester" counts as cotton only, so it
  agrees with chapter 52, not 54/55.

Measured and dropped (CBP validation no better once material is in): "parts of / for use with"
against headings that provide for parts (section XVI note 2), and "set / kit" against headings
for sets put up for retail sale (GIR 3(b)).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from .nomenclature import get

# --- material --------------------------------------------------------------------------------
# One bit per material. Groups (textile, base metal) are expanded on both sides before the
# comparison, so "fabric" agrees with a cotton heading and "metal" with an aluminium one.
MATERIALS = ("plastics", "rubber", "wood", "paper", "leather", "glass", "ceramic", "stone",
             "iron_steel", "copper", "aluminium", "nickel", "zinc", "tin", "lead", "base_metal",
             "precious_metal", "cotton", "wool", "silk", "manmade", "veg_fibre", "textile")
BIT = {m: 1 << i for i, m in enumerate(MATERIALS)}
_METALS = ("iron_steel", "copper", "aluminium", "nickel", "zinc", "tin", "lead", "base_metal")
_FIBRES = ("cotton", "wool", "silk", "manmade", "veg_fibre", "textile")
_GROUPS = {"base_metal": _METALS, "textile": _FIBRES}

# Words (lower case, matched as whole words; multi-word phrases allowed) naming each material,
# in texts and in the nomenclature's descriptions alike.
_WORDS = {
    "plastics": ("plastic", "plastics", "polyethylene", "polypropylene", "pvc", "polyvinyl",
                 "vinyl", "polystyrene", "polycarbonate", "polyurethane", "thermoplastic", "abs",
                 "pmma", "peva", "eva", "hdpe", "ldpe", "pet", "acrylic sheet", "plexiglass",
                 "silicone", "melamine", "resin", "epoxy"),
    "rubber": ("rubber", "rubberized", "latex", "neoprene", "epdm", "nitrile", "vulcanized",
               "vulcanised", "ebonite"),
    "wood": ("wood", "wooden", "plywood", "timber", "lumber", "hardwood", "softwood", "pine",
             "oak", "maple", "walnut", "teak", "birch", "mdf", "particleboard", "bamboo"),
    "paper": ("paper", "paperboard", "cardboard", "carton", "corrugated"),
    "leather": ("leather", "cowhide", "suede", "furskin"),
    "glass": ("glass", "tempered glass", "borosilicate"),
    "ceramic": ("ceramic", "ceramics", "porcelain", "stoneware", "earthenware"),
    "stone": ("stone", "marble", "granite", "slate"),
    "iron_steel": ("iron", "steel", "stainless", "cast iron", "galvanized"),
    "copper": ("copper", "brass", "bronze"),
    "aluminium": ("aluminium", "aluminum", "alum"),
    "nickel": ("nickel",),
    "zinc": ("zinc",),
    "tin": ("tin",),
    "lead": ("lead",),
    "base_metal": ("base metal", "metal", "metallic"),
    "precious_metal": ("gold", "silver", "platinum", "precious metal"),
    "cotton": ("cotton",),
    "wool": ("wool", "woollen", "woolen", "cashmere", "merino", "fine animal hair"),
    "silk": ("silk",),
    "manmade": ("polyester", "nylon", "acrylic", "spandex", "elastane", "rayon", "viscose",
                "man-made", "manmade", "synthetic fiber", "synthetic fibers", "synthetic fibre",
                "synthetic fibres", "artificial fibres", "synthetic fabric", "polyamide", "lyocell",
                "microfiber", "microfibre"),
    "veg_fibre": ("flax", "linen", "jute", "ramie", "hemp", "sisal", "coir"),
    "textile": ("textile", "textiles", "fabric", "fabrics", "yarn", "knit", "knitted", "woven",
                "fleece", "felt"),
}
# Short or ordinary words ("lead time", "tin can" is tinplate, i.e. steel; "pet" food) are read as
# materials only after "of" ("of lead", "made of PET").
_ONLY_AFTER_OF = {"lead", "tin", "pet", "abs", "eva"}
_PHRASES = sorted(((w, m) for m, ws in _WORDS.items() for w in ws), key=lambda p: -len(p[0]))
_WORD_RE = re.compile(r"\b(" + "|".join(re.escape(w) for w, _ in _PHRASES) + r")\b", re.I)
_PHRASE_MAT = {w: m for w, m in _PHRASES}
_NOT_MATERIAL = re.compile(r"\b(?:plastic surgery|metal detectors?|glass(?:es)? (?:frames?|lens))\b", re.I)

# Chapter -> material of its articles (the nomenclature's sections VII-XV).
# 42 (bags, cases) is read from its descriptions: "of leather, of sheeting of plastics, of textile".
CHAPTER_MATERIAL = {39: "plastics", 40: "rubber", 41: "leather", 43: "leather",
                    44: "wood", 47: "paper", 48: "paper", 49: "paper", 50: "silk", 51: "wool",
                    52: "cotton", 53: "veg_fibre", 54: "manmade", 55: "manmade", 68: "stone",
                    69: "ceramic", 70: "glass", 71: "precious_metal", 72: "iron_steel",
                    73: "iron_steel", 74: "copper", 75: "nickel", 76: "aluminium", 78: "lead",
                    79: "zinc", 80: "tin", 81: "base_metal", 82: "base_metal", 83: "base_metal"}
for _c in range(56, 64):
    CHAPTER_MATERIAL[_c] = "textile"

# Chapters 1-40 hold goods by what they are (food, minerals, chemicals, plastics and rubber in
# primary forms), not articles by material: their descriptions' material words ("nitrile-function
# compounds") are not materials of an article.
FIRST_ARTICLE_CHAPTER = 41
# In a description, only "of / covered by <material>" phrases name the article's material ("uppers of rubber or
# of plastics"); other mentions are its use ("machine-tools ... by removing metal").
_OF_SEGMENT = re.compile(r"\b(?:of|covered by|covered with|made of) ([^;()]+)", re.I)

_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*(?:%|percent|per cent)\s*(?:of\s+)?([a-z][a-z-]*)", re.I)


def _expand(mask: int) -> int:
    for group, members in _GROUPS.items():
        if mask & BIT[group]:
            for m in members:
                mask |= BIT[m]
    return mask


def material_mask(text: str, chief_fibre: bool = True) -> int:
    """Bit mask of the materials a text names (``BIT``), before group expansion.

    With ``chief_fibre``, when the text gives fibre percentages ("54% cotton, 36% polyester,
    10% spandex"), only the fibre with the largest share is kept (section XI note 2(A)); a blend
    with no figures keeps every fibre it names.
    """
    if not text:
        return 0
    low = _NOT_MATERIAL.sub(" ", text.lower())
    mask = 0
    for m in _WORD_RE.finditer(low):
        word = m.group(1)
        if word in _ONLY_AFTER_OF and not re.search(r"\bof\s+$", low[max(0, m.start() - 4): m.start()]):
            continue
        mask |= BIT[_PHRASE_MAT[word]]
    for group, members in _GROUPS.items():  # "woven fabric of cotton": the fibre says more than "fabric"
        if mask & BIT[group] and any(mask & BIT[m] for m in members if m != group):
            mask &= ~BIT[group]
    if chief_fibre:
        shares: dict[str, float] = {}
        for pct, word in _PERCENT.findall(low):
            mat = _PHRASE_MAT.get(word)
            if mat in _FIBRES and mat != "textile":
                shares[mat] = shares.get(mat, 0.0) + float(pct)
        if len(shares) > 1:
            best = max(shares.values())
            for mat, share in shares.items():
                if share < best:
                    mask &= ~BIT[mat]
    return mask


@lru_cache(maxsize=4096)
def heading_material_mask(code: str) -> int:
    """Materials of a heading: its chapter's (``CHAPTER_MATERIAL``) or those its description names.

    A heading in a material chapter takes the chapter's material only (its description's other
    words are exclusions: 3926 "other articles of plastics and articles of other materials of
    headings 3901 to 3914"). Elsewhere the description's material words count ("6401 Footwear,
    waterproof, with outer soles and uppers of rubber or of plastics"); none means the heading is
    silent on material (machines, instruments, apparel by garment type).
    """
    code = str(code)
    chap = int(code[:2])
    if chap in CHAPTER_MATERIAL:
        return BIT[CHAPTER_MATERIAL[chap]]
    node = get(code)
    if chap < FIRST_ARTICLE_CHAPTER or not node:
        return 0
    mask = 0
    for seg in _OF_SEGMENT.findall(node["description"]):
        mask |= material_mask(seg, chief_fibre=False)
    return mask


def material_agreement(text_mask: int, head_mask: int) -> float:
    """+1 when the text names a material of the heading, -1 when both name materials and none is
    shared, 0 when either is silent."""
    if not text_mask or not head_mask:
        return 0.0
    return 1.0 if _expand(text_mask) & _expand(head_mask) else -1.0


def material_agree(text: str, code: str) -> float:
    """The material rule for one text and one heading code (see ``material_agreement``)."""
    return material_agreement(material_mask(text), heading_material_mask(code))


# --- vectorised, for build_candidates -----------------------------------------------------------
RULE_FEATURES = ["material_agree"]


def rule_columns(texts, head_codes, rows, heads) -> np.ndarray:
    """Columns of ``RULE_FEATURES`` for candidate pairs (``texts[rows[k]]``, ``head_codes[heads[k]]``).

    Per text and per heading once, then one lookup per candidate, so a batch costs about one
    regex pass per text.
    """
    rows = np.asarray(rows, dtype=int)
    heads = np.asarray(heads, dtype=int)
    t_mat = np.array([_expand(material_mask(t)) for t in texts], dtype=np.int64)
    h_mat = np.zeros(len(head_codes), dtype=np.int64)
    for h in np.unique(heads):
        h_mat[h] = _expand(heading_material_mask(head_codes[h]))
    tm, hm = t_mat[rows], h_mat[heads]
    mat = np.where((tm == 0) | (hm == 0), 0.0, np.where((tm & hm) != 0, 1.0, -1.0))
    return mat[:, None].astype(np.float32)
