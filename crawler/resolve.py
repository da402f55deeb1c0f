"""``export-finder resolve``: listings -> one row per California firm, with an audit trail.

Steps:
1. Normalise every listing (``crawler.normalise``): name key without legal suffixes, E.164
   phone, registered domain, 5-digit ZIP, state code, county and centroid from the ZIP.
2. Keep California: the stated state is CA, or no usable state and the ZIP is Californian.
   Invalid listings and listings elsewhere stay in ``listings`` and are counted, not merged.
3. Link: candidate pairs share a registered domain, a phone number, or a ZIP with similar
   names (rapidfuzz ``token_sort_ratio`` >= ``NAME_THRESHOLD``). Pairs are accepted strongest
   rule first (domain, phone, name+zip), Kruskal-style over a union-find; a phone or name pair
   whose two clusters already carry different domains is refused (two firms sharing a
   switchboard or a name in one ZIP), and so is a name pair whose clusters carry different
   phones; refusals are counted and listed in the summary.
4. Audit: within each firm the accepted pairs form a tree; each listing's ``firm_listings``
   row names the rule, score and listing that brought it in (``matched_to``); the firm's
   anchor listing says ``first``.
5. Stable ids: a firm keeps the ``firm_id`` most of its listings had in the previous run; a new
   firm's id is a hash of its strongest key (domain, else phone, else name key + ZIP), never
   of row order, so adding listings or sources does not renumber firms.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from crawler import normalise
from export_finder.schema import ensure_stage_tables, open_work_db

NAME_THRESHOLD = 90.0
RULE_ORDER = {"domain": 0, "phone": 1, "name+zip": 2}
# Domains that many unrelated firms use; never a merge key.
SHARED_DOMAINS = {"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "facebook.com", "linkedin.com",
                  "wixsite.com", "squarespace.com", "godaddysites.com", "blogspot.com", "google.com", "sites.google.com"}


@dataclass
class Record:
    """One listing, normalised for matching."""

    listing_id: str
    source: str
    url: str
    row: dict
    name: str | None
    name_key: str
    phone: str | None
    domain: str | None
    website: str | None
    zip5: str | None
    state: str | None
    zipinfo: dict | None
    products: list = field(default_factory=list)
    categories: list = field(default_factory=list)


def _loads(text) -> list:
    try:
        value = json.loads(text) if text else []
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def normalise_listing(row: dict) -> Record:
    zip5 = normalise.zip5(row.get("postal_code"))
    domain = normalise.registered_domain(normalise.website_url(row.get("website")))
    return Record(
        listing_id=row["listing_id"],
        source=row["source"],
        url=row["url"],
        row=row,
        name=normalise.display_name(row.get("name")),
        name_key=normalise.name_key(row.get("name")),
        phone=normalise.phone_e164(row.get("phone")),
        domain=None if domain in SHARED_DOMAINS else domain,
        website=normalise.website_url(row.get("website")),
        zip5=zip5,
        state=normalise.state_code(row.get("state")),
        zipinfo=normalise.zip_info(zip5),
        products=_loads(row.get("products")),
        categories=_loads(row.get("categories")),
    )


def in_california(rec: Record) -> bool:
    if rec.state:
        return rec.state == "CA"
    return bool(rec.zipinfo and rec.zipinfo["state"] == "CA")


# --- linking --------------------------------------------------------------------------------

class UnionFind:
    """Clusters of listings, each root carrying the domains and phones its members have."""

    def __init__(self, items):
        self.parent = {i: i for i in items}
        self.domains: dict[str, set] = {}
        self.phones: dict[str, set] = {}

    def find(self, x):
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            self.domains[ra] = self.domains.get(ra, set()) | self.domains.pop(rb, set())
            self.phones[ra] = self.phones.get(ra, set()) | self.phones.pop(rb, set())


def candidate_pairs(records: list[Record], rules=tuple(RULE_ORDER)) -> list[tuple[int, float, str, str]]:
    """(rule rank, -score, a, b) for every pair some rule proposes; sorted strongest first."""
    pairs: dict[tuple[str, str], tuple[int, float]] = {}

    def propose(a: str, b: str, rule: str, score: float):
        key = (a, b) if a < b else (b, a)
        rank = RULE_ORDER[rule]
        if key not in pairs or (rank, -score) < pairs[key]:
            pairs[key] = (rank, -score)

    for attr, rule in (("domain", "domain"), ("phone", "phone")):
        if rule not in rules:
            continue
        groups: dict[str, list[str]] = defaultdict(list)
        for rec in records:
            value = getattr(rec, attr)
            if value:
                groups[value].append(rec.listing_id)
        for ids in groups.values():
            ids = sorted(ids)
            for other in ids[1:]:  # a star over the group is enough to connect it
                propose(ids[0], other, rule, 100.0)
    by_zip: dict[str, list[Record]] = defaultdict(list)
    for rec in records:
        if rec.zip5 and rec.name_key:
            by_zip[rec.zip5].append(rec)
    for group in by_zip.values() if "name+zip" in rules else ():
        group = sorted(group, key=lambda r: r.listing_id)
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                score = fuzz.token_sort_ratio(a.name_key, b.name_key)
                if score >= NAME_THRESHOLD:
                    propose(a.listing_id, b.listing_id, "name+zip", float(score))
    ranked = [(rank, neg, a, b) for (a, b), (rank, neg) in pairs.items()]
    ranked.sort()
    return ranked


def _conflict(values: dict[str, set], ra: str, rb: str) -> bool:
    """Both clusters know values (domains, phones) and share none."""
    va, vb = values.get(ra, set()), values.get(rb, set())
    return bool(va and vb and not (va & vb))


def link(records: list[Record], rules=tuple(RULE_ORDER)) -> tuple[dict[str, str], list[tuple[str, str, str, float]], list]:
    """Cluster the records; return (listing -> cluster root, accepted pairs, refused pairs)."""
    by_id = {r.listing_id: r for r in records}
    uf = UnionFind(by_id)
    for rec in records:
        uf.domains[rec.listing_id] = {rec.domain} if rec.domain else set()
        uf.phones[rec.listing_id] = {rec.phone} if rec.phone else set()
    accepted: list[tuple[str, str, str, float]] = []
    refused: list[tuple[str, str, str, float]] = []
    for rank, neg_score, a, b in candidate_pairs(records, rules):
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        rule = next(k for k, v in RULE_ORDER.items() if v == rank)
        if rule != "domain" and _conflict(uf.domains, ra, rb):
            refused.append((a, b, rule, -neg_score))
            continue
        if rule == "name+zip" and _conflict(uf.phones, ra, rb):
            # Same name in one ZIP, but different phone numbers: two firms (or a firm and its
            # namesake), unless a stronger rule joins them.
            refused.append((a, b, rule, -neg_score))
            continue
        uf.union(a, b)
        accepted.append((a, b, rule, -neg_score))
    return {i: uf.find(i) for i in by_id}, accepted, refused


# --- firms ----------------------------------------------------------------------------------

def _most_common(values, prefer_long=False):
    values = [v for v in values if v not in (None, "")]
    if not values:
        return None
    counts = Counter(values)
    return max(counts, key=lambda v: (counts[v], len(str(v)) if prefer_long else 0, -values.index(v)))


def strongest_key(members: list[Record]) -> str:
    domain = _most_common([m.domain for m in members])
    if domain:
        return "domain:" + domain
    phone = _most_common([m.phone for m in members])
    if phone:
        return "phone:" + phone
    first = min(members, key=lambda m: m.listing_id)
    return f"name:{first.name_key}|{first.zip5 or ''}"


def new_firm_id(key: str) -> str:
    return "F" + hashlib.sha1(key.encode()).hexdigest()[:10]


def audit_tree(members: list[Record], edges: list[tuple[str, str, str, float]]) -> dict[str, tuple[str, float, str | None]]:
    """Each member's (rule, score, matched_to), following accepted edges out from the anchor."""
    ids = {m.listing_id for m in members}
    adjacency: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for a, b, rule, score in edges:
        if a in ids:
            adjacency[a].append((b, rule, score))
            adjacency[b].append((a, rule, score))
    # Anchor: the listing carrying the strongest key, ties by id (independent of row order).
    anchor = min(members, key=lambda m: (m.domain is None, m.phone is None, m.listing_id)).listing_id
    decisions = {anchor: ("first", 100.0, None)}
    queue = [anchor]
    while queue:
        current = queue.pop(0)
        for other, rule, score in sorted(adjacency[current], key=lambda e: (RULE_ORDER[e[1]], -e[2], e[0])):
            if other not in decisions:
                decisions[other] = (rule, score, current)
                queue.append(other)
    return decisions


