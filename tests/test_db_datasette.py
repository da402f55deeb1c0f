"""Datasette on the published database, driven in-process through ``datasette.client``.

Every canned query as JSON and HTML, facets, full-text search, the firm profile page, the map
and chart plugins and the metadata, in public mode (the demo default).
"""

from __future__ import annotations

import asyncio
import json
import html
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import sqlite_utils
from markupsafe import escape

from db.publish import publish
from db.serve import SETTINGS, datasette_command, free_port, load_metadata, make_datasette
from db.synthetic import XSS_FIRM_ID, XSS_NAME, populate, published_synthetic

QUERIES = {
    "find_my_firm": {"name": "acme plastic"},
    "top_opportunities": {"hs": "39"},
    "firms_near_port": {"product": "container", "max_km": "200"},
    "firms_ready_for_market": {"country": "JPN"},
    "score_distribution_by_county": {},
    "firms_by_hs_chapter": {},
}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    return published_synthetic(tmp_path_factory.mktemp("datasette"), firms=80, seed=21)


@pytest.fixture(scope="module")
def ds(published):
    return make_datasette(published)


def esc(text):
    """Escaped as Datasette's templates escape (markupsafe)."""
    return str(escape(text))


def get(ds, path, **kwargs):
    return asyncio.run(ds.client.get(path, **kwargs))


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_canned_query_json_and_html(ds, published, name):
    params = "&".join(f"{k}={v}" for k, v in QUERIES[name].items())
    r = get(ds, f"/export_finder/{name}.json?_shape=objects&{params}")
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert rows, f"{name} returned no rows"
    page = get(ds, f"/export_finder/{name}?{params}")
    assert page.status_code == 200
    title = load_metadata(published)["databases"]["export_finder"]["queries"][name]["title"]
    assert html.escape(title) in page.text
    if "firm_id" in rows[0]:  # query results link each firm to its profile
        assert f'href="/export_finder/firms/{rows[0]["firm_id"]}"' in page.text


def test_find_my_firm_finds_by_name_words(ds, published):
    db = sqlite_utils.Database(published)
    firm = db.execute("SELECT firm_id, name FROM firms WHERE firm_id != ? LIMIT 1", [XSS_FIRM_ID]).fetchone()
    words = " ".join(firm[1].split()[:2])
    rows = get(ds, f"/export_finder/find_my_firm.json?_shape=objects&name={words}").json()["rows"]
    assert firm[0] in [r["firm_id"] for r in rows]
    assert all(set(words.lower().split()) <= set(r["name"].lower().split()) for r in rows)
    # An empty form shows no rows and no error.
    empty = get(ds, "/export_finder/find_my_firm.json?name=").json()
    assert empty["rows"] == [] and not empty.get("error")


def test_top_opportunities_ranks_by_score_and_matches_heading(ds, published):
    rows = get(ds, "/export_finder/top_opportunities.json?_shape=objects&hs=3923").json()["rows"]
    assert rows
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    db = sqlite_utils.Database(published)
    expected = {r[0] for r in db.execute("SELECT DISTINCT firm_id FROM hs_hints WHERE hs4 = '3923'")}
    assert {r["firm_id"] for r in rows} == expected & {r[0] for r in db.execute("SELECT firm_id FROM scores")}


def test_firms_near_port_respects_distance(ds):
    near = get(ds, "/export_finder/firms_near_port.json?_shape=objects&product=gloves&max_km=40").json()["rows"]
    far = get(ds, "/export_finder/firms_near_port.json?_shape=objects&product=gloves&max_km=1000").json()["rows"]
    assert all(r["km_to_port_la"] <= 40 for r in near)
    assert len(far) > len(near)
    assert all("glove" in r["product"].lower() for r in far)
    # max_km is a number: text is cast (leading digits, else 0), never compared as text.
    for text, limit in (("40 or 1=1", 40), ("all", 0), (" 40 ", 40)):
        rows = get(ds, f"/export_finder/firms_near_port.json?_shape=objects&product=gloves&max_km={text}").json()["rows"]
        assert all(r["km_to_port_la"] <= limit for r in rows), text
    default = get(ds, "/export_finder/firms_near_port.json?_shape=objects&product=gloves&max_km=").json()["rows"]
    assert default and all(r["km_to_port_la"] <= 80 for r in default)


