"""Wording and HTML for the two sample sources, each in its own markup.

Why two markups and three structured-data variants: the crawler must not be tuned to one page
shape. The member directory writes a third of its detail pages with schema.org JSON-LD, a third
with microdata and a third as plain HTML with CSS classes only; the PPE marketplace has its own
class names, field order and contact block, and JSON-LD on some supplier pages. The same firm is
written differently on each source (name suffix, phone format, website form, street
abbreviations, casing), as real listings are.

Every value from a firm goes through ``html.escape`` (hostile names stay text) and JSON-LD is
made safe inside ``<script>`` by escaping ``<``, ``>`` and ``&``. One page is one string of
bounded size; the caller streams pages to disk.
"""

from __future__ import annotations

import html
import json
import random

from . import catalog as C
from .firms import Firm

E = html.escape
DIRECTORY_PLACEHOLDER = "http://member-directory.invalid"
MARKET_PLACEHOLDER = "http://ppe-marketplace.invalid"

HOSTILE_IMG = "<img src=x onerror=alert(1)>"


# --- ways of writing the same fact ---------------------------------------------------------
def name_variant(firm: Firm, rng: random.Random, canonical_bias: float) -> str:
    if rng.random() < canonical_bias:
        return firm.name
    base = firm.base_name
    if " & " in base and rng.random() < 0.5:
        base = base.replace(" & ", " and ")
    suffix = rng.choice(C.SUFFIXES[firm.suffix])
    if suffix.startswith(","):
        name = base + suffix
    elif suffix:
        name = f"{base} {suffix}"
    else:
        name = base
    r = rng.random()
    if r < 0.08:
        name = name.upper()
    elif r < 0.12 and firm.suffix:
        name = base  # suffix dropped altogether
    return name


PHONE_FORMATS = (
    "({a}) {p}-{l}", "{a}.{p}.{l}", "+1 {a}-{p}-{l}", "{a}-{p}-{l}", "1-{a}-{p}-{l}", "+1 ({a}) {p}-{l}",
)


def phone_variant(firm: Firm, rng: random.Random, formats=PHONE_FORMATS) -> str:
    p, l = firm.line.split("-")
    return rng.choice(formats).format(a=firm.area_code, p=p, l=l)


WEB_FORMATS = ("https://www.{d}/", "https://www.{d}", "http://www.{d}", "www.{d}", "{d}", "https://{d}/", "http://{d}/")


def website_variant(firm: Firm, rng: random.Random) -> str:
    return rng.choice(WEB_FORMATS).format(d=firm.domain)


def href_for(site: str) -> str:
    return site if site.startswith("http") else "http://" + site


def street_variant(firm: Firm, rng: random.Random, upper: bool = False) -> str:
    stype = rng.choice(C.STREET_TYPES[firm.street_type])
    s = f"{firm.street_no} {firm.street_name} {stype}"
    if firm.unit:
        s += (", " if rng.random() < 0.6 else " ") + rng.choice(C.UNIT_FORMS).format(n=firm.unit)
    return s.upper() if upper else s


def join_list(items: list[str], rng: random.Random) -> str:
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    style = rng.random()
    if style < 0.45:
        return ", ".join(items[:-1]) + " and " + items[-1]
    if style < 0.8:
        return ", ".join(items[:-1]) + ", and " + items[-1]
    if style < 0.9:
        return "; ".join(items)
    return ", ".join(items)


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


# --- descriptions --------------------------------------------------------------------------
def export_sentences(firm: Firm, rng: random.Random) -> list[str]:
    if firm.exports is False:
        return [rng.choice(C.NO_EXPORT_TEMPLATES)]
    if not firm.exports:
        return []
    names = [c[0] for c in firm.countries]
    demonyms = [c[1] for c in firm.countries]
    text = rng.choice(C.EXPORT_TEMPLATES).format(
        countries=join_list(names, rng), demonyms=join_list(demonyms, rng),
        pct=rng.choice((10, 15, 20, 25, 30, 40)), since=max(firm.year_founded, rng.randint(1985, 2019)))
    out = [_cap(text)]
    if firm.distributor_country:
        out.append(_cap(rng.choice(C.DISTRIBUTOR_TEMPLATES).format(country=firm.distributor_country[0])))
    return out


