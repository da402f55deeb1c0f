"""Sets and kits (nlp/hs/composite.py): the GIR 3(b) rule after ranking.

The reading of the text (``set_components``, ``named_set``) and the decision from the components'
headings (``set_heading``) are pure and tested without the encoder; ``apply_to_hints`` is tested
with a stand-in hinter whose component hints are a word table, so the placement is checked
without the model; one test runs the real hinter end to end.
"""

from __future__ import annotations

import pytest

from nlp.hs import composite
from nlp.hs.composite import apply_to_hints, named_set, set_components, set_heading


# --- reading a set's components ---------------------------------------------------------------
def test_set_components_listed_after_the_marker():
    assert set_components("a 2 Ton Lift Kit consisting of a trolley jack, jack stands, wheel chocks, and a "
                          "carrying bag") == ["trolley jack", "jack stands", "wheel chocks", "carrying bag"]
    assert set_components("Socket set with a ratchet and 20 sockets in a blow-moulded case") == ["ratchet", "sockets"]
    # "such as" introduces the real list; "all made of plastic" and "packaged ..." end it
    assert set_components("a household kit containing various hardware items such as picture hangers, screws, "
                          "hooks, washers, and nails") == ["picture hangers", "screws", "hooks", "washers", "nails"]
    assert set_components("A first aid kit containing bandages, gauze pads and tape, all packed in a nylon "
                          "pouch") == ["bandages", "gauze pads", "tape"]


@pytest.mark.parametrize("text", [
    "Hex set screws of steel",                # "set" is no set here: no list follows
    "a 126 pc. Auto Maintenance Kit",         # a kit that lists nothing
    "Kit containing a wrench",                # one component: nothing to weigh
    "Bolts containing zinc and copper",       # a list but no set word
    "",
])
def test_no_set_components(text):
    assert set_components(text) == []


def test_set_components_are_capped():
    text = "Assortment containing " + ", ".join(f"item{i} widget" for i in range(20)) + " and a box"
    assert len(set_components(text)) == composite.SET_MAX_COMPONENTS


# --- the heading the components say -----------------------------------------------------------
def test_tools_of_two_or_more_of_8202_to_8205_are_heading_8206():
    assert set_heading(["8205", "8203", "8205", "9017"])[0] == "8206"   # hammer, pliers, screwdrivers, tape
    assert set_heading(["8203", "8204"])[0] == "8206"                    # two tools of two headings suffice
    assert "8202 to 8205" in set_heading(["8203", "8204"])[1]


def test_tools_of_one_heading_or_a_minority_of_tools_are_not_8206():
    assert set_heading(["8204", "8204", "7318"])[0] == "8204"            # a socket set: one heading
    assert set_heading(["7616", "8203", "8211", "9609"]) is None         # one tool of 8202-8205 among four
    assert set_heading(["8203", "8205", "8211", "9609", "4202"]) is None  # two of five: not most


def test_essential_character_needs_a_plain_majority():
    assert set_heading(["8425", "8425", "8708", "4202"])[0] == "8425"    # half, including the first
    assert "including the first" in set_heading(["8425", "8425", "8708", "4202"])[1]
    assert set_heading(["3304", "3303", "3304"])[0] == "3304"            # more than half
    assert set_heading(["8708", "8425", "8425", "4202"]) is None         # half, not the first
    assert set_heading(["9405", "8539", "8539", "8536", "9405"]) is None  # split
    # two components: "one of two, the first" is no reading
    assert set_heading(["6205", "6203"]) is None
    assert set_heading(["9405"]) is None


@pytest.mark.parametrize("text, code", [
    ("A first aid kit containing bandages, gauze pads and tape", "3006"),
    ("First-aid kits for vehicles", "3006"),
    ("A travel sewing kit containing needles, threads and buttons", "9605"),
    ("Shoe shine kits", "9605"),
    ("A manicure set containing nail clippers, a nail file and scissors", "8214"),
    ("Pedicure kit with toenail nippers and a foot file", "8214"),
    ("A geometry set containing a compass, protractor and a ruler", "9017"),
    ("Watercolor paint sets for students", "3213"),
    ("Needlepoint kits with hand-painted canvas and wool yarn", "6308"),
])
def test_sets_the_nomenclature_names(text, code):
    assert named_set(text)[0] == code


@pytest.mark.parametrize("text", [
    "Machine embroidery thread kits, 40 wt",   # thread, not fabric and yarn for making up
    "Travel mugs of stainless steel",          # no set word
    "First aid training courses",              # no set word
    "A luggage set of three trolley suitcases",
])
def test_no_named_set(text):
    assert named_set(text) is None


# --- the rule on a stand-in hinter ------------------------------------------------------------
class _StandIn:
    """A hinter whose component hints come from a word table; ``index`` and ``_hint`` as the real one."""

    class _Index:
        head_codes = ["8425", "8427", "8708", "4202", "8206", "8205", "8203", "3006"]
        head_pos = {c: i for i, c in enumerate(head_codes)}
        sub_codes = ["842542", "842710", "870899", "420212", "820600", "820510", "820320", "300650"]
        subs_of_head = [[i] for i in range(len(head_codes))]

    def __init__(self, table):
        self.table, self.index, self.calls = table, self._Index(), []

    def hint(self, texts, top=5, register="firm"):
        self.calls.append(list(texts))
        return [[self._hint(self.table[t] + "90", 0.6, "ranker", "")] if t in self.table else [] for t in texts]

    def _hint(self, hs6, conf, method, explanation):
        return {"hs6": hs6, "hs4": hs6[:4], "confidence": round(conf, 4), "method": method,
                "explanation": explanation}


