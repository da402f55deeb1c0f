"""The project's own labelled corpus of firm-style product descriptions.

``nlp/data/hs/corpus/*.txt``: written for this project, in the way California firms describe
products on their sites and in directories, across the HS chapters. One product a line,
``hs6 | wording | another wording ...``; the rewordings of one line form a ``group``, so
cross-validation never tests a product on its own rewording. Every code is checked against
HS 2022 by ``load_corpus(check=True)`` (and by the tests).
"""

from __future__ import annotations

import csv
from pathlib import Path

from .nomenclature import is_valid

CORPUS_DIR = Path(__file__).resolve().parent.parent / "data" / "hs" / "corpus"


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


def load_corpus(directory: Path = CORPUS_DIR, check: bool = True) -> list[dict]:
    """Rows ``{text, hs4, hs6, group, source}`` from every ``*.txt`` file of the corpus."""
    rows = []
    for path in sorted(directory.glob("*.txt")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split("|")]
            hs6, texts = parts[0], [p for p in parts[1:] if p]
            if check:
                if len(hs6) != 6 or not is_valid(hs6):
                    raise CorpusError(f"{path.name}:{lineno}: {hs6!r} is not an HS 2022 subheading")
                if not texts:
                    raise CorpusError(f"{path.name}:{lineno}: no wording")
            for text in texts:
                rows.append({"text": text, "hs4": hs6[:4], "hs6": hs6,
                             "group": f"{path.stem}:{lineno}", "source": f"{path.name}:{lineno}"})
    return rows
