"""Hostile input for every parser and normaliser: no input crashes them, and what they return
keeps its promised shape (issue 7, "Hostile input").

Why property tests: scraped directories hold anything (markup, SQL, control characters, mixed
scripts, 100 kB "names"); a normaliser that raises on one of them would stop resolve for every
firm. Each test feeds hypothesis-generated text, mixed with fragments seen on real directory
pages, and checks an invariant of the output, not just "no exception".

Already covered elsewhere (not repeated here): spaCy components and ``extract()`` on any text
(``tests/test_nlp_extract_bad_input.py::test_components_accept_any_text``,
``::test_any_text_never_crashes``); named bad pages through a real crawl
(``tests/test_crawler_generic.py::test_each_bad_input_is_counted_in_the_run``).
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import lxml.html
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crawler import normalise
from crawler.parse import fields_from_org
from crawler.resolve import in_california, normalise_listing
from crawler.structured import extract as extract_structured
from nlp.extract import clean_text, product_entries
from nlp.hs import textnorm
from nlp.hs.codes import find_codes
from nlp.hs.nomenclature import is_valid

FRAGMENTS = [
    "<script>alert(1)</script>", "'; DROP TABLE firms; --", "\" OR 1=1 --", "\x00", "\x1b[31m",
    "\u202e", "\ufeff", "\ud7ff", "é", "Ã©", "\u00a0", "🙂", "&amp;", "&#0;", "<img src=x onerror=alert(1)>",
    "(310) 555-0100", "+1 310 555 0100", "ext. 12", "90731", "90731-1234", "CA", "California",
    "1 Harbor Blvd, San Pedro, CA 90731", "Suite #5", "P.O. Box 12", "www.acme.com", "http://", "https://x",
    "mailto:a@b.co", "javascript:alert(1)", "xn--80ak6aa92e.com", "a..b", "LLC", "Inc.", "&", "HS", "HTS code",
    "Schedule B", "3926.20.9050", "8481.80", "4015.19.1010", "0000.00", "9999.99.99.99", "heading 7326",
    "\n", "\t", " ", ",", ";", "|", "#", ".", "-",
]
text = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=30).map(" ".join),
)
long_text = st.integers(min_value=10_000, max_value=200_000).map(lambda n: ("A1 ;<b>," * (n // 8 + 1))[:n])
maybe_text = st.one_of(st.none(), text)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("raw", ["/", "http://", "https:///", "//"])
def test_website_without_a_host_is_none(raw):
    """Found here first: '/' and 'http://' gave 'http:', '//' gave '' (fixed in a810deb)."""
    url = normalise.website_url(raw)
    assert url is None or urlsplit(url).hostname


@FAST
@given(maybe_text)
@example("\x00" * 3)
@example("'; DROP TABLE firms; --")
def test_name_normalisers(raw):
    key = normalise.name_key(raw)
    assert re.fullmatch(r"[a-z0-9 ]*", key) and key == key.strip() and "  " not in key
    shown = normalise.display_name(raw)
    assert shown is None or (shown == shown.strip() and shown)
    # Recasing changes case only: the same letters, in the same order.
    if shown is not None:
        assert shown.casefold() == normalise.collapse(raw).casefold()
    collapsed = normalise.collapse(raw)
    assert collapsed is None or normalise.collapse(collapsed) == collapsed


@FAST
@given(maybe_text)
@example("+1 (310) 555-0100 ext 99999999999999999999")
@example("٣١٠٥٥٥٠١٠٠")  # Arabic-Indic digits
def test_phone_is_e164_or_none(raw):
    out = normalise.phone_e164(raw)
    assert out is None or re.fullmatch(r"\+\d{2,17}", out)


@FAST
@given(maybe_text)
@example("http://[::1")  # an unbalanced IPv6 bracket makes urllib raise
@example("https://" + "a." * 200 + "com")
@example("javascript:alert(1)")
def test_website_and_domain(raw):
    url = normalise.website_url(raw)
    assert url is None or not re.search(r"\s", url)  # a host: test_website_without_a_host_is_none
    domain = normalise.registered_domain(url)
    assert domain is None or (domain == domain.lower() and not re.search(r"\s", domain))
    email = normalise.email_address(raw)
    assert email is None or ("@" in email and email == email.lower())


@FAST
@given(maybe_text)
@example("1 Harbor Blvd, San Pedro, CA 90731 CA 90732")  # repeated labels
@example("Suite 5 Suite 6 Suite 7")
def test_address_parts(raw):
    parts = normalise.parse_address(raw)
    assert set(parts) <= {"street", "city", "state", "postal_code"}
    assert all(isinstance(v, str) and v == v.strip() and v for v in parts.values())
    code = normalise.zip5(raw)
    assert code is None or (re.fullmatch(r"\d{5}", code) and code in raw)
    info = normalise.zip_info(code)
    assert info is None or set(info) == {"state", "county", "city", "latitude", "longitude"}
    state = normalise.state_code(raw)
    assert state is None or state in normalise.STATE_CODES
    assert re.fullmatch(r"[a-z0-9 ]*", normalise.street_key(raw))


@settings(max_examples=5, deadline=None)
@given(long_text)
def test_very_long_values_are_handled(raw):
    """100 kB values (a page's whole text in one field) finish and keep their shape."""
    assert re.fullmatch(r"[a-z0-9 ]*", normalise.name_key(raw))
    assert normalise.phone_e164(raw) is None or normalise.phone_e164(raw).startswith("+")
    assert isinstance(normalise.parse_address(raw[:20_000]), dict)
    assert isinstance(find_codes(raw), list)
    assert isinstance(textnorm.tokens(raw), list)


listing_row = st.fixed_dictionaries(
    {"listing_id": st.text(min_size=1, max_size=8), "source": st.text(max_size=8), "url": st.text(max_size=20)},
    optional={k: maybe_text for k in ("name", "website", "phone", "postal_code", "state")}
    | {k: st.one_of(maybe_text, st.lists(text, max_size=3).map(json.dumps)) for k in ("products", "categories")},
)


@FAST
@given(listing_row)
def test_resolve_normalises_any_listing(row):
    rec = normalise_listing(row)
    assert isinstance(rec.products, list) and isinstance(rec.categories, list)
    assert isinstance(in_california(rec), bool)


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), text),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.sampled_from(
        ["@type", "name", "legalName", "address", "streetAddress", "postalCode", "addressRegion", "telephone",
         "url", "sameAs", "description", "makesOffer", "itemOffered", "numberOfEmployees", "value",
         "foundingDate", "keywords", "hasCertification", "location", "email", "@graph", "@id"]), children,
        max_size=6)),
    max_leaves=25,
)


