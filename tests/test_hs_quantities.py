"""Quantities with units in product text and the ranges HS subheading texts set on them
(``nlp/hs/quantities.py``): units normalised, numbers read the way product text writes them,
ranges read from the nomenclature's own wording, and the agreement the subheading picker reads."""

from __future__ import annotations

import math

import pytest

from nlp.hs import nomenclature
from nlp.hs.quantities import Bound, Quantity, agreement, parse_number, read_bounds, read_quantities


def values(text, kind=None):
    return [q.value for q in read_quantities(text) if kind is None or q.kind == kind]


def bounds(description):
    return {(b.kind, b.dim): (b.lo, b.hi) for b in read_bounds(description)}


# --- numbers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("written, value", [
    ("1,500", 1500.0), ("1,500.5", 1500.5), ("0,5", 0.5), ("2.75", 2.75), ("3/4", 0.75),
    ("1-1/2", 1.5), ("1 1/2", 1.5), ("12,000,000", 12e6),
])
def test_numbers_as_product_text_writes_them(written, value):
    assert parse_number(written) == pytest.approx(value)


def test_a_zero_denominator_is_an_error_not_a_number():
    with pytest.raises(ValueError):
        parse_number("3/0")


# --- quantities in product text -------------------------------------------------------------------
@pytest.mark.parametrize("text, kind, expected", [
    ("a Short Block for a 1,500 cc gasoline engine", "volume", [1500.0]),
    ("2 Ton hoist", "mass", [2 * 907.18]),
    ("a capacity of up to 120 kg", "mass", [120.0]),
    ("3/4 HP sump pump", "power", [0.75 * 745.7]),
    ("50 kVA diesel generating set", "apparent power", [50e3]),
    ("4.7GB recordable discs", "data", [4.7e9]),
    ("800 mm conveyor belt", "length", [800.0]),
    ("1.5 kW motor", "power", [1500.0]),
    ("2 litre bottles", "volume", [2000.0]),
    ("0,5 l cans", "volume", [500.0]),
    ("25 gsm meltblown", "grammage", [25.0]),
    ("12 oz/yd2 canvas", "grammage", [12 * 33.906]),
    ("charger, 12 Volt", "voltage", [12.0]),
    ("cables under 600V", "voltage", [600.0]),
    ("167 dtex yarn", "linear density", [167.0]),
    ("5-inch shaft", "length", [127.0]),
])
def test_quantities_in_base_units(text, kind, expected):
    assert values(text, kind) == pytest.approx(expected)


def test_a_unit_written_once_serves_a_run_of_numbers():
    assert values("measures 26.2 X 27 X 5.3 cm", "length") == pytest.approx([262.0, 270.0, 53.0])
    assert values("hogs, 250-280 lb finish weight", "mass") == pytest.approx([250 * 0.45359, 280 * 0.45359])
    assert values("tanks 50 to 300 liters", "volume") == pytest.approx([50e3, 300e3])
    assert values("for use in 50/60 Hz networks", "frequency") == [50.0, 60.0]  # two numbers, not 5/6


def test_what_a_length_or_a_share_measures():
    q = read_quantities("steel sheet 1.5mm thick, 1250 mm wide")
    assert [(x.value, x.dim) for x in q] == [(1.5, "thickness"), (1250.0, "width")]
    q = read_quantities("belting of a 70% polyester/30% nylon blend")
    assert [(x.value, x.dim) for x in q] == [(70.0, "polyester"), (30.0, "nylon")]


@pytest.mark.parametrize("text", [
    "model 3000, 12 pieces, 4 wheels",       # bare numbers
    "Chromoly 300M axle shafts",             # a steel grade, not 300 metres
    "5A fuse holder, part 10T",              # letters that are units only in another case
    "12 in a box",                           # "in" is no unit
    "", "no numbers at all",
])
def test_no_quantity_where_there_is_none(text):
    assert read_quantities(text) == []


# --- ranges in the nomenclature -----------------------------------------------------------------
def test_ranges_read_from_wording():
    assert bounds("Electric motors; AC motors, multi-phase, of an output exceeding 750W but not exceeding 75kW") == \
        {("power", None): (750.0, 75000.0)}
    # the unit written only on the second number serves the first
    assert bounds("Vehicles; spark-ignition engine, cylinder capacity over 1000 but not over 1500cc") == \
        {("volume", None): (1000.0, 1500.0)}
    assert bounds("Fabrics, woven; containing 85% or more by weight of cotton, weighing more than 100g/m2 "
                  "but not more than 200g/m2") == {("percent", "cotton"): (85.0, math.inf),
                                                    ("grammage", None): (100.0, 200.0)}
    assert bounds("Plywood; each ply 6mm or thinner") == {("length", "thickness"): (-math.inf, 6.0)}
    assert bounds("Steel; flat-rolled, of a width 600mm or more, of a thickness of less than 3mm") == \
        {("length", "width"): (600.0, math.inf), ("length", "thickness"): (-math.inf, 3.0)}
    assert bounds("Electrical apparatus; fuses, for a voltage exceeding 1000 volts") == {("voltage", None): (1000.0, math.inf)}
    assert bounds("Antiques; of an age exceeding 100 years but not exceeding 250 years") == {("age", None): (100.0, 250.0)}
    assert bounds("Juice; orange, of a Brix value not exceeding 20, unfermented") == {("brix", None): (-math.inf, 20.0)}
    assert bounds("Photographic plates; with no side exceeding 255mm") == {("length", None): (-math.inf, 255.0)}


