"""Product-market fit through the Port of LA, from the real trade figures only.

Why a points scale that adds up: a trade officer must be able to check every point of the
market part against a published figure. For the firm's best HS chapter the market part is the
sum of three pieces, each resting on one row of a reference table loaded by ``refdata``:

- up to 40 points: how much of the chapter the port ships (its percentile among the chapters
  the port ships; figure: ``chapter_trade.port_value_usd``);
- up to 40 points: the best market for it through the port (half the port's share of US
  containerized exports of the chapter to that market, capped at 30%, half the market's size
  for US goods of the chapter as a percentile; figure: ``chapter_markets.port_value_usd``);
- 20 points if the chapter is containerisable manufactured or packaged goods, 0 for bulk
  (the project's own mapping; figure: ``hs_chapters.containerisable``).

Where the data cannot answer (no HS chapter, a chapter the port data lacks, no trade figures
loaded, a heading finer than a chapter) the part says "no data" and why, and the score uses
what it has.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

PORT_POINTS, MARKET_POINTS, CONTAINER_POINTS = 40.0, 40.0, 20.0
SHARE_CAP = 0.30
TOP_MARKETS = 3
MAIN_SHARE = 0.5  # chapters with at least this share of the top chapter's confidence count
PORT_NAME = "the Port of LA"


def usd(value: float) -> str:
    """Dollar figures as people say them: $1.58 bn, $23.4 M, $512,300."""
    if value is None:
        return "no data"
    if abs(value) >= 1e9:
        return f"${value / 1e9:,.2f} bn"
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.1f} M"
    return f"${value:,.0f}"


def kind(code: str) -> str:
    """The HS level's name for a code's length."""
    return {2: "chapter", 4: "heading", 6: "subheading"}.get(len(code), "code")


def pct(share: float) -> str:
    if share is None:
        return "no data"
    if 0 < share < 0.001:
        return "under 0.1%"
    return f"{share * 100:.1f}%"


@dataclass
class Component:
    feature: str
    points: float
    sentence: str
    figure: float | None
    source: str
    cites_table: str | None
    cites_key: dict | None
    cites_column: str | None


@dataclass
class MarketFit:
    score: float | None  # 0-100, None: no data
    chapter: str | None
    components: list[Component] = field(default_factory=list)
    suggestions: list[dict] = field(default_factory=list)
    note: str | None = None


class MarketData:
    """The reference tables, read once; per-chapter answers are cached (40,000 firms share ~90)."""

    def __init__(self, db):
        tables = set(db.table_names())
        self.chapters = {}
        self.markets: dict[str, list[dict]] = defaultdict(list)
        self.hs = {}
        if "chapter_trade" in tables:
            for row in db["chapter_trade"].rows_where(order_by="year desc"):
                self.chapters.setdefault(row["hs_code"], row)  # latest year first
        if "chapter_markets" in tables:
            for row in db["chapter_markets"].rows_where(order_by="year desc"):
                chapter = self.chapters.get(row["hs_code"])
                if chapter and row["year"] == chapter["year"]:
                    self.markets[row["hs_code"]].append(row)
        if "hs_chapters" in tables:
            self.hs = {row["code"]: row for row in db["hs_chapters"].rows}
        self.loaded = bool(self.chapters)
        self._size_pct: dict[tuple, float] = {}
        for code, rows in self.markets.items():
            sized = sorted((r for r in rows if r["us_containerized_usd"]), key=lambda r: (r["market_size_usd"] or 0, r["partner_iso3"]))
            for i, r in enumerate(sized):
                self._size_pct[(code, r["partner_iso3"])] = (i + 1) / len(sized)
        self._cache: dict[str, tuple] = {}
        self._ranked: dict[str, list] = {}

    def market_score(self, row: dict) -> float:
        share = min(1.0, (row["port_share"] or 0.0) / SHARE_CAP)
        return 0.5 * share + 0.5 * self._size_pct.get((row["hs_code"], row["partner_iso3"]), 0.0)

    def ranked_markets(self, code: str) -> list[tuple[float, dict]]:
        """The port's markets for one code, best first (cached: firms share a few codes)."""
        if code not in self._ranked:
            rows = [r for r in self.markets.get(code, []) if r["port_value_usd"]]
            scored = [(round(self.market_score(r), 6), r) for r in rows]
            scored.sort(key=lambda t: (-t[0], -(t[1]["port_value_usd"] or 0), t[1]["partner_iso3"]))
            self._ranked[code] = scored
        return self._ranked[code]

    def chapter_fit(self, code: str) -> tuple[float | None, list[tuple], str | None]:
        """Points and cited pieces for one chapter; product words are filled in per firm."""
        if code in self._cache:
            return self._cache[code]
        chapter = self.chapters.get(code)
        hs = self.hs.get(code[:2])
        if chapter is None:
            result = (None, [], f"no data: the trade figures have no exports of HS {kind(code)} {code}")
            self._cache[code] = result
            return result
        pieces = []
        year = chapter["year"]
        key = {"year": year, "hs_code": code}
        if chapter["port_value_usd"]:
            pts = PORT_POINTS * (chapter["port_value_percentile"] or 0.0)
            text = (
                f"{PORT_NAME} shipped {usd(chapter['port_value_usd'])} of {kind(code)} {code} in containers in {year}, "
                f"{pct(chapter['port_share'])} of all US containerized exports of it"
            )
        else:
            pts = 0.0
            text = f"{PORT_NAME} recorded no containerized exports of {kind(code)} {code} in {year}"
        pieces.append(("port_volume", pts, text, chapter["port_value_usd"], chapter["source"] + f"; retrieved {chapter['retrieved']}", "chapter_trade", key, "port_value_usd"))
        ranked = self.ranked_markets(code)
        if ranked:
            m_score, best = ranked[0]
            text = (
                f"its best market through the port is {best['country']}: {PORT_NAME} shipped {usd(best['port_value_usd'])} "
                f"of {kind(code)} {code} there in {year}, {pct(best['port_share'])} of all US containerized exports of it there"
            )
            pieces.append(("best_market", MARKET_POINTS * m_score, text, best["port_value_usd"], best["source"] + f"; retrieved {best['retrieved']}", "chapter_markets", {"year": year, "hs_code": code, "partner_iso3": best["partner_iso3"]}, "port_value_usd"))
        if hs is not None and hs.get("containerisable") is not None:
            flag = int(hs["containerisable"])
            text = (
                f"chapter {code[:2]} goods normally travel in containers" if flag else f"chapter {code[:2]} goods move mostly in bulk or outside containers"
            ) + ", by the project's own mapping"
            pieces.append(("containerisable", CONTAINER_POINTS * flag, text, float(flag), "project's own mapping, db/reference_data/containerisable_chapters.csv", "hs_chapters", {"code": code[:2]}, "containerisable"))
        total = sum(p[1] for p in pieces)
        result = (total, pieces, None)
        self._cache[code] = result
        return result