def test_firms_ready_for_market_by_code_or_name(ds):
    by_code = get(ds, "/export_finder/firms_ready_for_market.json?_shape=objects&country=jpn").json()["rows"]
    by_name = get(ds, "/export_finder/firms_ready_for_market.json?_shape=objects&country=Japan").json()["rows"]
    assert by_code and {r["firm_id"] for r in by_code} == {r["firm_id"] for r in by_name}
    assert all(r["country"] == "Japan" for r in by_code)


def test_score_distribution_adds_up(ds, published):
    rows = get(ds, "/export_finder/score_distribution_by_county.json?_shape=objects").json()["rows"]
    total = sqlite_utils.Database(published)["scores"].count
    assert sum(r["firms"] for r in rows) == total
    for r in rows:
        assert r["very_high"] + r["high"] + r["medium"] + r["low"] + r["very_low"] == r["firms"]



def test_precomputed_score_distribution_equals_the_live_aggregate(ds, published):
    """The table publish builds, and the canned query reading it, equal the aggregate over
    ``opportunities`` computed now (same columns, same order)."""
    from db.derive import DISTRIBUTION_SQL

    db = sqlite_utils.Database(published)
    live = [dict(r) for r in db.query(DISTRIBUTION_SQL + " ORDER BY firms DESC, county")]
    stored = list(db.query("select * from county_score_distribution order by firms desc, county"))
    assert live and stored == live
    served = get(ds, "/export_finder/score_distribution_by_county.json?_shape=objects").json()
    assert served["rows"] == live
    assert list(served["rows"][0]) == ["county", "firms", "mean_score", "min_score", "max_score",
                                       "very_high", "high", "medium", "low", "very_low"]


def _search_cap_plugin():
    from datasette.plugins import pm

    return next(p for p in pm.get_plugins() if getattr(p, "__name__", "") == "search_cap.py")


def test_table_search_is_capped_and_driven_by_the_capped_clause(ds, published, monkeypatch):
    """``?_search=`` touches at most SEARCH_CAP matches (first in the index, no sort over all),
    says so, and below the cap returns exactly the full-text matches."""
    db = sqlite_utils.Database(published)
    word = "inc"
    matches = {r["rowid"] for r in db.query("select rowid from firms_fts where firms_fts match ?", [word])}
    assert len(matches) > 3
    full = get(ds, f"/export_finder/firms.json?_search={word}&_size=max&_shape=objects").json()
    assert full["filtered_table_rows_count"] == len(matches)
    sql = full["query"]["sql"]
    # The capped clause comes first in the WHERE, so SQLite drives the lookup from it.
    assert "limit 1000" in sql and sql.index("limit 1000") < sql.rindex("escape_fts(:search)")
    monkeypatch.setattr(_search_cap_plugin(), "SEARCH_CAP", 3)
    capped = get(ds, f"/export_finder/firms.json?_search={word}&_size=max&_shape=objects").json()
    assert capped["filtered_table_rows_count"] == 3 and len(capped["rows"]) == 3
    first3 = sorted(matches)[:3]
    got = {r["rowid"] for r in db.query(
        "select rowid from firms where firm_id in ({})".format(",".join("?" * 3)),
        [r["firm_id"] for r in capped["rows"]])}
    assert got == set(first3)
    assert "among the first 3 matches" in capped["human_description_en"]
    html_page = get(ds, f"/export_finder/firms?_search={word}").text
    assert "among the first" in html_page

