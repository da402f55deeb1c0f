"""Fictional firms: who they are, what they make, where, and what they say about exporting.

Why per-firm random streams: each firm draws from its own ``random.Random`` seeded with a string
("seed:firm:i"), which Python hashes with SHA-512, never with ``hash()``. So firm *i* is the same
for a given seed whatever the number of firms, generation can stream, and nothing depends on
dict or set order. The few things shared between firms (unique slugs, domains and phone lines)
are assigned in firm order by :class:`Registry`.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import re
import unicodedata
from dataclasses import dataclass, field

import zipcodes

from . import catalog as C

OUT_OF_STATE = ("NV", "AZ", "OR", "TX", "WA", "UT")
OUT_OF_STATE_WEIGHTS = (30, 30, 15, 15, 6, 4)
# Southern California weighting (the Port of LA hinterland), but the whole state is covered.
COUNTY_WEIGHTS = {
    "Los Angeles County": 5.0, "Orange County": 3.0, "San Bernardino County": 3.0,
    "Riverside County": 3.0, "Ventura County": 1.5, "San Diego County": 1.5,
}
FALLBACK_AREA = {"CA": "213", "NV": "702", "AZ": "602", "OR": "503", "TX": "214", "WA": "206", "UT": "801"}


class ZipPool:
    """Real ZIP codes (STANDARD, active) with cumulative weights for bisect sampling."""

    def __init__(self, state: str, weights: dict[str, float] | None = None):
        rows = [z for z in zipcodes.filter_by(state=state) if z["zip_code_type"] == "STANDARD" and z["active"]]
        rows.sort(key=lambda z: z["zip_code"])
        if not rows:
            raise ValueError(f"zipcodes has no standard ZIP codes for {state}")
        self.rows = rows
        acc, total = [], 0.0
        for z in rows:
            total += (weights or {}).get(z.get("county") or "", 1.0)
            acc.append(total)
        self.cum, self.total = acc, total

    def pick(self, rng: random.Random) -> dict:
        return self.rows[bisect.bisect_right(self.cum, rng.random() * self.total)]


_ZIP_POOLS: dict[str, ZipPool] = {}


def zip_pool(state: str) -> ZipPool:
    if state not in _ZIP_POOLS:
        _ZIP_POOLS[state] = ZipPool(state, COUNTY_WEIGHTS if state == "CA" else None)
    return _ZIP_POOLS[state]


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "firm"


@dataclass
class Firm:
    index: int
    key: str
    base_name: str  # name without legal suffix
    suffix: str  # canonical suffix family ("Inc.", "LLC", ...)
    industry: C.Industry
    state: str
    city: str
    zip: str
    county: str
    street_no: int
    street_name: str
    street_type: str
    unit: int | str | None
    area_code: str
    line: str  # "555-0142"
    domain: str
    products: list[tuple[str, str, str]]  # (hs6, phrase, ppe category or "")
    employees: str
    year_founded: int
    sqft: int | None
    certifications: list[str]
    exporter_latent: bool
    export_propensity: float
    exports: bool | None  # what the text states
    countries: list[tuple[str, str, str]]  # (name, demonym, iso3)
    distributor_country: tuple[str, str, str] | None
    on_directory: bool
    on_market: bool
    hs_mention: str | None  # hs6 written in the text
    hostile: str = ""  # "", "script", "img", "sql"
    similar_to: str | None = None
    slug_dir: str = ""
    slug_market: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return canonical_name(self.base_name, self.suffix)

    @property
    def in_california(self) -> bool:
        return self.state == "CA"

    @property
    def phone_e164(self) -> str:
        return "+1" + self.area_code + self.line.replace("-", "")

    @property
    def street(self) -> str:
        s = f"{self.street_no} {self.street_name} {self.street_type}"
        return s + (f", Suite {self.unit}" if self.unit else "")

    @property
    def ppe_categories(self) -> list[str]:
        seen: list[str] = []
        for _, _, cat in self.products:
            if cat and cat not in seen:
                seen.append(cat)
        return seen


def canonical_name(base: str, suffix: str) -> str:
    if not suffix:
        return base
    return f"{base}, {suffix}" if suffix == "Inc." else f"{base} {suffix}"


def weighted(rng: random.Random, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


class Registry:
    """Assigns things that must be unique across firms (slugs, domains, phone lines), in firm order."""

    def __init__(self):
        self.slugs: set[str] = set()
        self.domains: set[str] = set()
        self.lines: dict[str, int] = {}
        self.recent: list[tuple[str, str, str]] = []  # (firm key, name prefix, trade word) for look-alikes

    def slug(self, name: str, prefix: str) -> str:
        base = slugify(name)
        slug, n = base, 1
        while prefix + slug in self.slugs:
            n += 1
            slug = f"{base}-{n}"
        self.slugs.add(prefix + slug)
        return slug

    def domain(self, rng: random.Random, base: str, city: str) -> str:
        words = [w for w in slugify(base).split("-") if w]
        tld = weighted(rng, (".com", ".net", ".us", ".co"), (80, 8, 6, 6))
        stem = "".join(words)
        if len(stem) > 18 and len(words) > 1:
            stem = "".join(w[0] for w in words[:-1]) + words[-1]
        candidates = itertools.chain(
            (stem + tld, "-".join(words) + tld, stem + slugify(city).replace("-", "") + tld),
            (f"{stem}{n}{tld}" for n in itertools.count(2)))
        for cand in candidates:
            if cand not in self.domains:
                self.domains.add(cand)
                return cand
        raise RuntimeError("ran out of domains")  # pragma: no cover

    def phone_line(self, area: str) -> str:
        """555-0100..0199 is reserved for fiction; past 100 firms in one area code, other 555 lines."""
        n = self.lines.get(area, 0)
        self.lines[area] = n + 1
        if n < 100:
            return f"555-{100 + n:04d}"
        line = 200 + (n - 100) % 9700
        if line >= 1212:  # 555-1212 is directory assistance
            line += 1
        return f"555-{line:04d}"


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


SIZE_EFFECT = {"1-9": -1.2, "10-49": -0.4, "50-99": 0.2, "100-249": 0.7, "250-499": 1.1, "500-999": 1.4, "1000+": 1.7}
INTL_CERTS = {"ISO 9001", "ISO 13485", "ISO 14001", "AS9100", "CE", "IATF 16949", "NADCAP", "MDSAP", "BRCGS",
              "GlobalG.A.P.", "SQF certified", "ISO 22716", "Halal"}

PPE_INDUSTRY_KEYS = tuple(ind.key for ind in C.INDUSTRIES if ind.ppe_pivot)
PPE_INDUSTRY_WEIGHTS = {"apparel": 5, "wine": 3, "plastics": 4, "ppe": 4, "cosmetics": 2, "chemicals": 2,
                        "medical": 2, "nonwovens": 1.5, "beverage": 1.5, "rubber": 1, "furniture": 1,
                        "metal_fab": 1, "optics": 1, "pharma": 1, "paper": 1}


def make_firm(seed: int, i: int, n_firms: int, reg: Registry) -> Firm:
    rng = random.Random(f"{seed}:firm:{i}")
    # Source membership: about a third on both, some on the marketplace only.
    r = rng.random()
    on_directory, on_market = (True, True) if r < 0.34 else (False, True) if r < 0.42 else (True, False)
    if on_market:
        keys = PPE_INDUSTRY_KEYS
        industry = C.INDUSTRY_BY_KEY[weighted(rng, keys, [PPE_INDUSTRY_WEIGHTS.get(k, 0.5) for k in keys])]
    else:
        industry = weighted(rng, C.INDUSTRIES, [ind.weight for ind in C.INDUSTRIES])

    # Location.
    state = "CA" if rng.random() >= 0.065 else weighted(rng, OUT_OF_STATE, OUT_OF_STATE_WEIGHTS)
    z = zip_pool(state).pick(rng)
    area_codes = sorted(z.get("area_codes") or []) or [FALLBACK_AREA[state]]
    area = rng.choice(area_codes)

    # Name.
    style = rng.random()
    similar_to = None
    prefix = ""
    word = rng.choice(industry.name_words)
    if reg.recent and rng.random() < 0.015:
        # A look-alike of a recent firm: same leading words, another trade word (or the very
        # same name in another city with another legal form). A different firm all the same.
        similar_to, prefix_other, word_other = reg.recent[rng.randrange(len(reg.recent))]
        others = [w for w in industry.name_words if w != word_other]
        base = f"{prefix_other} {rng.choice(others) if others and rng.random() < 0.7 else word_other}"
    elif style < 0.01:
        prefix = rng.choice(C.NAME_ACCENTED)
    elif style < 0.40:
        prefix = rng.choice(C.NAME_PLACES)
    elif style < 0.70:
        prefix = rng.choice(C.NAME_COINED)
    elif style < 0.88:
        prefix = rng.choice(C.NAME_SURNAMES)
    else:
        a, b = rng.sample(C.NAME_SURNAMES, 2)
        prefix = f"{a} & {b}"
    if similar_to is None:
        base = f"{prefix} {word}"
    suffix = weighted(rng, [s for s, _ in C.SUFFIX_WEIGHTS], [w for _, w in C.SUFFIX_WEIGHTS])

    hostile = ""
    hostile_slots = {min(7, n_firms - 1): "script", n_firms // 2 + 3: "img", n_firms - 5: "sql"} if n_firms >= 12 else {}
    if i in hostile_slots:
        hostile = hostile_slots[i]
        if hostile == "script":
            base = "Tri-Valley <script>alert('x')</script> " + industry.name_words[0]
        elif hostile == "sql":
            base = "O'Brien'); DROP TABLE firms;-- " + industry.name_words[0]

    # Products: 1-6, mostly within the industry; marketplace firms carry PPE products.
    n_prod = weighted(rng, (1, 2, 3, 4, 5, 6), (14, 28, 26, 16, 10, 6))
    pool = list(industry.products)
    picks = rng.sample(pool, min(n_prod, len(pool)))
    products = [(p.hs6, rng.choice(p.phrases), "") for p in picks]
    if rng.random() < 0.12:
        other = rng.choice(C.INDUSTRIES)
        p = rng.choice(other.products)
        if all(p.hs6 != h for h, _, _ in products):
            products.append((p.hs6, rng.choice(p.phrases), ""))
    if on_market:
        cats = list(industry.ppe_pivot) or ["face-masks"]
        n_cat = 1 if industry.key != "ppe" else rng.randint(2, min(5, len(cats)))
        for cat in rng.sample(cats, min(n_cat + (rng.random() < 0.25), len(cats))):
            p = rng.choice(C.PPE_PRODUCTS[cat])
            products.append((p.hs6, rng.choice(p.phrases), cat))
    elif industry.ppe_pivot and rng.random() < 0.05:  # pivoted but never listed on the marketplace
        cat = rng.choice(industry.ppe_pivot)
        p = rng.choice(C.PPE_PRODUCTS[cat])
        products.append((p.hs6, rng.choice(p.phrases), cat))

    if len(products) > 6:
        core = [p for p in products if not p[2]]
        ppe = [p for p in products if p[2]]
        products = (core[:max(1, 6 - len(ppe))] + ppe)[:6]

    # Size, age, certifications.
    employees = weighted(rng, C.EMPLOYEE_BANDS, C.EMPLOYEE_BAND_WEIGHTS)
    year_founded = int(min(2021, max(1902, round(2022 - rng.expovariate(1 / 28)))))
    if on_market and not on_directory and rng.random() < 0.5:
        year_founded = rng.choice((2019, 2020, 2020, 2021))  # PPE start-ups
    size_rank = C.EMPLOYEE_BANDS.index(employees)
    n_certs = min(len(industry.certs), max(0, int(rng.gauss(0.4 + 0.45 * size_rank, 0.9))))
    certifications = sorted(rng.sample(industry.certs, n_certs))
    sqft = None
    if rng.random() < 0.3:
        lo, hi = C.EMPLOYEE_BAND_RANGE[employees]
        sqft = int(round(rng.uniform(lo, hi) * rng.uniform(300, 900), -3)) or 2000

    # Exporting: correlated with size, certifications, age and industry, never decided by them.
    age = 2022 - year_founded
    logit = (-1.45 + industry.export_bias + SIZE_EFFECT[employees]
             + 0.45 * len(INTL_CERTS.intersection(certifications)) + 0.25 * min(age, 40) / 10
             - (0.6 if state != "CA" else 0.0) + rng.gauss(0, 0.9))
    propensity = _sigmoid(logit)
    exporter = rng.random() < propensity
    statement = rng.random()
    if exporter:
        exports = True if statement < 0.72 else None
    else:
        exports = False if statement < 0.16 else None
    countries: list[tuple[str, str, str]] = []
    distributor = None
    if exports:
        n_c = weighted(rng, (1, 2, 3, 4), (35, 35, 20, 10))
        cw = [c[3] for c in C.COUNTRIES]
        while len(countries) < n_c:
            c = weighted(rng, C.COUNTRIES, cw)
            if c[:3] not in countries:
                countries.append(c[:3])
        if rng.random() < 0.3:
            distributor = rng.choice(countries)

    hs_mention = products[0][0] if rng.random() < 0.04 else None

    street_type = rng.choice(list(C.STREET_TYPES))
    firm = Firm(
        index=i, key=f"SF{i + 1:06d}", base_name=base, suffix=suffix, industry=industry, state=state,
        city=z["city"], zip=z["zip_code"], county=z.get("county") or "",
        street_no=rng.choice((rng.randint(100, 999), rng.randint(1000, 9999), rng.randint(10000, 29999))),
        street_name=rng.choice(C.STREET_NAMES), street_type=street_type,
        unit=rng.choice((100, 101, 105, 110, 200, 204, 300, 310, 400, "A", "B", "C")) if rng.random() < 0.3 else None,
        area_code=area, line=reg.phone_line(area), domain=reg.domain(rng, base if not hostile else industry.name_words[0] + " " + str(i), z["city"]),
        products=products, employees=employees, year_founded=year_founded, sqft=sqft,
        certifications=certifications, exporter_latent=exporter, export_propensity=round(propensity, 4),
        exports=exports, countries=countries, distributor_country=distributor,
        on_directory=on_directory, on_market=on_market, hs_mention=hs_mention, hostile=hostile,
        similar_to=similar_to,
    )
    if on_directory:
        firm.slug_dir = reg.slug(firm.name, "d:")
    if on_market:
        firm.slug_market = reg.slug(firm.name, "m:")
    if not hostile and similar_to is None:
        reg.recent.append((firm.key, prefix, word))
        if len(reg.recent) > 50:
            del reg.recent[0]
    return firm


def iter_firms(seed: int, n_firms: int):
    """Yield the firms in order; the registry keeps slugs, domains and phone lines unique."""
    reg = Registry()
    for i in range(n_firms):
        yield make_firm(seed, i, n_firms, reg)