def describe(firm: Firm, rng: random.Random, name: str, paragraphs: int) -> list[str]:
    """1-3 paragraphs in the firm's own voice; every sentence is grounded in the firm's truth."""
    core = [p for h, p, cat in firm.products if not cat] or [p for _, p, _ in firm.products]
    pivot = [p for h, p, cat in firm.products if cat]
    label = " ".join(w if w.isupper() else w.lower() for w in firm.industry.label.split())  # keeps "PPE"
    jargon = rng.choice(firm.industry.jargon) if firm.industry.jargon else "short lead times"
    templates = C.INTRO_TEMPLATES if firm.in_california else C.INTRO_TEMPLATES_OOS
    intro_list = join_list(rng.sample(core, min(len(core), 2)), rng)
    a_label = ("an " if label[0] in "aeiou" else "a ") + label
    first = [rng.choice(templates).format(name=name, list=intro_list, label=label, a_label=a_label,
                                          city=firm.city, year=firm.year_founded)]
    if len(core) > 1 and rng.random() < 0.12:  # a catalogue bullet list, as pasted from a brochure
        first.append(rng.choice(("Catalogue:", "Product lines:", "We offer:")) + " " + " ".join(f"\u2022 {p}" for p in core))
    else:
        first.append(rng.choice(C.PRODUCT_TEMPLATES).format(name=name, list=join_list(core, rng), label=label, jargon=jargon))
    if pivot:
        first.append(rng.choice(C.PIVOT_TEMPLATES).format(list=join_list(pivot, rng)))
    second: list[str] = []
    if firm.sqft:
        second.append(rng.choice(C.FACILITY_TEMPLATES).format(sqft=firm.sqft))
    if firm.certifications and rng.random() < 0.6:
        second.append(rng.choice(C.CERT_TEMPLATES).format(certs=join_list(firm.certifications, rng)))
    if firm.hs_mention:
        h = firm.hs_mention
        second.append(rng.choice(C.HS_TEMPLATES).format(dotted=f"{h[:4]}.{h[4:]}", plain=h))
    if firm.base_name != firm.base_name.encode("ascii", "ignore").decode():
        second.append(rng.choice(("Our motto: \u201cQuality you can count on.\u201d",
                                  "We\u2019re proud to be \u201cHecho en California.\u201d",
                                  "Customers call us \u201cthe caf\u00e9 of the trade\u201d \u2014 always open.")))
    third = export_sentences(firm, rng)
    if firm.hostile == "img":
        third.append(f"See our catalogue {HOSTILE_IMG} for details.")
    if firm.hostile == "sql":
        third.append("Order code: '); DROP TABLE firms;--")
    blocks = [first, second, third]
    if paragraphs == 1:
        return [" ".join(s for b in blocks for s in b)]
    if paragraphs == 2:
        return [p for p in (" ".join(first), " ".join(second + third)) if p]
    return [" ".join(b) for b in blocks if b]


# --- JSON-LD helpers -----------------------------------------------------------------------
def jsonld_script(obj: dict) -> str:
    text = json.dumps(obj, ensure_ascii=True)  # one line, as most CMSs emit it
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/ld+json">\n{text}\n</script>'


def employees_value(band: str) -> dict:
    lo, hi = C.EMPLOYEE_BAND_RANGE[band]
    v = {"@type": "QuantitativeValue", "minValue": lo}
    if band != "1000+":
        v["maxValue"] = hi
    return v


def page(title: str, body: str, charset: str, css: str, extra_head: str = "") -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="{charset}">\n'
            f"<title>{E(title)}</title>\n<link rel=\"stylesheet\" href=\"{css}\">\n{extra_head}</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n")


def charset_for(firm: Firm) -> str:
    """Firms with accented names get pages in windows-1252 (declared), like old CMS sites."""
    ascii_name = firm.base_name.encode("ascii", "ignore").decode()
    return "windows-1252" if ascii_name != firm.base_name and not firm.hostile else "utf-8"


