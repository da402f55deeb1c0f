"""The material a text or a nomenclature description names: one reader for the heading ranker's
rule feature (``rules.material_agree``) and the subheading picker's ``mat`` feature.

HS sorts goods by material at two levels. Sections VII-XV give whole chapters to one material
(39 plastics, 40 rubber, 52 cotton, 72-73 iron and steel ...), and headings elsewhere name one
("footwear with outer soles ... of rubber or plastics"): the ranker compares the text's material
with the heading's. Within a heading, subheadings split by the finer textile classes ("of
cotton", "of synthetic fibres", "of artificial fibres", "of textile materials (other than wool,
cotton or man-made fibres)"): the picker compares the text's *main* material with what the
subheading admits. Both need the same three readings, kept here once:

* which materials a text names (``named``): one vocabulary, ``WORDS``, with the words that are
  materials only in context (``lead`` only after "of": "lead time"; ``synthetic`` only before a
  fibre word: "synthetic rubber" is rubber) and the phrases that are not materials at all
  ("plastic surgery", "glass lens": a worked lens is an optical element of chapter 90, not
  glassware);
* the percentages it gives (``shares``: "65% polyester 35% cotton", "polyester 85%, elastane
  15%"), from which the chief fibre is read (section XI note 2(A): a blend is classified as the
  textile material that predominates by weight; equal shares go to the later in HS order);
* what it excludes (``excluded``: "other than", "excluding", "not of"), which names a material
  without claiming it.

Classes form one tree (``PARENT``): fibre-level classes (cotton, wool, silk, veg_fibre,
synthetic, artificial) under man_made / textile, the base metals under base_metal; every other
class is a chapter-level material on its own. Two classes agree when one is the other or its
ancestor ("fabric" agrees with a cotton heading, "polyester" with chapter 54's man-made fibres,
"metal" with an aluminium heading); siblings disagree.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .nomenclature import get

# --- classes -------------------------------------------------------------------------------------
CLASSES = ("plastics", "rubber", "wood", "paper", "leather", "glass", "ceramic", "stone",
           "iron_steel", "copper", "aluminium", "nickel", "zinc", "tin", "lead", "base_metal",
           "precious_metal", "cotton", "wool", "silk", "veg_fibre", "synthetic", "artificial",
           "man_made", "textile")
BIT = {c: 1 << i for i, c in enumerate(CLASSES)}
PARENT = {"cotton": "textile", "wool": "textile", "silk": "textile", "veg_fibre": "textile",
          "man_made": "textile", "synthetic": "man_made", "artificial": "man_made",
          **{m: "base_metal" for m in ("iron_steel", "copper", "aluminium", "nickel", "zinc", "tin", "lead")}}


def ancestors(c: str) -> tuple[str, ...]:
    """``c`` and the classes above it: synthetic -> (synthetic, man_made, textile)."""
    out = [c]
    while out[-1] in PARENT:
        out.append(PARENT[out[-1]])
    return tuple(out)


def _is_fibre(c: str) -> bool:
    return c != "textile" and "textile" in ancestors(c)


FIBRES = tuple(c for c in CLASSES if _is_fibre(c))
_UP_BITS = {c: sum(BIT[a] for a in ancestors(c)) for c in CLASSES}
# Textile classes in nomenclature order (chapters 50 silk, 51 wool, 52 cotton, 53 other vegetable
# fibres, 54-55 man-made), for equal shares: note 2(A) takes the heading last in numerical order.
HS_ORDER = {"silk": 0, "wool": 1, "cotton": 2, "veg_fibre": 3, "synthetic": 4, "man_made": 4, "artificial": 5}


def up_mask(mask: int) -> int:
    """``mask`` with every named class's ancestors added."""
    out = mask
    for c in CLASSES:
        if mask & BIT[c]:
            out |= _UP_BITS[c]
    return out


def mask_of(classes) -> int:
    return sum(BIT[c] for c in set(classes))


def names(mask: int) -> set[str]:
    return {c for c in CLASSES if mask & BIT[c]}


