"""Building the published database: shape, keys, indexes, FTS, views, atomic replacement."""

from __future__ import annotations

import json
import sqlite3

import pytest
import sqlite_utils
from click.testing import CliRunner

from db import derive, publish as publish_mod
from db.publish import FTS, PublishError, inspect_path, publish, published_order
from db.synthetic import XSS_FIRM_ID, XSS_NAME, populate
from export_finder.cli import cli
from export_finder.schema import TABLES, ensure_table


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A synthetic working database of 60 firms and the database published from it."""
    folder = tmp_path_factory.mktemp("publish")
    work = folder / "work.db"
    counts = populate(work, firms=60, seed=11)
    out = folder / "export_finder.db"
    summary = publish(work, out)
    return {"work": work, "out": out, "summary": summary, "counts": counts}


def test_every_contract_table_is_published_with_its_rows(built):
    db = sqlite_utils.Database(built["out"])
    for name in TABLES:
        assert db[name].exists(), name
        assert db[name].count == built["counts"][name], name
        assert set(TABLES[name][0]) <= set(db[name].columns_dict), name
    assert built["summary"]["tables"]["firms"] == 60
    # Reference tables the synthetic run leaves empty are named as empty, the others are not.
    assert "firms" not in built["summary"]["empty"]
    assert {n for n in TABLES if built["counts"][n] == 0} == set(built["summary"]["empty"])


def test_primary_and_foreign_keys(built):
    db = sqlite_utils.Database(built["out"])
    assert db["firms"].pks == ["firm_id"]
    assert db["firm_listings"].pks == ["firm_id", "listing_id"]
    fks = {(fk.column, fk.other_table, fk.other_column) for fk in db["hs_hints"].foreign_keys}
    assert ("product_id", "products", "product_id") in fks
    assert ("firm_id", "firms", "firm_id") in fks
    assert ("firm_id", "firms", "firm_id") in {
        (fk.column, fk.other_table, fk.other_column) for fk in db["scores"].foreign_keys
    }
    assert built["summary"]["orphan_rows"] == {}


def test_indexes_cover_faceted_and_joined_columns(built):
    db = sqlite_utils.Database(built["out"])
    opportunity_indexes = {tuple(i.columns) for i in db["opportunities"].indexes}
    for cols in [("county", "score"), ("county", "band"), ("county", "hs_chapter")]:
        assert cols in opportunity_indexes
    assert ("firm_id", "rank") in {tuple(i.columns) for i in db["hs_hints"].indexes}
    assert ("county", "name") in {tuple(i.columns) for i in db["firms"].indexes}
    # The facet-and-sort query of the staff page is answered from the composite index.
    plan = db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM opportunities WHERE county = 'Fresno' ORDER BY score DESC LIMIT 50"
    ).fetchall()
    assert "idx_opportunities_county_score" in " ".join(str(r) for r in plan)


def test_full_text_search_on_firms_and_products(built):
    db = sqlite_utils.Database(built["out"])
    for table in FTS:
        assert db[table].detect_fts() == f"{table}_fts"
    # Porter stemming: "container" finds "containers".
    hits = [r["product"] for r in db["products"].search("container")]
    assert hits and all("container" in h for h in hits)
    firm = list(db["firms"].search("Acme Plastics"))
    assert [r["firm_id"] for r in firm] == [XSS_FIRM_ID]


def test_views_and_derived_columns(built):
    db = sqlite_utils.Database(built["out"])
    assert set(built["summary"]["views"]) <= set(db.view_names())
    overview = db.execute(
        "SELECT name, score, band, top_reasons, suggested_markets FROM firm_overview WHERE firm_id = ?",
        [XSS_FIRM_ID],
    ).fetchone()
    assert overview[0] == XSS_NAME and overview[1] is not None and overview[3] and overview[4]
    firm = db["firms"].get(XSS_FIRM_ID)
    assert firm["hs_chapter"] == "39" and 0 < firm["hs_chapter_confidence"] <= 1
    assert firm["top_products"] == "plastic containers"
    # Every firm with a ZIP has a point; those without their own point say it is the ZIP's.
    precisions = dict(db.execute("SELECT location_precision, count(*) FROM firms GROUP BY 1").fetchall())
    assert set(precisions) <= {"address", "zip_centroid"} and precisions.get("zip_centroid")
    assert db.execute("SELECT count(*) FROM firms WHERE km_to_port_la IS NULL").fetchone()[0] == 0
    lists = [json.loads(v) for (v,) in db.execute("SELECT certification_list FROM firms WHERE certification_list IS NOT NULL")]
    assert lists and all(isinstance(v, list) and v for v in lists)
    assert db["opportunities"].count == db["scores"].count
    # One certification row per firm and certification, with its sentence when extract found it.
    pairs = sum(len(v) for v in lists)
    assert db["firm_certifications"].count == pairs
    assert db.execute("SELECT count(*) FROM firm_certifications WHERE sentence LIKE 'Certified %'").fetchone()[0] == pairs
    assert {r[0] for r in db.execute("SELECT found_in FROM firms")} <= {"member_directory", "ppe_marketplace"}


def test_inspect_file_matches_the_database(built):
    data = json.loads(inspect_path(built["out"]).read_text())["export_finder"]
    assert data["size"] == built["out"].stat().st_size
    assert data["tables"]["firms"]["count"] == 60
    assert data["file"] == str(built["out"].resolve())


def test_publish_from_a_nearly_empty_working_db_keeps_full_shape(tmp_path):
    work = tmp_path / "work.db"
    ensure_table(sqlite_utils.Database(work), "listings")
    out = tmp_path / "export_finder.db"
    summary = publish(work, out)
    db = sqlite_utils.Database(out)
    assert set(summary["empty"]) == set(TABLES)
    assert set(summary["missing_in_work_db"]) == set(TABLES) - {"listings"}
    for view in derive.VIEWS:
        assert db.execute(f"SELECT count(*) FROM [{view}]").fetchone()[0] == 0
    assert db["zip_centroids"].count > 40000


def test_rows_with_dangling_keys_are_kept_and_counted(tmp_path):
    work = tmp_path / "work.db"
    populate(work, firms=5, seed=3)
    sqlite_utils.Database(work)["products"].insert(
        {"product_id": "Pghost", "firm_id": "Fnobody", "product": "ghost widgets"}
    )
    summary = publish(work, tmp_path / "out.db")
    assert summary["orphan_rows"]["products -> firms"] == 1
    assert sqlite_utils.Database(tmp_path / "out.db")["products"].get("Pghost")["product"] == "ghost widgets"


def test_failed_build_leaves_the_old_database_and_no_temp_file(tmp_path, monkeypatch):
    work = tmp_path / "work.db"
    populate(work, firms=5, seed=3)
    out = tmp_path / "export_finder.db"
    publish(work, out)
    before = out.read_bytes()
    reader = sqlite3.connect(out)
    assert reader.execute("SELECT count(*) FROM firms").fetchone()[0] == 5

    def broken(db):
        raise RuntimeError("disk full, say")

    monkeypatch.setattr(derive, "create_views", broken)
    with pytest.raises(RuntimeError):
        publish(work, out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export_finder.db", "export_finder.inspect.json", "work.db"]
    assert reader.execute("SELECT count(*) FROM firms").fetchone()[0] == 5



def test_stale_temp_files_of_a_killed_publish_are_removed_and_nothing_else(tmp_path):
    """A SIGKILLed publish leaves its temp files; the next publish removes those of its own
    naming for this output, and no other file in the folder."""
    work = tmp_path / "work.db"
    populate(work, firms=4, seed=5)
    out = tmp_path / "export_finder.db"
    stale = [f".{out.name}.a_b9Zk1q.building", f".{out.name}.a_b9Zk1q.building-journal", f".{out.name}.a_b9Zk1q.inspect"]
    others = [".other.db.a_b9Zk1q.building", f"{out.name}.a_b9Zk1q.building", f".{out.name}.a_b9Zk1q.building.bak",
              f".{out.name}.notes.txt", "export_finder.db.backup", f".x{out.name}.a.building"]
    for name in stale + others:
        (tmp_path / name).write_bytes(b"left by someone")
    summary = publish(work, out)
    assert sorted(summary["stale_temp_files_removed"]) == sorted(stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        others + ["export_finder.db", "export_finder.inspect.json", "work.db"])
    assert all((tmp_path / name).read_bytes() == b"left by someone" for name in others)


def test_a_second_publish_into_the_folder_waits_for_the_first(tmp_path):
    """While one publish holds the folder's lock, another does not start (it would take the
    first one's temp file for a stale one)."""
    import threading

    work = tmp_path / "work.db"
    populate(work, firms=4, seed=5)
    out = tmp_path / "export_finder.db"
    done = threading.Event()
    with publish_mod._publish_lock(out):
        thread = threading.Thread(target=lambda: (publish(work, out), done.set()))
        thread.start()
        assert not done.wait(1.0) and not out.exists()
    thread.join(60)
    assert done.is_set() and out.exists()

