"""One extraction path: the same firm in JSON-LD, microdata and RDFa parses to the same fields;
selectors fill only what structured data left out; validation names every fault."""

from __future__ import annotations

import lxml.html
import pytest
from parsel import Selector

from crawler import normalise, parse, structured
from crawler.pipelines.clean import CleanPipeline
from crawler.pipelines.validate import problems_of

PAGE_URL = "http://directory.test/firm/1"

JSONLD = """<html><head><script type="application/ld+json">
{"@context": "https://schema.org", "@type": "LocalBusiness", "name": "Acme Plastics Inc.",
 "url": "https://www.acmeplastics.com", "telephone": "(310) 555-0100",
 "address": {"@type": "PostalAddress", "streetAddress": "12 Harbor Blvd", "addressLocality": "Wilmington",
             "addressRegion": "CA", "postalCode": "90744"},
 "makesOffer": [{"@type": "Offer", "itemOffered": {"@type": "Product", "name": "HDPE pellets"}}]}
</script></head><body></body></html>"""

MICRODATA = """<html><body><div itemscope itemtype="https://schema.org/LocalBusiness">
<h1 itemprop="name">Acme Plastics Inc.</h1><a itemprop="url" href="https://www.acmeplastics.com">web</a>
<span itemprop="telephone">(310) 555-0100</span>
<div itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">
 <span itemprop="streetAddress">12 Harbor Blvd</span> <span itemprop="addressLocality">Wilmington</span>
 <span itemprop="addressRegion">CA</span> <span itemprop="postalCode">90744</span></div>
<div itemprop="makesOffer" itemscope itemtype="https://schema.org/Offer"><div itemprop="itemOffered" itemscope
 itemtype="https://schema.org/Product"><span itemprop="name">HDPE pellets</span></div></div>
</div></body></html>"""

RDFA = """<html><body vocab="https://schema.org/"><div typeof="LocalBusiness">
<h1 property="name">Acme Plastics Inc.</h1><a property="url" href="https://www.acmeplastics.com">web</a>
<span property="telephone">(310) 555-0100</span>
<div property="address" typeof="PostalAddress"><span property="streetAddress">12 Harbor Blvd</span>
 <span property="addressLocality">Wilmington</span> <span property="addressRegion">CA</span>
 <span property="postalCode">90744</span></div>
<div property="makesOffer" typeof="Offer"><div property="itemOffered" typeof="Product"><span property="name">HDPE pellets</span></div></div>
</div></body></html>"""


def _fields(html: str) -> dict:
    body = html.encode()
    objects, syntaxes, problems = structured.extract(lxml.html.fromstring(body), body, PAGE_URL)
    orgs = parse.find_orgs(objects)
    assert len(orgs) == 1, objects
    return parse.fields_from_org(orgs[0], PAGE_URL)


def test_every_syntax_parses_to_the_same_fields():
    jsonld, microdata, rdfa = _fields(JSONLD), _fields(MICRODATA), _fields(RDFA)
    assert jsonld == microdata == rdfa
    assert jsonld["products"] == ["HDPE pellets"] and jsonld["postal_code"] == "90744"


@pytest.mark.parametrize("text, problem", [
    ('{"@type": "Organization", "name": "A",}', "jsonld_repaired"),
    ('<!-- {"@type": "Organization", "name": "A"} -->', "jsonld_repaired"),
    ('{"@type": "Organization" "name": "A"', "jsonld_broken"),
    ('   ', "jsonld_empty"),
])
def test_broken_jsonld_is_repaired_or_counted(text, problem):
    body = f'<html><head><script type="application/ld+json">{text}</script></head></html>'.encode()
    objects, _syntaxes, problems = structured.extract(lxml.html.fromstring(body), body, PAGE_URL)
    assert problems == [problem]
    assert (objects != []) == (problem == "jsonld_repaired")


def test_directory_url_is_not_the_firms_website():
    org = {"@type": "Organization", "name": "A", "url": "http://directory.test/firm/1", "sameAs": ["https://a-firm.com"]}
    assert parse.fields_from_org(org, PAGE_URL)["website"] == "https://a-firm.com"


