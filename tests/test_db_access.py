"""Restricted mode: the directory for everyone, scores for staff, a member sees only its own.

Every route Datasette offers to a table, a row, a query, SQL or the database file is tried
as a member firm against another firm's score; each must be refused or show no score.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest
import sqlite_utils
from datasette_auth_passwords.utils import hash_password

from db import access
from db.serve import make_datasette
from db.synthetic import published_synthetic

SCORE_COLUMNS = {"score", "band", "band_sentence", "probability", "readiness", "market_fit",
                 "contribution", "top_reasons", "suggested_markets", "market_rank", "mean_score"}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    return published_synthetic(tmp_path_factory.mktemp("access"), firms=30, seed=5)


@pytest.fixture(scope="module")
def firms(published):
    db = sqlite_utils.Database(published)
    own, other = [r[0] for r in db.execute("SELECT firm_id FROM scores ORDER BY firm_id LIMIT 2")]
    return {"own": own, "other": other, "other_score": db["scores"].get(other)}


@pytest.fixture(scope="module")
def accounts(firms):
    # Few iterations: the hash format is the real one, the test stays fast.
    return {
        "staff": {"password_hash": hash_password("staff-pw", iterations=1000), "role": "staff"},
        "member": {"password_hash": hash_password("member-pw", iterations=1000), "role": "member",
                   "firm_id": firms["own"]},
    }


@pytest.fixture(scope="module")
def ds(published, accounts):
    return make_datasette(published, public=False, accounts=accounts)


def cookies_for(ds, actor):
    return {"ds_actor": ds.sign({"a": actor}, "actor")} if actor else {}



def member_actor(firms):
    return {"id": "member", "role": "member", "firm_id": firms["own"]}


def get(ds, path, actor=None):
    return asyncio.run(ds.client.get(path, cookies=cookies_for(ds, actor)))


def score_routes(firm_id):
    """Every path that could show a firm's score, reason or market."""
    routes = []
    for table in sorted(access.STAFF_ONLY_TABLES):
        routes += [f"/export_finder/{table}", f"/export_finder/{table}.json", f"/export_finder/{table}.csv",
                   f"/export_finder/{table}.csv?_stream=on", f"/export_finder/{table}.json?_shape=array&_nl=on"]
        if table == "county_score_distribution":  # aggregates per county: no firm_id column
            routes += [f"/export_finder/{table}.json?county=Los+Angeles", f"/export_finder/{table}?_facet=county"]
        elif table == "facet_counts":  # band counts of scores and opportunities: no firm_id column
            routes += [f"/export_finder/{table}.json?table_name=opportunities", f"/export_finder/{table}?_facet=table_name"]
        else:
            routes += [f"/export_finder/{table}.json?firm_id={firm_id}", f"/export_finder/{table}?_facet=firm_id"]
    routes += [f"/export_finder/scores/{firm_id}", f"/export_finder/scores/{firm_id}.json",
               f"/export_finder/opportunities/{firm_id}.json", f"/export_finder/score_reasons/{firm_id},1.json",
               f"/export_finder/market_suggestions/{firm_id},1", f"/export_finder/opportunities/{firm_id}.csv"]
    for query in sorted(access.STAFF_ONLY_QUERIES):
        routes += [f"/export_finder/{query}?hs=39&country=JPN", f"/export_finder/{query}.json?hs=39&country=JPN",
                   f"/export_finder/{query}.csv?hs=39&country=JPN"]
    sql = f"select score from scores where firm_id = '{firm_id}'"
    routes += [f"/export_finder?sql={sql}", f"/export_finder.json?sql={sql}", f"/export_finder.csv?sql={sql}",
               "/export_finder.db",
               '/export_finder/firms.json?_through={"table":"scores","column":"band","value":"High"}',
               '/export_finder/firms.json?_where=firm_id in (select firm_id from scores where score > 50)']
    return routes


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_every_score_route_is_refused(ds, firms, who):
    actor = member_actor(firms) if who == "member" else None
    for path in score_routes(firms["other"]):
        r = get(ds, path, actor)
        assert r.status_code in (403, 400), f"{who} got {r.status_code} for {path}"


def test_no_visible_table_or_view_carries_a_score(ds, firms, published):
    db = sqlite_utils.Database(published)
    names = db.table_names() + db.view_names()
    actor = member_actor(firms)
    listed = get(ds, "/export_finder.json", actor).json()
    visible = {t["name"] for t in listed["tables"]} | {v["name"] if isinstance(v, dict) else v for v in listed["views"]}
    assert not visible & access.STAFF_ONLY_TABLES
    for name in names:
        r = get(ds, f"/export_finder/{name}.json?_size=1", actor)
        if r.status_code == 200:
            assert not set(r.json()["columns"]) & SCORE_COLUMNS, name
        else:
            assert name in access.STAFF_ONLY_TABLES, f"{name}: {r.status_code}"
    # And no other firm's score shows up through a public canned query.
    for query in ("find_my_firm?name=pacific", "firms_near_port?product=almond", "firms_by_hs_chapter"):
        r = get(ds, f"/export_finder/{query.replace('?', '.json?', 1) if '?' in query else query + '.json'}", actor)
        assert r.status_code == 200 and not set(r.json()["columns"]) & SCORE_COLUMNS, query