def test_integrity_failure_is_refused(tmp_path, monkeypatch):
    work = tmp_path / "work.db"
    populate(work, firms=3, seed=3)
    monkeypatch.setattr(publish_mod, "_check", lambda path: (_ for _ in ()).throw(PublishError("integrity check failed")))
    with pytest.raises(PublishError):
        publish(work, tmp_path / "export_finder.db")
    assert not (tmp_path / "export_finder.db").exists()


def test_new_build_replaces_old_while_a_reader_holds_it(tmp_path):
    work = tmp_path / "work.db"
    populate(work, firms=4, seed=1)
    out = tmp_path / "export_finder.db"
    publish(work, out)
    reader = sqlite3.connect(out)
    assert reader.execute("SELECT count(*) FROM firms").fetchone()[0] == 4
    populate(tmp_path / "work2.db", firms=9, seed=2)
    publish(tmp_path / "work2.db", out)
    # The open reader keeps its (now unlinked) old file; a new reader sees the new one.
    assert reader.execute("SELECT count(*) FROM firms").fetchone()[0] == 4
    assert sqlite3.connect(out).execute("SELECT count(*) FROM firms").fetchone()[0] == 9


def test_publish_is_repeatable(tmp_path):
    work = tmp_path / "work.db"
    populate(work, firms=6, seed=5)
    first = publish(work, tmp_path / "a.db")
    second = publish(work, tmp_path / "a.db")
    assert first["tables"] == second["tables"]


