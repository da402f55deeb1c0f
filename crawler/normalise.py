"""Normalise what directories write in a hundred ways: names, addresses, phones, websites, ZIPs.

Resolve compares firms across sources, and the sources disagree on form ("ACME PLASTICS, INC."
vs "Acme Plastics Inc", "(310) 555-0100" vs "+1 310-555-0100", "www.acme.com/" vs
"https://acme.com"). Each function here turns one kind of value into one canonical form, using
the field's own libraries: usaddress (address parts), phonenumbers (E.164), tldextract with its
bundled suffix list (registered domain; no network, no cache under ``~``), zipcodes (ZIP ->
state, county, centroid). A value that cannot be normalised gives ``None`` and the caller keeps
the raw text and records the problem.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from urllib.parse import urlsplit

import phonenumbers
import tldextract
import usaddress

_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
_WS = re.compile(r"\s+")

LEGAL_SUFFIXES = (
    "incorporated", "inc", "corporation", "corp", "company", "co", "limited", "ltd", "llc", "l l c",
    "lp", "llp", "pllc", "pc", "plc", "gmbh", "sa", "the",
)
_LEGAL_RE = re.compile(r"\b(?:" + "|".join(re.escape(s) for s in LEGAL_SUFFIXES) + r")\b")
_KEEP_UPPER = {"llc", "lp", "llp", "usa", "us", "ca", "pc", "pllc", "plc", "ii", "iii", "iv", "ppe", "cnc", "hvac", "led", "rf", "pcb", "3d", "ai", "it", "ok"}
_SMALL = {"and", "of", "the", "for", "in", "on", "at", "by", "de", "a", "an", "or"}

STATE_NAMES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "calif": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM",
    "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC",
    "south dakota": "SD", "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT",
    "virginia": "VA", "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
    "district of columbia": "DC", "puerto rico": "PR",
}
STATE_CODES = set(STATE_NAMES.values())

STREET_WORDS = {
    "street": "st", "st.": "st", "avenue": "ave", "ave.": "ave", "av": "ave", "boulevard": "blvd",
    "blvd.": "blvd", "road": "rd", "rd.": "rd", "drive": "dr", "dr.": "dr", "lane": "ln",
    "court": "ct", "place": "pl", "parkway": "pkwy", "highway": "hwy", "suite": "ste", "ste.": "ste",
    "north": "n", "south": "s", "east": "e", "west": "w", "n.": "n", "s.": "s", "e.": "e", "w.": "w",
    "way": "way", "circle": "cir", "terrace": "ter", "square": "sq", "building": "bldg", "floor": "fl",
    "unit": "unit", "#": "ste",
}


def collapse(text: str | None) -> str | None:
    """Whitespace collapsed, NFC, stripped; ``None`` for empty."""
    if text is None:
        return None
    text = _WS.sub(" ", unicodedata.normalize("NFC", str(text))).strip()
    return text or None


# --- names ----------------------------------------------------------------------------------

def name_key(name: str | None) -> str:
    """Matching key: lower case, ASCII, ``&`` -> ``and``, punctuation and legal suffixes gone."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = text.replace("&", " and ").replace("+", " and ")
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    text = _LEGAL_RE.sub(" ", text)
    return _WS.sub(" ", text).strip()


def display_name(name: str | None) -> str | None:
    """Readable casing for names shouted in capitals or whispered in lower case; others kept."""
    name = collapse(name)
    if not name:
        return None
    letters = [c for c in name if c.isalpha()]
    if letters and not (all(c.isupper() for c in letters) or all(c.islower() for c in letters)):
        return name
    words = []
    for i, word in enumerate(name.split(" ")):
        bare = re.sub(r"[^A-Za-z0-9]", "", word).lower()
        if bare in _KEEP_UPPER:
            words.append(word.upper())
        elif i and bare in _SMALL:
            words.append(word.lower())
        elif bare == "inc":
            words.append(word[:1].upper() + word[1:].lower())
        else:
            words.append("-".join(p[:1].upper() + p[1:].lower() for p in word.split("-")))
    return " ".join(words)


