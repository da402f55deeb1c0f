"""Benchmark: publish at N firms, then Datasette latency against a no-index, no-FTS baseline.

    python bench/bench_publish.py --firms 400000

Steps: a synthetic working database of N firms (``db.synthetic``: fictional rows shaped like
the contract, every table filled); ``publish`` into the project's database; a baseline copy of
it with the project's indexes, full-text tables and statistics dropped (primary keys kept).
Each is served by the real ``datasette serve`` command ``db.serve`` runs (same settings,
metadata, plugins), one client sends the same requests one after another, and p50/p95 are
reported for:

- "Find my firm": the canned query (FTS5) vs the same search as ``LIKE`` on every word;
- a facet page: opportunities filtered by county, sorted by score, facets county/band/chapter
  (HTML and JSON), and the directory filtered by county with its four facets;
- a firm profile page (HTML, with the profile plugin's queries).

Prints a markdown section on stdout (bench/run_all.py stitches it into docs/benchmarks.md).

``--published FILE`` measures an already published file instead (no build, no baseline), and
``--case WORDS`` keeps only the requests whose label contains WORDS: a before/after on one page
of one large file without rebuilding 400,000 firms (docs/publish.md, "Facets counted at publish").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db.publish import inspect_data, inspect_path, publish  # noqa: E402
from db.serve import BackgroundServer  # noqa: E402
from db.synthetic import populate  # noqa: E402

TARGET_P95_MS = 100.0


def make_baseline(published: Path, baseline: Path) -> None:
    """The same data with the project's indexes, FTS tables, facet counts and statistics removed."""
    shutil.copyfile(published, baseline)
    conn = sqlite3.connect(baseline)
    indexes = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL")]
    for name in indexes:
        conn.execute(f"DROP INDEX [{name}]")
    # facet_counts too: without it the unfiltered pages count their facets live, as Datasette does.
    for name in ("firms_fts", "products_fts", "facet_counts"):
        conn.execute(f"DROP TABLE IF EXISTS [{name}]")
    conn.execute("DROP TABLE IF EXISTS sqlite_stat1")
    conn.commit()
    conn.execute("VACUUM")
    counts = {
        name: conn.execute(f"SELECT count(*) FROM [{name}]").fetchone()[0]
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
    }
    conn.close()
    inspect_path(baseline).write_text(json.dumps(inspect_data(baseline, baseline, counts)))


def fetch(server: BackgroundServer, path: str) -> tuple[float, int, bytes]:
    """One request, timed from send to the last byte."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(server.base + path, timeout=60) as r:
            body, status = r.read(), r.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    except TimeoutError:
        body, status = b"", "client timeout (60 s)"
    return (time.perf_counter() - started) * 1000, status, body


def measure(server: BackgroundServer, paths: list[str], warmup: int = 3) -> dict:
    for path in paths[:warmup]:
        fetch(server, path)
    times, statuses, timeouts = [], {}, 0
    for path in paths:
        ms, status, body = fetch(server, path)
        times.append(ms)
        statuses[status] = statuses.get(status, 0) + 1
        if b"These facets timed out" in body or (
            b'"facets_timed_out": [' in body and b'"facets_timed_out": []' not in body
        ):
            timeouts += 1
    times.sort()
    return {
        "n": len(times),
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)],
        "statuses": statuses,
        "timeouts": timeouts,
    }


def like_sql(words: list[str]) -> str:
    clauses = " and ".join(f"name like '%{w.replace(chr(39), '')}%'" for w in words)
    return (
        "select firm_id, name, city, county, top_products, website from firms "
        f"where {clauses} order by name limit 50"
    )


def request_cases(published: Path, args) -> dict:
    """Label -> (project paths, baseline paths or None), from the published file's own rows."""
    rng = random.Random(1)
    conn = sqlite3.connect(f"file:{published}?mode=ro", uri=True)
    firms = conn.execute("SELECT firm_id, name FROM firms ORDER BY random() LIMIT ?", [args.requests]).fetchall()
    counties = [r[0] for r in conn.execute("SELECT DISTINCT county FROM firms WHERE county IS NOT NULL")]
    conn.close()
    q = urllib.parse.quote
    names = [name.split() for _fid, name in firms]
    cases = {
        "Find my firm (name words)": (
            [f"/export_finder/find_my_firm.json?name={q(' '.join(w))}" for w in names],
            [f"/export_finder.json?sql={q(like_sql(w))}" for w in names],
        ),
        "Facet page: opportunities by county, sorted by score, 3 facets (HTML)": (
            [f"/export_finder/opportunities?county={q(rng.choice(counties))}" for _ in firms],
            None,
        ),
        "Facet page: same, JSON": (
            [f"/export_finder/opportunities.json?county={q(rng.choice(counties))}" for _ in firms],
            None,
        ),
        "Directory by county, 3 facets (HTML)": (
            [f"/export_finder/firms?county={q(rng.choice(counties))}" for _ in firms],
            None,
        ),
        "Directory, no filter, 3 facets over all firms (HTML)": (["/export_finder/firms"] * len(firms), None),
        "Opportunities, no filter, 3 facets over all scored firms (HTML)": (
            ["/export_finder/opportunities"] * len(firms),
            None,
        ),
        "Directory by county with the certification array facet (HTML; not a default)": (
            [f"/export_finder/firms?county={q(rng.choice(counties))}&_facet_array=certification_list" for _ in firms],
            None,
        ),
        "Firm profile page (HTML)": ([f"/export_finder/firms/{fid}" for fid, _ in firms], None),
    }
    return {k: v for k, v in cases.items() if not args.case or any(c in k for c in args.case)}


