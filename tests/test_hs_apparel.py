"""The garment reader (nlp/hs/apparel.py): parsing, section XI note 2, subheadings read from the
nomenclature, and the rule after ranking."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from nlp.hs import apparel
from nlp.hs.apparel import chief_fibre, construction, gender, read, subheading_for
from nlp.hs.hinter import Hinter
from nlp.hs.nomenclature import get, is_valid


# --- the tables name real HS 2022 headings --------------------------------------------------------
def test_every_heading_of_the_garment_table_is_an_hs2022_heading_of_chapter_61_or_62():
    codes = {h for cons in apparel.KINDS.values() for by_sex in cons.values() for h in by_sex.values()}
    assert len(codes) >= 30
    for code in codes:
        assert is_valid(code) and len(code) == 4 and code[:2] in ("61", "62"), code
        knit = "knitted or crocheted" in get(code)["description"].lower()
        woven = "not knitted" in get(code)["description"].lower()
        # a "knit" entry is a chapter 61 heading, a "woven" one chapter 62 (6212: either)
        for kind, cons in apparel.KINDS.items():
            if code in cons.get("knit", {}).values() and code != "6212":
                assert code[:2] == "61" and knit, (kind, code)
            if code in cons.get("woven", {}).values() and code != "6212":
                assert code[:2] == "62" and woven, (kind, code)


def test_gendered_headings_say_the_gender_they_are_filed_under():
    for cons in apparel.KINDS.values():
        for by_sex in cons.values():
            for sex, code in by_sex.items():
                desc = get(code)["description"].lower()
                if sex == "men":
                    assert "men's or boys'" in desc, code
                if sex == "women":
                    assert "women's or girls'" in desc, code


# --- knitted or woven, gender ----------------------------------------------------------------------
@pytest.mark.parametrize("text, knit", [
    ("men's knit shorts", True),
    ("a women's sweater knitted with more than nine stitches per two centimeters", True),
    ("boys T-shirts of finely knit jersey fabric", True),
    ("girl's ensemble of 100% polyester polar fleece", True),
    ("crocheted shawl", True),
    ("men's woven cotton shirt", False),
    ("women's trousers, not knitted or crocheted", False),
    ("men's denim jeans", False),
    ("a men's woven jacket with rib knit cuffs and a rib-knit bottom band", False),  # trim is not the fabric
    ("women's blouse", None),
    ("knit top with woven sleeves", None),
    ("women's knit bikini bottoms", True),       # a garment after "knit" is not trim
    ("woven jacket with knit collar", False),
])
def test_construction(text, knit):
    assert construction(text.lower())[0] is knit


@pytest.mark.parametrize("text, sex", [
    ("men's knit sweaters", "men"), ("boys' shorts", "men"), ("mens t-shirts", "men"),
    ("a woman's poncho", "women"), ("ladies' blouses", "women"), ("girls cardigan", "women"),
    ("unisex hoodies", "women"),  # note 9 to chapter 61: not identifiable -> women's
    ("men's and women's jackets", ""), ("children's pajamas", ""), ("man-made fibre pullover", ""),
])
def test_gender(text, sex):
    assert gender(text.lower())[0] == sex


# --- section XI note 2: the fibre that predominates by weight ---------------------------------------
@pytest.mark.parametrize("text, fibre", [
    ("100% cotton", "cotton"),
    ("60% cotton 40% polyester", "cotton"),
    ("54% cotton, 36% polyester, 10% spandex", "cotton"),     # 36 + 10 man-made < 54 cotton
    ("45% cotton, 35% polyester, 20% nylon", "synthetic"),    # chapters 54/55 counted together: 55 > 45
    ("50% cotton and 50% polyester", "synthetic"),            # a tie: the later heading
    ("50% wool, 50% cotton", "cotton"),
    ("80% nylon and 20% elastane", "synthetic"),
    ("70% viscose, 30% polyester", "artificial"),
    ("40% rayon, 35% polyester, 25% cotton", "artificial"),   # man-made 75; within it rayon 40 > 35
    ("85% polyester, 15% spandex", "synthetic"),
    ("made of nylon, spandex, and acrylic", "synthetic"),     # one class named: no figure needed
    ("knit man-made fabric", "man_made"),
    ("100% wool", "wool"),
    ("cotton and nylon", None),                               # no figures, two classes: undecided
    ("a blend of cotton, nylon, and metallic yarn", None),
    ("acrylic, wool, and nylon", None),
    ("40% cotton and polyester", None),                       # the unfigured 60% could be polyester
    ("", None),
    ("stainless steel", None),
])
def test_chief_fibre(text, fibre):
    assert chief_fibre(text)[0] == fibre


def test_chief_fibre_says_why():
    assert "section XI note 2" in chief_fibre("54% cotton, 36% polyester, 10% spandex")[1]
    assert "last" in chief_fibre("50% cotton and 50% polyester")[1]


# --- the reading -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, headings", [
    ("boys T-shirts made of 50% cotton and 50% polyester, finely knit jersey fabric", ("6109",)),
    ("mens all-white T-shirts constructed from 100% cotton", ("6109",)),      # T-shirts are knitted only
    ("a girls cardigan style sweater made of knit man-made fabric", ("6110",)),
    ("men's knit sweaters made of 100% cotton", ("6110",)),
    ("a women's knit vest of 100% polyester", ("6110",)),
    ("a women's knit cape made from 100% wool", ("6102",)),
    ("men's woven wool overcoats", ("6201",)),
    ("a knitted women's swim bottom of 54% cotton, 36% polyester and 10% spandex", ("6112",)),
    ("men's woven board shorts", ("6211",)),
    ("boys' knit overall and boys' knit shortall made from 100% cotton fabric", ("6103",)),
    ("men's dress shirts of 100% cotton, woven", ("6205",)),
    ("Ladies' cotton pajamas, woven", ("6208",)),
    ("babies' knit cotton rompers", ("6111",)),
    ("infant sleepers of 100% cotton, knitted", ("6111",)),              # babies' before pyjamas
    ("women's dresses of woven silk", ("6204",)),
    ("cotton socks", ("6115",)),
    ("a women's sports bra of nylon and spandex", ("6212",)),
    ("women's knit bikini bottoms of 82% nylon 18% spandex", ("6112",)),
    ("Cotton bikini briefs for women, knit", ("6108",)),          # underwear, not swimwear
    ("women's woven pajama pants of 100% cotton flannel", ("6208",)),  # pajama pants are pyjamas
    ("men's knit cardigan made from cotton and nylon", ("6110",)),
    # open choices the ranker settles: construction unknown, gender unknown, a bare jacket
    ("a women's coat made of 100% wool", ("6102", "6202")),
    ("cotton shirts, knitted", ("6105", "6106")),
    ("men's knit jackets of polyester", ("6103", "6101")),
])
def test_reading_headings(text, headings):
    assert set(read(text).headings) == set(headings)


@pytest.mark.parametrize("text", [
    "organic cotton tote bags", "cotton swabs", "knitted fabric of cotton, 180 g/m2",
    "100% cotton yarn for knitting sweaters", "sweater storage bags", "shirt buttons",
    "T-shirt printing machines", "men's leather dress shoes", "Butt welding elbows and tees",
    "nylon cable ties", "dog sweaters of acrylic", "doll clothes: knit dresses",
    "Halloween costume, polyester", "women's leather jackets", "nitrile gloves", "latex gloves",
    "disposable isolation gowns of nonwoven polypropylene", "men's rain jackets of coated nylon",
    "incontinence briefs", "Skim coat and wall texture compounds", "UV gel top coat",
    "garden hoses with brass couplings", "dress forms for tailors", "shirt collar stays",
    "exfoliating sugar scrubs", "safety vests, reflective", "life jackets",
])
def test_non_garment_texts_read_no_heading(text):
    assert read(text).headings == ()


def test_several_garment_families_name_no_one_heading():
    assert read("T-shirts, hoodies and jeans").headings == ()
    assert read("a girl's knit ensemble consisting of a jacket and trousers").headings == ("6104",)


# --- subheadings read from the nomenclature ---------------------------------------------------------
@pytest.mark.parametrize("heading, term, sex, fibre, text, want", [
    ("6109", "t-shirts", "men", "synthetic", "", "610990"),   # "other than cotton"
    ("6109", "t-shirts", "", "cotton", "", "610910"),
    ("6110", "", "men", "cotton", "", "611020"),
    ("6110", "", "women", "man_made", "", "611030"),           # "of man-made fibres" takes both kinds
    ("6110", "", "", "wool", "women's cashmere sweater", "611012"),
    ("6110", "", "", "wool", "mohair cardigan", "611019"),
    ("6110", "", "", "wool", "men's wool pullover", "611011"),
    ("6110", "", "", "veg_fibre", "linen sweater", "611090"),  # no sibling names linen: the residual
    ("6112", "swimwear", "women", "cotton", "", "611249"),    # "other than synthetic fibres"
    ("6112", "swimwear", "men", "synthetic", "", "611231"),
    ("6112", "swimwear", "", "synthetic", "", None),           # gender not said: the picker decides
    ("6112", "swimwear", "women", "synthetic", "unisex", "611241"),
    ("6103", "trousers", "men", "cotton", "", "610342"),
    ("6103", "ensembles", "men", "synthetic", "", "610323"),
    ("6103", "suits", "men", None, "", "610310"),              # the only suits subheading
    ("6104", "dresses", "women", "artificial", "", "610444"),
    ("6104", "dresses", "women", "man_made", "", None),        # synthetic or artificial: not said
    ("6102", "coat", "women", "wool", "", "610210"),
    ("6101", "coat", "men", "wool", "", "610190"),             # "n.e.c. in heading 6101"
    ("6204", "skirts", "women", "silk", "", "620459"),         # "n.e.c. in item no. 6204.5"
    ("6211", "swimwear", "women", None, "", "621112"),
    ("6216", "", "", None, "", "621600"),
    ("6110", "", "men", None, "", None),                       # no fibre: undecided
])
def test_subheading_read_from_the_nomenclature(heading, term, sex, fibre, text, want):
    got, why = subheading_for(heading, term, sex, fibre, text)
    assert got == want
    if got:
        assert got[:4] == heading and is_valid(got) and why


def test_subheading_within_the_garment_group_of_an_anchor():
    # the ranker chose 6103.22 (ensembles of cotton); the fibre read is synthetic
    assert subheading_for("6103", fibre="synthetic", anchor="610322")[0] == "610323"
    assert subheading_for("6104", fibre="cotton", anchor="610463")[0] == "610462"


# --- the rule after ranking ---------------------------------------------------------------------------
class _FakeHinter:
    """Enough of Hinter for apply_to_hints: ``index.head_pos`` and ``_hint``."""
    uncertain_below = 0.5
    index = SimpleNamespace(head_pos={})
    _hint = Hinter._hint


def _hints(*pairs, method="ranker"):
    h = _FakeHinter()
    return [h._hint(code, p, method, "test") for code, p in pairs]


def test_rule_puts_a_heading_the_reading_decides_first_with_its_subheading():
    text = "men's knit sweaters made of 100% cotton"
    hints = _hints(("610510", 0.55), ("611030", 0.2), ("620322", 0.1))
    out = apparel.apply_to_hints(text, hints, None, None, _FakeHinter())
    assert [x["hs6"] for x in out] == ["611020", "610510", "620322"]
    assert out[0]["method"] == "apparel" and out[0]["confidence"] == pytest.approx(apparel.RULE_CONFIDENCE)
    assert "heading 6110" in out[0]["explanation"] and "Jerseys, pullovers" in out[0]["explanation"]
    assert "'sweaters'" in out[0]["explanation"] and "cotton" in out[0]["explanation"]
    assert len(out) == len(hints)


def test_rule_corrects_the_subheading_of_the_right_heading():
    text = "a knitted women's swim bottom made of 54% cotton, 36% polyester, and 10% spandex"
    hints = _hints(("611241", 0.8), ("621112", 0.1))
    out = apparel.apply_to_hints(text, hints, None, None, _FakeHinter())
    assert out[0]["hs6"] == "611249" and out[0]["confidence"] == pytest.approx(0.8)
    assert "section XI note 2" in out[0]["explanation"]
    assert out[1] == hints[1]


def test_rule_with_only_a_fibre_resets_the_subheading_under_a_garment_heading_only():
    text = "polyester tops, 100% polyester"
    under_garment = _hints(("610610", 0.6), ("610910", 0.2))
    out = apparel.apply_to_hints(text, under_garment, None, None, _FakeHinter())
    assert out[0]["hs6"] == "610620" and out[1] == under_garment[1]
    not_garment = _hints(("420222", 0.6), ("610910", 0.2))
    assert apparel.apply_to_hints(text, not_garment, None, None, _FakeHinter()) is not_garment


def test_rule_leaves_open_choices_to_the_ranker_and_code_in_text_alone():
    # knitted or woven unknown and no ranker candidates given: nothing to choose with
    hints = _hints(("620220", 0.5), ("610210", 0.3))
    out = apparel.apply_to_hints("a women's coat made of 100% wool", hints, None, None, _FakeHinter())
    assert out is hints
    written = _hints(("610990", 0.95), method="code-in-text")
    assert apparel.apply_to_hints("men's knit sweaters, HTS 6109.90", written, None, None,
                                  _FakeHinter()) is written
    plain = _hints(("420222", 0.6))
    assert apparel.apply_to_hints("organic cotton tote bags", plain, None, None, _FakeHinter()) is plain


@pytest.fixture(scope="module")
def hinter():
    pytest.importorskip("sentence_transformers")
    from nlp.hs.hinter import get_hinter

    return get_hinter()


def test_hinter_applies_the_rule(hinter):
    hints = hinter.hint(["men's knit sweaters made of 100% cotton from Hong Kong",
                         "stainless steel kitchen sinks"], top=3, register="customs")
    assert hints[0][0]["hs6"] == "611020" and hints[0][0]["method"] == "apparel"
    assert all(x["method"] != "apparel" for x in hints[1])


def test_an_open_choice_only_sets_the_subheading_of_a_garment_heading_the_ranker_rates():
    # knitted or woven unknown: the ranker's 6202 stays first and gets the wool subheading
    hints = _hints(("620240", 0.5), ("610210", 0.3), ("510710", 0.1))
    out = apparel.apply_to_hints("a women's coat made of 100% wool", hints, None, None, _FakeHinter())
    assert [x["hs6"] for x in out] == ["620220", "610210", "510710"]
    assert out[0]["confidence"] == pytest.approx(0.5) and out[0]["method"] == "apparel"
    # no garment heading in the first three hints: a "coat" is left to the ranker
    paint = _hints(("320890", 0.6), ("320910", 0.2), ("321490", 0.1), ("620240", 0.05))
    assert apparel.apply_to_hints("anti-graffiti coat for walls", paint, None, None, _FakeHinter()) is paint
