"""Quantities with units in product text, and the ranges HS subheading texts set on them.

Why: many HS 2022 subheadings split a heading on a number: cylinder capacity ("over 1000 but not
over 1500cc"), output ("exceeding 75kVA but not exceeding 375kVA"), weight ("weighing not more
than 10kg"), voltage ("for a voltage exceeding 1000 volts"), grammage, thickness ("each ply 6mm or
thinner"), yarn count ("measuring 714.29 decitex or more"), per cent by weight ("containing 85% or
more by weight of cotton"), age ("of an age exceeding 100 years"). A text that states the number
("a 1,500 cc gasoline engine", "3/4 HP", "capacity of up to 120 kg") then rules siblings in or
out, which no word similarity can do. This module reads both sides into one base unit per kind:

* ``read_quantities(text)``: every number with a unit, normalised ("3/4 HP" -> power 559.3 W,
  "26.2 X 27 X 5.3 cm" -> three lengths in mm, "250-280 lb" -> two masses in kg), with the
  dimension it measures when the text says ("1.5 mm thick", "width of 1250 mm", "70% polyester");
* ``read_bounds(description)``: the intervals a subheading's text sets, read from the wording
  of the nomenclature itself (no list of codes): lower words ("exceeding", "over", "more than",
  "X or more"), upper words ("not exceeding", "not over", "less than", "X or less", "X or
  thinner"), "but" joining two bounds on one quantity, a unit written only on the last number
  ("over 1000 but not over 1500cc") carried to the first;
* ``agreement(quantities, bounds)``: +1 when the text measures what the subheading bounds and a
  value lies inside, -1 when it measures it and every value lies outside, 0 when it does not
  measure it (no evidence).

Strict and non-strict words are told apart ("exceeding 250g" leaves 250 g to its sibling "not
exceeding 250g"): a product text's round number often sits exactly on the nomenclature's bound.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# unit (lower case) -> (kind, factor to the kind's base unit). Base units: W, VA, V, kg, g/m2, %,
# cm3, mm, Hz, decitex, years, Pa, N, bytes, A, kvar, g/cm3, degrees Brix.
UNITS: dict[str, tuple[str, float]] = {
    "w": ("power", 1.0), "watt": ("power", 1.0), "watts": ("power", 1.0), "kw": ("power", 1e3),
    "kilowatt": ("power", 1e3), "kilowatts": ("power", 1e3), "mw": ("power", 1e6),
    "megawatt": ("power", 1e6), "megawatts": ("power", 1e6), "hp": ("power", 745.7),
    "bhp": ("power", 745.7), "horsepower": ("power", 745.7), "horse power": ("power", 745.7),
    "va": ("apparent power", 1.0), "kva": ("apparent power", 1e3), "mva": ("apparent power", 1e6),
    "kvar": ("reactive power", 1.0), "kvar.": ("reactive power", 1.0),
    "v": ("voltage", 1.0), "volt": ("voltage", 1.0), "volts": ("voltage", 1.0), "vac": ("voltage", 1.0),
    "vdc": ("voltage", 1.0), "kv": ("voltage", 1e3), "kilovolt": ("voltage", 1e3), "kilovolts": ("voltage", 1e3),
    "amp": ("current", 1.0), "amps": ("current", 1.0), "ampere": ("current", 1.0), "amperes": ("current", 1.0),
    "mg": ("mass", 1e-6), "cg": ("mass", 1e-5), "g": ("mass", 1e-3), "gram": ("mass", 1e-3),
    "grams": ("mass", 1e-3), "kg": ("mass", 1.0), "kgs": ("mass", 1.0), "kilo": ("mass", 1.0),
    "kilos": ("mass", 1.0), "kilogram": ("mass", 1.0), "kilograms": ("mass", 1.0), "t": ("mass", 1e3),
    "tonne": ("mass", 1e3), "tonnes": ("mass", 1e3), "metric ton": ("mass", 1e3),
    "metric tons": ("mass", 1e3), "mt": ("mass", 1e3), "ton": ("mass", 907.18), "tons": ("mass", 907.18),
    "lb": ("mass", 0.45359), "lbs": ("mass", 0.45359), "pound": ("mass", 0.45359),
    "pounds": ("mass", 0.45359), "oz": ("mass", 0.028350), "ounce": ("mass", 0.028350),
    "ounces": ("mass", 0.028350),
    "g/m2": ("grammage", 1.0), "g/m²": ("grammage", 1.0), "gsm": ("grammage", 1.0),
    "g/sq m": ("grammage", 1.0), "grams per square meter": ("grammage", 1.0),
    "oz/yd2": ("grammage", 33.906), "oz/yd²": ("grammage", 33.906), "oz/sq yd": ("grammage", 33.906),
    "%": ("percent", 1.0), "percent": ("percent", 1.0), "per cent": ("percent", 1.0), "pct": ("percent", 1.0),
    "cc": ("volume", 1.0), "cm3": ("volume", 1.0), "cm³": ("volume", 1.0), "ml": ("volume", 1.0),
    "l": ("volume", 1e3), "liter": ("volume", 1e3), "liters": ("volume", 1e3), "litre": ("volume", 1e3),
    "litres": ("volume", 1e3), "gal": ("volume", 3785.41), "gallon": ("volume", 3785.41),
    "gallons": ("volume", 3785.41), "m3": ("volume", 1e6), "m³": ("volume", 1e6),
    "µm": ("length", 1e-3), "micron": ("length", 1e-3), "microns": ("length", 1e-3),
    "mm": ("length", 1.0), "cm": ("length", 10.0), "m": ("length", 1e3), "meter": ("length", 1e3),
    "meters": ("length", 1e3), "metre": ("length", 1e3), "metres": ("length", 1e3),
    "inch": ("length", 25.4), "inches": ("length", 25.4), '"': ("length", 25.4), "ft": ("length", 304.8),
    "feet": ("length", 304.8), "foot": ("length", 304.8),
    "hz": ("frequency", 1.0), "khz": ("frequency", 1e3), "mhz": ("frequency", 1e6), "ghz": ("frequency", 1e9),
    "decitex": ("linear density", 1.0), "dtex": ("linear density", 1.0), "tex": ("linear density", 10.0),
    "denier": ("linear density", 10 / 9),
    "year": ("age", 1.0), "years": ("age", 1.0),
    "pa": ("pressure", 1.0), "kpa": ("pressure", 1e3), "mpa": ("pressure", 1e6), "bar": ("pressure", 1e5),
    "psi": ("pressure", 6894.76),
    "kn": ("force", 1e3),
    "kb": ("data", 1e3), "mb": ("data", 1e6), "gb": ("data", 1e9), "tb": ("data", 1e12),
    "g/cm3": ("density", 1.0), "g/cm³": ("density", 1.0), "kg/m3": ("density", 1e-3), "kg/m³": ("density", 1e-3),
    "brix": ("brix", 1.0), "°brix": ("brix", 1.0), "° brix": ("brix", 1.0), "degrees brix": ("brix", 1.0),
}
# Units whose letters mean something else in another case: "300M" is a steel grade, not 300
# metres; "5A" a size, "10T" a part number. These count only in the case written here.
EXACT_CASE = {"m": {"m"}, "t": {"t"}, "mt": {"MT", "mt"}, "mb": {"MB"}, "kb": {"KB", "kB"},
              "mw": {"MW"}, "pa": {"Pa"}, "kn": {"kN"}, "l": {"l", "L"}, "v": {"v", "V"}}

_NUM = r"(?:\d+[ -]\d+/\d+|\d+/\d+|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?|\.\d+)"
_UNIT_ALT = "|".join(re.escape(u).replace(r"\ ", r"\s+") for u in sorted(UNITS, key=len, reverse=True))
# A run of numbers sharing the unit written after the last: "26.2 X 27 X 5.3 cm", "250-280 lb",
# "50 to 300 liters", "3/4 HP".
_SEP = r"\s*(?:x|×|\*|-|–|to|or|and|/)\s*"
# A unit is not the numerator of a compound one the table lacks ("78ml/g", "5 m/s").
_QTY = re.compile(r"(?<![\w.,])(" + _NUM + r"(?:" + _SEP + _NUM + r")*)\s*-?\s*(" + _UNIT_ALT + r")(?![\w²³])(?!\s*/\s*[a-zA-Z])", re.I)
_ONE_NUM = re.compile(_NUM)

# Words naming the dimension a length or a share measures.
_DIMS = {"thick": "thickness", "thickness": "thickness", "wide": "width", "width": "width",
         "diameter": "diameter", "dia": "diameter", "long": "length", "length": "length",
         "high": "height", "height": "height", "tall": "height"}
_DIM_BEFORE = re.compile(r"\b(thickness|width|diameter|length|height)\b(?:\s+\w+){0,2}\s*(?:of|:)?\s*$", re.I)
_DIM_AFTER = re.compile(r"^\s*(?:in\s+)?(thick|wide|diameter|dia|long|high|tall)\b", re.I)
# "70% polyester", "85% or more by weight of cotton", "containing by weight 70% or more of petroleum oils"
_SHARE_AFTER = re.compile(r"^\s*(?:(?:or|and)\s+(?:more|less)\s+)?(?:by\s+weight\s+)?(?:of\s+)?([a-z][a-z-]+)", re.I)
_SHARE_SKIP = {"by", "or", "and", "of", "the", "a", "in", "more", "less", "weight", "content", "total",
               "pure", "natural", "new", "recycled", "organic", "min", "max", "minimum", "maximum"}


@dataclass(frozen=True)
class Quantity:
    kind: str           # "power", "mass", "length", ... (UNITS)
    value: float        # in the kind's base unit
    dim: str | None = None  # "thickness", "width", ... for lengths; the substance for a percentage


@dataclass(frozen=True)
class Bound:
    kind: str
    lo: float           # -inf when open
    hi: float           # +inf when open
    dim: str | None = None
    negated: bool = False  # "other than in rolls of a width not exceeding 20cm": outside the interval
    lo_open: bool = False  # "exceeding 250g": 250 g itself is not inside
    hi_open: bool = False  # "less than 50kg": 50 kg itself is not inside

    def holds(self, value: float) -> bool:
        tol = 1e-9 * max(1.0, abs(value))  # "250 g" and "0.25 kg" are one mass
        above = value > self.lo + tol or (not self.lo_open and value >= self.lo - tol)
        below = value < self.hi - tol or (not self.hi_open and value <= self.hi + tol)
        return (above and below) != self.negated


def parse_number(s: str) -> float:
    """"1,500" -> 1500, "0,5" -> 0.5, "3/4" -> 0.75, "1-1/2" and "1 1/2" -> 1.5.

    A comma is a thousands separator when three digits follow it, else a decimal comma.
    """
    s = s.strip()
    m = re.fullmatch(r"(\d+)[ -](\d+)/(\d+)", s)
    if m:
        return int(m.group(1)) + int(m.group(2)) / int(m.group(3))
    m = re.fullmatch(r"(\d+)/(\d+)", s)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        if b == 0:
            raise ValueError(f"not a number: {s!r}")
        return a / b
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", s):
        return float(s.replace(",", ""))
    return float(s.replace(",", "."))


def _unit(written: str) -> tuple[str, float] | None:
    key = re.sub(r"\s+", " ", written.lower())
    if key not in UNITS:
        return None
    if key in EXACT_CASE and written not in EXACT_CASE[key]:
        return None
    return UNITS[key]


_DENOMINATORS = {2, 3, 4, 8, 16, 32, 64}  # "3/4 HP", "5/8 inch"; "50/60 Hz" is two numbers


def _numbers(run: str) -> list[float]:
    """The numbers of a run sharing one unit. A slash between two numbers is a fraction when the
    first is smaller and the second a usual denominator ("3/4"), else two alternatives ("50/60 Hz")."""
    out = []
    for m in _ONE_NUM.finditer(run):
        tok = m.group(0)
        frac = re.fullmatch(r"(\d+)/(\d+)", tok)
        if frac and (int(frac.group(1)) >= int(frac.group(2)) or int(frac.group(2)) not in _DENOMINATORS):
            out += [float(frac.group(1)), float(frac.group(2))]
            continue
        try:
            out.append(parse_number(tok))
        except ValueError:
            continue
    return out


def _dim(text: str, start: int, end: int, kind: str) -> str | None:
    if kind == "length":
        m = _DIM_AFTER.match(text[end:end + 20]) or _DIM_BEFORE.search(text[max(0, start - 40):start])
        return _DIMS[m.group(1).lower()] if m else None
    if kind == "percent":
        m = _SHARE_AFTER.match(text[end:end + 60])
        if m and m.group(1).lower() not in _SHARE_SKIP:
            return _substance(m.group(1))
    return None


def _substance(word: str) -> str:
    w = word.lower()
    return w[:-1] if w.endswith("s") and not w.endswith("ss") and len(w) > 3 else w


def read_quantities(text: str) -> list[Quantity]:
    """Every number with a unit in ``text``, in base units, in text order."""
    out: list[Quantity] = []
    if not text:
        return out
    for m in _QTY.finditer(text):
        unit = _unit(m.group(2))
        if unit is None:
            continue
        kind, factor = unit
        dim = _dim(text, m.start(), m.end(), kind)
        out += [Quantity(kind, v * factor, dim) for v in _numbers(m.group(1))]
    return out


def quantities_by_kind(text: str) -> dict[str, list[float]]:
    """``read_quantities`` as kind -> values (the shape the older feature code reads)."""
    out: dict[str, list[float]] = {}
    for q in read_quantities(text):
        out.setdefault(q.kind, []).append(q.value)
    return out


# --- bounds in the nomenclature -------------------------------------------------------------------
_UPPER_BEFORE = (r"not\s+exceeding|not\s+exceed|not\s+more\s+than|not\s+over|not\s+greater\s+than|"
                 r"less\s+than|under|below|up\s+to|maximum|max\.?|at\s+most|no\s+more\s+than")
_LOWER_BEFORE = (r"exceeding|exceeds|exceed|more\s+than|over|greater\s+than|above|at\s+least|"
                 r"not\s+less\s+than|not\s+under|minimum|min\.?")
_UPPER_AFTER = r"or\s+(?:less|under|thinner|smaller|shorter|lower|below)"
_LOWER_AFTER = r"or\s+(?:more|over|thicker|greater|larger|longer|higher|above)"
_B_NUM = r"(" + _NUM + r")\s*(?:(" + _UNIT_ALT + r")(?![\w²³])(?!\s*/\s*[a-zA-Z]))?"
_BOUND = re.compile(r"\b(?P<before>" + _UPPER_BEFORE + "|" + _LOWER_BEFORE + r")\s+(?:that\s+of\s+|a\s+|an\s+)?"
                    + _B_NUM.replace("(", "(?P<n1>", 1).replace("(?:(", "(?:(?P<u1>", 1)
                    + r"|(?<![\w.,/])" + _B_NUM.replace("(", "(?P<n2>", 1).replace("(?:(", "(?:(?P<u2>", 1)
                    + r"\s*(?P<after>" + _UPPER_AFTER + "|" + _LOWER_AFTER + r")\b", re.I)
_IS_UPPER = re.compile(r"^(?:" + _UPPER_BEFORE + "|" + _UPPER_AFTER + r")$", re.I)
# Bounds that leave their own number out: "exceeding 250g" against "not exceeding 250g".
_IS_STRICT = re.compile(r"^(?:less than|under|below|exceeding|exceeds|exceed|more than|over|greater than|above)$", re.I)
# A number without a unit takes the unit of the next bound in the same clause ("over 1000 but not
# over 1500cc"), or one a word before it names ("Brix value not exceeding 20").
_KIND_WORDS = {"brix": ("brix", 1.0)}
# "other than in rolls of a width not exceeding 20cm", "excluding sheets 435mm or less": the bound
# names what the subheading is not (the clause runs from the comma or bracket before).
_NEGATION = re.compile(r"\b(?:other\s+than|excluding|except|not\s+in)\b", re.I)


def read_bounds(description: str) -> list[Bound]:
    """The intervals subheading text ``description`` sets, one per (kind, dimension).

    Two bounds on the same quantity in one clause ("exceeding 750W but not exceeding 75kW")
    make one interval. References to other codes ("heading no. 8471", "item no. 8471.30") are no
    bounds: they carry no unit.
    """
    found = []  # (clause, kind, factor, dim, is_upper, number)
    pending = []  # unit-less bounds waiting for the clause's next unit
    for clause in re.split(r"[;()]|,(?!\d{3})", description):
        pending = []
        for m in _BOUND.finditer(clause):
            word = m.group("before") or m.group("after")
            num, unit = (m.group("n1"), m.group("u1")) if m.group("before") else (m.group("n2"), m.group("u2"))
            upper = bool(_IS_UPPER.match(re.sub(r"\s+", " ", word)))
            strict = bool(_IS_STRICT.match(re.sub(r"\s+", " ", word)))
            if m.group("before") and re.search(r"\bno\s+\w+\s*$", clause[max(0, m.start() - 20):m.start()], re.I):
                upper, strict = not upper, not strict  # "with no side exceeding 255mm": every side at most 255mm
            try:
                value = parse_number(num)
            except ValueError:
                continue
            u = _unit(unit) if unit else None
            if u is None:
                before = clause[max(0, m.start() - 25):m.start()].lower()
                kw = next((k for k in _KIND_WORDS if k in before), None)
                if kw:
                    u = _KIND_WORDS[kw]
            if u is None:
                if re.search(r"(?:heading|item|subheading|chapter|note)s?\s*(?:no\.?\s*)?$",
                             clause[max(0, m.start() - 30):m.start()], re.I):
                    continue
                pending.append((upper, strict, value))
                continue
            kind, factor = u
            dim = _dim(clause, m.start(), m.end(), kind) or _dim_before_word(clause, m.start(), kind)
            neg = bool(_NEGATION.search(clause[:m.start()]))
            for up, st, v in pending:
                found.append((kind, dim, neg, up, st, v * factor))
            pending = []
            found.append((kind, dim, neg, upper, strict, value * factor))
    merged: dict[tuple[str, str | None, bool], list] = {}
    for kind, dim, neg, upper, strict, v in found:
        lo, lo_open, hi, hi_open = merged.get((kind, dim, neg), [-math.inf, False, math.inf, False])
        if upper:
            hi, hi_open = (v, strict) if v < hi else (hi, hi_open or (strict and v == hi))
        else:
            lo, lo_open = (v, strict) if v > lo else (lo, lo_open or (strict and v == lo))
        merged[(kind, dim, neg)] = [lo, lo_open, hi, hi_open]
    return [Bound(kind, lo, hi, dim, neg, lo_open, hi_open) for (kind, dim, neg), (lo, lo_open, hi, hi_open) in merged.items()]


def _dim_before_word(clause: str, start: int, kind: str) -> str | None:
    """Nomenclature wording puts the dimension before the bound: "of a thickness exceeding",
    "each ply 6mm or thinner", "of a width of 600mm or more"."""
    if kind != "length":
        return None
    before = clause[max(0, start - 40):start].lower()
    hits = [(before.rfind(w), d) for w, d in _DIMS.items() if re.search(r"\b" + w + r"\b", before)]
    if hits:
        return max(hits)[1]
    if re.search(r"\bthinner\b", clause[start:start + 40], re.I):
        return "thickness"
    return None


def _compatible(q: Quantity, b: Bound) -> bool:
    return q.kind == b.kind and (q.dim is None or b.dim is None or q.dim == b.dim)


def agreement(quantities: list[Quantity], bounds: list[Bound]) -> float:
    """+1 when for every bound the text measures some value lies inside (and one does), -1 when
    for some bound the text measures every value lies outside, 0 when the text measures none."""
    score = 0.0
    for b in bounds:
        vals = [q.value for q in quantities if _compatible(q, b)]
        if not vals:
            continue
        if any(b.holds(v) for v in vals):
            score = 1.0
        else:
            return -1.0
    return score