def firm_market_fit(data: MarketData, hints: list[dict]) -> MarketFit:
    """The firm's market part: its best chapter's points, and its top markets across chapters."""
    if not data.loaded:
        return MarketFit(None, None, note="no data: no trade figures are loaded (run `export-finder refdata`)")
    confident = [h for h in hints if not h.get("uncertain")] or hints
    if not confident:
        return MarketFit(None, None, note="no data: no products with an HS chapter were recognised for this firm")
    by_chapter: dict[str, list[dict]] = defaultdict(list)
    finer = set()
    for h in confident:
        code = next((c for c in (h.get("hs6"), h.get("hs4")) if c and c in data.chapters), None)
        if code is None:
            code = h["hs2"]
            finer.update(c for c in (h.get("hs4"),) if c)
        by_chapter[code].append(h)
    notes = []
    # What the firm mainly makes: chapters holding at least half the top chapter's confidence.
    weight = {code: sum(max(h.get("confidence") or 0.0, 0.01) for h in hs) for code, hs in by_chapter.items()}
    top = max(weight.values())
    main = sorted(code for code in by_chapter if weight[code] >= MAIN_SHARE * top)
    best = None
    for code in main:
        total, pieces, note = data.chapter_fit(code)
        if total is None:
            notes.append(note)
            continue
        if best is None or (weight[code], total) > (weight[best[1]], best[0]):
            best = (total, code, pieces)
    if finer:
        notes.append(
            "figures are for whole HS chapters: no data at heading level (" + ", ".join(sorted(finer)[:5]) + ") in the loaded trade figures"
        )
    if all(h.get("uncertain") for h in confident):
        notes.append("every HS guess for this firm's products is uncertain, so the markets may rest on the wrong goods")
    if best is None:
        return MarketFit(None, None, note="; ".join(notes) or "no data")
    total, code, pieces = best
    product = _product_words(by_chapter[code])
    desc = (data.chapters.get(code) or {}).get("description") or (data.hs.get(code) or {}).get("description") or ""
    components = []
    for i, (feature, pts, text, figure, source, table, key, column) in enumerate(pieces):
        lead = f"Makes {product} (HS {kind(code)} {code}{', ' + _short(desc) if desc else ''}): " if i == 0 else ""
        sentence = (lead + text) if lead else text[0].upper() + text[1:]
        components.append(Component(feature, pts, sentence + ".", figure, source, table, key, column))
    suggestions = _suggestions(data, [code] + [c for c in main if c != code], by_chapter, {c: weight[c] / top for c in main})
    if len(suggestions) < TOP_MARKETS:
        notes.append(f"only {len(suggestions)} market(s) with port figures for this firm's chapters")
    return MarketFit(total, code, components, suggestions, "; ".join(notes) or None)