# --- phones, websites, emails ---------------------------------------------------------------

def phone_e164(raw: str | None, region: str = "US") -> str | None:
    """E.164 (``+13105550100``) for a valid number, else ``None``."""
    if not raw:
        return None
    try:
        number = phonenumbers.parse(str(raw), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def website_url(raw: str | None) -> str | None:
    """A website as ``https://host/path`` (scheme added, ``www.`` kept as written)."""
    raw = collapse(raw)
    if not raw or " " in raw:
        return None
    if "//" not in raw:
        raw = "http://" + raw
    try:
        host = urlsplit(raw).hostname
    except ValueError:
        return None
    if not host:  # "/", "http://", "//": no site to link to
        return None
    return raw.rstrip("/")


@functools.lru_cache(maxsize=65536)
def registered_domain(raw: str | None) -> str | None:
    """``https://www.shop.acme.co.uk/x`` -> ``acme.co.uk`` (bundled public suffix list)."""
    if not raw:
        return None
    url = raw if "//" in raw else "http://" + raw
    try:
        result = _TLD(url)
    except ValueError:
        return None
    domain = result.top_domain_under_public_suffix
    return domain.lower() if domain else None


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[A-Za-z]{2,}$")


def email_address(raw: str | None) -> str | None:
    raw = collapse(raw)
    if not raw:
        return None
    raw = raw.removeprefix("mailto:").split("?")[0]
    return raw.lower() if _EMAIL.match(raw) else None


# --- addresses ------------------------------------------------------------------------------

def state_code(raw: str | None) -> str | None:
    raw = collapse(raw)
    if not raw:
        return None
    key = raw.strip(". ").lower()
    if key.upper() in STATE_CODES:
        return key.upper()
    return STATE_NAMES.get(key)


def zip5(raw: str | None) -> str | None:
    match = re.search(r"\b(\d{5})(?:-\d{4})?\b", str(raw or ""))
    return match.group(1) if match else None


@functools.lru_cache(maxsize=None)
def zip_info(code: str | None) -> dict | None:
    """State, county, city, latitude, longitude of a 5-digit ZIP (``zipcodes`` package data).

    One lookup per distinct ZIP (about 1 ms each, cached): ``zipcodes.list_all()`` would cost
    the crawl process some 150 MB for a table it needs a few thousand rows of.
    """
    if not code or len(code) != 5 or not code.isdigit():
        return None
    import zipcodes

    try:
        rows = zipcodes.matching(code)
    except (ValueError, TypeError):
        return None
    if not rows:
        return None
    row = rows[0]
    return {
        "state": row["state"],
        "county": row["county"],
        "city": row["city"],
        "latitude": float(row["lat"]) if row.get("lat") else None,
        "longitude": float(row["long"]) if row.get("long") else None,
    }


def parse_address(text: str | None) -> dict:
    """One-line address -> street, city, state, postal_code (usaddress; best effort)."""
    text = collapse(text)
    if not text:
        return {}
    try:
        tagged, _kind = usaddress.tag(text)
    except usaddress.RepeatedLabelError as exc:
        tagged = {}
        for value, label in exc.parsed_string:
            tagged[label] = (tagged.get(label, "") + " " + value).strip()
    street_parts = [v for k, v in tagged.items() if k not in ("PlaceName", "StateName", "ZipCode", "CountryName", "Recipient")]
    out = {
        "street": collapse(" ".join(street_parts).strip(" ,")),
        "city": collapse((tagged.get("PlaceName") or "").strip(" ,")),
        "state": collapse((tagged.get("StateName") or "").strip(" ,")),
        "postal_code": collapse(tagged.get("ZipCode")),
    }
    return {k: v for k, v in out.items() if v}


def street_key(street: str | None) -> str:
    """Comparable street: lower case, common words abbreviated, punctuation gone."""
    if not street:
        return ""
    words = [STREET_WORDS.get(w, w) for w in street.lower().replace(",", " ").split()]
    return re.sub(r"[^a-z0-9 ]", "", " ".join(words)).strip()
