"""Bundled sample sites: a seeded generator of two static websites of fictional firms.

``generate(out_dir, firms=1500, seed=2020)`` writes

- ``OUT/member_directory/``: a manufacturers' association member directory,
- ``OUT/ppe_marketplace/``: a PPE marketplace in the style of "Safely Making California",
- ``OUT/truth.jsonl``: what is true of every firm (never served), and ``OUT/manifest.json``.

Why: every later stage (crawl, resolve, extract, score) needs a realistic source whose truth is
known, at any scale, without network. Same seed, same bytes: no timestamps, no ``hash()``, no
set-order dependence; files are written as they are made (streaming), so 400,000 firms fit in
bounded memory apart from the registry of unique slugs, domains and phone lines.
See docs/sample-site.md.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from . import catalog as C
from . import render as R
from .firms import Firm, iter_firms

__all__ = ["generate", "SITES"]

SITES = ("member_directory", "ppe_marketplace")
DIRECTORY_PAGE_SIZE = 24
MARKET_PAGE_SIZE = 25
SITEMAP_LIMIT = 50_000  # the sitemap protocol's cap on URLs per file

DIRECTORY_CSS = """body{font-family:sans-serif;max-width:60em;margin:auto}
.card{border:1px solid #ccc;margin:.5em;padding:.5em}.member-facts dt{font-weight:bold}
"""
MARKET_CSS = """body{font-family:Georgia,serif;background:#f7f7f2}.mp-header{background:#0b4f6c;color:#fff;padding:1em}
.supplier-list td{padding:.3em;border-bottom:1px solid #ddd}.ppe-cat{font-weight:bold}
"""
PRINT_CSS = "body{font-family:serif}\n"


class Writer:
    """Writes files under one root and counts them and their bytes."""

    def __init__(self, root: Path):
        self.root = root
        self.files = 0
        self.bytes = 0
        self._dirs: set[Path] = set()

    def write(self, rel: str, text: str, charset: str = "utf-8") -> None:
        path = self.root / rel.lstrip("/")
        if path.parent not in self._dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(path.parent)
        data = text.encode("cp1252" if charset == "windows-1252" else "utf-8", errors="xmlcharrefreplace")
        with open(path, "wb") as fh:
            fh.write(data)
        self.files += 1
        self.bytes += len(data)


class SitemapWriter:
    """Child sitemaps of at most ``limit`` URLs; one child becomes ``sitemap.xml`` itself."""

    def __init__(self, writer: Writer, origin: str, name: str, limit: int):
        self.w, self.origin, self.name, self.limit = writer, origin, name, limit
        self.children: list[str] = []
        self.fh = None
        self.count = 0
        self.total = 0

    def add(self, path: str) -> None:
        if self.fh is None or self.count >= self.limit:
            self._close_child()
            rel = f"sitemaps/{self.name}-{len(self.children) + 1}.xml"
            self.children.append(rel)
            p = self.w.root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            self.fh = open(p, "w", encoding="utf-8", newline="\n")
            self.fh.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                          '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n')
            self.count = 0
        self.fh.write(f"<url><loc>{R.E(self.origin + path)}</loc></url>\n")
        self.count += 1
        self.total += 1

    def _close_child(self) -> None:
        if self.fh is not None:
            self.fh.write("</urlset>\n")
            self.fh.close()
            self.fh = None

    def close(self) -> None:
        if self.fh is None and not self.children:
            self.add("/")  # the protocol wants at least one <url>: an empty site lists its home page
            self.total = 0
        self._close_child()
        for rel in self.children:
            p = self.w.root / rel
            self.w.files += 1
            self.w.bytes += p.stat().st_size
        if len(self.children) == 1:
            (self.w.root / self.children[0]).replace(self.w.root / "sitemap.xml")
            (self.w.root / "sitemaps").rmdir()
            return
        body = "".join(f"<sitemap><loc>{R.E(self.origin)}/{rel}</loc></sitemap>\n" for rel in self.children)
        self.w.write("sitemap.xml", '<?xml version="1.0" encoding="UTF-8"?>\n'
                     '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + body + "</sitemapindex>\n")


def _truth_row(firm: Firm, d: R.DirectoryListing | None, m: R.MarketListing | None) -> dict:
    listings = []
    for source, lst in (("member_directory", d), ("ppe_marketplace", m)):
        if lst is None:
            continue
        listings.append({
            "source": source, "url": lst.path, "name_as_written": lst.name, "phone_as_written": lst.phone,
            "website_as_written": lst.website, "street_as_written": lst.street, "charset": lst.charset,
            "markup": lst.markup if source == "member_directory" else ("jsonld" if lst.jsonld else "plain"),
        })
    return {
        "firm_key": firm.key, "name": firm.name, "industry": firm.industry.key,
        "street": firm.street, "city": firm.city, "state": firm.state, "zip": firm.zip, "county": firm.county,
        "phone": firm.phone_e164, "domain": firm.domain, "in_california": firm.in_california,
        "listings": listings,
        "products": [{"text": p, "hs4": h[:4], "hs6": h, "ppe_category": cat or None} for h, p, cat in firm.products],
        "exports": firm.exports, "export_countries": [c[2] for c in firm.countries],
        "distributor_abroad": firm.distributor_country[2] if firm.distributor_country else None,
        "exporter_latent": firm.exporter_latent, "export_propensity": firm.export_propensity,
        "certifications": firm.certifications, "employees": firm.employees, "year_founded": firm.year_founded,
        "facility_sqft": firm.sqft, "hs_code_in_text": firm.hs_mention, "hostile": firm.hostile or None,
        "similar_name_to": firm.similar_to,
    }


def _clear(out: Path) -> None:
    """Remove a previous run's output (only the paths this generator writes)."""
    for name in SITES + (".sample-site-tmp",):
        if (out / name).exists():
            shutil.rmtree(out / name)
    for name in ("truth.jsonl", "manifest.json"):
        (out / name).unlink(missing_ok=True)


def generate(out_dir, firms: int = 1500, seed: int = 2020, base_urls: dict | None = None,
             sitemap_limit: int = SITEMAP_LIMIT) -> dict:
    """Write both sample sites, truth.jsonl and manifest.json under ``out_dir``; return a summary.

    ``base_urls`` ({"member_directory": "http://host:port", ...}) puts real origins in robots.txt
    and the sitemaps; without it they hold ``http://member-directory.invalid`` and
    ``http://ppe-marketplace.invalid``, which ``server.py`` rewrites to the serving origin.
    """
    if not isinstance(firms, int) or firms < 1:
        raise ValueError(f"firms must be a positive integer, got {firms!r}")
    if sitemap_limit < 1 or sitemap_limit > SITEMAP_LIMIT:
        raise ValueError(f"sitemap_limit must be 1..{SITEMAP_LIMIT}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clear(out)
    base_urls = base_urls or {}
    d_origin = base_urls.get("member_directory", R.DIRECTORY_PLACEHOLDER).rstrip("/")
    m_origin = base_urls.get("ppe_marketplace", R.MARKET_PLACEHOLDER).rstrip("/")

    dw, mw = Writer(out / "member_directory"), Writer(out / "ppe_marketplace")
    tmp = out / ".sample-site-tmp"
    tmp.mkdir()
    cat_files = {cat: open(tmp / f"{cat}.jsonl", "w", encoding="utf-8", newline="\n") for cat in C.PPE_CATEGORIES}
    cat_counts = dict.fromkeys(C.PPE_CATEGORIES, 0)
    d_map = SitemapWriter(dw, d_origin, "members", sitemap_limit)
    m_map = SitemapWriter(mw, m_origin, "suppliers", sitemap_limit)

    counts = {"firms": 0, "member_directory": 0, "ppe_marketplace": 0, "both": 0, "marketplace_only": 0,
              "out_of_state": 0, "exports_stated": 0, "no_export_stated": 0, "export_silent": 0,
              "jsonld_pages": 0, "microdata_pages": 0, "plain_pages": 0, "windows_1252_pages": 0,
              "hostile_firms": 0, "similar_name_firms": 0, "directory_index_pages": 0, "category_pages": 0}
    chapters: set[str] = set()
    cards: list[tuple[str, str, str, str]] = []
    page_no = 0

    with open(out / "truth.jsonl", "w", encoding="utf-8", newline="\n") as truth:
        for firm in iter_firms(seed, firms):
            counts["firms"] += 1
            chapters.update(h[:2] for h, _, _ in firm.products)
            counts["out_of_state"] += not firm.in_california
            counts["exports_stated" if firm.exports else "no_export_stated" if firm.exports is False else "export_silent"] += 1
            counts["hostile_firms"] += bool(firm.hostile)
            counts["similar_name_firms"] += firm.similar_to is not None
            d = m = None
            if firm.on_directory:
                d = R.DirectoryListing(firm, seed)
                dw.write(d.path, R.directory_detail(firm, d), d.charset)
                dw.write(f"/members/print/{firm.slug_dir}.html", R.directory_print(firm, d), d.charset)
                d_map.add(d.path)
                counts["member_directory"] += 1
                counts[f"{d.markup}_pages"] += 1
                counts["windows_1252_pages"] += d.charset == "windows-1252"
                if len(cards) == DIRECTORY_PAGE_SIZE:
                    page_no += 1
                    dw.write(f"/members/page/{page_no}.html", R.directory_index(page_no, cards, True))
                    cards = []
                cards.append((d.path, d.name, firm.city, firm.industry.label))
            if firm.on_market:
                m = R.MarketListing(firm, seed, d.name if d else None, d.phone if d else None)
                mw.write(m.path, R.market_supplier(firm, m), m.charset)
                m_map.add(m.path)
                counts["ppe_marketplace"] += 1
                counts["windows_1252_pages"] += m.charset == "windows-1252"
                for cat in firm.ppe_categories:
                    cat_files[cat].write(json.dumps([m.path, m.name, m.short(cat), m.city]) + "\n")
                    cat_counts[cat] += 1
            counts["both"] += bool(d and m)
            counts["marketplace_only"] += bool(m and not d)
            truth.write(json.dumps(_truth_row(firm, d, m), ensure_ascii=False, sort_keys=True) + "\n")
    page_no += 1
    dw.write(f"/members/page/{page_no}.html", R.directory_index(page_no, cards, False))
    counts["directory_index_pages"] = page_no

    for fh in cat_files.values():
        fh.close()
    for cat in C.PPE_CATEGORIES:
        n_pages = max(1, -(-cat_counts[cat] // MARKET_PAGE_SIZE))
        with open(tmp / f"{cat}.jsonl", encoding="utf-8") as fh:
            for p in range(1, n_pages + 1):
                entries = [tuple(json.loads(fh.readline())) for _ in range(min(MARKET_PAGE_SIZE, cat_counts[cat] - (p - 1) * MARKET_PAGE_SIZE))]
                mw.write(f"/category/{cat}/page/{p}.html", R.market_category(cat, p, entries, p < n_pages))
                counts["category_pages"] += 1
    shutil.rmtree(tmp)

    d_map.close()
    m_map.close()
    dw.write("robots.txt", f"User-agent: *\nDisallow: /members/print/\n\nSitemap: {d_origin}/sitemap.xml\n")
    mw.write("robots.txt", f"User-agent: *\nDisallow: /cart/\n\nSitemap: {m_origin}/sitemap.xml\n")
    dw.write("index.html", R.directory_home())
    mw.write("index.html", R.market_home())
    dw.write("static/directory.css", DIRECTORY_CSS)
    dw.write("static/print.css", PRINT_CSS)
    mw.write("static/market.css", MARKET_CSS)

    summary = {
        "seed": seed,
        "counts": counts,
        "category_suppliers": cat_counts,
        "hs_chapters": sorted(chapters),
        "hs_chapter_count": len(chapters),
        "files": {"member_directory": dw.files, "ppe_marketplace": mw.files},
        "bytes_written": {"member_directory": dw.bytes, "ppe_marketplace": mw.bytes},
        "sitemap_urls": {"member_directory": d_map.total, "ppe_marketplace": m_map.total},
        "origins": {"member_directory": d_origin, "ppe_marketplace": m_origin},
    }
    (out / "manifest.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    summary["out_dir"] = str(out)
    return summary