def measure_published(args) -> int:
    """p50/p95 of the chosen requests against one already published file (its own inspect file)."""
    published = args.published.resolve()
    cases = request_cases(published, args)
    load_before = os.getloadavg()[0]
    server = BackgroundServer(published, public=True, timeout=300)
    try:
        rows = []
        for case, (paths, _baseline) in cases.items():
            r = measure(server, paths)
            print(f"project  {case}: p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms {r['statuses']}", file=sys.stderr)
            rows.append(f"| {case} | {r['p50']:.1f} ms | {r['p95']:.1f} ms | {r['n']} | {r['statuses']} |")
    finally:
        server.close()
    print(f"{published} ({published.stat().st_size / 1e6:.0f} MB); one client, {args.requests} requests per line "
          f"after 3 warm-up requests; 1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after.")
    print("")
    print("| request | p50 | p95 | requests | statuses |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=400000)
    parser.add_argument("--requests", type=int, default=60, help="requests per measured query")
    parser.add_argument("--keep", type=Path, help="folder to keep the databases in")
    parser.add_argument("--published", type=Path, help="measure this published file only (no build, no baseline)")
    parser.add_argument("--case", action="append", default=[], help="only requests whose label contains this")
    args = parser.parse_args()
    if args.published:
        return measure_published(args)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-publish-"))
    folder.mkdir(parents=True, exist_ok=True)
    # Same file name for both (Datasette names a database by its file; the request paths say
    # "export_finder"), in two folders.
    work, published = folder / "work.db", folder / "export_finder.db"
    (folder / "baseline").mkdir(exist_ok=True)
    baseline = folder / "baseline" / "export_finder.db"
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731

    if not work.exists():
        started = time.perf_counter()
        populate(work, firms=args.firms, seed=2024)
        log(f"synthetic working db: {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    summary = publish(work, published)
    publish_s = time.perf_counter() - started
    log(f"publish: {publish_s:.0f} s")
    make_baseline(published, baseline)

    cases = request_cases(published, args)
    results = {}
    load_before = os.getloadavg()[0]
    for label, server_db in (("project", published), ("baseline", baseline)):
        server = BackgroundServer(server_db, public=True, timeout=180)
        try:
            for case, (project_paths, baseline_paths) in cases.items():
                paths = project_paths if label == "project" or baseline_paths is None else baseline_paths
                results[(case, label)] = measure(server, paths)
                r = results[(case, label)]
                log(f"{label:8} {case}: p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms {r['statuses']}")
        finally:
            server.close()

    load_after = os.getloadavg()[0]
    lines = [
        "## Publish and Datasette (`bench/bench_publish.py`)",
        "",
        f"Synthetic working database of **{args.firms:,} firms** (fictional rows from `db/synthetic.py`, every "
        f"table filled: {summary['tables']['products']:,} products, {summary['tables']['hs_hints']:,} HS hints, "
        f"{summary['tables']['signals']:,} signals, {summary['tables']['score_reasons']:,} reasons). "
        f"`publish` built it in **{publish_s:.0f} s** ({summary['bytes'] / 1e6:.0f} MB). Baseline: the same "
        "file with the project's indexes, FTS tables, facet counts and statistics dropped (primary keys kept); "
        "Find my firm then runs as `LIKE` on each word. Both served by the same `datasette serve` "
        f"command (immutable, inspect file, same settings and plugins), one client, {args.requests} "
        "requests per line after 3 warm-up requests; the client shares the machine's cores with the server "
        f"(1-minute load average {load_before:.1f} before the measurements, {load_after:.1f} after: above 2 "
        "means other work competed for the 2 cores).",
        "",
        "| request | project p50 | project p95 | baseline p50 | baseline p95 | p95 target 100 ms |",
        "|---|---|---|---|---|---|",
    ]
    for case in cases:
        p, b = results[(case, "project")], results[(case, "baseline")]
        note = "met" if p["p95"] < TARGET_P95_MS else "**missed**"
        extra = []
        for label, r in (("project", p), ("baseline", b)):
            bad = {k: v for k, v in r["statuses"].items() if k != 200}
            if bad:
                extra.append(f"{label} statuses {bad}")
            if r["timeouts"]:
                extra.append(f"{label}: {r['timeouts']} pages with a timed-out facet or query")
        lines.append(
            f"| {case} | {p['p50']:.1f} ms | {p['p95']:.1f} ms | {b['p50']:.1f} ms | {b['p95']:.1f} ms | "
            f"{note}{'; ' + '; '.join(extra) if extra else ''} |"
        )
    print("\n".join(lines))
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
