"""``firms`` rows built straight from the sample sites' HTML pages, for evaluating extract.

Why: extract must be measured before the crawler and resolve are finished, on the text a
crawler would read. This reads each listing page the generator wrote (its path is in
``truth.jsonl``), takes the description, product list and fact fields by their CSS classes,
and merges a firm's listings the way resolve does (descriptions joined, product lists
concatenated, source URLs listed). It reads the pages, never the generator's internals.
"""

from __future__ import annotations

import json
from pathlib import Path

from parsel import Selector

SOURCE_DIRS = {"member_directory": "member_directory", "ppe_marketplace": "ppe_marketplace"}
ORIGINS = {"member_directory": "http://member-directory.invalid", "ppe_marketplace": "http://ppe-marketplace.invalid"}


def _text(sel: Selector, css: str) -> list[str]:
    out = []
    for node in sel.css(css):
        text = " ".join(t.strip() for t in node.css("::text").getall() if t.strip())
        if text:
            out.append(text)
    return out


def read_listing(site_dir: Path, source: str, path: str, charset: str = "utf-8") -> dict:
    """Description, products and facts of one listing page."""
    raw = (site_dir / SOURCE_DIRS[source] / path.lstrip("/")).read_bytes()
    sel = Selector(text=raw.decode(charset or "utf-8", errors="replace"))
    if source == "member_directory":
        description = "\n".join(_text(sel, ".member-description p"))
        products = _text(sel, "ul.member-products li")
        facts = {
            "employees": " ".join(_text(sel, "dd.employees")),
            "year_founded": " ".join(_text(sel, "dd.founded")),
            "certifications": ", ".join(_text(sel, "dd.certifications .cert")),
        }
    else:
        description = "\n".join(_text(sel, ".about p") + _text(sel, ".also-makes"))
        products = _text(sel, ".ppe-desc")
        facts = {"employees": "", "year_founded": "", "certifications": ""}
    return {"url": ORIGINS[source] + path, "description": description, "products": products, **facts}


def firm_rows(site_dir: Path, limit: int | None = None) -> tuple[list[dict], list[dict]]:
    """``(firms rows, truth rows)`` for the firms of a generated sample site."""
    site_dir = Path(site_dir)
    rows, truths = [], []
    with open(site_dir / "truth.jsonl", encoding="utf-8") as handle:
        for line in handle:
            truth = json.loads(line)
            listings = [read_listing(site_dir, li["source"], li["url"], li.get("charset", "utf-8")) for li in truth["listings"]]
            if not listings:
                continue
            year = next((li["year_founded"] for li in listings if li["year_founded"].isdigit()), None)
            rows.append({
                "firm_id": truth["firm_key"],
                "description": "\n\n".join(li["description"] for li in listings if li["description"]),
                "products_text": json.dumps([p for li in listings for p in li["products"]]),
                "certifications": next((li["certifications"] for li in listings if li["certifications"]), ""),
                "employees": next((li["employees"] for li in listings if li["employees"]), ""),
                "year_founded": int(year) if year else None,
                "source_urls": json.dumps([li["url"] for li in listings]),
            })
            truths.append(truth)
            if limit and len(rows) >= limit:
                break
    return rows, truths