def test_default_facets_on_directory_and_opportunities(ds):
    data = get(ds, "/export_finder/firms.json?_size=0").json()
    facets = data["facet_results"]
    for name in ("county", "hs_chapter", "found_in"):
        assert name in facets and facets[name]["results"], name
    certs = get(ds, "/export_finder/firm_certifications.json?_size=0").json()["facet_results"]
    assert certs["certification"]["results"] and certs["county"]["results"]
    arrays = get(ds, "/export_finder/firms.json?_size=0&_facet_array=certification_list").json()["facet_results"]
    assert {r["value"] for r in arrays["certification_list"]["results"]} == {
        r["value"] for r in certs["certification"]["results"]}
    assert not data.get("suggested_facets")  # suggest_facets is off
    opp = get(ds, "/export_finder/opportunities.json?county=Los+Angeles&_size=5").json()
    assert {"band", "hs_chapter"} <= set(opp["facet_results"])
    counts = {r["value"]: r["count"] for r in opp["facet_results"]["county"]["results"]}
    assert list(counts) == ["Los Angeles"]
    assert sum(r["count"] for r in opp["facet_results"]["band"]["results"]) == opp["filtered_table_rows_count"]
    scores = [r[opp["columns"].index("score")] for r in opp["rows"]]
    assert scores == sorted(scores, reverse=True)  # sort_desc: score


COUNTED = {
    "firms": ["county", "hs_chapter", "found_in"],
    "opportunities": ["county", "band", "hs_chapter"],
    "firm_certifications": ["certification", "county", "hs_chapter"],
    "signals": ["kind", "country_iso3", "negated"],
    "hs_hints": ["hs2", "uncertain", "method"],
}


def group_by_sql(traces, table):
    return [t["sql"] for t in traces if t.get("type") == "sql" and "group by" in t["sql"].lower()
            and re.search(rf"\bfrom {table}\s", t["sql"])]


@pytest.mark.parametrize("table", sorted(COUNTED))
def test_unfiltered_facets_are_read_from_facet_counts_and_equal_live_counts(published, table):
    """The landing page of a table facets every row: publish counted them once (facet_counts).

    Before, each default facet of an unfiltered page was a group-by over the whole table
    (~30 ms each at 400,000 firms); the page must now run none, with the same values, counts,
    order, truncation and links as Datasette's live column facet.
    """
    traced = make_datasette(published, settings={"trace_debug": True})
    data = get(traced, f"/export_finder/{table}.json?_size=0&_trace=1").json()
    assert not group_by_sql(data["_trace"]["traces"], table)
    db = sqlite_utils.Database(published)
    size = SETTINGS.get("default_facet_size", 30)
    for column in COUNTED[table]:
        facet = data["facet_results"][column]
        live = db.execute(f"select [{column}], count(*) as n from [{table}] where [{column}] is not null "
                          f"group by [{column}] order by n desc, [{column}] limit {size + 1}").fetchall()
        assert [(r["value"], r["count"]) for r in facet["results"]] == [tuple(r) for r in live[:size]], column
        assert facet["truncated"] == (len(live) > size) and facet["type"] == "column"
        assert all(f"{column}=" in r["toggle_url"] for r in facet["results"])
    # A filtered page is counted live, over the filtered rows only.
    column = COUNTED[table][0]
    value = data["facet_results"][column]["results"][0]["value"]
    filtered = get(traced, f"/export_finder/{table}.json?_size=0&_trace=1&{column}={value}").json()
    assert group_by_sql(filtered["_trace"]["traces"], table)
    assert [(r["value"], r["count"]) for r in filtered["facet_results"][column]["results"]] == [
        (value, filtered["filtered_table_rows_count"])]


def test_counted_facets_fall_back_to_live_counts_without_facet_counts(published, tmp_path):
    """A database published before facet_counts existed (or with it dropped) still has its facets."""
    import shutil
    old = tmp_path / "export_finder.db"
    shutil.copyfile(published, old)
    sqlite_utils.Database(old).execute("drop table facet_counts")
    data = get(make_datasette(old), "/export_finder/firms.json?_size=0").json()
    expected = get(make_datasette(published), "/export_finder/firms.json?_size=0").json()
    assert data["facet_results"] == expected["facet_results"]


def test_facet_html_links_filter_the_table(ds):
    page = get(ds, "/export_finder/firms").text
    link = re.search(r'href="([^"]*county=Fresno[^"]*)"', page)
    assert link, "no facet link for Fresno"
    data = get(ds, "/export_finder/firms.json?county=Fresno&_shape=objects").json()
    assert data["rows"] and all(r["county"] == "Fresno" for r in data["rows"])


