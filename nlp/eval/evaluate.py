"""Precision and recall of products and signals, against labels the pipeline never saw.

Two label sources, one scorer:
- the sample generator's ``truth.jsonl`` (``--sample N``: generate N firms, read their pages
  with ``nlp.eval.sample_rows``); ``--text-only`` blanks the listings' own fields
  (product list, certifications, employees, year) so the figures are for reading prose alone;
- hand-written listings by other writers (``--listings FILE``, JSONL with a ``labels`` object;
  ``tests/data/nlp_listings_other_writers.jsonl``).
Each set goes through the real ``extract`` stage into a temporary working database; the rows
are then compared with the labels per firm.

Matching products: both sides are put in a plain comparable form (lower case, hyphens as
spaces, a final "s" off every word); "strict" needs equal forms, "lenient" a rapidfuzz ratio of
at least 85 (catches "framed mirror" vs "custom framed mirrors"), matched one to one.
"parts" cuts a label at "with/for/in/from/of" and splits it at "and": the label counts as
found when all its parts were predicted (precision: share of predictions used by a label).
Certifications on the label side are named with the same certification patterns the pipeline
uses; a label no pattern knows stays as written and counts as a miss.

Run: ``python -m nlp.eval.evaluate --sample 400 [--text-only] [--base sm]`` or
``python -m nlp.eval.evaluate --listings tests/data/nlp_listings_other_writers.jsonl``;
``--no-tagger`` leaves the trained product tagger out (rules only).
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from rapidfuzz import fuzz

from export_finder.schema import ensure_table, open_work_db
from nlp.components.ef_products import singular

SIGNAL_KINDS = ("export_market", "distributor_abroad", "certification", "employees", "year_founded", "facility_size", "hs_code")


_LEMMAS = None


def plain(text: str) -> str:
    """Comparable form: lower case, no parenthesis, nothing after a comma (there the labels
    give attributes: "disposable vinyl gloves, powder free"), hyphens as spaces, every word
    singular by the stage's own tested rule (``ef_products.singular`` with the lookup table):
    the scorer's former suffix rule turned "hunting knives" into "hunting knive" and so missed
    the stage's correct "hunting knife"."""
    global _LEMMAS
    if _LEMMAS is None:
        from spacy.lookups import load_lookups

        lookups = load_lookups("en", ["lemma_lookup"], strict=False)
        _LEMMAS = lookups.get_table("lemma_lookup") if lookups.has_table("lemma_lookup") else {}  # keyed by hash: .get(str)
    text = re.sub(r"\([^)]*\)", " ", text).split(",")[0]
    words = re.sub(r"[-/]", " ", text.lower()).split()
    return " ".join(singular(w, _LEMMAS.get(w, "")) for w in words).replace(" '", "'")


_MARKETING: set[str] | None = None


def unmarketed(text: str) -> str:
    """The label with the pipeline's marketing words taken out ("custom framed mirrors" ->
    "framed mirrors"): the stage is asked to drop them, so the labels are compared without."""
    global _MARKETING
    if _MARKETING is None:
        from nlp.components.lexicon import PATTERNS_DIR, read_jsonl

        _MARKETING = {r["text"] for r in read_jsonl(PATTERNS_DIR / "product_lexicon.jsonl") if r["set"] == "marketing"}
    words = [w for w in text.split() if w.lower() not in _MARKETING]
    return " ".join(words) or text


def match_products(pred: list[str], gold: list[str], lenient: bool) -> int:
    """How many gold products a prediction matches, one to one."""
    left = [plain(p) for p in pred]
    hits = 0
    for g in (plain(unmarketed(x)) for x in gold):
        best, best_i = 0.0, -1
        for i, p in enumerate(left):
            score = 100.0 if p == g else (fuzz.ratio(p, g) if lenient else 0.0)
            if score > best:
                best, best_i = score, i
        if best_i >= 0 and (best == 100.0 or (lenient and best >= 85)):
            hits += 1
            left.pop(best_i)
    return hits


def gold_parts(text: str) -> list[str]:
    """A label cut to its product nouns: "ball valves and check valves" -> two parts, "face
    shields with foam headband" -> "face shields". Used by the "parts" match level only."""
    text = re.sub(r"\([^)]*\)", " ", unmarketed(text)).split(",")[0]
    text = re.split(r"\s(?:with|for|in|from|distilled|of)\s", f" {text} ")[0]
    return [plain(p) for p in re.split(r"\s(?:and|&)\s", text) if p.strip()]