def firm_row(firm_id: str, members: list[Record]) -> dict:
    members = sorted(members, key=lambda m: (m.source, m.url, m.listing_id))
    zip5 = _most_common([m.zip5 for m in members])
    info = normalise.zip_info(zip5) or {}
    descriptions, products, categories, certs = [], [], [], []
    for m in members:
        desc = m.row.get("description")
        if desc and desc not in descriptions:
            descriptions.append(desc)
        for p in m.products:
            if p not in products:
                products.append(p)
        for c in m.categories:
            if c not in categories:
                categories.append(c)
        for c in (m.row.get("certifications") or "").replace(",", ";").split(";"):
            c = c.strip()
            if c and c.lower() not in {x.lower() for x in certs}:
                certs.append(c)
    with_zip = [m for m in members if m.zip5 == zip5] or members
    return {
        "firm_id": firm_id,
        "name": _most_common([m.name for m in members], prefer_long=True),
        "name_key": _most_common([m.name_key for m in members]),
        "website": _most_common([m.website for m in members if m.domain == _most_common([x.domain for x in members])]),
        "domain": _most_common([m.domain for m in members]),
        "street": _most_common([normalise.collapse(m.row.get("street")) for m in with_zip]),
        "city": _most_common([normalise.collapse(m.row.get("city")) for m in with_zip]) or info.get("city"),
        "state": "CA",
        "postal_code": zip5,
        "county": info.get("county"),
        "latitude": info.get("latitude"),
        "longitude": info.get("longitude"),
        "phone": _most_common([m.phone for m in members]),
        "email": _most_common([normalise.email_address(m.row.get("email")) for m in members]),
        "description": "\n\n".join(descriptions) or None,
        "products_text": json.dumps(products, ensure_ascii=False),
        "categories": json.dumps(categories, ensure_ascii=False),
        "certifications": "; ".join(certs) or None,
        "employees": _most_common([m.row.get("employees") for m in members]),
        "year_founded": _most_common([m.row.get("year_founded") for m in members]),
        "n_sources": len({m.source for m in members}),
        "sources": json.dumps(sorted({m.source for m in members})),
        "source_urls": json.dumps([m.url for m in members]),
        "in_california": 1,
    }