# --- vocabulary ----------------------------------------------------------------------------------
# Words (lower case, whole words; multi-word phrases allowed, the longest match wins) naming each
# class, in texts and in the nomenclature's descriptions alike.
WORDS = {
    "plastics": ("plastic", "plastics", "polyethylene", "polypropylene", "pvc", "polyvinyl",
                 "polyvinyl chloride", "vinyl", "polystyrene", "polycarbonate", "polyurethane",
                 "thermoplastic", "abs", "pmma", "peva", "eva", "hdpe", "ldpe", "pet", "acrylic sheet",
                 "plexiglass", "silicone", "melamine", "resin", "epoxy", "synthetic resin"),
    "rubber": ("rubber", "rubberized", "latex", "neoprene", "epdm", "nitrile", "vulcanized",
               "vulcanised", "ebonite", "synthetic rubber", "silicone rubber"),
    "wood": ("wood", "wooden", "plywood", "timber", "lumber", "hardwood", "softwood", "pine",
             "oak", "maple", "walnut", "teak", "birch", "mdf", "particleboard", "bamboo"),
    "paper": ("paper", "paperboard", "cardboard", "carton", "corrugated"),
    "leather": ("leather", "cowhide", "suede", "furskin"),
    "glass": ("glass", "tempered glass", "borosilicate"),
    "ceramic": ("ceramic", "ceramics", "porcelain", "stoneware", "earthenware"),
    "stone": ("stone", "marble", "granite", "slate"),
    "iron_steel": ("iron", "steel", "stainless", "stainless steel", "cast iron", "galvanized"),
    "copper": ("copper", "brass", "bronze", "nickel silver"),
    "aluminium": ("aluminium", "aluminum", "alum"),
    "nickel": ("nickel",),
    "zinc": ("zinc",),
    "tin": ("tin",),
    "lead": ("lead",),
    "base_metal": ("base metal", "metal", "metallic"),
    "precious_metal": ("gold", "silver", "platinum", "precious metal"),
    "cotton": ("cotton",),
    "wool": ("wool", "woollen", "woolen", "cashmere", "merino", "alpaca", "angora", "mohair",
             "kashmir", "fine animal hair"),
    "silk": ("silk",),
    "veg_fibre": ("flax", "linen", "jute", "ramie", "hemp", "sisal", "coir"),
    "synthetic": ("polyester", "nylon", "polyamide", "acrylic", "modacrylic", "spandex", "elastane",
                  "lycra", "aramid", "microfiber", "microfibre", "synthetic"),
    "artificial": ("rayon", "viscose", "modal", "lyocell", "acetate", "artificial"),
    "man_made": ("man-made", "manmade"),
    "textile": ("textile", "textiles", "fabric", "fabrics", "yarn", "knit", "knitted", "woven",
                "fleece", "felt"),
}
# Textile words that name a form of the goods, not a material: in an exclusion ("other than
# fabrics of heading 5802", "excluding needleloom felt", "(not knitted or crocheted)") they
# exclude no material.
FORM_WORDS = frozenset({"fabric", "fabrics", "yarn", "knit", "knitted", "woven", "fleece", "felt"})
# Short or ordinary words ("lead time", "tin can" is tinplate, i.e. steel; "pet" food) are read as
# materials only after "of" ("of lead", "made of PET").
ONLY_AFTER_OF = frozenset({"lead", "tin", "pet", "abs", "eva"})
# "synthetic" / "artificial" alone are also rubber, resin, leather, gems, flowers, teeth, and
# "acetate" a chemical or a plastic (eyeglass frames): they name a fibre before a textile word
# ("synthetic fibres", "artificial filament yarn"), after a percentage ("100% synthetic"), or in a
# text that names a textile otherwise ("knit synthetic coveralls").
ONLY_AS_FIBRE = frozenset({"synthetic", "artificial", "acetate"})
# Polymers that are plastics, but a man-made fibre before a textile word ("polypropylene yarn").
AS_FIBRE = {"polypropylene": "synthetic", "polyethylene": "synthetic"}
_FIBRE_NEXT = re.compile(r"\s+(?:[a-z-]+\s+)?(?:fibres?|fibers?|filaments?|staple|yarns?|fabrics?|"
                         r"textiles?|tow|monofilament)\b")
_PCT_BEFORE = re.compile(r"\d\s*(?:%|percent|per cent)\s*(?:of\s+)?$")
# Phrases whose material word names no material of the article; a plating or coating is not the
# article's material ("zinc-plated steel" is steel; "gold-plated
# brass" jewellery is imitation jewellery, 7117).
NOT_MATERIAL = re.compile(r"\b(?:plastic surgery|metal detectors?|glass(?:es)? (?:frames?|lens)|"
                          r"(?:zinc|nickel|chrome|chromium|gold|silver|tin|copper)[- ](?:plated|coated))\b", re.I)

