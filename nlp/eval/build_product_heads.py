"""Build ``nlp/data/patterns/product_heads.jsonl``: nouns that can head a product name.

Why: listings often name goods with no trigger phrase ("Cold-pressed avocado oil, extra
virgin, bottled in Ventura County."). ``ef_products`` reads such an opening noun list only when
each item's head noun is a word the HS nomenclature (HS 2022 descriptions via
``nlp.hs.nomenclature.load_nomenclature``) or the project's HS lexicon (``nlp/data/hs/lexicon.jsonl``)
uses as the last word of a goods phrase. Heads are singularised with the same rule as
``ef_products``. Run: ``python -m nlp.eval.build_product_heads``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from nlp.components.ef_products import singular
from nlp.components.lexicon import PATTERNS_DIR, read_jsonl

# words that end nomenclature fragments but name no goods
NOT_HEADS = {
    "other", "kind", "kinds", "weight", "kg", "thereof", "part", "parts", "form", "forms", "use", "type",
    "content", "purpose", "purposes", "width", "thickness", "length", "diameter", "value", "volume",
    "capacity", "power", "output", "voltage", "mass", "heading", "headings", "chapter", "subheading", "nes",
    "n.e.c", "necessary", "whether", "not", "more", "less", "than", "cm", "mm", "m", "g", "l", "w", "kw",
    "kv", "vol", "percent", "exceeding", "state", "condition", "packing", "retail", "sale", "measure",
    "same", "similar", "similarly", "thing", "article", "articles", "material", "good", "product", "item",
    "accessory", "specified", "included", "elsewhere", "like", "etc", "one", "two", "each", "per", "only",
    "surface", "area", "virgin", "extra", "fresh", "frozen", "dried", "raw", "new", "whole", "end", "side", "length", "size", "used", "presented", "primarily", "mainly",
}


def heads() -> Counter:
    from nlp.hs.nomenclature import load_nomenclature

    count: Counter = Counter()
    texts = [row["description"] for row in load_nomenclature() if row.get("level") in {"heading", "subheading"}]
    lex = Path(__file__).resolve().parents[1] / "data" / "hs" / "lexicon.jsonl"
    for line in lex.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):  # the HS lexicon opens with a comment line
            texts.append(json.loads(line).get("term", ""))
    for text in texts:
        for fragment in re.split(r"[;,:()\[\]]| and | or | of | with | for | in ", text.lower()):
            words = re.findall(r"[a-z][a-z\-]+", fragment)
            if not words:
                continue
            word = words[-1]
            if len(word) < 3 or word in NOT_HEADS or word.endswith(("ed", "ing", "ly")) and word not in {"bed", "sled", "seed", "weed", "reed", "feed"}:
                continue
            count[singular(word, "")] += 1
    return count


def main() -> int:
    words = read_jsonl(PATTERNS_DIR / "product_lexicon.jsonl")
    blocked = {r["text"] for r in words if r["set"] in {"stop", "service", "customer", "generic", "attribute", "marketing", "determiner"}}
    out = PATTERNS_DIR / "product_heads.jsonl"
    rows = sorted(w for w in heads() if w not in blocked)
    with out.open("w", encoding="utf-8") as f:
        for w in rows:
            f.write(json.dumps({"head": w}) + "\n")
    print(f"{len(rows)} heads -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