def assign_ids(clusters: dict[str, list[Record]], previous: dict[str, str]) -> dict[str, str]:
    """cluster root -> firm_id: previous ids kept by largest overlap, new ids from strongest keys."""
    claims = []
    for root, members in clusters.items():
        counts = Counter(previous[m.listing_id] for m in members if m.listing_id in previous)
        for firm_id, n in counts.items():
            claims.append((-n, firm_id, root))
    claims.sort()
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for _neg, firm_id, root in claims:
        if root not in ids and firm_id not in taken:
            ids[root] = firm_id
            taken.add(firm_id)
    for root in sorted(clusters, key=lambda r: min(m.listing_id for m in clusters[r])):
        if root in ids:
            continue
        key = strongest_key(clusters[root])
        firm_id = new_firm_id(key)
        salt = 0
        while firm_id in taken:  # two unmerged firms with one key: salt by anchor listing
            salt += 1
            firm_id = new_firm_id(f"{key}#{min(m.listing_id for m in clusters[root])}#{salt}")
        ids[root] = firm_id
        taken.add(firm_id)
    return ids


def resolve(work_db, rules=tuple(RULE_ORDER)) -> dict:
    """Merge ``listings`` into ``firms`` and ``firm_listings``; return counts for the run.

    ``rules`` narrows the linking rules (for measuring each rule's share of precision/recall).
    """
    db = open_work_db(Path(work_db))
    ensure_stage_tables(db, "crawl")
    ensure_stage_tables(db, "resolve")
    rows = list(db.query("select * from listings order by listing_id"))
    previous = {r["listing_id"]: r["firm_id"] for r in db.query("select listing_id, firm_id from firm_listings")}

    records, invalid, outside, no_location = [], 0, 0, 0
    for row in rows:
        if row.get("validation_status") == "invalid":
            invalid += 1
            continue
        rec = normalise_listing(row)
        if not rec.state and not rec.zipinfo:
            no_location += 1
            continue
        if not in_california(rec):
            outside += 1
            continue
        records.append(rec)

    roots, edges, refused = link(records, rules)
    clusters: dict[str, list[Record]] = defaultdict(list)
    for rec in records:
        clusters[roots[rec.listing_id]].append(rec)
    ids = assign_ids(clusters, previous)

    firms, links = [], []
    rules = Counter()
    for root, members in clusters.items():
        firm_id = ids[root]
        firms.append(firm_row(firm_id, members))
        for listing, (rule, score, matched_to) in audit_tree(members, edges).items():
            rules[rule] += 1
            links.append({"firm_id": firm_id, "listing_id": listing, "match_rule": rule,
                          "match_score": score, "matched_to": matched_to})
    # db.atomic(), not `with db.conn`: sqlite-utils commits each db.execute() and insert chunk on
    # its own unless a transaction is open, so a kill mid-write left firms without firm_listings.
    with db.atomic():
        db.execute("DELETE FROM firm_listings")
        db.execute("DELETE FROM firms")
        db["firms"].insert_all(firms, batch_size=500)
        db["firm_listings"].insert_all(links, batch_size=1000)
    kept_ids = set(previous.values())
    summary = {
        "listings": len(rows),
        "merged_listings": len(records),
        "firms": len(firms),
        "multi_source_firms": sum(1 for f in firms if f["n_sources"] > 1),
        "excluded_invalid": invalid,
        "excluded_outside_california": outside,
        "excluded_no_location": no_location,
        "merge_rules": dict(rules),
        "refused_merges": len(refused),
        # The pairs a rule proposed but the domain check refused, for an analyst to look at.
        "refused_examples": [{"listing_id": a, "other_listing_id": b, "rule": rule, "score": score}
                             for a, b, rule, score in refused[:50]],
        "firm_ids_kept": sum(1 for f in firms if f["firm_id"] in kept_ids),
    }
    db.conn.close()
    return summary