_PHRASES = sorted(((w, c) for c, ws in WORDS.items() for w in ws), key=lambda p: -len(p[0]))
WORD_CLASS = dict(_PHRASES)
_ALT = "|".join(re.escape(w) for w, _ in _PHRASES)
_WORD_RE = re.compile(r"\b(" + _ALT + r")\b")
# "65% polyester", "100% of cotton", "100% pure silk", "100% finely knit polyester", "60 percent
# wool"; "polyester 85%", "cotton fibres (60%)". A form word is never the material of a share
# ("100% knit" says nothing of the fibre).
_PCT = r"(\d{1,3}(?:\.\d+)?)\s*(?:%|percent|per cent)"
_SHARE_ALT = "|".join(re.escape(w) for w, _ in _PHRASES if w not in FORM_WORDS)
_SHARE_RE = re.compile(_PCT + r"\s*(?:of\s+)?(?:[a-z-]+\s+){0,2}?(" + _SHARE_ALT + r")\b|\b(" + _SHARE_ALT +
                       r")\s*(?:fibers?|fibres?)?\s*\(?" + _PCT)
# "(other than wool, cotton or man-made fibres)", "excluding nylon", "not of cotton": to the next
# bracket or semicolon.
EXCLUSION = re.compile(r"\b(?:other than|excluding|not of)\b([^();]*)", re.I)


def _prepare(text: str) -> str:
    return NOT_MATERIAL.sub(" ", text.lower())


def _words(low: str):
    """(class, word, sure) of every material word in a prepared text, context rules applied;
    ``sure`` is False for a bare "synthetic" / "artificial", a fibre only in a textile text."""
    for m in _WORD_RE.finditer(low):
        word = m.group(1)
        if word in ONLY_AFTER_OF and not re.search(r"\bof\s+$", low[max(0, m.start() - 4): m.start()]):
            continue
        fibre_next = _FIBRE_NEXT.match(low, m.end())
        if word in ONLY_AS_FIBRE:
            sure = bool(fibre_next or _PCT_BEFORE.search(low[max(0, m.start() - 16): m.start()]))
            if sure or word != "acetate":
                yield WORD_CLASS[word], word, sure
        elif word in AS_FIBRE and fibre_next:
            yield AS_FIBRE[word], word, True
        else:
            yield WORD_CLASS[word], word, True


def _read(low: str, forms: bool = True) -> list[str]:
    """The classes of a prepared text, in order of first mention (without ``FORM_WORDS`` when
    ``forms`` is False)."""
    found = [f for f in _words(low) if forms or f[1] not in FORM_WORDS]
    textile = any(sure and (c == "textile" or c in FIBRES) for c, _, sure in found)
    seen: dict[str, None] = {}
    for c, _, sure in found:
        if sure or textile:
            seen.setdefault(c)
    return list(seen)


def _specific(classes: list[str]) -> list[str]:
    """Drop a class when a class below it is also named: "woven fabric of cotton" is cotton,
    "stainless steel ... metal" is steel, "of cotton, knitted or crocheted" is cotton."""
    below = {a for c in classes for a in ancestors(c)[1:]}
    return [c for c in classes if c not in below]


def named(text: str) -> list[str]:
    """The classes a text names as its own material, in order of first mention; words inside an
    exclusion ("other than of cotton") are left out."""
    if not text:
        return []
    return list(_named(text))


@lru_cache(maxsize=1 << 14)  # one hint reads a text's materials two or three times (rules, picker, parts)
def _named(text: str) -> tuple[str, ...]:
    return tuple(_specific(_read(EXCLUSION.sub(" ", _prepare(text)))))


def excluded(text: str) -> set[str]:
    """The classes a text names inside "other than / excluding / not of" phrases."""
    if not text:
        return set()
    out: set[str] = set()
    for span in EXCLUSION.findall(_prepare(text)):
        out |= set(_read(span, forms=False))
    return out


def shares(text: str) -> list[tuple[str, float]]:
    """(class, percent) for every material the text gives a percentage for, in order."""
    if not text or not re.search(r"\d", text):
        return []
    return list(_shares(text))


@lru_cache(maxsize=1 << 14)
def _shares(text: str) -> tuple[tuple[str, float], ...]:
    low = EXCLUSION.sub(" ", _prepare(text))
    out = []
    for m in _SHARE_RE.finditer(low):
        word, pct = (m.group(2), m.group(1)) if m.group(2) else (m.group(3), m.group(4))
        out.append((WORD_CLASS[word], float(pct)))
    return tuple(out)


# --- the text's material, at the two levels -----------------------------------------------------
def chapter_fibre(c: str) -> str:
    """The class a fibre is counted under at chapter level: chapters 54 and 55 take synthetic and
    artificial fibres alike (section XI note 2(B)), so their shares add up as man-made."""
    return "man_made" if "man_made" in ancestors(c) else c


