"""The project's lexicon of trade names and synonyms, each pointing at an HS 2022 code.

``nlp/data/hs/lexicon.jsonl`` holds one term a line: ``{"term", "hs4", "hs6"?, "note"}``. Terms
cover what the nomenclature does not say in a firm's words: jargon (IPA, S4S lumber, PAPR),
HS 2022's new headings (3D printers 8485, drones 8806), and rulings that set material against
function (face shields 3926, surgical masks 6307, isolation gowns 6210, hand sanitizer 3808).
Matching is on normalised word sequences (``textnorm.tokens``), longest match first, so
"pump bottle" beats "pump" and "wine barrel" beats "wine".
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from nlp.jsonl import iter_jsonl

from .nomenclature import is_valid
from .textnorm import tokens

LEXICON_FILE = Path(__file__).resolve().parent.parent / "data" / "hs" / "lexicon.jsonl"


class LexiconError(ValueError):
    """A lexicon line is malformed or names a code HS 2022 does not have."""


def load_lexicon(path: Path = LEXICON_FILE, check: bool = True) -> list[dict]:
    if not path.exists():
        return []
    entries = []
    for lineno, e in iter_jsonl(path, LexiconError):
        e["hs4"] = str(e["hs4"]).zfill(4)
        if e.get("hs6"):
            e["hs6"] = str(e["hs6"]).zfill(6)
        if check:
            if not is_valid(e["hs4"]) or len(e["hs4"]) != 4:
                raise LexiconError(f"{path.name}:{lineno}: {e['hs4']} is not an HS 2022 heading")
            if e.get("hs6") and (not is_valid(e["hs6"]) or e["hs6"][:4] != e["hs4"]):
                raise LexiconError(f"{path.name}:{lineno}: {e['hs6']} is not a subheading of {e['hs4']}")
        e["line"] = lineno
        entries.append(e)
    return entries


class Lexicon:
    """Finds lexicon terms in a text; the longest match at each position wins."""

    def __init__(self, entries: list[dict]):
        self.entries = entries
        self.table: dict[tuple[str, ...], list[dict]] = {}
        for e in entries:
            key = tuple(tokens(e["term"]))
            if key:
                self.table.setdefault(key, []).append(e)
        self.max_len = max((len(k) for k in self.table), default=0)

    def match(self, text: str) -> list[dict]:
        """``[{term, hs4, hs6, n_words, start}]`` for each non-overlapping longest match."""
        toks = tokens(text)
        out = []
        i = 0
        while i < len(toks):
            hit = None
            for n in range(min(self.max_len, len(toks) - i), 0, -1):
                found = self.table.get(tuple(toks[i : i + n]))
                if found:
                    hit = (n, found)
                    break
            if hit:
                n, found = hit
                for e in found:
                    out.append({"term": e["term"], "hs4": e["hs4"], "hs6": e.get("hs6"),
                                "n_words": n, "start": i, "note": e.get("note", "")})
                i += n
            else:
                i += 1
        return out


@lru_cache(maxsize=1)
def get_lexicon() -> Lexicon:
    return Lexicon(load_lexicon())