def merge_quality(work_db, truth_path) -> dict:
    """Pairwise precision and recall of merging against a sample site's ``truth.jsonl``.

    A pair of listings is a true pair when the generator made both for one firm. Only
    California firms' listings count (resolve leaves the others out on purpose); a true pair
    that resolve did not put in one firm is a miss, a firm pair the truth does not hold a
    false merge.
    """
    from itertools import combinations
    from urllib.parse import urlsplit

    truth: dict[tuple[str, str], str] = {}
    in_ca: dict[str, bool] = {}
    with open(truth_path, encoding="utf-8") as fh:
        for line in fh:
            firm = json.loads(line)
            in_ca[firm["firm_key"]] = bool(firm.get("in_california"))
            for listing in firm["listings"]:
                truth[(listing["source"], listing["url"])] = firm["firm_key"]
    db = open_work_db(Path(work_db))
    rows = list(db.query(
        "select l.source, l.url, fl.firm_id from listings l left join firm_listings fl on fl.listing_id = l.listing_id"))
    db.conn.close()
    by_truth, by_firm = defaultdict(set), defaultdict(set)
    unmatched = 0
    for row in rows:
        key = truth.get((row["source"], urlsplit(row["url"]).path))
        if key is None:
            unmatched += 1
            continue
        ident = (row["source"], row["url"])
        if in_ca.get(key):
            by_truth[key].add(ident)
        if row["firm_id"]:
            by_firm[row["firm_id"]].add(ident)
    true_pairs = {frozenset(p) for members in by_truth.values() for p in combinations(sorted(members), 2)}
    found_pairs = {frozenset(p) for members in by_firm.values() for p in combinations(sorted(members), 2)}
    hits = len(true_pairs & found_pairs)
    return {
        "true_pairs": len(true_pairs),
        "found_pairs": len(found_pairs),
        "correct_pairs": hits,
        "precision": hits / len(found_pairs) if found_pairs else 1.0,
        "recall": hits / len(true_pairs) if true_pairs else 1.0,
        "listings_not_in_truth": unmatched,
    }