def test_selectors_fill_only_missing_fields():
    fields = {"name": "From JSON-LD"}
    sel = Selector(text='<h1 class="n">From HTML</h1><p class="tel">(310) 555-0100</p><li class="p">a</li><li class="p">b</li>')
    filled = parse.fill_from_selectors(fields, sel, {"name": "h1.n", "phone": "p.tel", "products": "li.p"})
    assert fields == {"name": "From JSON-LD", "phone": "(310) 555-0100", "products": ["a", "b"]}
    assert filled == ["phone", "products"]


def test_nested_org_types_and_graphs_are_found():
    objects = [{"@type": "WebPage", "mainEntity": {"@type": "Corporation", "name": "B", "parentOrganization": {"@type": "Organization", "name": "Parent"}}},
               {"@type": "ItemList", "itemListElement": [{"@type": "ListItem", "item": {"@type": "HomeAndConstructionBusiness", "name": "C"}}]}]
    assert [o["name"] for o in parse.find_orgs(objects)] == ["B", "C"]


@pytest.mark.parametrize("raw, e164", [("(310) 555-0100", "+13105550100"), ("+1 310.555.0100", "+13105550100"),
                                       ("1-310-555-0100", "+13105550100"), ("call us", None), ("555", None)])
def test_phone_e164(raw, e164):
    assert normalise.phone_e164(raw) == e164


@pytest.mark.parametrize("raw, domain", [("www.acme.com", "acme.com"), ("https://shop.acme.co.uk/x", "acme.co.uk"),
                                         ("http://acme.com/", "acme.com"), ("not a url", None)])
def test_registered_domain_offline(raw, domain):
    assert normalise.registered_domain(normalise.website_url(raw)) == domain


def test_name_key_and_display_name():
    assert normalise.name_key("ACME PLASTICS, INC.") == normalise.name_key("Acme Plastics Inc") == "acme plastics"
    assert normalise.name_key("Smith & Sons Co.") == normalise.name_key("Smith and Sons") == "smith and sons"
    assert normalise.display_name("ACME PLASTICS OF CALIFORNIA LLC") == "Acme Plastics of California LLC"
    assert normalise.display_name("McKinley Tool Works") == "McKinley Tool Works"


def test_address_and_zip():
    assert normalise.parse_address("455 Industrial Pkwy, Turlock, CA 95380") == {
        "street": "455 Industrial Pkwy", "city": "Turlock", "state": "CA", "postal_code": "95380"}
    info = normalise.zip_info("90744")
    assert info["state"] == "CA" and info["county"] == "Los Angeles County" and 33 < info["latitude"] < 34.5
    assert normalise.state_code("California") == "CA" and normalise.state_code("Narnia") is None


def test_validation_names_every_fault_and_keeps_the_item():
    item = {"name": "<script>x</script>'; DROP TABLE listings; --", "phone": "12", "email": "nope", "state": "NV",
            "postal_code": "89501", "year_founded": 1500, "http_status": 200}
    problems = problems_of(CleanPipeline().process_item(item))
    assert {"name: contains markup", "name: looks like SQL", "phone: unparseable", "email: invalid",
            "state: outside California", "year_founded: out of range"} <= set(problems)
    assert problems_of({"http_status": 200, "phone": "(310) 555-0100"}) == ["name: missing", "state: missing"]
    assert problems_of({"name": "Fine Firm", "phone": "(310) 555-0100", "state": "CA", "postal_code": "90744", "http_status": 200}) == []


@pytest.mark.parametrize("raw", ["/", "http://", "https:///", "//", "not a url"])
def test_website_without_a_host_is_none(raw):
    assert normalise.website_url(raw) is None


def test_retry_after_values():
    from email.utils import format_datetime
    import datetime as dt

    from crawler.middlewares import retry_after_seconds

    assert retry_after_seconds(b"30") == 30.0
    later = format_datetime(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=60), usegmt=True)
    assert 55 <= retry_after_seconds(later) <= 60
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None
