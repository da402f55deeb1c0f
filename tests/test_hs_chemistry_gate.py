"""The gate before the chemical-name reader (``chemistry.may_name_chemical``) never skips a text
the reader acts on.

Why: the gate exists for speed only (docs/nlp.md, "Speed"); a text it wrongly skipped would lose a
``chem-name`` hint without any figure showing it. The reader "acts" when its reading has a heading
and a name (what ``apply_to_hints`` needs); for every text below, acting must imply passing the
gate. The texts: every corpus wording, lexicon term and chemical-names line, the CBP validation
and dev texts (read from the shared data, not copied), and generated texts that glue chemical
words to the words and marks where the reader cuts its zone ("with", "for", "w/", "grade", ", a").
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.hs import chemistry
from nlp.hs.chemistry import may_name_chemical, read

CHEM_NAMES = Path(__file__).parent / "data" / "hs_chem_names.txt"


def _acts(text: str) -> bool:
    r = read(text)
    return bool(r.heading and r.name)


def _check(texts: list[str]) -> tuple[int, int]:
    """(texts the reader acts on, texts the gate skips); fails on a text skipped but acted on."""
    missed = [t for t in texts if not may_name_chemical(t) and _acts(t)]
    assert not missed, f"the gate skips texts the reader acts on: {missed[:5]}"
    return sum(_acts(t) for t in texts), sum(not may_name_chemical(t) for t in texts)


def _chem_name_texts() -> list[str]:
    out = []
    for line in CHEM_NAMES.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            out += [x.strip() for x in line.split("|")[1:] if x.strip()]
    return out


def test_gate_on_corpus_lexicon_and_chemical_names():
    from nlp.hs.corpus import load_corpus
    from nlp.hs.lexicon import get_lexicon

    texts = [r["text"] for r in load_corpus()] + [e["term"] for e in get_lexicon().entries] + _chem_name_texts()
    acted, skipped = _check(texts)
    # the check has teeth: the reader acts on hundreds of these texts, the gate still skips most
    assert acted > 300
    assert skipped > len(texts) // 2


def test_gate_on_cbp_validation_and_dev_texts(shared_data):
    texts = []
    for name in ("cbp_rulings_validation.csv", "hs_dev.csv"):
        with open(shared_data / name, newline="", encoding="utf-8") as f:
            texts += [r["text"] for r in csv.DictReader(f)]
    acted, _ = _check(texts)
    assert acted > 5


@pytest.mark.parametrize("text, acts", [
    ("Sodium hypochlorite solution", True),
    ("2-methyl-2-butene", True),
    ("Atrazine, a triazine herbicide", True),        # read through the apposition
    ("titanium dioxide pigment grade powder", True),  # "grade" is always read
    ("stainless steel kitchen sinks", False),
    ("hand tools for woodworking", False),
])
def test_gate_examples(text, acts):
    assert _acts(text) is acts
    assert may_name_chemical(text) or not acts
    if "grade" not in text and not any(chemistry._token_may_name(t) for t in chemistry._TOKEN.findall(text)):
        assert may_name_chemical(text) is False


def test_gate_tests_the_prefixes_the_reader_may_see():
    # "...-for" cuts the zone inside the token: the reader sees "toluene-", a chemical word,
    # though the whole token is not one
    assert not chemistry._is_chem_word("toluene-for", chemistry._norm("toluene-for"))
    assert chemistry._token_may_name("toluene-for") is True
    assert may_name_chemical("Toluene-for cleaning")
    assert chemistry._token_may_name("toluenefoo,x") is False
    assert chemistry._token_may_name("toluene,foo") is True       # an apposition ends before ","
    assert chemistry._token_may_name("steel") is False
    # "<word> grade" becomes "," before the zone is cut, which can join two pieces that are
    # not chemical words into one that is ("eth-" + "-anol" -> "eth-,-anol", an alcohol): a text
    # with "grade" in it is also tested on the text the zone is cut from
    glued = "eth-food grade-anol"
    assert _acts(glued)
    assert not any(chemistry._token_may_name(t) for t in chemistry._TOKEN.findall(glued))
    assert may_name_chemical(glued)
    assert may_name_chemical("") is False and may_name_chemical("   ") is False


_CHEM = ["sodium", "hypochlorite", "methyl", "ethyl", "acetate", "2-methyl-2-butene", "4,4'-diaminodiphenyl",
         "sulfone", "vitamin", "c", "Li2CO3", "NaCl", "sulfuric", "acid", "acetone", "triazine", "zinc",
         "oxide", "calcium", "carbonate", "benzene", "toluene", "glycine", "iodine", "cefalexin", "(E)-but-2-enoic"]
_OTHER = ["steel", "gloves", "pump", "method", "dial", "pure", "technical", "pigment", "food", "herbicide",
          "powder", "drums", "tablets", "mixture", "of", "isomers", "polymer", "resin", "lauryl", "sulfate",
          "eth", "anol", "benz", "oic", "ene"]
_CUTS = ["with", "for", "w/", "grade", "used", "in", "a", "an", "the", "containing", "CAS 86-73-7"]
_SEPS = [" ", "", "-", ",", ", ", ", a ", " (", ")", "(", "'", "/", "; ", " and ", "[", "]"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_CHEM + _OTHER + _CUTS), st.sampled_from(_SEPS)), min_size=1, max_size=9))
def test_gate_on_generated_texts(parts):
    text = "".join(w + s for w, s in parts)
    if _acts(text):
        assert may_name_chemical(text), text


def test_gated_and_ungated_hints_are_the_same(monkeypatch):
    """Through the hinter: the hints with the gate equal the hints with the reader on every text."""
    pytest.importorskip("sentence_transformers")
    from nlp.hs.corpus import load_corpus
    from nlp.hs.hinter import get_hinter

    hinter = get_hinter()
    rows = load_corpus()
    texts = [r["text"] for r in rows[::40]] + _chem_name_texts()[:60] + ["nitrile gloves", "sunscreen with zinc oxide"]
    gated = hinter.hint(texts, top=5)
    monkeypatch.setattr(chemistry, "may_name_chemical", lambda text: True)
    assert hinter.hint(texts, top=5) == gated


_PIECES = ["eth", "meth", "but", "prop", "anol", "ene", "anal", "benz", "oic", "2-", "n-", "yl", "one", "steel"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_PIECES), st.sampled_from(["-", "(", "'", "[", " "]), st.sampled_from(["food", "pigment", "tech"]),
       st.sampled_from([" ", "-"]), st.sampled_from(["-", ")", "'", ",", "]", " "]), st.sampled_from(_PIECES),
       st.sampled_from(["", " acid", " powder", ", a triazine", " for paints"]))
def test_gate_on_grade_joins(a, s1, word, s2, s3, b, tail):
    """"<word> grade" between two pieces, the one rewriting of the text before the zone is cut."""
    text = f"{a}{s1}{word}{s2}grade{s3}{b}{tail}"
    if _acts(text):
        assert may_name_chemical(text), text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aZ9α-(),'[]{}′+ ;./#é_", max_size=40))
def test_letter_tokens_are_the_reader_tokens_that_hold_a_letter(text):
    """The gate looks up only these: the same tokens as the reader's, less the letterless ones."""
    import re

    plain = [t for t in chemistry._TOKEN.findall(text) if re.search("[A-Za-zα-ω]", t)]
    assert chemistry._LETTER_TOKEN.findall(text) == plain
    for t in chemistry._TOKEN.findall(text):
        if t not in plain:
            assert not chemistry._token_may_name(t)