def test_code_references_are_no_ranges():
    assert read_bounds("Automatic data processing machines; n.e.c. in item no. 8471.30 or 8471.41") == []
    assert read_bounds("Parts suitable for the machines of headings 8456 to 8465") == []
    assert read_bounds("Electric motors; AC motors, single-phase") == []


def test_the_nomenclature_is_read_not_listed():
    """Ranges come from the texts: many subheadings carry one, and each interval is a real one."""
    found = {s["code"]: read_bounds(s["description"]) for s in nomenclature.subheadings()}
    with_range = [c for c, b in found.items() if b]
    assert len(with_range) > 600
    assert all(b.lo < b.hi for bs in found.values() for b in bs)
    assert {b.kind for bs in found.values() for b in bs} >= {"power", "apparent power", "voltage", "mass", "volume",
                                                             "length", "percent", "grammage", "linear density"}


# --- agreement ----------------------------------------------------------------------------------
def test_agreement():
    rng = [Bound("power", 750.0, 75000.0)]
    assert agreement([Quantity("power", 5500.0)], rng) == 1.0
    assert agreement([Quantity("power", 200000.0)], rng) == -1.0
    assert agreement([Quantity("mass", 3.0)], rng) == 0.0          # nothing in common: no evidence
    assert agreement([], rng) == 0.0
    assert agreement([Quantity("power", 500.0), Quantity("power", 5500.0)], rng) == 1.0  # one inside is enough
    two = [Bound("power", 750.0, 75000.0), Bound("voltage", 1000.0, math.inf)]
    assert agreement([Quantity("power", 5500.0), Quantity("voltage", 10.0)], two) == -1.0


def test_agreement_compares_like_dimensions():
    steel = read_bounds("Steel; flat-rolled, of a width 600mm or more, of a thickness of less than 3mm")
    assert agreement(read_quantities("coil 1.5mm thick, 1250 mm wide"), steel) == 1.0
    assert agreement(read_quantities("coil 4 mm thick, 1250 mm wide"), steel) == -1.0
    cotton = read_bounds("Fabrics, woven; containing 85% or more by weight of cotton")
    assert agreement(read_quantities("65% cotton / 35% polyester twill"), cotton) == -1.0
    assert agreement(read_quantities("100% cotton twill"), cotton) == 1.0
    assert agreement(read_quantities("100% polyester twill"), cotton) == 0.0   # says nothing of cotton


def test_a_range_the_subheading_excludes_is_read_as_excluded():
    (b,) = read_bounds("Plastics; self-adhesive tape, other than in rolls of a width not exceeding 20cm")
    assert b.negated and not b.holds(50.0) and b.holds(300.0)
    assert agreement(read_quantities("tape in rolls 2 inch wide"), [b]) == -1.0
    # a bracket or comma closes the exclusion: "other than MDF" says nothing of the density
    (b,) = read_bounds("Fibreboard (other than MDF) of a density exceeding 0.8g/cm3")
    assert not b.negated
    (b,) = read_bounds("Rubber; V-belts, other than V-ribbed, of an outside circumference exceeding 60cm but not exceeding 180 cm")
    assert not b.negated and (b.lo, b.hi) == (600.0, 1800.0)


def test_compound_units():
    assert bounds("Fibreboard (other than MDF) of a density exceeding 0.8g/cm3") == {("density", None): (0.8, math.inf)}
    assert read_bounds("Polyesters; poly(ethylene terephthalate), having a viscosity number of 78ml/g or higher") == []
    assert values("wind speed 5 m/s, 30 km/h") == []
    assert values("rated 260 lb/120 kg", "mass") == pytest.approx([260 * 0.45359, 120.0])


def test_a_number_on_the_bound_goes_to_the_sibling_that_includes_it():
    light = read_bounds("Unmanned aircraft; maximum take-off weight not more than 250g")
    heavier = read_bounds("Unmanned aircraft; maximum take-off weight more than 250g but not more than 7kg")
    q = read_quantities("camera drone, 250 g")
    assert agreement(q, light) == 1.0 and agreement(q, heavier) == -1.0
    q = read_quantities("camera drone, 0.25 kg")
    assert agreement(q, light) == 1.0 and agreement(q, heavier) == -1.0
    assert agreement(read_quantities("drone, 7 kg"), heavier) == 1.0
    (b,) = read_bounds("Swine; live, weighing less than 50kg")
    assert not b.holds(50.0) and b.holds(49.9)
