"""One word normaliser shared by TF-IDF and the lexicon, so both see the same tokens.

Lower case, letters and digits only, British/American spellings folded for the words the
nomenclature uses ("aluminium", "colour", "moulds"), and a light plural strip. No stemmer
library: Porter stems merge words that HS keeps apart ("articles"/"art", "printed"/"print").
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_SPELLING = {
    "aluminium": "aluminum", "colour": "color", "coloured": "colored", "mould": "mold",
    "moulds": "molds", "moulded": "molded", "moulding": "molding", "fibre": "fiber",
    "fibres": "fibers", "sulphur": "sulfur", "sulphate": "sulfate", "sulphuric": "sulfuric",
    "jewellery": "jewelry", "tyre": "tire", "tyres": "tires", "vulcanised": "vulcanized",
    "organised": "organized", "metre": "meter", "litre": "liter", "centre": "center",
    "grey": "gray", "paraffin": "kerosene", "maize": "corn", "footware": "footwear",
    "apparatuses": "apparatus", "mitts": "mitt", "programme": "program",
}
_KEEP = {"glass", "gas", "brass", "press", "process", "chassis", "lens", "bus", "cross", "grass",
         "moss", "canvas", "asbestos", "series", "species", "apparatus", "citrus", "cactus",
         "always", "has", "this", "plus", "virus", "hummus", "molasses", "analysis", "physics",
         "abrasives", "pliers", "tongs", "scissors", "trousers", "shorts", "pants", "jeans",
         "news", "ss", "tennis", "its", "is", "was", "us", "yes", "less", "ethics"}


def singular(word: str) -> str:
    if word in _KEEP or len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if word.endswith("oes"):
        return word[:-2]
    return word[:-1]


@lru_cache(maxsize=1 << 16)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(singular(_SPELLING.get(w, w)) for w in _WORD.findall(text.lower()))


def tokens(text: str) -> list[str]:
    """The text's normalised words. Cached: one hint reads a text's words four times (two TF-IDF
    searches, the lexicon, the known-word check)."""
    return list(_tokens(text))


@lru_cache(maxsize=1 << 16)
def norm(text: str) -> str:
    return " ".join(_tokens(text))


@lru_cache(maxsize=1 << 14)  # the same nomenclature wordings are shortened for every hint
def shorten(text: str, n: int = 70) -> str:
    """``text`` on one line, cut to ``n`` characters with an ellipsis: how explanations quote."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