def _plain_flatten(word: str) -> str:
    import re

    w = chemistry._us_spelling(word)
    w = re.sub(r"\((?:[rsez+\-±]|\d+[rsez]?(?:,\d+[rsez]?)*)\)-?", "", w)
    w = chemistry._LOCANT.sub("", w)
    return re.sub(r"[\[\]\(\)\{\}'′,\-\s]|\d", "", w)


def _plain_segment(word: str):
    """``segment`` without the stop at pieces that begin no morpheme."""
    w = _plain_flatten(word)
    if len(w) > 5 and w.endswith("s") and not w.endswith(("ss", "us", "is")) and w not in chemistry._MORPHEMES:
        single = _plain_segment(word[:-1])
        if single is not None:
            return single
    n = len(w)
    if n < 4 or not w.isalpha():
        return None
    best = [None] * (n + 1)
    best[0] = (0, ())
    for i in range(n):
        if best[i] is None:
            continue
        cost, parts = best[i]
        for j in range(i + 1, min(n, i + chemistry._MAX_MORPHEME) + 1):
            piece = w[i:j]
            if piece in chemistry._MORPHEMES:
                c = cost + (3 if chemistry._MORPHEMES[piece][0] == "filler" else 1)
                if best[j] is None or c < best[j][0]:
                    best[j] = (c, parts + (piece,))
    if best[n] is None:
        return None
    parts = best[n][1]
    return parts if chemistry._well_formed(parts, [chemistry._MORPHEMES[p] for p in parts]) else None


def test_fast_word_tests_equal_the_plain_ones():
    """The word tests' shortcuts (letters-only flatten, no formula without a capital, the split's
    stop) give the same answers as the plain forms on every corpus and chemical-names word."""
    from nlp.hs.corpus import load_corpus

    words = {t.strip("(),;:.'[]") for r in load_corpus() for t in chemistry._TOKEN.findall(r["text"])}
    words |= {t.strip("(),;:.'[]") for x in _chem_name_texts() for t in chemistry._TOKEN.findall(x)}
    words |= {"Li2CO3", "NaCl", "HCl", "KMnO4", "Mg(OH)2", "(2R,3S)-butanediol", "sulphonyl", "ALUMINIUM"}
    words.discard("")
    for w in sorted(words):
        assert chemistry._flatten(w) == _plain_flatten(w), w
        assert chemistry.segment(w) == _plain_segment(w), w
    assert all(k != k.lower() for k in chemistry.FORMULAS)  # the capital-letter shortcut's premise
