"""The published side under fault and attack: the real ``datasette serve`` process as ``serve`` runs it.

- A pathological query (recursive CTE without end, 4-way cross join) is stopped by
  ``sql_time_limit_ms`` while the server keeps answering other requests.
- Canned queries bind their parameters: SQL injection in any parameter returns exactly the rows
  the same SQL gives with that text bound as a value, and a tautology never widens the result.
- ``publish`` killed (SIGKILL) mid-build leaves the published file byte-identical, still served,
  and the next publish succeeds.

Already covered by the publish helper's tests (not repeated): a failed build keeps the old file
(``tests/test_db_publish.py::test_failed_build_leaves_the_old_database_and_no_temp_file``), an
integrity failure is refused (``::test_integrity_failure_is_refused``), a reader holding the old
file while a new one is renamed in (``::test_new_build_replaces_old_while_a_reader_holds_it``),
restricted-mode routes (``tests/test_db_access.py::test_every_score_route_is_refused``).
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from datasette.utils import escape_fts

from db.publish import inspect_path, publish
from db.serve import METADATA, BackgroundServer
from db.synthetic import populate

FIRMS = 3000
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    populate(folder / "work.db", firms=FIRMS, seed=11)
    out = folder / "export_finder.db"
    publish(folder / "work.db", out)
    return out


@pytest.fixture(scope="module")
def server(published):
    with BackgroundServer(published) as srv:
        yield srv


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


PATHOLOGICAL = {
    "recursive CTE": "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c",
    "cross join": "select count(*) from firms a, firms b, firms c, firms d",
}


def test_pathological_queries_are_stopped_while_others_are_answered(server, published):
    firm_id = sqlite3.connect(published).execute("select firm_id from firms limit 1").fetchone()[0]
    results: dict[str, httpx.Response] = {}

    took: dict[str, float] = {}

    def run(name, sql):
        started = time.perf_counter()
        results[name] = httpx.get(f"{server.base}/export_finder.json", params={"sql": sql}, timeout=60)
        took[name] = time.perf_counter() - started

    threads = [threading.Thread(target=run, args=item) for item in PATHOLOGICAL.items()]
    for t in threads:
        t.start()
    time.sleep(0.3)  # both are running inside the server now
    answered, slowest = [], 0.0
    with httpx.Client(base_url=server.base, timeout=60) as client:
        while any(t.is_alive() for t in threads):
            for path in (f"/export_finder/firms/{firm_id}.json", "/export_finder/score_distribution_by_county.json"):
                started = time.perf_counter()
                answered.append(client.get(path).status_code)
                slowest = max(slowest, time.perf_counter() - started)
    for t in threads:
        t.join()
    for name, response in results.items():
        assert response.status_code == 400, (name, response.status_code)
        assert "took too long" in response.text, name
    assert answered and set(answered) == {200}, "others are answered while two runaway queries run"
    print(f"\nrunaway queries stopped after {', '.join(f'{k} {v:.1f} s' for k, v in took.items())}; "
          f"meanwhile {len(answered)} other requests answered, slowest {slowest * 1000:.0f} ms")


INJECTIONS = [
    "' OR '1'='1", "' OR 1=1 --", "x') OR 1=1 --", "\" OR \"\"=\"", "1; DROP TABLE firms; --",
    "' UNION SELECT firm_id, name, city, county, top_products, website FROM firms --",
    "*", "NEAR(a b)", "name : *", "a OR b OR c", ") OR (", "\x00", "%", "_", "'; ATTACH DATABASE '/tmp/x' AS x; --",
]


def canned_queries() -> dict[str, dict]:
    return yaml.safe_load(METADATA.read_text())["databases"]["export_finder"]["queries"]


def params_of(sql: str) -> list[str]:
    import re

    return sorted(set(re.findall(r":(\w+)", sql)))


def bound_rows(db: Path, sql: str, params: dict) -> list[tuple]:
    """The query run directly with its parameters bound by sqlite3 (the reference)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.create_function("escape_fts", 1, escape_fts)
    try:
        return [tuple(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


@pytest.mark.parametrize("query", sorted(n for n, q in canned_queries().items() if params_of(q["sql"])))
def test_injection_in_canned_query_parameters_adds_no_rows(server, published, query):
    sql = canned_queries()[query]["sql"]
    names = params_of(sql)
    benign = {"name": "Harbor", "hs": "39", "product": "gloves", "max_km": "80", "country": "JPN"}
    with httpx.Client(base_url=server.base, timeout=60) as client:
        for payload in INJECTIONS:
            for target in names:
                params = {n: benign.get(n, "x") for n in names}
                params[target] = payload
                response = client.get(f"/export_finder/{query}.json", params={**params, "_shape": "arrays"})
                assert response.status_code in (200, 400), (query, target, payload, response.status_code)
                if response.status_code == 400:  # e.g. a NUL byte: refused, not run
                    continue
                got = [tuple(r) for r in response.json()["rows"]]
                # Exactly what the SQL gives with the payload bound as a value: it was never SQL.
                assert got == bound_rows(published, sql, params), (query, target, payload)
    # The injections changed nothing on disk either (the file is immutable, and served so).
    conn = sqlite3.connect(published)
    assert conn.execute("select count(*) from firms").fetchone()[0] == FIRMS
    conn.close()


def test_non_numeric_distance_does_not_return_far_firms(server, published):
    """Found here first: text compared above every number, so '80 or 1=1' returned firms at any
    distance; db/metadata.yml now casts max_km (commit 4c14b00)."""
    conn = sqlite3.connect(published)
    product = conn.execute(
        "select p.surface from products p join firms f on f.firm_id = p.firm_id "
        "where f.km_to_port_la > 80 and p.surface is not null limit 1").fetchone()[0]
    conn.close()
    word = product.split()[0]
    rows = httpx.get(f"{server.base}/export_finder/firms_near_port.json",
                     params={"product": word, "max_km": "80 or 1=1", "_shape": "objects"}, timeout=60).json()["rows"]
    assert all(r["km_to_port_la"] is not None and r["km_to_port_la"] <= 80 for r in rows)


def test_publish_killed_mid_build_leaves_the_served_database_untouched(published, server):
    before, inspect_before = sha256(published), inspect_path(published).read_bytes()
    count = httpx.get(f"{server.base}/export_finder/firms.json", params={"_size": 1}, timeout=30).json()["filtered_table_rows_count"]
    work = published.parent / "work.db"
    code = "import sys; from db.publish import publish; publish(sys.argv[1], sys.argv[2])"
    proc = subprocess.Popen([sys.executable, "-c", code, str(work), str(published)], cwd=ROOT)
    building = []
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        building = [p for p in published.parent.glob(f".{published.name}.*.building") if p.stat().st_size > 1_000_000]
        if building:
            break
        time.sleep(0.02)
    assert proc.poll() is None and building, "publish was killed while it was writing the new file"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert sha256(published) == before and inspect_path(published).read_bytes() == inspect_before
    conn = sqlite3.connect(f"file:{published}?mode=ro", uri=True)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    conn.close()
    again = httpx.get(f"{server.base}/export_finder/firms.json", params={"_size": 1}, timeout=30)
    assert again.status_code == 200 and again.json()["filtered_table_rows_count"] == count
    # The next publish finishes (the killed build's temp file: see the next test).
    summary = publish(work, published)
    assert summary["tables"]["firms"] == FIRMS
    for p in published.parent.glob(f".{published.name}.*.building*"):
        p.unlink()


def test_next_publish_removes_a_killed_builds_temp_file(tmp_path):
    populate(tmp_path / "work.db", firms=60, seed=3)
    out = tmp_path / "export_finder.db"
    stale = tmp_path / f".{out.name}.k1ll3d.building"  # the name mkstemp gave the killed build
    stale.write_bytes(b"SQLite format 3\x00" + b"\x00" * 4096)
    publish(tmp_path / "work.db", out)
    assert not stale.exists()