# --- member directory ----------------------------------------------------------------------
class DirectoryListing:
    """How the member directory writes one firm (kept for truth.jsonl)."""

    def __init__(self, firm: Firm, seed: int):
        rng = random.Random(f"{seed}:dir:{firm.index}")
        self.rng = rng
        self.name = name_variant(firm, rng, canonical_bias=0.7)
        self.phone = phone_variant(firm, rng, PHONE_FORMATS[:2] + PHONE_FORMATS[3:4])
        self.website = website_variant(firm, rng)
        self.street = street_variant(firm, rng)
        self.markup = ("jsonld", "microdata", "plain")[rng.randrange(3)]
        self.paragraphs = describe(firm, rng, self.name, rng.choice((1, 2, 2, 3)))
        self.products = [p for _, p, _ in firm.products]
        self.charset = charset_for(firm)
        self.schema_type = rng.choice(("Organization", "LocalBusiness", "Corporation"))
        self.path = f"/members/{firm.slug_dir}.html"


def directory_detail(firm: Firm, d: DirectoryListing) -> str:
    md = d.markup == "microdata"

    def ip(prop: str) -> str:
        return f' itemprop="{prop}"' if md else ""

    scope = f' itemscope itemtype="https://schema.org/{d.schema_type}"' if md else ""
    addr_scope = ' itemprop="address" itemscope itemtype="https://schema.org/PostalAddress"' if md else ""
    lines = [
        '<nav class="breadcrumb"><a href="/">Home</a> &rsaquo; <a href="/members/page/1.html">Members</a></nav>',
        f'<article class="member-profile"{scope}>',
        f'<h1 class="member-name"{ip("name")}>{E(d.name)}</h1>',
        f'<p class="member-industry">{E(firm.industry.label)}</p>',
        f'<div class="member-address"{addr_scope}>',
        f'<span class="street"{ip("streetAddress")}>{E(d.street)}</span><br>',
        f'<span class="city"{ip("addressLocality")}>{E(firm.city)}</span>, '
        f'<span class="state"{ip("addressRegion")}>{E(firm.state)}</span> '
        f'<span class="zip"{ip("postalCode")}>{E(firm.zip)}</span>',
        "</div>",
        f'<p class="member-phone">Phone: <span{ip("telephone")}>{E(d.phone)}</span></p>',
        f'<p class="member-website">Website: <a href="{E(href_for(d.website))}"{ip("url")} rel="nofollow">{E(d.website)}</a></p>',
        f'<div class="member-description"{ip("description")}>',
        *(f"<p>{E(p)}</p>" for p in d.paragraphs),
        "</div>",
        '<h2>Products</h2>\n<ul class="member-products">',
    ]
    for prod in d.products:
        if md:
            lines.append('<li itemprop="makesOffer" itemscope itemtype="https://schema.org/Offer">'
                         f'<span itemprop="itemOffered" itemscope itemtype="https://schema.org/Product">'
                         f'<span itemprop="name">{E(prod)}</span></span></li>')
        else:
            lines.append(f"<li>{E(prod)}</li>")
    lines.append("</ul>")
    lines.append('<dl class="member-facts">')
    lines.append(f'<dt>Employees</dt><dd class="employees"{ip("numberOfEmployees")}>{E(firm.employees)}</dd>')
    lines.append(f'<dt>Year founded</dt><dd class="founded"{ip("foundingDate")}>{firm.year_founded}</dd>')
    if firm.certifications:
        lines.append('<dt>Certifications</dt><dd class="certifications">'
                     + ", ".join(f'<span class="cert">{E(c)}</span>' for c in firm.certifications) + "</dd>")
    lines.append("</dl>")
    lines.append("</article>")
    lines.append(f'<p class="tools"><a href="/members/print/{firm.slug_dir}.html">Printer-friendly version</a></p>')
    head = ""
    if d.markup == "jsonld":
        obj = {
            "@context": "https://schema.org", "@type": d.schema_type, "name": d.name,
            "address": {"@type": "PostalAddress", "streetAddress": d.street, "addressLocality": firm.city,
                        "addressRegion": firm.state, "postalCode": firm.zip, "addressCountry": "US"},
            "telephone": d.phone, "url": href_for(d.website), "description": " ".join(d.paragraphs),
            "foundingDate": str(firm.year_founded), "numberOfEmployees": employees_value(firm.employees),
        }
        if d.rng.random() < 0.8:
            obj["makesOffer"] = [{"@type": "Offer", "itemOffered": {"@type": "Product", "name": p}} for p in d.products]
        if firm.certifications:
            obj["hasCredential"] = [{"@type": "EducationalOccupationalCredential", "name": c} for c in firm.certifications]
        head = jsonld_script(obj) + "\n"
    return page(f"{d.name} | Member Directory", "\n".join(lines), d.charset, "/static/directory.css", head)