def test_table_full_text_search(ds):
    data = get(ds, "/export_finder/firms.json?_search=acme&_shape=objects").json()
    assert [r["firm_id"] for r in data["rows"]] == [XSS_FIRM_ID]
    products = get(ds, "/export_finder/products.json?_search=almond&_shape=objects").json()["rows"]
    assert products and all("almond" in r["product"] for r in products)
    page = get(ds, "/-/search?q=almond")
    assert page.status_code == 200 and "firms" in page.text and "products" in page.text


def test_firm_profile_page(ds, published):
    db = sqlite_utils.Database(published)
    firm_id = db.execute(
        "SELECT firm_id FROM scores WHERE firm_id IN (SELECT firm_id FROM signals WHERE kind='export_market') "
        "AND firm_id != ? LIMIT 1", [XSS_FIRM_ID]).fetchone()[0]
    page = get(ds, f"/export_finder/firms/{firm_id}")
    assert page.status_code == 200
    text = page.text
    score = db["scores"].get(firm_id)
    assert f'<span class="score-value">{score["score"]:.0f}</span>' in text
    assert score["band"] in text
    for (sentence,) in db.execute("SELECT sentence FROM score_reasons WHERE firm_id = ?", [firm_id]):
        assert esc(sentence) in text
    for product, sentence in db.execute("SELECT product, sentence FROM products WHERE firm_id = ?", [firm_id]):
        assert esc(product) in text and esc(sentence) in text
    hs6, confidence = db.execute(
        "SELECT hs6, confidence FROM hs_hints WHERE firm_id = ? AND rank = 1 LIMIT 1", [firm_id]).fetchone()
    assert hs6 in text and f"{confidence * 100:.0f}% sure" in text
    assert "guesses" in text  # guessed things say they are guesses
    for sentence, url in db.execute("SELECT sentence, source_url FROM signals WHERE firm_id = ?", [firm_id]):
        assert esc(sentence) in text and f'href="{url}"' in text
    for (country,) in db.execute("SELECT country FROM market_suggestions WHERE firm_id = ?", [firm_id]):
        assert country in text
    assert "Low confidence" in text or not score["low_confidence"]
    # A reason citing a reference row links to it.
    chapter = db.execute("SELECT json_extract(cites_key, '$.code') FROM score_reasons WHERE firm_id = ? "
                         "AND cites_table = 'hs_chapters'", [firm_id]).fetchone()[0]
    assert f'<a href="/export_finder/hs_chapters/{chapter}">figure</a>' in text
    assert get(ds, f"/export_finder/hs_chapters/{chapter}").status_code == 200
    css = re.search(r'<link rel="stylesheet" href="([^"]*profile.css)"', text).group(1)
    assert get(ds, css).status_code == 200


@pytest.mark.parametrize("file_name", ["other.db", "trade-office 2026.db"])
def test_firm_profile_page_under_any_database_file_name(published, tmp_path, file_name):
    """`publish --out other.db` then serve: the profile must not depend on the file's name.

    Datasette names its database after the file and looks for ``row-<database>-firms.html``;
    the profile used to be that template for ``export_finder`` only.
    """
    out = tmp_path / file_name
    publish(published.parent / "work.db", out)
    other = make_datasette(out)
    name = out.stem
    firm_id = sqlite_utils.Database(out).execute(
        "SELECT firm_id FROM scores WHERE firm_id != ? LIMIT 1", [XSS_FIRM_ID]).fetchone()[0]
    route = other.urls.row(name, "firms", firm_id)
    page = get(other, route)
    assert page.status_code == 200
    assert f'data-firm-id="{firm_id}"' in page.text and '<span class="score-value">' in page.text
    assert "Products and HS code hints" in page.text and "firm profile</title>" in page.text
    assert "profile.css" in page.text
    # Other tables' row pages stay Datasette's own.
    chapter = sqlite_utils.Database(out).execute("SELECT code FROM hs_chapters LIMIT 1").fetchone()[0]
    row = get(other, other.urls.row(name, "hs_chapters", chapter))
    assert row.status_code == 200 and "firm-profile" not in row.text
    # Every link the metadata's descriptions make (home page, the directory, the chart links of
    # the canned queries) points at this database, not at /export_finder/.
    for path in ("/", route.rsplit("/", 1)[0], other.urls.database(name) + "/score_distribution_by_county"):
        text = get(other, path).text
        assert "/export_finder/" not in text, path
        for href in set(re.findall(r'href="(/[^"#]*)', text)):
            href = html.unescape(href)
            if "/-/" in href or href.endswith(".css"):
                continue
            assert get(other, href, follow_redirects=True).status_code == 200, (path, href)
    # The inspect file is keyed by the database's name, so `datasette --inspect-file` uses it.
    from db.publish import inspect_path
    assert list(json.loads(inspect_path(out).read_text())) == [name]


