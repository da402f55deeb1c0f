"""HS rule features (nlp/hs/rules.py): the material rule on texts and headings whose answer the HS
rules fix, and the vectorised columns equal to the one-pair functions."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.hs.rules import BIT, RULE_FEATURES, heading_material_mask, material_agree, material_mask, rule_columns


def names(mask: int) -> set[str]:
    return {m for m, b in BIT.items() if mask & b}


# --- material ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("Disposable floor mats made of polyethylene plastic sheeting", {"plastics"}),
    ("Gloves of vulcanized rubber, powder-free", {"rubber"}),
    ("Kiln-dried pine boards, surfaced four sides", {"wood"}),
    ("aluminum pliers with stainless steel jaws", {"aluminium", "iron_steel"}),
    ("Stainless steel tubes used in surgical procedures", {"iron_steel"}),
    ("Acrylic sheet of polymethyl methacrylate", {"plastics"}),  # "acrylic sheet", not acrylic fibre
    ("Women's pullover of 100% acrylic", {"manmade"}),
])
def test_material_words(text, expected):
    assert names(material_mask(text)) == expected


def test_ordinary_words_are_not_materials():
    # "China" (a country), "lead time", "pet food": not porcelain, lead or PET.
    assert material_mask("LED desk lamps made in China, short lead time") == 0
    assert material_mask("Dry pet food for dogs") == 0
    assert names(material_mask("Fishing sinkers of lead")) == {"lead"}


def test_chief_fibre_by_weight():
    """Section XI note 2(A): a blend is classified by the fibre that predominates by weight."""
    assert names(material_mask("knit shirt of 60% cotton, 40% polyester")) == {"cotton"}
    assert names(material_mask("swim bottom of 54% cotton, 36% polyester and 10% spandex")) == {"cotton"}
    assert names(material_mask("men's shorts of 30% cotton and 70% polyester")) == {"manmade"}
    # Equal shares, or no figures: every fibre named is kept.
    assert names(material_mask("50% cotton 50% polyester T-shirt")) == {"cotton", "manmade"}
    assert names(material_mask("a sweater of cotton and nylon")) == {"cotton", "manmade"}
    # Off: every fibre named.
    assert names(material_mask("60% cotton 40% polyester", chief_fibre=False)) == {"cotton", "manmade"}


def test_heading_materials_from_chapter_and_description():
    assert names(heading_material_mask("3926")) == {"plastics"}
    assert names(heading_material_mask("4016")) == {"rubber"}
    assert names(heading_material_mask("7318")) == {"iron_steel"}
    assert names(heading_material_mask("7616")) == {"aluminium"}
    assert names(heading_material_mask("5208")) == {"cotton"}
    assert names(heading_material_mask("6110")) == {"textile"}
    # Outside the material chapters, the description's "of <material>" words.
    assert {"rubber", "plastics"} <= names(heading_material_mask("6401"))
    assert {"leather", "plastics", "textile"} <= names(heading_material_mask("4202"))
    # Silent headings: machines, and chemicals whose names hold material words (nitrile-function).
    for code in ("8481", "8459", "9401", "2926"):
        assert heading_material_mask(code) == 0, code


def test_material_agreement():
    assert material_agree("polyethylene film gowns", "3926") == 1.0
    assert material_agree("polyethylene film gowns", "4016") == -1.0
    assert material_agree("Viton O-rings of rubber", "4016") == 1.0
    # Groups: "metal" agrees with any base metal, "fabric" with any fibre.
    assert material_agree("metal drying rack", "7323") == 1.0
    assert material_agree("metal drying rack", "7615") == 1.0
    assert material_agree("woven fabric of 65% polyester 35% cotton", "5513") == 1.0
    assert material_agree("woven fabric of 65% polyester 35% cotton", "5208") == -1.0
    # A group word next to a member says nothing more: "steel ... metal" is steel.
    assert names(material_mask("woven fabric of cotton")) == {"cotton"}
    assert names(material_mask("knitted fabric")) == {"textile"}
    assert material_agree("metal frame of stainless steel", "7616") == -1.0
    # Either side silent: no opinion.
    assert material_agree("hydraulic relief valves", "8481") == 0.0
    assert material_agree("steel relief valves", "8481") == 0.0
    assert material_agree("hydraulic relief valves", "7307") == 0.0


# --- columns --------------------------------------------------------------------------------------
def test_rule_columns_equal_one_pair_functions():
    texts = ["polyethylene bags, parts of packing machines", "a 20-piece socket wrench set", "hydraulic relief valves",
             "knit shirt of 60% cotton 40% polyester", ""]
    codes = ["3923", "8422", "8481", "6109", "5208", "5407", "8708", "8204", "8206"]
    rows = np.repeat(np.arange(len(texts)), len(codes))
    heads = np.tile(np.arange(len(codes)), len(texts))
    X = rule_columns(texts, codes, rows, heads)
    assert X.shape == (len(rows), len(RULE_FEATURES))
    funcs = {"material_agree": material_agree}
    for j, name in enumerate(RULE_FEATURES):
        want = [funcs[name](texts[r], codes[h]) for r, h in zip(rows, heads)]
        assert np.allclose(X[:, j], want), name
    assert rule_columns(texts, codes, [], []).shape == (0, len(RULE_FEATURES))