LIFT = "a 2 Ton Lift Kit consisting of a trolley jack, jack stands, wheel chocks, and a carrying bag"
LIFT_TABLE = {"trolley jack": "8425", "jack stands": "8425", "wheel chocks": "8708", "carrying bag": "4202"}


@pytest.fixture()
def no_nomenclature_wording(monkeypatch):
    monkeypatch.setattr(composite, "wording", lambda code, n=80: f"<{code}>")


def test_rule_puts_the_components_heading_first_when_the_ranker_is_below_the_floor(no_nomenclature_wording):
    hinter = _StandIn(LIFT_TABLE)
    hints = [hinter._hint(c + "00", p, "ranker", "") for c, p in (("8427", 0.53), ("8425", 0.08), ("8708", 0.07))]
    out = apply_to_hints(LIFT, hints, None, None, hinter, "customs")
    assert [x["hs4"] for x in out] == ["8425", "8427", "8708"]
    assert out[0]["hs6"] == "842590"  # the essential component's own subheading (the stand-in hints "90")
    assert out[0]["method"] == "gir-3b" and out[0]["confidence"] == pytest.approx(composite.RULE_CONFIDENCE)
    why = out[0]["explanation"]
    assert "trolley jack -> 8425" in why and "carrying bag -> 4202" in why and "GIR 3(b)" in why
    assert hinter.calls == [["trolley jack", "jack stands", "wheel chocks", "carrying bag"]]


def test_rule_brings_a_missing_heading_into_the_top_three(no_nomenclature_wording):
    hinter = _StandIn({"hammer": "8205", "pliers": "8203", "drivers": "8708"})
    hints = [hinter._hint(c + "00", p, "ranker", "") for c, p in
             (("8205", 0.9), ("8427", 0.8), ("8708", 0.75), ("4202", 0.1))]
    out = apply_to_hints("Household tool sets with hammer, pliers and drivers", hints, None, None, hinter)
    codes = [x["hs4"] for x in out]
    assert len(out) == len(hints) and codes[2] == "8206" and "placed here by the rule" in out[2]["explanation"]


def test_rule_leaves_hints_alone_when_it_has_nothing_to_say(no_nomenclature_wording):
    hinter = _StandIn(LIFT_TABLE)
    hints = [hinter._hint("842700", 0.53, "ranker", "")]
    # no set; a split list; a code written in the text; the heading already first
    assert apply_to_hints("Fork-lift trucks", hints, None, None, hinter) is hints
    assert apply_to_hints("a kit containing a trolley jack, wheel chocks and a carrying bag", hints, None, None,
                          hinter) is hints
    written = [hinter._hint("842700", 0.95, "code-in-text", "")]
    assert apply_to_hints(LIFT, written, None, None, hinter) is written
    first = [hinter._hint("842500", 0.8, "ranker", "")]
    assert apply_to_hints(LIFT, first, None, None, hinter) is first
    # a component the hinter cannot hint: no reading
    assert apply_to_hints("a kit containing a trolley jack, a zzqx and a carrying bag", hints, None, None,
                          hinter) is hints


def test_named_set_needs_no_component_hints(no_nomenclature_wording):
    hinter = _StandIn({})
    hints = [hinter._hint(c + "00", p, "ranker", "") for c, p in (("4202", 0.4), ("8205", 0.2), ("8203", 0.1))]
    out = apply_to_hints("A first aid kit containing bandages, gauze pads and tape", hints, None, None, hinter)
    assert out[0]["hs4"] == "3006" and "nomenclature names" in out[0]["explanation"] and hinter.calls == []


# --- end to end, the real hinter -------------------------------------------------------------
def test_real_hinter_reads_a_tool_set():
    pytest.importorskip("sentence_transformers")
    from nlp.hs.hinter import get_hinter

    hints = get_hinter().hint(["A kit containing a claw hammer, slip-joint pliers, adjustable wrenches and a "
                               "tape measure"], top=5, register="customs")[0]
    assert "8206" in [x["hs4"] for x in hints[:3]]
    confs = [x["confidence"] for x in hints]
    assert confs == sorted(confs, reverse=True)


def test_components_of_a_block_hinted_together_give_each_text_its_own_hints():
    """The hinter hints every set text's components in one call; a text in a block must get the
    hints it gets alone (the components are sliced back to their own text, in order)."""
    pytest.importorskip("sentence_transformers")
    from nlp.hs.hinter import get_hinter

    texts = ["A kit containing a claw hammer, slip-joint pliers, adjustable wrenches and a tape measure",
             "Stainless steel hex bolts",
             "A gift set containing a nail file, tweezers, cuticle scissors and nail clippers",
             "A set consisting of a saucepan, a stockpot and a frying pan of aluminium"]
    h = get_hinter()
    together = h.hint(texts, register="customs")
    alone = [h.hint([t], register="customs")[0] for t in texts]
    assert together == alone
    assert any(x["method"] == "gir-3b" for hints in together for x in hints)