def test_canned_query_pages_are_titled_and_hide_their_sql(ds):
    """A staffer's tab says "Find my firm", not the SQL; the SQL is one click away ("show")."""
    page = get(ds, "/export_finder/find_my_firm?name=acme").text
    assert "<title>Find my firm · export_finder</title>" in page
    assert "firms_fts match" not in page.split("</title>")[1].split("Query parameters")[0]
    assert ">show</a>" in page
    shown = get(ds, "/export_finder/find_my_firm?name=acme&_hide_sql=").text
    assert "<title>Find my firm" in shown
    assert get(ds, "/export_finder?sql=select+1").text.count("<title>export_finder: select 1</title>") == 1


def test_script_firm_is_text_everywhere(ds):
    for path in (f"/export_finder/firms/{XSS_FIRM_ID}", "/export_finder/firms?_search=acme",
                 "/export_finder/find_my_firm?name=acme", "/export_finder/products?_search=plastic"):
        text = get(ds, path).text
        assert "<script>window.__xss" not in text, path
        assert "onerror=\"window.__xss" not in text, path
        assert "<iframe src=javascript" not in text, path
    profile = get(ds, f"/export_finder/firms/{XSS_FIRM_ID}").text
    assert esc(XSS_NAME) in profile


def test_javascript_urls_never_become_links(ds, tmp_path):
    folder = tmp_path
    populate(folder / "work.db", firms=3, seed=4)
    sqlite_utils.Database(folder / "work.db").execute(
        "UPDATE signals SET source_url = 'javascript:alert(1)'")
    sqlite_utils.Database(folder / "work.db").execute(
        "UPDATE products SET source_url = 'javascript:alert(1)'")
    sqlite_utils.Database(folder / "work.db").conn.commit()
    publish(folder / "work.db", folder / "export_finder.db")
    local = make_datasette(folder / "export_finder.db")
    firm_id = sqlite_utils.Database(folder / "export_finder.db").execute("SELECT firm_id FROM products LIMIT 1").fetchone()[0]
    for path in (f"/export_finder/firms/{firm_id}", "/export_finder/products", "/export_finder/signals"):
        assert 'href="javascript' not in asyncio.run(local.client.get(path)).text


def test_map_uses_the_local_tile(ds):
    page = get(ds, "/export_finder/firms").text
    assert "datasette-cluster-map.js" in page
    assert 'DATASETTE_CLUSTER_MAP_TILE_LAYER = "/static/tile.png"' in page
    assert "openstreetmap" not in page.lower()
    tile = get(ds, "/static/tile.png")
    assert tile.status_code == 200 and tile.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_charts_plugin_is_on_query_pages(ds):
    page = get(ds, "/export_finder/score_distribution_by_county").text
    assert "datasette-vega" in page


def test_metadata_titles_sources_licenses(ds, published):
    meta = get(ds, "/-/metadata.json").json()
    assert meta["title"] == "California export finder"
    tables = meta["databases"]["export_finder"]["tables"]
    for name in ("firms", "listings", "products", "hs_hints", "signals", "scores", "opportunities"):
        assert tables[name].get("source") and tables[name].get("license"), name
    firms_page = get(ds, "/export_finder/firms").text
    assert "Firms (directory)" in firms_page
    assert "ZIP code&#39;s centre" in firms_page or "ZIP code's centre" in firms_page  # column description
    # Label columns: foreign keys to firms show the firm's name.
    labelled = get(ds, "/export_finder/products.json?_labels=on&_shape=objects&_size=1").json()["rows"][0]
    assert isinstance(labelled["firm_id"], dict) and labelled["firm_id"]["label"]


