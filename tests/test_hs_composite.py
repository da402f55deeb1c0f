"""Composite goods (nlp/hs/composite.py): parts of machines and vehicles, sets and kits.

The reading of the text (``parts_cue``, ``set_components``) and the parts map read from the
nomenclature (``parts_heading_map``) are pure and tested here without the encoder; ``analyse``
is tested on a tiny stand-in index whose "encoder" is a bag of words, so the feature arithmetic
is checked without the model.
"""

from __future__ import annotations

import numpy as np
import pytest

from nlp.hs import composite
from nlp.hs.composite import ACTIVE_FEATURES, COMPOSITE_FEATURES, Composite, analyse, parts_cue, parts_heading_map, set_components
from nlp.hs.rules import RULE_FEATURES


# --- the parts map, from the nomenclature's own texts -----------------------------------------
@pytest.mark.parametrize("machine, parts", [
    ("8430", "8431"), ("8425", "8431"),          # lifting, excavating machinery -> 8431
    ("8407", "8409"), ("8408", "8409"),          # engines -> 8409
    ("8456", "8466"), ("8465", "8466"),          # machine tools -> 8466
    ("8471", "8473"),                            # computers -> 8473
    ("8444", "8448"), ("8447", "8448"),          # textile machinery -> 8448
    ("8501", "8503"), ("8502", "8503"),          # motors, generating sets -> 8503
    ("8519", "8522"), ("8528", "8529"), ("8536", "8538"),
    ("8701", "8708"), ("8704", "8708"),          # motor vehicles -> 8708
    ("8711", "8714"), ("8712", "8714"),
    ("8802", "8807"), ("8806", "8807"),          # aircraft, drones -> 8807
    ("9303", "9305"), ("6601", "6603"),
])
def test_parts_heading_read_from_the_nomenclature(machine, parts):
    assert parts_heading_map()[machine] == parts


@pytest.mark.parametrize("heading", ["8450", "8413", "8481", "8482", "8483", "8433", "8607", "9401", "8442"])
def test_heading_that_provides_for_its_own_parts_keeps_them(heading):
    # 8450.90 parts of washing machines, 8481.90 parts of valves, 8442.40 (not 8443, which names
    # heading 84.42 only as "printing components of heading 84.42")
    assert parts_heading_map()[heading] == heading


def test_exclusions_name_no_whole():
    # 9615 hair curlers "other than those of heading no. 8516 and parts thereof": 8516 keeps its own
    assert parts_heading_map().get("8516") == "8516"
    assert parts_heading_map().get("8516") != "9615"


# --- reading a part and its whole -------------------------------------------------------------
@pytest.mark.parametrize("text, whole, explicit", [
    ("a snow blower part consisting of a tub/hub portion and two grooved pulleys of steel", "snow blower", True),
    ("Parts for tractors", "tractors", True),
    ("Forklift parts", "forklift", True),
    ("washing machine parts including a tub and a spinner assembly", "washing machine", True),
    ("Plastic parts of lamps", "lamps", True),
    ("spare parts for the engines of marine outboard motors", "engines", True),
    ("a long block component of a spark-ignition piston engine designed for campers",
     "spark-ignition piston engine", True),
    ("galvanized cable used in the automotive industry as part of a brake assembly", "brake assembly", True),
    ("Steel buckets used in hydraulic excavators", "hydraulic excavators", False),
])
def test_parts_cue_finds_the_whole(text, whole, explicit):
    cue = parts_cue(text)
    assert cue is not None and cue.whole == whole and cue.explicit is explicit


@pytest.mark.parametrize("text", [
    "two-part epoxy adhesive", "Lubricant, 50 parts per million of zinc", "Replacement part number 4471-A",
    "Plastic parts", "a toilet flushing device and related parts", "Stainless steel bolts", "",
    "Film used for the machine",
    "Rugged laptops for field crews",            # a plain "for" names the market, not a whole
    "Disc brake pads for passenger cars",        # (the parts heading is the encoder's to find here)
    "split plastic film used for agricultural purposes",   # a use, not a whole
    "an ultraviolet light absorber used in the manufacture of plastics",
])
def test_no_parts_cue(text):
    assert parts_cue(text) is None


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


# --- analyse: the features on a tiny index with a bag-of-words "encoder" -----------------------
class _BowEncoder:
    """Stand-in encoder: one dimension per vocabulary word, L2-normalised."""

    def __init__(self, vocab):
        self.vocab = {w: i for i, w in enumerate(vocab)}

    def encode(self, texts):
        out = np.zeros((len(texts), len(self.vocab)), dtype=np.float32)
        for r, t in enumerate(texts):
            for w in t.lower().replace(",", " ").split():
                w = w.rstrip("s")
                if w in self.vocab:
                    out[r, self.vocab[w]] = 1.0
        n = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(n > 0, n, 1.0)


