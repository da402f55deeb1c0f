"""Words of a customs description that name no product, cut before retrieval.

Why: a CBP ruling describes the goods *and* the case: where they come from ("... from Mexico",
"imported from Taiwan"), the importer's item or model numbers ("item number 90017-RJA-0030"),
and how many grades or pieces were submitted ("five grades of", "a 126 pc.", "a pair of").
None of it bears on the heading (origin never does; a count only names how the goods were
presented), but all of it goes into the sentence vector and the TF-IDF query, and a count
prefix becomes the *head phrase* ("five grades of ABS resin" -> head "five grades"), so the
head-phrase search looks for "grades" instead of the resin. ``clean`` removes those parts,
conservatively: only a country *name* (pycountry's names plus a few customary ones) after
"from / in / made in / imported from ...", only a number that follows "item / model / part /
style ... number" and contains a digit, only a count or presentation word at the very start.
Whatever it cannot read stays as it was, and a text is never cut to nothing.

What it does not touch: codes written in the text (the hinter reads those from the original
text), measures and percentages (the subheading picker's thresholds and the material reader
need them), and brand names (no general reading separates a brand from an unusual product word
without a list of brands).

``clean`` is idempotent (``clean(clean(t)) == clean(t)``): ``ranker.build_candidates`` applies
it to every text, and the hinter applies it before encoding so the vectors it passes in are
already those of the cleaned text.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry

# Customary names pycountry does not list (its names are the ISO ones: "Türkiye", "Czechia",
# "Viet Nam", "Korea, Republic of").
_EXTRA_COUNTRIES = (
    "Turkey", "Czech Republic", "Korea", "South Korea", "North Korea", "Taiwan", "Hong Kong", "Macau",
    "Vietnam", "Burma", "Holland", "England", "Scotland", "Wales", "Great Britain", "Britain", "UK",
    "U.K.", "the UK", "USA", "U.S.A.", "the U.S.", "the US", "the United States", "the PRC", "PRC",
    "the People's Republic of China", "People's Republic of China", "Mainland China", "the EU",
    "the European Union", "Russia", "Iran", "Syria", "Laos", "Bolivia", "Venezuela", "Tanzania",
    "Moldova", "the Philippines", "the Netherlands", "the Dominican Republic", "the Czech Republic",
    "the United Kingdom", "the United Arab Emirates", "UAE", "Ivory Coast", "Cote d'Ivoire",
)
# Country names that are also ordinary words of goods ("jersey fabric", "bone china", "made
# from turkey"); matched only with their capital letter, like every name here, and these never
# in a text written all in lower or upper case.
_AMBIGUOUS = {"Jersey", "China", "Turkey", "Chile", "Guinea", "Georgia", "Jordan", "Japan", "Panama",
              "Niger", "Chad", "Cuba", "Malta", "Oman", "Peru"}


def _country_names() -> list[str]:
    names = set(_EXTRA_COUNTRIES)
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            n = getattr(c, attr, None)
            if not n:
                continue
            if "," in n or "(" in n:  # "Korea, Republic of" -> "Korea"; "Cocos (Keeling) Islands" -> "Cocos"
                n = re.split(r"[,(]", n)[0].strip()
            if len(n) >= 4 or n.isupper():
                names.add(n)
    return sorted(names, key=len, reverse=True)  # longest first: "Korea" after "North Korea"


_NAMES = _country_names()
_COUNTRY = "(?:" + "|".join(re.escape(n) for n in _NAMES) + ")"
_VERB = r"(?:imported|manufactured|made|produced|assembled|shipped|sourced|exported|originating|grown|harvested|sewn|knitted|woven)"
# "..., imported from Taiwan", "... from Mexico", "... made in China and Vietnam", "(origin: India)":
# a country (or two) after a preposition, at the end of the text or of a clause.
_ORIGIN = re.compile(
    rf"(?:,\s*|\s+)(?:(?:which\s+(?:is|are|was|were)\s+)?{_VERB}\s+)?(?:from|in)\s+(?:the\s+)?{_COUNTRY}"
    rf"(?:\s*(?:,|and|or)\s*(?:the\s+)?{_COUNTRY})*(?=\s*(?:[,;.)]|$))"
    rf"|\s*[,(]\s*(?:country\s+of\s+)?origin\s*:?\s*{_COUNTRY}\s*\)?(?=\s*(?:[,;.]|$))")
# "item number 90017-RJA-0030", "model nos. A-100 and B-200", "style #4471", "part no. 1234":
# only a token that holds a digit after a number word, so "model airplanes" stays.
_ID = r"(?=[\w./-]*\d)[A-Za-z0-9][\w./-]*"
_ID_LONG = r"(?=[\w./-]*\d)[A-Za-z0-9][\w./-]{2,}"  # without "number / no. / #": three characters at least
_ITEM = re.compile(
    rf"(?:,\s*|\s+|^)\(?(?:item|model|part|style|article|catalog|catalogue|sku|reference|ref\.?|serial)"
    rf"\s*(?:(?:numbers?|nos?\.?|#)\s*:?\s*#?\s*{_ID}|\s{_ID_LONG})(?:\s*(?:,|and|&|/)\s*#?{_ID})*\)?"
    rf"(?=\s*(?:[,;.)]|\s|$))", re.I)
_NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|various|"
                 "assorted|multiple|numerous|\\d+")
# A count or presentation at the start: "five grades of", "a 126 pc.", "a pair of", "two styles of",
# "a variety of". "set" and "kit" stay: a set is a classification fact (GRI 3(b)). A lone leading
# article stays too: cutting every "a / an / the" was measured and cost 4 rows of top-3 heading on
# CBP validation (the ranker's similarities are learnt on text as written).
_PREFIX = re.compile(
    rf"^(?:(?:an?|the)\s+)?(?:(?:{_NUMBER_WORDS})\s+)?"
    r"(?:(?:different\s+)?(?:grades?|styles?|models?|types?|kinds?|sizes?|versions?|varieties|variety|sorts?|"
    r"designs?|colou?rs?|configurations?|pairs?|pieces?|pcs?\.?|shipments?|samples?)\s+of\s+"
    r"|\d+[\s-]*(?:pc|pcs|pieces?)\.?\s+)", re.I)


def _origin_ok(text: str) -> bool:
    """Ambiguous names (China, Turkey, Jersey ...) count as countries only in mixed-case text."""
    return not (text.islower() or text.isupper())


# Cheap tests first: most texts name no country and hold no number, and the two patterns above
# cost about 4 and 3 microseconds a text where these cost a fraction of one.
_MAY_ORIGIN = re.compile(r"(?:\b(?:from|in)\s+(?:the\s+)?[A-Z]|origin)")
_MAY_ITEM = re.compile(r"\d")


# The tidy-up after a cut: no space left before a stop, single spaces; a result with no word of
# two letters is no text ("a 126 pc." alone), so ``clean`` keeps the original.
_SPACE_BEFORE_STOP = re.compile(r"\s+([,;.)])(?=\s|$)")
_SPACES = re.compile(r"\s{2,}")
_A_WORD = re.compile(r"[^\W\d_]{2,}")


def _strip_origin(text: str) -> str:
    if not _MAY_ORIGIN.search(text):
        return text
    def repl(m: re.Match) -> str:
        if any(n in _AMBIGUOUS for n in re.findall(r"[A-Z][a-z]+", m.group(0))) and not _origin_ok(text):
            return m.group(0)
        return ""
    return _ORIGIN.sub(repl, text)


@lru_cache(maxsize=1 << 14)
def clean(text: str) -> str:
    """``text`` without its country of origin, item/model numbers and count prefix (see module
    docstring); the text itself when nothing is found or when cutting would leave no word."""
    if not text:
        return text
    out = _strip_origin(text)
    if _MAY_ITEM.search(out):
        out = _ITEM.sub("", out)
    out = _PREFIX.sub("", out, count=1)
    if out == text:  # nothing cut (most texts)
        return text
    out = _SPACE_BEFORE_STOP.sub(r"\1", out)
    out = _SPACES.sub(" ", out).strip(" ,;")
    if not _A_WORD.search(out):
        return text.strip()
    return clean(out)  # again until nothing changes, so that clean(clean(t)) == clean(t)

