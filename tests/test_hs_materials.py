"""The shared material reader (nlp/hs/materials.py) and the two features built on it: the heading
ranker's ``material_agree`` and the subheading picker's ``mat``. Answers fixed by the HS rules
(section XI note 2(A) on blends, the chapters' materials, the subheadings' own words)."""

from __future__ import annotations

import pytest

from nlp.hs import materials as M
from nlp.hs.nomenclature import get
from nlp.hs.rules import material_agree


def names(text: str, **kw) -> set[str]:
    return M.names(M.material_mask(text, **kw))


# --- vocabulary and context ------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("Disposable floor mats made of polyethylene plastic sheeting", {"plastics"}),
    ("Gloves of vulcanized rubber, powder-free", {"rubber"}),
    ("Kiln-dried pine boards, surfaced four sides", {"wood"}),
    ("aluminum pliers with stainless steel jaws", {"aluminium", "iron_steel"}),
    ("Stainless steel tubes used in surgical procedures", {"iron_steel"}),
    ("Acrylic sheet of polymethyl methacrylate", {"plastics"}),  # "acrylic sheet", not acrylic fibre
    ("Women's pullover of 100% acrylic", {"synthetic"}),
    ("100% cotton", {"cotton"}),
    ("Knit pullovers of Kashmir goat hair", {"wool"}),            # a word only one list had
    ("Silicone rubber keypads", {"rubber"}),                      # the longer phrase wins
    ("Spunbond polypropylene nonwoven fabric", {"synthetic"}),    # a polymer before a textile word
    ("Polypropylene storage boxes with lids", {"plastics"}),
    ("Fender washers of zinc-plated steel", {"iron_steel"}),      # a plating is not the material
])
def test_material_words(text, expected):
    assert names(text) == expected


@pytest.mark.parametrize("text", [
    "LED desk lamps made in China, short lead time",  # a country, "lead time"
    "Dry pet food for dogs",
    "Lead-free solder wire",                           # "lead" only after "of"
    "Instruments for plastic surgery",
    "glass lens for a camera",                         # an optical element (chapter 90), not glassware
    "Artificial Christmas trees",                      # "artificial" alone is no fibre
    "Cellulose acetate flake",                         # nor "acetate" alone
])
def test_not_materials(text):
    assert M.material_mask(text) == 0, text


def test_context_words():
    assert names("Fishing sinkers of lead") == {"lead"}
    assert names("Jersey knit fabric of synthetic fibers") == {"synthetic"}
    assert names("Babies' knit synthetic coveralls") == {"synthetic"}   # "synthetic" in a textile text
    assert names("Soccer balls of synthetic leather") == {"leather"}
    assert names("Women's blouse, 100% synthetic") == {"synthetic"}
    assert names("Artificial flowers of plastic") == {"plastics"}


def test_group_word_next_to_a_member_says_nothing_more():
    assert names("woven fabric of cotton") == {"cotton"}
    assert names("knitted fabric") == {"textile"}
    assert names("metal frame of stainless steel") == {"iron_steel"}
    assert M.named("Jerseys; of cotton, knitted or crocheted") == ["cotton"]


# --- exclusions ----------------------------------------------------------------------------------
def test_exclusions_name_without_claiming():
    assert M.named("shirts other than of cotton") == []
    assert M.excluded("shirts other than of cotton") == {"cotton"}
    assert M.named("Parts of seats, not of wood") == []
    assert M.excluded("of textile materials (other than wool or fine animal hair, cotton or man-made fibres)") == \
        {"wool", "cotton", "man_made"}
    assert M.named("of textile materials (other than wool or fine animal hair, cotton or man-made fibres)") == ["textile"]
    # Form words in an exclusion exclude no material; the exclusion ends at a bracket.
    assert M.excluded("of cotton, other than fabrics of heading no. 5802 or 5806") == set()
    assert M.excluded("of textile materials other than cotton (not knitted or crocheted)") == {"cotton"}


# --- percentages and the chief fibre --------------------------------------------------------------
def test_shares_read_both_orders():
    assert M.shares("65% polyester 35% cotton") == [("synthetic", 65.0), ("cotton", 35.0)]
    assert M.shares("swim trunks, polyester 85%, elastane 15%") == [("synthetic", 85.0), ("synthetic", 15.0)]
    assert M.shares("100% pure silk scarf") == [("silk", 100.0)]
    assert M.shares("coat of 60 percent wool") == [("wool", 60.0)]
    assert M.shares("65% polyester cotton shirt") == [("synthetic", 65.0)]  # the share is the next word's
    # A form word is no material of a share: the fibre after it is.
    assert M.shares("vest of 100% finely knit polyester fabric") == [("synthetic", 100.0)]
    assert M.shares("made from 100% cotton fabric") == [("cotton", 100.0)]
    assert M.shares("a 100 W lamp of glass") == []


def test_chief_fibre_by_weight():
    """Section XI note 2(A): a blend is classified by the fibre that predominates by weight."""
    assert names("knit shirt of 60% cotton, 40% polyester") == {"cotton"}
    assert names("swim bottom of 54% cotton, 36% polyester and 10% spandex") == {"cotton"}
    assert names("men's shorts of 30% cotton and 70% polyester") == {"synthetic"}
    assert names("65% polyester 35% cotton") == {"synthetic"}
    # Chapters 54 and 55 count together: synthetic and artificial shares add up against cotton.
    assert names("40% cotton, 30% polyester, 30% viscose") == {"synthetic", "artificial"}
    # Equal shares, or no figures: every fibre named is kept.
    assert names("50% cotton 50% polyester T-shirt") == {"cotton", "synthetic"}
    assert names("a sweater of cotton and nylon") == {"cotton", "synthetic"}
    assert names("60% cotton 40% polyester", chief_fibre=False) == {"cotton", "synthetic"}