@FAST
@given(st.dictionaries(st.sampled_from(["@type", "name", "address", "telephone", "url", "makesOffer", "description",
                                        "numberOfEmployees", "foundingDate", "keywords", "hasCertification",
                                        "location", "email", "sameAs", "legalName"]), json_value, max_size=10),
       st.sampled_from(["http://127.0.0.1/firm/1", "https://dir.example/a?b=c", "not a url"]))
def test_schema_org_object_of_any_shape(obj, page_url):
    fields = fields_from_org(obj, page_url)
    assert isinstance(fields, dict)
    assert all(v not in (None, "", []) for v in fields.values())
    assert isinstance(fields.get("products", []), list)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_value, text, st.booleans())
def test_structured_data_of_any_page(jsonld, body_text, microdata):
    """A page whose JSON-LD is any JSON (or broken text) and whose body is any text."""
    script = json.dumps(jsonld) if not isinstance(jsonld, str) else jsonld
    script = script.replace("</", "<\\/")
    micro = f'<div itemscope itemtype="https://schema.org/Organization"><span itemprop="name">{body_text}</span></div>'
    html = (f'<html><head><script type="application/ld+json">{script}</script></head>'
            f"<body>{micro if microdata else ''}<p>{body_text}</p></body></html>")
    try:
        tree = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return  # lxml refuses it before the crawler sees a tree (Scrapy then has no selector)
    objects, syntaxes, problems = extract_structured(tree, html.encode("utf-8", "surrogatepass"), "http://127.0.0.1/p")
    assert all(isinstance(o, dict) for o in objects)
    assert set(syntaxes) <= {"json-ld", "microdata", "rdfa"}
    assert all(isinstance(p, str) for p in problems)


@FAST
@given(text)
@example("HS 3926.20.9050 and hts 401519 and Schedule B 0000.00 and tariff code 99999999")
@example("heading 8481 8481.80.1000.99")
def test_hs_codes_found_are_in_the_text_and_checked(raw):
    for code in find_codes(raw):
        assert code["raw"] in raw
        assert code["digits"] == code["raw"].replace(".", "") and code["digits"].isdigit()
        assert code["kind"] in {"hs", "hts", "schedule_b"}
        if code["valid"]:
            assert code["level"] in {"subheading", "heading"}
            assert is_valid(code["hs6"] if code["level"] == "subheading" else code["hs4"])
        else:
            assert code["reason"]


@FAST
@given(text)
def test_hs_text_normaliser(raw):
    toks = textnorm.tokens(raw)
    assert all(re.fullmatch(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", t) for t in toks)
    assert textnorm.norm(textnorm.norm(raw)) == textnorm.norm(textnorm.norm(textnorm.norm(raw)))


@FAST
@given(st.one_of(text, json_value.map(json.dumps), json_value))
def test_product_list_splitting_of_any_column(raw):
    entries, notes = product_entries(raw)
    assert all(isinstance(e, str) and e and e == e.strip() for e in entries)
    assert all(isinstance(n, str) for n in notes)
    plain, _ = clean_text(raw if isinstance(raw, str) else json.dumps(raw))
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", plain)


def test_jsonld_repair_of_a_block_with_many_blank_lines_and_comments():
    """Broken JSON-LD with comment lines (indented by tabs) and 100,000 blank lines is repaired.

    Why so many lines: the comment pattern once let ``\\s*`` run across line ends, so every blank
    line rescanned all the blank lines after it (a 32 kB block took 2.6 s, a 4 MB one hours)."""
    from crawler.structured import _load_jsonld

    block = ('{"@type": "Organization",\n\t// the maker\n  "name": "Blank Line Bakery",'
             + "\n" * 100_000 + "\t \t// trailing note\n}")
    data, problem = _load_jsonld(block)
    assert problem == "jsonld_repaired" and data == {"@type": "Organization", "name": "Blank Line Bakery"}