def directory_print(firm: Firm, d: DirectoryListing) -> str:
    body = (f"<h1>{E(d.name)}</h1>\n<p>{E(d.street)}, {E(firm.city)}, {E(firm.state)} {E(firm.zip)}</p>\n"
            f"<p>{E(d.phone)}</p>\n" + "".join(f"<p>{E(p)}</p>\n" for p in d.paragraphs))
    return page(f"{d.name} (print)", body, d.charset, "/static/print.css")


def directory_index(page_no: int, cards: list[tuple[str, str, str, str]], has_next: bool) -> str:
    items = ["<h1>Member Directory</h1>", f'<p class="page-info">Page {page_no}</p>', '<div class="member-cards">']
    for path, name, city, industry in cards:
        items.append(f'<div class="card"><h3 class="card-name"><a href="{E(path)}">{E(name)}</a></h3>'
                     f'<span class="card-city">{E(city)}</span> &middot; <span class="card-industry">{E(industry)}</span></div>')
    items.append("</div>\n<nav class=\"pager\">")
    if page_no > 1:
        items.append(f'<a rel="prev" class="prev" href="/members/page/{page_no - 1}.html">&laquo; Previous</a>')
    if has_next:
        items.append(f'<a rel="next" class="next" href="/members/page/{page_no + 1}.html">Next &raquo;</a>')
    items.append("</nav>")
    return page(f"Member Directory - page {page_no}", "\n".join(items), "utf-8", "/static/directory.css")


# --- PPE marketplace -----------------------------------------------------------------------
class MarketListing:
    """How the PPE marketplace writes one supplier (kept for truth.jsonl)."""

    def __init__(self, firm: Firm, seed: int, directory_name: str | None, directory_phone: str | None = None):
        rng = random.Random(f"{seed}:market:{firm.index}")
        self.rng = rng
        name = directory_name
        for _ in range(6):  # written differently from the directory where the firm is on both
            name = name_variant(firm, rng, canonical_bias=0.25)
            if name != directory_name:
                break
        self.name = name
        self.phone = directory_phone
        while self.phone == directory_phone:  # the two sources never agree on the phone format
            self.phone = phone_variant(firm, rng, PHONE_FORMATS[1:3] + PHONE_FORMATS[4:])
        self.website = website_variant(firm, rng)
        upper = rng.random() < 0.15
        self.street = street_variant(firm, rng, upper=upper)
        self.city = firm.city.upper() if upper else firm.city
        self.jsonld = rng.random() < 0.3
        self.ppe = [(p, cat) for _, p, cat in firm.products if cat]
        self.other = [p for _, p, cat in firm.products if not cat]
        self.about = describe(firm, rng, self.name, 1)[0]
        self.blurb = rng.choice(C.MARKET_BLURBS)
        self.charset = charset_for(firm)
        self.path = f"/suppliers/{firm.slug_market}.html"
        self.contact_name = rng.choice(("Sales", "Orders", "Customer Service", "Maria", "James", "Linh", "Priya"))
        self.email = f"{rng.choice(('sales', 'info', 'orders', 'ppe'))}@{firm.domain}"

    def short(self, cat: str) -> str:
        prods = [p for p, c in self.ppe if c == cat]
        return f"{_cap(join_list(prods, self.rng))}. {self.blurb}"


