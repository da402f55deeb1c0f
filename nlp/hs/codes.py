"""Codes written in a firm's text: HS, HTS(US), Schedule B, with or without dots.

A written code is the strongest evidence there is, but only when it exists: each code found is
cut to its first six digits and checked against the HS 2022 nomenclature (then to four digits
when the subheading is unknown, e.g. an older edition's code). Bare digit runs are only read
after a keyword (HS, HTS, Schedule B, tariff/commodity code), so phone numbers, ZIP codes and
part numbers are not mistaken for codes; dotted forms such as ``3926.20.9050`` are read anywhere.
"""

from __future__ import annotations

import re

from .nomenclature import get, is_valid

_KEYWORD = (
    r"(?:hts(?:us|\s*code)?|hs(?:\s*code)?|h\.s\.(?:\s*code)?|harmoni[sz]ed(?:\s+(?:tariff|system))?(?:\s+(?:code|number|no\.?))?"
    r"|schedule\s*b(?:\s*(?:code|number|no\.?))?|sched\.?\s*b|tariff\s*(?:code|number|no\.?|classification)"
    r"|commodity\s*code|customs\s*code|heading|subheading)"
)
_SEP = r"[\s:#=\-]*(?:no\.?|number|code)?[\s:#=\-]*"
# Dotted: 4 digits, dot, 2 digits, then optionally .2 or .4 more (HTS 10, Schedule B 10).
_DOTTED = r"\d{4}\.\d{2}(?:\.\d{2}(?:\.?\d{2})?)?"
_PLAIN = r"\d{4}(?:\d{2}(?:\d{2}(?:\d{2})?)?)?"
_KEYED_RE = re.compile(
    rf"\b(?P<kw>{_KEYWORD}){_SEP}(?P<code>{_DOTTED}|{_PLAIN})(?![\d.]\d)", re.IGNORECASE
)
_DOTTED_RE = re.compile(rf"(?<![\d.])(?P<code>{_DOTTED})(?![\d]|\.\d)")
# Both patterns above need four digits in a row: a text without them (most texts) holds no code,
# and one search for them is cheaper than the two patterns' (the keyword one is long).
_FOUR_DIGITS = re.compile(r"\d{4}")


def _kind(keyword: str | None, digits: str) -> str:
    kw = (keyword or "").lower()
    if "schedule" in kw or "sched" in kw:
        return "schedule_b"
    if kw.startswith("hts") or len(digits) > 6:
        return "hts"
    return "hs"


def find_codes(text: str) -> list[dict]:
    """Every code written in ``text``, in order of appearance, each checked.

    Returns dicts ``{raw, digits, kind, hs6, hs4, hs2, valid, level, reason}``: ``valid`` is True
    when the subheading (or, for a 4-digit code, the heading) exists in HS 2022; ``level`` says
    which level was confirmed; ``reason`` says why an invalid code was rejected.
    """
    if not text or not _FOUR_DIGITS.search(text):
        return []
    found: dict[int, dict] = {}
    for match in _KEYED_RE.finditer(text):
        found[match.start("code")] = _check(match.group("code"), match.group("kw"))
    for match in _DOTTED_RE.finditer(text):
        if match.start("code") not in found:
            found[match.start("code")] = _check(match.group("code"), None)
    return [found[k] for k in sorted(found)]


def _check(raw: str, keyword: str | None) -> dict:
    digits = raw.replace(".", "")
    out = {"raw": raw, "digits": digits, "kind": _kind(keyword, digits), "hs6": None,
           "hs4": None, "hs2": None, "valid": False, "level": None, "reason": None}
    if len(digits) not in (4, 6, 8, 10):
        out["reason"] = f"{len(digits)} digits is not an HS/HTS/Schedule B length"
        return out
    hs4 = digits[:4]
    if len(digits) >= 6 and is_valid(digits[:6]):
        out.update(hs6=digits[:6], hs4=hs4, hs2=digits[:2], valid=True, level="subheading")
    elif is_valid(hs4):
        out.update(hs4=hs4, hs2=digits[:2], valid=True, level="heading")
        if len(digits) >= 6:
            out["reason"] = f"subheading {digits[:6]} is not in HS 2022; heading {hs4} is"
    else:
        out["reason"] = f"{hs4} is not an HS 2022 heading"
    return out


def describe(code: str) -> str:
    node = get(code)
    return node["description"] if node else ""