def test_member_sees_own_score_not_others(ds, firms, published):
    db = sqlite_utils.Database(published)
    actor = member_actor(firms)
    own = get(ds, f"/export_finder/firms/{firms['own']}", actor).text
    own_score = db["scores"].get(firms["own"])
    assert f'<span class="score-value">{own_score["score"]:.0f}</span>' in own
    reason = db.execute("SELECT sentence FROM score_reasons WHERE firm_id = ? AND rank = 1", [firms["own"]]).fetchone()[0]
    assert reason.split("'")[0] in own
    other = get(ds, f"/export_finder/firms/{firms['other']}", actor)
    assert other.status_code == 200  # the directory part is public
    assert "score-value" not in other.text and "Scores are shown to trade staff" in other.text
    assert firms["other_score"]["band_sentence"] not in other.text
    for (sentence,) in db.execute("SELECT sentence FROM score_reasons WHERE firm_id = ?", [firms["other"]]):
        assert sentence.split("'")[0] not in other.text or sentence.split("'")[0] in own
    for (country_sentence,) in db.execute("SELECT sentence FROM market_suggestions WHERE firm_id = ?", [firms["other"]]):
        assert country_sentence not in other.text
    # The row's JSON and CSV are the directory row only.
    row = get(ds, f"/export_finder/firms/{firms['other']}.json?_shape=objects", actor).json()
    assert not set(row["rows"][0]) & SCORE_COLUMNS


def test_anonymous_sees_directory_not_scores(ds, firms):
    page = get(ds, f"/export_finder/firms/{firms['own']}")
    assert page.status_code == 200 and "score-value" not in page.text
    assert get(ds, "/export_finder/firms.json").status_code == 200
    assert get(ds, "/export_finder/products.json").status_code == 200
    assert get(ds, "/export_finder/find_my_firm.json?name=pacific").status_code == 200
    assert get(ds, "/-/search?q=almond").status_code == 200


def test_staff_sees_everything(ds, firms):
    staff = {"id": "staff", "role": "staff"}
    for path in score_routes(firms["other"]):
        if "_through" in path:
            continue  # valid only for a many-to-many table
        r = get(ds, path, staff)
        assert r.status_code == 200, f"staff got {r.status_code} for {path}"
    page = get(ds, f"/export_finder/firms/{firms['other']}", staff).text
    assert "score-value" in page


def test_password_login_gives_the_configured_actor(ds, firms):
    async def login(username, password):
        form = await ds.client.get("/-/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', form.text).group(1)
        r = await ds.client.post(
            "/-/login",
            data={"username": username, "password": password, "csrftoken": token},
            cookies={"ds_csrftoken": form.cookies["ds_csrftoken"]},
        )
        return r

    r = asyncio.run(login("member", "member-pw"))
    assert r.status_code == 302
    actor = ds.unsign(r.cookies["ds_actor"], "actor")["a"]
    assert actor == {"id": "member", "role": "member", "firm_id": firms["own"]}
    bad = asyncio.run(login("member", "wrong"))
    assert bad.status_code == 200 and "ds_actor" not in bad.cookies
    # The signed-in member reaches its own score through the real cookie.
    page = asyncio.run(ds.client.get(f"/export_finder/firms/{firms['own']}", cookies={"ds_actor": r.cookies["ds_actor"]}))
    assert "score-value" in page.text


def test_password_hashes_are_not_published(ds, accounts):
    meta = get(ds, "/-/metadata.json").text
    for account in accounts.values():
        assert account["password_hash"] not in meta
    assert json.loads(meta)["plugins"]["export-finder"]["mode"] == "restricted"


def test_public_mode_shows_scores_to_everyone(published, firms):
    public = make_datasette(published, public=True)
    assert asyncio.run(public.client.get("/export_finder/scores.json")).status_code == 200
    assert asyncio.run(public.client.get("/export_finder.db")).status_code == 200
    page = asyncio.run(public.client.get(f"/export_finder/firms/{firms['other']}")).text
    assert "score-value" in page


def test_accounts_file_is_validated(tmp_path):
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps({"acme": {"password_hash": "x", "role": "member"}}))
    with pytest.raises(access.AccountsError, match="firm_id"):
        access.load_accounts(path)
    path.write_text(json.dumps({"acme": {"password_hash": "x", "role": "member", "firm_id": "F1"}}))
    with pytest.raises(access.AccountsError, match="password_hash"):
        access.load_accounts(path)
    good = {"s": {"password_hash": hash_password("pw", iterations=1000), "role": "staff"}}
    path.write_text(json.dumps(good))
    assert access.load_accounts(path) == good
    with pytest.raises(access.AccountsError):
        access.load_accounts(tmp_path / "missing.json")


def test_member_menu_links_to_own_profile(ds, firms):
    page = get(ds, "/", member_actor(firms)).text
    assert f'href="/export_finder/firms/{firms["own"]}">My firm' in page
    assert "My firm" not in get(ds, "/").text


def test_profile_json_follows_the_same_rule(ds, firms, published):
    actor = member_actor(firms)
    own = get(ds, f"/-/firm/{firms['own']}.json", actor).json()
    assert own["score_visible"] and own["score"]["firm_id"] == firms["own"] and own["reasons"]
    other = get(ds, f"/-/firm/{firms['other']}.json", actor).json()
    assert other["firm"]["firm_id"] == firms["other"] and other["products"]
    assert other["score_visible"] is False and other["score"] is None
    assert other["reasons"] == [] and other["markets"] == []
    anonymous = get(ds, f"/-/firm/{firms['own']}.json").json()
    assert anonymous["score"] is None
    staff = get(ds, f"/-/firm/{firms['other']}.json", {"id": "staff", "role": "staff"}).json()
    assert staff["score"]["score"] == firms["other_score"]["score"]
    assert get(ds, "/-/firm/Fnosuchfirm.json").status_code == 404