def match_parts(pred: list[str], gold: list[str]) -> tuple[int, int]:
    """(gold items whose every part was predicted, predictions used by some gold part)."""
    left = {plain(p) for p in pred}
    used: set[str] = set()
    hits = 0
    for g in gold:
        parts = gold_parts(g)
        whole = plain(unmarketed(g))
        if whole in left:
            used.add(whole)
            hits += 1
        elif parts and all(p in left for p in parts):
            used.update(parts)
            hits += 1
    return hits, len(used)


class Tally:
    def __init__(self):
        self.tp = self.fp = self.fn = 0

    def add(self, pred: set, gold: set) -> None:
        self.tp += len(pred & gold)
        self.fp += len(pred - gold)
        self.fn += len(gold - pred)

    def figures(self) -> dict:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else None
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else None
        f = 2 * p * r / (p + r) if p and r else None
        return {"precision": _r(p), "recall": _r(r), "f1": _r(f), "tp": self.tp, "fp": self.fp, "fn": self.fn}


def _r(x):
    return None if x is None else round(x, 3)


# -- labels ----------------------------------------------------------------------------------
def cert_labels(names, finder) -> set[str]:
    out = set()
    for name in names or []:
        found = [label for label, _ in finder.certifications_in(name)]
        out.update(found or [name])
    return out


def labels_from_truth(truth: dict, finder) -> dict:
    exports = truth.get("exports")
    return {
        "products": [p["text"] for p in truth.get("products", [])],
        "exports": exports,
        "export_market": set(truth.get("export_countries") or []),
        "distributor_abroad": {truth["distributor_abroad"]} if truth.get("distributor_abroad") else set(),
        "certification": cert_labels(truth.get("certifications"), finder),
        "employees": {str(truth["employees"]).replace("+", "")} if truth.get("employees") else set(),
        "year_founded": {str(truth["year_founded"])} if truth.get("year_founded") else set(),
        "facility_size": {f"{truth['facility_sqft']:g} sq ft"} if truth.get("facility_sqft") else set(),
        "hs_code": {re.sub(r"\D", "", truth["hs_code_in_text"])} if truth.get("hs_code_in_text") else set(),
    }


def labels_from_listing(row: dict, finder) -> dict:
    lab = row["labels"]
    return {
        "products": lab.get("products", []),
        "exports": lab.get("exports"),
        "export_market": set(lab.get("export_countries", [])),
        "distributor_abroad": set(lab.get("distributor_abroad", [])),
        "certification": cert_labels(lab.get("certifications"), finder),
        "employees": {str(lab["employees"])} if lab.get("employees") else set(),
        "year_founded": {str(lab["year_founded"])} if lab.get("year_founded") else set(),
        "facility_size": {lab["facility_size"]} if lab.get("facility_size") else set(),
        "hs_code": set(lab.get("hs_codes", [])),
    }


# -- running ---------------------------------------------------------------------------------
def run_extract(rows: list[dict], base: str, hinter=None) -> tuple[dict, dict]:
    """Extract into a temporary working db; per-firm predictions and the stage summary."""
    from nlp.extract import extract

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "work.db"
        db = open_work_db(path)
        ensure_table(db, "firms")
        db["firms"].insert_all(rows, pk="firm_id")
        summary = extract(path, base=base, hinter=hinter or _NoHints())
        pred: dict[str, dict] = defaultdict(lambda: defaultdict(set))
        for r in db.query("select firm_id, product from products"):
            pred[r["firm_id"]]["products"].add(r["product"])
        for r in db.query("select firm_id, kind, value, negated from signals"):
            if r["kind"] == "certification" and r["negated"]:
                continue
            if r["kind"] in {"export_market", "distributor_abroad"} and not re.fullmatch(r"[A-Z]{3}", r["value"]):
                continue  # regions ("Europe") are kept in the table but the labels name countries
            pred[r["firm_id"]][r["kind"]].add(r["value"])
        db.close()
    return pred, summary


class _NoHints:
    """HS hints are measured by nlp.hs itself; here they would only cost time."""

    def hint(self, texts, top=5):
        return [[] for _ in texts]