def _product_words(hints: list[dict]) -> str:
    words = []
    for h in hints:
        if h.get("product") and h["product"] not in words:
            words.append(h["product"])
    if not words:
        return "products"
    return " and ".join(words[:2]) if len(words) <= 2 else ", ".join(words[:2]) + " and more"


def _short(desc: str) -> str:
    return desc.split(";")[0].strip().lower() if desc else ""


def _suggestions(data: MarketData, chapters: list[str], by_chapter: dict, share: dict[str, float]) -> list[dict]:
    """Top markets, one per country: first the best chapter's best market (the one the reasons
    name), then the rest by market score weighted by how sure we are the firm makes that chapter."""
    picked, seen = [], set()
    pool = []
    for code in chapters:
        ranked = data.ranked_markets(code)[:TOP_MARKETS * 2]
        for i, (m_score, row) in enumerate(ranked):
            first = code == chapters[0] and i == 0
            pool.append((0 if first else 1, -m_score * share.get(code, 1.0), m_score, row))
    pool.sort(key=lambda t: (t[0], t[1], -(t[3]["port_value_usd"] or 0), t[3]["hs_code"], t[3]["partner_iso3"]))
    for _first, _weighted, m_score, row in pool:
        if row["partner_iso3"] in seen:
            continue
        seen.add(row["partner_iso3"])
        product = _product_words(by_chapter[row["hs_code"]])
        lead = " (one of the port's five lead markets for it)" if row["lead_market"] else ""
        picked.append(
            {
                "rank": len(picked) + 1,
                "partner_iso3": row["partner_iso3"],
                "country": row["country"],
                "hs_code": row["hs_code"],
                "hs_level": len(row["hs_code"]),
                "port_value_usd": row["port_value_usd"],
                "us_value_usd": row["us_containerized_usd"],
                "port_share": row["port_share"],
                "year": row["year"],
                "source": row["source"] + f"; retrieved {row['retrieved']}",
                "sentence": (
                    f"{row['country']} for {product} (HS {kind(row['hs_code'])} {row['hs_code']}): {PORT_NAME} shipped {usd(row['port_value_usd'])} "
                    f"there in {row['year']}, {pct(row['port_share'])} of the {usd(row['us_containerized_usd'])} of US containerized exports of it there{lead}."
                ),
                "cites_table": "chapter_markets",
                "cites_key": json.dumps({"year": row["year"], "hs_code": row["hs_code"], "partner_iso3": row["partner_iso3"]}),
                "market_score": m_score,
            }
        )
        if len(picked) == TOP_MARKETS:
            break
    return picked
