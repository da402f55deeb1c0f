"""The project's own labelled corpus of firm-style product descriptions.

``nlp/data/hs/corpus.csv`` (``text,hs4,hs6,group``): written for this project, in the way
California firms describe products on their sites and in directories, across all HS chapters.
``group`` ties rewordings of one product together so cross-validation never tests a product on
its own rewording. Every code is checked against HS 2022 by ``load_corpus(check=True)``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from .nomenclature import is_valid

CORPUS_FILE = Path(__file__).resolve().parent.parent / "data" / "hs" / "corpus.csv"


class CorpusError(ValueError):
    """A corpus row is malformed or names a code HS 2022 does not have."""


def load_labelled_csv(path: Path, check: bool = True) -> list[dict]:
    """Rows ``{text, hs4, hs6, group}`` from a ``text,hs4,hs6[,group]`` CSV (codes as strings)."""
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"text", "hs4"} - set(reader.fieldnames or [])
        if missing:
            raise CorpusError(f"{path}: missing columns {sorted(missing)}")
        for lineno, row in enumerate(reader, 2):
            text = (row.get("text") or "").strip()
            hs4 = (row.get("hs4") or "").strip().replace(".", "")
            hs6 = (row.get("hs6") or "").strip().replace(".", "")
            if hs4:
                hs4 = hs4.zfill(4)
            if hs6:
                hs6 = hs6.zfill(6)
            if not hs4 and hs6:
                hs4 = hs6[:4]
            if check:
                if not text:
                    raise CorpusError(f"{path.name}:{lineno}: empty text")
                if not is_valid(hs4) or len(hs4) != 4:
                    raise CorpusError(f"{path.name}:{lineno}: {hs4!r} is not an HS 2022 heading")
                if hs6 and (not is_valid(hs6) or hs6[:4] != hs4):
                    raise CorpusError(f"{path.name}:{lineno}: {hs6!r} is not a subheading of {hs4}")
            rows.append({"text": text, "hs4": hs4, "hs6": hs6,
                         "group": (row.get("group") or "").strip() or f"{path.stem}:{lineno}"})
    return rows


def load_corpus(path: Path = CORPUS_FILE, check: bool = True) -> list[dict]:
    if not path.exists():
        return []
    return load_labelled_csv(path, check=check)