def score(pred: dict, gold: dict, errors: list | None = None) -> dict:
    strict, lenient, n_gold, n_pred = 0, 0, 0, 0
    part_hits, part_used = 0, 0
    tallies = {k: Tally() for k in SIGNAL_KINDS}
    exports = {"exports": Tally(), "no_export": Tally()}
    for firm_id, lab in gold.items():
        p = pred.get(firm_id, {})
        products = sorted(p.get("products", set()))
        n_gold += len(lab["products"])
        n_pred += len(products)
        strict += match_products(products, lab["products"], lenient=False)
        if errors is not None:
            errors.append({"firm": firm_id, "pred": products, "gold": lab["products"],
                           **{k: (sorted(p.get(k, set())), sorted(lab[k])) for k in SIGNAL_KINDS if set(p.get(k, set())) != set(lab[k])},
                           "exports": (sorted(p.get("exports", set()) | p.get("no_export", set())), lab["exports"])})
        lenient += match_products(products, lab["products"], lenient=True)
        h, u = match_parts(products, lab["products"])
        part_hits += h
        part_used += u
        for kind in SIGNAL_KINDS:
            tallies[kind].add(set(p.get(kind, set())), set(lab[kind]))
        said_no = bool(p.get("no_export"))
        said_yes = bool(p.get("exports")) and not said_no
        exports["exports"].add({firm_id} if said_yes else set(), {firm_id} if lab["exports"] is True else set())
        exports["no_export"].add({firm_id} if said_no else set(), {firm_id} if lab["exports"] is False else set())

    def pr(tp):
        prec = tp / n_pred if n_pred else None
        rec = tp / n_gold if n_gold else None
        f = 2 * prec * rec / (prec + rec) if prec and rec else None
        return {"precision": _r(prec), "recall": _r(rec), "f1": _r(f), "matched": tp, "predicted": n_pred, "gold": n_gold}

    return {
        "firms": len(gold),
        "products_strict": pr(strict),
        "products_lenient": pr(lenient),
        "products_parts": {
            "precision": _r(part_used / n_pred) if n_pred else None,
            "recall": _r(part_hits / n_gold) if n_gold else None,
            "note": "a label 'A and B with C' counts when A and B were both predicted",
        },
        "exports (firm says it exports)": exports["exports"].figures(),
        "no_export (firm says it does not)": exports["no_export"].figures(),
        **{k: t.figures() for k, t in tallies.items()},
    }


def evaluate_sample(n: int, seed: int = 4242, base: str = "blank", text_only: bool = False) -> dict:
    from export_finder.sample_site import generate
    from nlp.eval.sample_rows import firm_rows
    from nlp.extract import get_pipeline

    finder = get_pipeline(base).get_pipe("ef_signals")
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), firms=n, seed=seed)
        rows, truths = firm_rows(Path(tmp))
    if text_only:
        for row in rows:
            row.update(products_text="[]", certifications="", employees="", year_founded=None)
    gold = {t["firm_key"]: labels_from_truth(t, finder) for t in truths}
    started = time.perf_counter()
    pred, summary = run_extract(rows, base)
    took = time.perf_counter() - started
    return {"set": f"sample generator, {len(rows)} firms, seed {seed}" + (", text only" if text_only else ""),
            "base": base, "seconds": round(took, 2), **score(pred, gold)}


def evaluate_listings(path: Path, base: str = "blank") -> dict:
    from nlp.extract import get_pipeline

    finder = get_pipeline(base).get_pipe("ef_signals")
    rows, gold = [], {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        rows.append({
            "firm_id": item["id"], "description": item.get("description", ""),
            "products_text": json.dumps(item.get("products_text", [])),
            "certifications": item.get("certifications", ""), "employees": item.get("employees", ""),
            "year_founded": item.get("year_founded"), "source_urls": json.dumps([f"http://127.0.0.1/listing/{item['id']}"]),
        })
        gold[item["id"]] = labels_from_listing(item, finder)
    started = time.perf_counter()
    pred, _ = run_extract(rows, base)
    took = time.perf_counter() - started
    return {"set": f"{Path(path).name}, {len(rows)} listings", "base": base, "seconds": round(took, 2), **score(pred, gold)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, help="generate this many sample firms and score against truth.jsonl")
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--text-only", action="store_true", help="blank the listings' own fields")
    parser.add_argument("--listings", type=Path, help="hand-labelled listings (JSONL)")
    parser.add_argument("--base", default="blank", choices=("blank", "sm"))
    parser.add_argument("--no-tagger", action="store_true", help="rules only: leave the trained product tagger out (ablation)")
    args = parser.parse_args(argv)
    if args.no_tagger:
        from nlp import extract as extract_module
        from nlp.extract import get_pipeline

        get_pipeline(args.base).remove_pipe("ef_product_tagger")
        assert "ef_product_tagger" not in extract_module._PIPELINES[args.base].pipe_names
    if args.sample:
        print(json.dumps(evaluate_sample(args.sample, args.seed, args.base, args.text_only), indent=1))
    if args.listings:
        print(json.dumps(evaluate_listings(args.listings, args.base), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