def material_mask(text: str, chief_fibre: bool = True) -> int:
    """Bit mask (``BIT``) of the materials a text names, for the heading-level comparison.

    With ``chief_fibre``, when the text gives fibre percentages ("54% cotton, 36% polyester,
    10% spandex"), only the fibres of the chapter-level class with the largest share are kept
    (section XI note 2(A)); a blend with no figures, or equal shares, keeps every fibre it names.
    """
    classes = named(text)
    mask = mask_of(classes)
    if chief_fibre and mask:
        total: dict[str, float] = {}
        for c, pct in shares(text):
            if c in FIBRES:
                total[chapter_fibre(c)] = total.get(chapter_fibre(c), 0.0) + pct
        if len(total) > 1:
            best = max(total.values())
            for c in classes:
                if c in FIBRES and total.get(chapter_fibre(c), 0.0) < best:
                    mask &= ~BIT[c]
    return mask


def main_material(text: str) -> str | None:
    """The material a text says the article is mostly of, at fibre level: the largest percentage
    (equal shares: the later in HS order), else the first material named; None when it names none."""
    best = None
    for c, pct in shares(text):
        key = (pct, HS_ORDER.get(c, -1))
        if best is None or key > best[0]:
            best = (key, c)
    if best:
        return best[1]
    classes = named(text)
    return classes[0] if classes else None


def mask_agreement(text_mask: int, head_mask: int) -> float:
    """+1 when a material of the text is one of the heading's or above or below it in the class
    tree, -1 when both name materials and none is related, 0 when either is silent."""
    if not text_mask or not head_mask:
        return 0.0
    return 1.0 if (up_mask(text_mask) & head_mask) or (text_mask & up_mask(head_mask)) else -1.0


# --- headings ------------------------------------------------------------------------------------
# Chapter -> material of its articles (the nomenclature's sections VII-XV).
# 42 (bags, cases) is read from its descriptions: "of leather, of sheeting of plastics, of textile".
CHAPTER_MATERIAL = {39: "plastics", 40: "rubber", 41: "leather", 43: "leather",
                    44: "wood", 47: "paper", 48: "paper", 49: "paper", 50: "silk", 51: "wool",
                    52: "cotton", 53: "veg_fibre", 54: "man_made", 55: "man_made", 68: "stone",
                    69: "ceramic", 70: "glass", 71: "precious_metal", 72: "iron_steel",
                    73: "iron_steel", 74: "copper", 75: "nickel", 76: "aluminium", 78: "lead",
                    79: "zinc", 80: "tin", 81: "base_metal", 82: "base_metal", 83: "base_metal",
                    **{c: "textile" for c in range(56, 64)}}
# Chapters 1-40 hold goods by what they are (food, minerals, chemicals, plastics and rubber in
# primary forms), not articles by material: their descriptions' material words ("nitrile-function
# compounds") are not materials of an article.
FIRST_ARTICLE_CHAPTER = 41
# In a description, only "of / covered by <material>" phrases name the article's material ("uppers
# of rubber or of plastics"); other mentions are its use ("machine-tools ... by removing metal").
_OF_SEGMENT = re.compile(r"\b(?:of|covered by|covered with|made of) ([^;()]+)", re.I)


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


# --- subheadings ---------------------------------------------------------------------------------
def subheading_rule(description: str) -> tuple[str, frozenset] | None:
    """What materials a subheading admits, from its own words (after the heading's, the part
    after the first ";"): ("in", classes) for "of cotton" / "of plastics or of textile materials",
    ("out", classes) for "of textile materials (other than wool, cotton or man-made fibres)",
    ("nec", classes) for a residual ("n.e.c. in item no. 6204.1") whose list the picker resolves
    against its siblings; None when it names no material."""
    tail = description.split(";", 1)[-1]
    inside = frozenset(named(tail))
    out = excluded(tail)
    # "of fine animal hair other than that of kashmir goats": the exception narrows a material
    # the text admits; the admitted material is what matters here.
    if out and not out & inside:
        return "out", frozenset(_specific(list(out)))
    if re.search(r"n\.e\.[cs]", tail, re.I):
        return "nec", inside
    return ("in", inside) if inside else None


def subheading_agreement(main: str | None, rule) -> float:
    """+1 when the text's main material (or a class above it) is one the subheading admits, -1
    when it is not; the reverse for an "out" rule; 0 when either says nothing."""
    if main is None or rule is None:
        return 0.0
    kind, classes = rule
    hit = bool(set(ancestors(main)) & classes)
    if kind == "in":
        return 1.0 if hit else -1.0
    return -1.0 if hit else 1.0
