"""The parts reader (``nlp.hs.parts``): which whole a text's part belongs to, and when a text
names no part at all. The subheading picker's ``part`` feature rests on it."""

import pytest

from nlp.hs.parts import parts_cue


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