def test_settings_and_versions(ds):
    settings = get(ds, "/-/settings.json").json()
    for key, value in SETTINGS.items():
        assert settings[key] == value, key
    versions = get(ds, "/-/versions.json").json()
    assert versions["datasette"]["version"].startswith("0.65.")
    plugins = {p["name"] for p in get(ds, "/-/plugins.json").json()}
    assert {"datasette-cluster-map", "datasette-vega", "datasette-search-all"} <= plugins


def test_serve_command_is_read_only_with_inspect_file(published, tmp_path):
    cmd = datasette_command(published, tmp_path / "metadata.json", port=8123)
    assert cmd[cmd.index("-i") + 1] == str(published)
    assert cmd[cmd.index("--inspect-file") + 1].endswith("export_finder.inspect.json")
    pairs = {cmd[i + 1]: cmd[i + 2] for i, a in enumerate(cmd) if a == "--setting"}
    assert pairs["suggest_facets"] == "false" and pairs["num_sql_threads"] == "3"


def _answer(proc, url: str, limit: float = 60):
    """The JSON at ``url`` once the server ``proc`` started answers (its stderr if it dies)."""
    deadline = time.time() + limit
    while True:
        try:
            return json.loads(urllib.request.urlopen(url, timeout=1).read())
        except OSError:
            assert proc.poll() is None and time.time() < deadline, proc.stderr.read().decode()[-2000:]
            time.sleep(0.2)


def test_cli_serve_runs_datasette_read_only_and_restricted(published):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "export_finder.cli", "serve", str(published), "--port", str(port), "--restricted"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        databases = _answer(proc, base + "/-/databases.json", 30)
        assert databases[0]["name"] == "export_finder" and databases[0]["is_mutable"] is False
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/export_finder/scores.json", timeout=5)
        assert refused.value.code == 403
        assert urllib.request.urlopen(base + "/export_finder/firms.json", timeout=5).status == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def test_cli_serve_rejects_a_bad_accounts_file(published, tmp_path):
    from click.testing import CliRunner

    from export_finder.cli import cli

    bad = tmp_path / "accounts.json"
    bad.write_text('{"x": {"role": "boss"}}')
    result = CliRunner().invoke(cli, ["serve", str(published), "--restricted", "--accounts", str(bad)])
    assert result.exit_code == 1 and "role" in result.output


def test_plain_datasette_shows_the_default_facets(published):
    """``datasette export_finder.db -m db/metadata.yml`` without ``db/plugins``: the metadata's
    default facets are plain column facets, so plain Datasette counts them live, with the values
    and counts the project's plugin serves from ``facet_counts`` (a facet of a type no loaded
    class has, as ``counted`` was, is skipped silently: no facet at all)."""
    from db.serve import METADATA

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "datasette", "serve", "-i", str(published), "--metadata", str(METADATA),
         "--port", str(port), "--setting", "suggest_facets", "false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/export_finder"
    try:
        plugins = _answer(proc, f"http://127.0.0.1:{port}/-/plugins.json")
        assert not any(p["name"].endswith("facet_counts.py") for p in plugins)  # the project's plugins are not loaded
        for table, columns in COUNTED.items():
            plain = json.loads(urllib.request.urlopen(f"{base}/{table}.json?_size=0", timeout=30).read())["facet_results"]
            ours = get(make_datasette(published), f"/export_finder/{table}.json?_size=0").json()["facet_results"]
            assert list(plain) == columns == list(ours), table
            for column in columns:
                assert plain[column]["results"], (table, column)
                assert [(r["value"], r["count"]) for r in plain[column]["results"]] == \
                    [(r["value"], r["count"]) for r in ours[column]["results"]], (table, column)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