class _TinyIndex:
    """Headings with one word each (and one subheading each, its own text)."""

    def __init__(self, words_by_code, encoder):
        self.head_codes = list(words_by_code)
        self.head_pos = {c: i for i, c in enumerate(self.head_codes)}
        self.E_head = encoder.encode(list(words_by_code.values()))
        self.E_sub = self.E_head.copy()
        self.sub_start = np.arange(len(self.head_codes))


@pytest.fixture()
def tiny(monkeypatch):
    heads = {"8430": "snowblower", "8431": "excavator bucket", "8483": "pulley", "8450": "washer",
             "8202": "saw", "8203": "plier", "8205": "hammer", "8206": "toolset", "9405": "lamp",
             "8539": "bulb", "9620": "stand", "4202": "bag"}
    vocab = sorted({w for v in heads.values() for w in v.split()})
    enc = _BowEncoder(vocab)
    import nlp.hs.encoder as encoder_mod

    monkeypatch.setattr(encoder_mod, "get_encoder", lambda: enc)
    return _TinyIndex(heads, enc)


def test_parts_of_points_to_the_parts_heading_and_away_from_the_whole(tiny):
    texts = ["a snowblower part of steel", "pulleys of steel"]
    cand = np.zeros((2, len(tiny.head_codes)), dtype=bool)
    comp = analyse(tiny, texts, cand)
    p, w = tiny.head_pos["8431"], tiny.head_pos["8430"]
    assert cand[0, p] and not cand[1].any()  # the parts heading became a candidate; no cue, nothing
    cols = comp.columns(np.array([0, 0, 1]), np.array([p, w, p]))
    assert cols[0, 0] == pytest.approx(1.0, abs=0.01)   # 8431: the parts heading of 8430
    assert cols[1, 0] == pytest.approx(-1.0, abs=0.01)  # 8430 itself: its parts go elsewhere
    assert cols[2, 0] == 0.0                              # a text with no parts cue


def test_own_parts_heading_is_not_penalised(tiny):
    cand = np.zeros((1, len(tiny.head_codes)), dtype=bool)
    comp = analyse(tiny, ["washer parts including a tub"], cand)
    h = tiny.head_pos["8450"]
    assert cand[0, h] and comp.columns(np.array([0]), np.array([h]))[0, 0] > 0.9


def test_set_share_first_component_and_the_tool_set_heading(tiny):
    texts = ["tool kit containing a saw, two pliers and a hammer",
             "a photo kit consisting of a lamp, two bulbs, a stand and a bag"]
    cand = np.zeros((2, len(tiny.head_codes)), dtype=bool)
    comp = analyse(tiny, texts, cand)
    pos = tiny.head_pos
    rows = np.array([0, 0, 0, 1, 1, 1])
    heads = np.array([pos["8206"], pos["8202"], pos["9405"], pos["9405"], pos["8539"], pos["4202"]])
    cols = comp.columns(rows, heads)
    share, first = COMPOSITE_FEATURES.index("set_share"), COMPOSITE_FEATURES.index("set_first")
    # three tools of three headings among 8202-8205: 8206 holds all three, and the first is a tool
    assert cols[0, share] == pytest.approx(1.0) and cols[0, first] == 1.0
    # the saw's own heading: one of three, plus half credit for two more tools of chapter 82
    assert cols[1, share] == pytest.approx(1 / 3 + 0.5 * 2 / 3) and cols[1, first] == 1.0
    assert cols[2, share] == 0.0
    # the lamp kit: the lamp is first; each of four components holds a quarter
    assert cols[3, first] == 1.0 and cols[3, share] == pytest.approx(0.25)
    assert cols[4, first] == 0.0 and cols[4, share] == pytest.approx(0.25)
    assert cand[1, pos["4202"]] and cand[0, pos["8206"]]


def test_one_tool_heading_alone_is_no_tool_set(tiny):
    comp = analyse(tiny, ["kit containing two saws and a saw"], None)
    assert tiny.head_pos["8206"] not in comp.values[COMPOSITE_FEATURES.index("set_share")][0]


# --- the columns the ranker would read --------------------------------------------------------
def test_columns_pick_the_active_features_and_zeros_without_analysis():
    comp = Composite(1, [[{1: 0.5}], [{1: 0.25}], [{1: 1.0}]])
    X = composite.columns(comp, np.array([0, 0]), np.array([0, 1]))
    full = dict(zip(COMPOSITE_FEATURES, [0.5, 0.25, 1.0]))
    assert X.shape == (2, len(ACTIVE_FEATURES))
    assert X[1].tolist() == [full[f] for f in ACTIVE_FEATURES] and X[0].tolist() == [0.0] * len(ACTIVE_FEATURES)
    assert composite.columns(None, np.array([0]), np.array([0])).tolist() == [[0.0] * len(ACTIVE_FEATURES)]


def test_not_wired_into_the_shipped_ranker():
    # measured and left out (docs/nlp.md, "Parts and sets"): the shipped model's inputs are unchanged
    assert not set(COMPOSITE_FEATURES) & set(RULE_FEATURES)
