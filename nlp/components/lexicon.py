"""Shared helpers for the ``ef_*`` components: lexicon loading, saving and sentence iteration.

Why one module: the product and signal components both read JSONL word lists that ship in
``nlp/data/patterns/`` and both save them inside the pipeline directory (spaCy's habit, as
``span_ruler`` does), so a saved pipeline reloads with no access to this source tree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from spacy.tokens import Doc, Span

from nlp.jsonl import iter_jsonl

PATTERNS_DIR = Path(__file__).resolve().parent.parent / "data" / "patterns"

# Evidence passed along with each doc: set before the pipeline runs ("description" or
# "product_list"), so a component knows whether it reads prose or a catalogue entry.
if not Doc.has_extension("ef_source"):
    Doc.set_extension("ef_source", default="description")


def read_jsonl(path: Path) -> list[dict]:
    """Read one JSON object per non-empty line; a bad line raises with its line number."""
    return [row for _number, row in iter_jsonl(path)]


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def grouped(rows: Iterable[dict], key: str = "set", value: str = "text") -> dict[str, list[str]]:
    """``[{"set": "stop", "text": "for"}, ...]`` -> ``{"stop": ["for", ...]}`` (order kept)."""
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row[key], []).append(row[value])
    return out


def place_rows() -> list[dict]:
    """Country names from pycountry plus the project's aliases, demonyms and regions.

    pycountry gives official and common names (ISO 3166); people write "the UK", "South
    Korea", "Japanese", which pycountry does not hold, so those are the project's own list.
    """
    import pycountry

    rows: list[dict] = []
    seen: set[tuple[str, str]] = set()

    def add(text: str, iso3: str, kind: str) -> None:
        text = text.strip()
        if text and (text, iso3) not in seen:
            seen.add((text, iso3))
            rows.append({"text": text, "iso3": iso3, "kind": kind})

    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            # "Korea, Republic of" style names are never written that way in prose.
            if value and "," not in value:
                add(value, country.alpha_3, "name")
    for row in read_jsonl(PATTERNS_DIR / "countries.jsonl"):
        add(row["text"], row["iso3"], row["kind"])
    for row in read_jsonl(PATTERNS_DIR / "regions.jsonl"):
        add(row["text"], "", "region")
    return rows


def compile_certifications(rows: list[dict]):
    """``([(label, regex)], any_regex)``: one regex per label and one that finds any of them,
    so most text costs one search instead of fifty."""
    import re

    each = [(row["label"], re.compile(row["regex"], 0 if row.get("case_sensitive") else re.I)) for row in rows]
    any_rx = re.compile(
        "|".join(f"(?:{row['regex']})" if row.get("case_sensitive") else f"(?i:{row['regex']})" for row in rows) or r"(?!)"
    )
    return each, any_rx


def by_sentence(sents: list[Span], matches) -> list[list]:
    """Matches ``(key, start, end)`` grouped by the sentence holding their start (linear time:
    a 100,000-character description has thousands of sentences and matches)."""
    import bisect

    starts = [s.start for s in sents]
    out: list[list] = [[] for _ in sents]
    for match in matches:
        i = bisect.bisect_right(starts, match[1]) - 1
        if 0 <= i < len(sents) and match[1] < sents[i].end:
            out[i].append(match)
    return out


_LAST_SENTS: list = [None, None]  # (doc, sentences): the components run one after another


def sentences(doc: Doc) -> list[Span]:
    """Sentences, also cut at line breaks (listings join fields with newlines, not full stops).

    Computed once per doc and shared by the components that follow each other on it.
    """
    if _LAST_SENTS[0] is doc:
        return _LAST_SENTS[1]
    if doc.has_annotation("SENT_START"):
        sents = list(doc.sents)
    else:
        sents = [doc[:]]
    breaks = [i for i in doc.to_array("IS_SPACE").nonzero()[0].tolist() if "\n" in doc[i].text] if len(doc) else []
    if breaks:
        out, b = [], 0
        for sent in sents:
            start = sent.start
            while b < len(breaks) and breaks[b] < sent.end:
                i = breaks[b]
                if i >= start:
                    if i > start:
                        out.append(doc[start:i])
                    start = i + 1
                b += 1
            if sent.end > start:
                out.append(doc[start : sent.end])
        sents = out
    _LAST_SENTS[0], _LAST_SENTS[1] = doc, sents
    return sents

class LexiconComponent:
    """Word-list data a component loads at ``initialize`` and saves with the pipeline.

    Subclasses set ``default_lexicon`` (a registered loader) and ``_compile()``; the data is a
    dict of JSONL row lists, written one file per key so a saved pipeline reloads offline.
    """

    data_keys = ("words", "places", "certifications")
    default_lexicon = staticmethod(lambda: {})

    def _start(self, nlp, name: str) -> None:
        self.nlp = nlp
        self.name = name
        self.data: dict = {key: [] for key in self.data_keys}
        self._compile()

    def _compile(self) -> None:  # pragma: no cover - each component has its own
        raise NotImplementedError

    def initialize(self, get_examples=None, *, nlp=None, lexicon: dict | None = None):
        """Load the word lists (from ``[initialize.components.<name>.lexicon]``)."""
        self.data = lexicon if lexicon is not None else self.default_lexicon()
        self._compile()

    def to_disk(self, path, exclude=tuple()):
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for key in self.data_keys:
            write_jsonl(path / f"{key}.jsonl", self.data[key])

    def from_disk(self, path, exclude=tuple()):
        path = Path(path)
        self.data = {key: read_jsonl(path / f"{key}.jsonl") for key in self.data_keys}
        self._compile()
        return self
