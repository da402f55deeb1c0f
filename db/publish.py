"""Build the published, read-only database (``export_finder.db``) from the working database.

Why a separate file at all: Datasette serves it immutable (``-i``), so it must never be
written while served. The build goes into a temporary file in the same folder, is checked
with ``PRAGMA integrity_check`` and only then renamed over the old one (``os.replace`` is
atomic on one filesystem), so a reader sees the old database or the new one, never half.

Publish works with whatever the upstream stages have produced so far: every table of the
working-database contract (``export_finder.schema.TABLES``) is created with its declared
columns even when the working database lacks it, so views, canned queries and templates
always find the shape they expect; the summary names the tables that were empty.

On top of the copied tables it adds what a reader needs and a writer does not:
primary and foreign keys, indexes on faceted and joined columns, full-text search on firms
and products, ZIP centroids for the map, a few derived columns on ``firms`` (top HS chapter,
top products, certifications as a list, distance to the Port of Los Angeles), one
``opportunities`` row per scored firm for fast faceting, and views that join a firm's facts.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import re
import sqlite3
import tempfile
import time
from pathlib import Path

import sqlite_utils
import yaml

from export_finder.schema import TABLES

from . import derive
from .zip_centroids import load_zip_centroids

DATABASE_NAME = "export_finder"
METADATA = Path(__file__).resolve().parent / "metadata.yml"  # its default facets are counted at publish

# Published table order (a table's foreign keys point only at tables built before it).
TABLE_ORDER = [
    "crawl_runs",
    "listings",
    "firms",
    "firm_listings",
    "products",
    "hs_hints",
    "signals",
    "model_runs",
    "scores",
    "score_reasons",
    "market_suggestions",
]

# table -> [(column, other table, other column)]; a key to a table the contract lacks is left out.
FOREIGN_KEYS: dict[str, list[tuple[str, str, str]]] = {
    "listings": [("crawl_run_id", "crawl_runs", "run_id")],
    "firm_listings": [("firm_id", "firms", "firm_id"), ("listing_id", "listings", "listing_id")],
    "products": [("firm_id", "firms", "firm_id")],
    "firms": [("hs_chapter", "hs_chapters", "code")],
    "hs_hints": [
        ("product_id", "products", "product_id"),
        ("firm_id", "firms", "firm_id"),
        ("hs2", "hs_chapters", "code"),
        ("hs4", "hs_headings", "code"),
        ("hs6", "hs_subheadings", "code"),
    ],
    "signals": [("firm_id", "firms", "firm_id"), ("country_iso3", "countries", "iso3")],
    "scores": [("firm_id", "firms", "firm_id"), ("run_id", "model_runs", "run_id"), ("hs_chapter", "hs_chapters", "code")],
    "score_reasons": [("firm_id", "firms", "firm_id")],
    "market_suggestions": [("firm_id", "firms", "firm_id"), ("partner_iso3", "countries", "iso3")],
    "hs_chapters": [("section", "hs_sections", "code")],
    "hs_headings": [("parent", "hs_chapters", "code")],
    "hs_subheadings": [("parent", "hs_headings", "code")],
}


def published_order() -> list[str]:
    """Every contract table, each after the tables its foreign keys point at."""
    reference = [n for n in ("hs_sections", "hs_chapters", "hs_headings", "hs_subheadings", "countries") if n in TABLES]
    first = reference + [n for n in TABLE_ORDER if n in TABLES]
    return first + [n for n in TABLES if n not in first]


def foreign_keys(name: str) -> list[tuple[str, str, str]]:
    """Declared keys of ``name`` whose column and target table exist in the contract."""
    columns = set(TABLES[name][0]) | set(derive.EXTRA_COLUMNS.get(name, {}))
    return [fk for fk in FOREIGN_KEYS.get(name, []) if fk[1] in TABLES and fk[0] in columns]

# Indexes on every joined and faceted column. Composite (facet, sort) pairs follow the
# measured table in STACK.md: a county-filtered page sorted by score with band and chapter
# facets needs (county, score), (county, band) and (county, hs_chapter).
INDEXES: dict[str, list[tuple[str, ...]]] = {
    "listings": [("source",), ("crawl_run_id",), ("validation_status",), ("postal_code",)],
    "firm_listings": [("listing_id",), ("match_rule",)],
    "firms": [
        ("county", "name"),
        ("city",),
        ("postal_code",),
        ("hs_chapter", "name"),
        ("domain",),
        ("km_to_port_la",),
        ("name",),
        ("in_california",),
        ("county", "found_in"),
        ("county", "hs_chapter"),  # without it the chapter facet of a county scanned every firm
        ("found_in",),
    ],
    "firm_certifications": [("certification", "county"), ("county",), ("hs_chapter",)],
    "products": [("firm_id",), ("product",), ("method",)],
    "hs_hints": [("firm_id", "rank"), ("product_id", "rank"), ("hs2", "firm_id"), ("hs4", "firm_id"), ("hs6",)],
    "signals": [("firm_id", "kind"), ("kind", "value"), ("country_iso3", "kind")],
    "scores": [("band",), ("score",), ("run_id",)],
    "score_reasons": [("feature",)],
    "market_suggestions": [("partner_iso3", "firm_id"), ("country",), ("hs_code",)],
    "opportunities": [
        ("score",),
        ("county", "score"),
        ("county", "band"),
        ("county", "hs_chapter"),
        ("hs_chapter", "score"),
        ("band", "score"),
        ("top_market_iso3", "score"),
    ],
    "zip_centroids": [("county",)],
}

FTS: dict[str, list[str]] = {
    "firms": ["name", "description", "top_products", "city", "county"],
    "products": ["product", "surface", "sentence"],
}


class PublishError(Exception):
    """The published database could not be built; the old one (if any) is left as it was."""


def publish(work_db, out) -> dict:
    """Build ``out`` from ``work_db`` atomically and return a summary of what went in.

    The summary holds row counts per table, the tables that were empty (their stage has not
    run or found nothing), rows whose foreign key points nowhere (kept, counted), the
    full-text indexes, views and the inspect file Datasette reads counts from.
    """
    started = time.perf_counter()
    work_db = Path(work_db)
    out = Path(out)
    if not work_db.exists():
        raise PublishError(f"working database {work_db} does not exist: run the earlier stages first")
    out.parent.mkdir(parents=True, exist_ok=True)
    with _publish_lock(out):
        removed = remove_stale_temp_files(out)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".building", dir=out.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        inspect_tmp = tmp.with_suffix(".inspect")
        try:
            summary = _build(work_db, tmp)
            _check(tmp)
            inspect = inspect_data(tmp, out, summary["tables"])
            inspect_tmp.write_text(json.dumps(inspect, indent=2))
            os.chmod(tmp, 0o644)  # mkstemp makes it private; the published file is for readers
            os.replace(tmp, out)
            os.replace(inspect_tmp, inspect_path(out))
        except BaseException:
            for leftover in (tmp, inspect_tmp, Path(str(tmp) + "-journal")):
                leftover.unlink(missing_ok=True)
            raise
    summary["stale_temp_files_removed"] = [p.name for p in removed]
    summary.update(
        {
            "out": str(out),
            "inspect_file": str(inspect_path(out)),
            "bytes": out.stat().st_size,
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
    return summary


def _temp_file_pattern(out: Path) -> re.Pattern:
    """Names publish's own temporary files get for ``out``: mkstemp's
    ``.<name>.<random>.building``, its ``-journal`` and the ``.inspect`` beside it."""
    return re.compile(rf"\.{re.escape(out.name)}\.[A-Za-z0-9_]+\.(building|building-journal|inspect)")


def remove_stale_temp_files(out) -> list[Path]:
    """Delete temporary files a killed publish of ``out`` left in its folder; return them.

    Why: a publish killed with SIGKILL (or by the machine going down) cannot clean up, and
    its ``.building`` file is as large as the database (2.4 GB at 400,000 firms); each kill
    would leave another. Only names of publish's own pattern for this ``out`` are touched
    (never the database, its inspect file, or another database's temp files). Call it only
    while holding ``_publish_lock(out)``: a live publish into the same folder holds that
    lock for its whole build, so any matching file found then belongs to a dead one.
    """
    out = Path(out)
    pattern = _temp_file_pattern(out)
    removed = []
    for path in out.parent.iterdir():
        if pattern.fullmatch(path.name) and path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@contextlib.contextmanager
def _publish_lock(out: Path):
    """An exclusive ``flock`` on the output folder for the whole build.

    Two publishes into one folder at once would each remove the other's temp file as stale,
    so the second waits for the first to end. The kernel drops the lock when its holder dies,
    however it dies, so a killed publish never blocks the next one; locking the folder (not a
    lock file) leaves nothing behind.
    """
    fd = os.open(out.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def inspect_path(database) -> Path:
    """Where the inspect file (table counts, hash) for a published database lives."""
    database = Path(database)
    return database.with_name(database.stem + ".inspect.json")


def inspect_data(built: Path, final: Path, counts: dict[str, int]) -> dict:
    """Datasette's inspect format, so ``serve -i --inspect-file`` skips hashing and counting.

    Keyed by the published file's name (Datasette's name for the database), so ``datasette
    --inspect-file`` uses it for ``other.db`` too. ``mtime_ns`` and ``size`` say which build the
    counts belong to: a running server (``db/plugins/reload.py``) trusts the file only for the
    build it describes (a rename keeps both).
    """
    digest = hashlib.sha256()
    with open(built, "rb") as fp:
        for block in iter(lambda: fp.read(1024 * 1024), b""):
            digest.update(block)
    stat = built.stat()
    return {
        Path(final).stem or DATABASE_NAME: {
            "hash": digest.hexdigest(),
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "file": str(final.resolve()),
            "tables": {name: {"count": count} for name, count in counts.items()},
        }
    }


def _connect(path: Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(str(path), isolation_level=None)
    return sqlite_utils.Database(conn)


def _build(work_db: Path, tmp: Path) -> dict:
    db = _connect(tmp)
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA temp_store=MEMORY")
    db.execute("PRAGMA cache_size=-200000")
    # Read-only attach: publishing never changes the working database.
    db.conn.execute("ATTACH DATABASE ? AS work", (f"file:{work_db.resolve()}?mode=ro",))
    work_tables = _work_tables(db)

    empty: list[str] = []
    missing: list[str] = []
    not_published: dict[str, int] = {}
    for name in published_order():
        columns, pk, _stage = TABLES[name]
        present = work_tables.get(name)
        table_columns = dict(columns)
        table_columns.update(derive.EXTRA_COLUMNS.get(name, {}))
        for c in present or []:
            table_columns.setdefault(c, str)
        db[name].create(
            table_columns,
            pk=pk,
            foreign_keys=foreign_keys(name),
            not_null=set(pk) if isinstance(pk, tuple) else {pk},
        )
        if present is None:
            missing.append(name)
            continue
        shared = [c for c in table_columns if c in present]
        cols = ", ".join(f"[{c}]" for c in shared)
        # OR IGNORE, then count: a row whose key is empty or repeated cannot be published,
        # and the summary says how many of those each table had instead of failing the build.
        inserted = db.execute(f"INSERT OR IGNORE INTO main.[{name}] ({cols}) SELECT {cols} FROM work.[{name}]").rowcount
        source_rows = db.execute(f"SELECT count(*) FROM work.[{name}]").fetchone()[0]
        if source_rows != inserted:
            not_published[name] = source_rows - inserted

    reference = _copy_reference_tables(db, work_tables)
    db.conn.execute("DETACH DATABASE work")

    load_zip_centroids(db)
    _create_indexes(db)  # the joins below need them
    derive.add_firm_columns(db)
    derive.build_opportunities(db)
    derive.build_county_score_distribution(db)
    derive.build_firm_certifications(db)
    _create_indexes(db)  # now the derived columns exist too
    for table, cols in FTS.items():
        db[table].enable_fts(cols, tokenize="porter", create_triggers=False, replace=True)
    views = derive.create_views(db)
    derive.build_facet_counts(db, derive.default_facets(yaml.safe_load(METADATA.read_text())))
    db.execute("ANALYZE")

    counts = {
        name: db[name].count
        for name in db.table_names()
        if not _is_fts_shadow(db, name) and not name.startswith("sqlite_")
    }
    for name in published_order():
        if counts.get(name, 0) == 0:
            empty.append(name)
    orphans: dict[str, int] = {}
    for row in db.execute("PRAGMA foreign_key_check").fetchall():
        key = f"{row[0]} -> {row[2]}"
        orphans[key] = orphans.get(key, 0) + 1
    db.execute("VACUUM")
    db.conn.close()
    return {
        "tables": counts,
        "empty": empty,
        "missing_in_work_db": missing,
        "reference_tables": reference,
        "orphan_rows": orphans,
        "rows_not_published": not_published,  # empty or repeated primary key in the working db
        "fts": sorted(f"{t}_fts" for t in FTS),
        "views": views,
    }


def _create_indexes(db: sqlite_utils.Database) -> None:
    """Create each declared index whose table and columns exist (idempotent)."""
    for table, indexes in INDEXES.items():
        if not db[table].exists():
            continue
        have = set(db[table].columns_dict)
        for cols in indexes:
            if set(cols) <= have:
                db[table].create_index(cols, if_not_exists=True)


def _work_tables(db: sqlite_utils.Database) -> dict[str, list[str]]:
    """Tables of the attached working database (name -> columns), FTS internals left out."""
    rows = db.execute(
        "SELECT name, sql FROM work.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    virtual = {name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL")}
    tables = {}
    for name, _sql in rows:
        if name in virtual or any(name.startswith(v + "_") for v in virtual):
            continue
        cols = [r[1] for r in db.execute(f"PRAGMA work.table_info([{name}])").fetchall()]
        tables[name] = cols
    return tables


def _copy_reference_tables(db: sqlite_utils.Database, work_tables: dict[str, list[str]]) -> dict[str, int]:
    """Copy every other working table (HS nomenclature, trade figures ...) with its own schema."""
    copied = {}
    for name in sorted(work_tables):
        if name in TABLES or name in ("zip_centroids", "opportunities", "firm_certifications",
                                      "county_score_distribution", "facet_counts"):
            continue
        (sql,) = db.execute(
            "SELECT sql FROM work.sqlite_master WHERE type = 'table' AND name = ?", [name]
        ).fetchone()
        db.execute(sql)  # unqualified CREATE TABLE: lands in main
        db.execute(f"INSERT INTO main.[{name}] SELECT * FROM work.[{name}]")
        for (index_sql,) in db.execute(
            "SELECT sql FROM work.sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            [name],
        ).fetchall():
            db.execute(index_sql)
        copied[name] = db.execute(f"SELECT count(*) FROM main.[{name}]").fetchone()[0]
    return copied


def _is_fts_shadow(db: sqlite_utils.Database, name: str) -> bool:
    return any(name.startswith(f"{t}_fts_") for t in FTS)


def _check(path: Path) -> None:
    conn = sqlite3.connect(str(path))
    try:
        result = conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()
    if result != [("ok",)]:
        raise PublishError(f"integrity check failed on the new database: {result[:5]}")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance; used for the distance of a firm to the port."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))