def test_missing_working_db_is_a_clear_error(tmp_path):
    with pytest.raises(PublishError, match="does not exist"):
        publish(tmp_path / "nope.db", tmp_path / "out.db")


def test_published_order_puts_targets_first():
    order = published_order()
    assert set(order) == set(TABLES)
    for name in order:
        for _col, other, _ in publish_mod.foreign_keys(name):
            assert order.index(other) < order.index(name), (name, other)


def test_cli_publish(tmp_path):
    work = tmp_path / "work.db"
    populate(work, firms=4, seed=9)
    out = tmp_path / "pub" / "export_finder.db"
    result = CliRunner().invoke(cli, ["publish", "--work-db", str(work), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["tables"]["firms"] == 4
    assert out.exists()


def test_county_spelling_is_one_for_the_facet(tmp_path):
    work = tmp_path / "work.db"
    populate(work, firms=6, seed=8)
    db = sqlite_utils.Database(work)
    db.execute("UPDATE firms SET county = county || ' County' WHERE rowid % 2 = 0")
    db.execute("UPDATE firms SET county = NULL WHERE rowid = 3")
    db.conn.commit()
    publish(work, tmp_path / "out.db")
    out = sqlite_utils.Database(tmp_path / "out.db")
    counties = {r[0] for r in out.execute("SELECT county FROM firms")}
    assert None not in counties and not any(c.endswith("County") for c in counties)


def test_rows_with_empty_or_repeated_keys_are_counted_not_fatal(tmp_path):
    work = tmp_path / "work.db"
    db = sqlite_utils.Database(work)
    # A stage that created its table without the contract's primary key.
    db["products"].create({c: t for c, t in TABLES["products"][0].items()})
    db["products"].insert_all([
        {"product_id": "P1", "firm_id": "F1", "product": "gloves"},
        {"product_id": "P1", "firm_id": "F1", "product": "gloves again"},
        {"product_id": None, "firm_id": "F1", "product": "no id"},
    ])
    summary = publish(work, tmp_path / "out.db")
    assert summary["rows_not_published"] == {"products": 2}
    assert sqlite_utils.Database(tmp_path / "out.db")["products"].count == 1