def market_supplier(firm: Firm, m: MarketListing) -> str:
    lines = [
        '<header class="mp-header"><a href="/">Safely Making California (sample)</a></header>',
        '<main class="supplier-profile">',
        f'<h1 class="supplier-title">{E(m.name)}</h1>',
        '<section class="contact-block">\n<h2>Contact</h2>\n<ul class="contact">',
        f'<li class="contact-name">{E(m.contact_name)}</li>',
        f'<li class="contact-phone"><a href="tel:{E(firm.phone_e164)}">{E(m.phone)}</a></li>',
        f'<li class="contact-email">{E(m.email)}</li>',
        f'<li class="contact-web"><a href="{E(href_for(m.website))}">{E(m.website)}</a></li>',
        f'<li class="contact-location">{E(m.street)}<br>{E(m.city)}, {E(firm.state)} {E(firm.zip)}</li>',
        "</ul>\n</section>",
        '<section class="ppe-offered">\n<h2>PPE offered</h2>',
    ]
    for prod, cat in m.ppe:
        lines.append(f'<div class="ppe-item" data-category="{E(cat)}"><span class="ppe-cat">{E(C.PPE_CATEGORIES[cat])}</span>'
                     f'<p class="ppe-desc">{E(_cap(prod))}</p></div>')
    lines.append("</section>")
    if m.other:
        lines.append(f'<p class="also-makes">Also manufactures: {E(join_list(m.other, m.rng))}</p>')
    lines.append(f'<section class="about"><h2>About the supplier</h2><p>{E(m.about)}</p></section>')
    lines.append("</main>")
    head = ""
    if m.jsonld:
        obj = {"@context": "https://schema.org", "@type": "Organization", "name": m.name, "url": href_for(m.website),
               "telephone": m.phone, "email": m.email,
               "address": {"@type": "PostalAddress", "streetAddress": m.street, "addressLocality": m.city,
                           "addressRegion": firm.state, "postalCode": firm.zip},
               "description": m.about,
               "makesOffer": [{"@type": "Offer", "itemOffered": {"@type": "Product", "name": p, "category": C.PPE_CATEGORIES[c]}}
                              for p, c in m.ppe]}
        head = jsonld_script(obj) + "\n"
    return page(f"{m.name} - PPE supplier", "\n".join(lines), m.charset, "/static/market.css", head)


def market_category(cat: str, page_no: int, entries: list[tuple[str, str, str, str]], has_next: bool) -> str:
    title = C.PPE_CATEGORIES[cat]
    items = ['<header class="mp-header"><a href="/">Safely Making California (sample)</a></header>',
             f'<h1 class="category-title">{E(title)}</h1>', '<table class="supplier-list">',
             "<tr><th>Supplier</th><th>Products</th><th>Location</th></tr>"]
    for path, name, short, city in entries:
        items.append(f'<tr class="supplier-row"><td class="s-name"><a href="{E(path)}">{E(name)}</a></td>'
                     f'<td class="s-products">{E(short)}</td><td class="s-city">{E(city)}</td></tr>')
    items.append("</table>\n<div class=\"pagination\">")
    if page_no > 1:
        items.append(f'<a class="page-prev" href="/category/{cat}/page/{page_no - 1}.html">Previous</a>')
    if has_next:
        items.append(f'<a class="page-next" rel="next" href="/category/{cat}/page/{page_no + 1}.html">More suppliers</a>')
    items.append("</div>")
    return page(f"{title} - Safely Making California (sample)", "\n".join(items), "utf-8", "/static/market.css")


def market_home() -> str:
    links = "\n".join(f'<li><a href="/category/{k}/page/1.html">{E(v)}</a></li>' for k, v in C.PPE_CATEGORIES.items())
    body = ('<header class="mp-header">Safely Making California (sample)</header>\n'
            "<p>A fictional marketplace of California PPE makers, for testing.</p>\n"
            f'<ul class="categories">\n{links}\n</ul>')
    return page("Safely Making California (sample)", body, "utf-8", "/static/market.css")


def directory_home() -> str:
    body = ("<h1>Manufacturers' Association Member Directory (sample)</h1>\n"
            "<p>Fictional member firms, for testing. <a href=\"/members/page/1.html\">Browse members</a></p>")
    return page("Member Directory (sample)", body, "utf-8", "/static/directory.css")