@pytest.mark.parametrize("text, material", [
    ("boys' shirts of 50% cotton and 50% polyester", "synthetic"),  # equal weight: the later in HS
    ("knit shorts, 70% cotton / 30% polyester", "cotton"),
    ("swim trunks, polyester 85%, elastane 15%", "synthetic"),
    ("65% polyester 35% cotton", "synthetic"),
    ("100% cotton", "cotton"),
    ("a cardigan of acrylic, wool and nylon", "synthetic"),         # no shares: the first named
    ("woven fabric shirt of cotton", "cotton"),                     # "fabric" says less than cotton
    ("handbag with an outer surface of leather", "leather"),
    ("stainless steel sink", "iron_steel"),
    ("shirts other than of cotton", None),
    ("a handheld radio", None),
    ("", None),
])
def test_main_material(text, material):
    assert M.main_material(text) == material


# --- the class tree -------------------------------------------------------------------------------
def test_class_tree():
    assert M.ancestors("synthetic") == ("synthetic", "man_made", "textile")
    assert M.ancestors("aluminium") == ("aluminium", "base_metal")
    assert M.ancestors("glass") == ("glass",)
    assert set(M.FIBRES) == {"cotton", "wool", "silk", "veg_fibre", "synthetic", "artificial", "man_made"}
    assert set(M.WORD_CLASS.values()) <= set(M.CLASSES)


# --- headings: the ranker's material_agree ------------------------------------------------------
def test_heading_materials_from_chapter_and_description():
    hm = lambda code: M.names(M.heading_material_mask(code))  # noqa: E731
    assert hm("3926") == {"plastics"}
    assert hm("4016") == {"rubber"}
    assert hm("7318") == {"iron_steel"}
    assert hm("7616") == {"aluminium"}
    assert hm("5208") == {"cotton"}
    assert hm("5407") == {"man_made"}
    assert hm("6110") == {"textile"}
    # Outside the material chapters, the description's "of <material>" words.
    assert {"rubber", "plastics"} <= hm("6401")
    assert {"leather", "plastics", "textile"} <= hm("4202")
    # Silent headings: machines, and chemicals whose names hold material words (nitrile-function).
    for code in ("8481", "8459", "9401", "2926"):
        assert M.heading_material_mask(code) == 0, code


def test_material_agree():
    assert material_agree("polyethylene film gowns", "3926") == 1.0
    assert material_agree("polyethylene film gowns", "4016") == -1.0
    assert material_agree("Viton O-rings of rubber", "4016") == 1.0
    # Groups: "metal" agrees with any base metal, "fabric" with any fibre, a fibre with "textile".
    assert material_agree("metal drying rack", "7323") == 1.0
    assert material_agree("metal drying rack", "7615") == 1.0
    assert material_agree("knitted fabric", "5208") == 1.0
    assert material_agree("cotton T-shirt", "6109") == 1.0
    # Synthetic and artificial fibres are chapters 54 and 55's man-made fibres.
    assert material_agree("woven fabric of 65% polyester 35% cotton", "5513") == 1.0
    assert material_agree("woven fabric of 65% polyester 35% cotton", "5208") == -1.0
    assert material_agree("viscose rayon filament yarn", "5403") == 1.0
    # Siblings disagree: steel is not aluminium, cotton is not one of chapter 53's other fibres.
    assert material_agree("metal frame of stainless steel", "7616") == -1.0
    assert material_agree("cotton yarn", "5306") == -1.0
    # Either side silent: no opinion.
    assert material_agree("hydraulic relief valves", "8481") == 0.0
    assert material_agree("steel relief valves", "8481") == 0.0
    assert material_agree("hydraulic relief valves", "7307") == 0.0
    assert material_agree("glass lens", "7014") == 0.0


# --- subheadings: the picker's mat ---------------------------------------------------------------
def rule(code: str):
    return M.subheading_rule(get(code)["description"])


def test_subheading_rules():
    assert rule("611020") == ("in", frozenset({"cotton"}))
    assert rule("611030") == ("in", frozenset({"man_made"}))
    # "of textile materials (other than wool or fine animal hair, cotton or man-made fibres)"
    assert rule("611090") == ("out", frozenset({"wool", "cotton", "man_made"}))
    # A residual's own list: resolved against its siblings by the picker (test_hs_subheading).
    assert rule("620419") == ("nec", frozenset({"textile"}))
    assert rule("610990") == ("out", frozenset({"cotton"}))   # "of textile materials (other than cotton)"
    # "of fine animal hair other than that of kashmir goats": the exception narrows the material.
    assert rule("611019") == ("in", frozenset({"wool"}))
    assert rule("850152") is None


def test_subheading_agreement():
    agree = M.subheading_agreement
    assert agree("cotton", rule("611020")) == 1.0
    assert agree("cotton", rule("611090")) == -1.0
    assert agree("veg_fibre", rule("611090")) == 1.0    # linen, ramie: "other textile materials"
    assert agree("synthetic", rule("611030")) == 1.0    # synthetic is man-made
    assert agree("textile", rule("611020")) == -1.0     # "fabric" alone does not say cotton
    assert agree(None, rule("611020")) == 0.0
    assert agree("cotton", None) == 0.0
