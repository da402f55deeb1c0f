"""Load: 50 concurrent clients against `export-finder serve` on a published database of N firms.

    python bench/bench_load.py --firms 400000 --requests 5000

Steps: a synthetic working database of N firms and its published database (``db.synthetic`` and
``db.publish``, the builder ``bench/bench_publish.py`` uses; kept under ``var/bench-load/<N>/``
and reused when present); the real ``datasette serve`` command ``db.serve`` runs (same
settings, metadata, plugins, immutable with its inspect file) on a free 127.0.0.1 port; then a
fixed number of requests (``--requests``), drawn once with a fixed seed from the mix below, sent
by ``--clients`` concurrent httpx clients (asyncio, one process). Loopback only; the request
count bounds the run.

Mix: every canned query with parameters taken from the data ("Find my firm", "Top
opportunities", "Firms near the port", "Firms ready for a market", "Score distribution by
county"), a firm profile page (HTML), a faceted table page (opportunities by county, HTML),
a table full-text search (``_search``), and a runaway query the time limit must stop.

Then the restart window: while clients keep sending, the server is stopped and a new one
started on the same port on a freshly published file (what a scheduled re-publish does, since
an immutable database is not reloaded); the seconds without answers and the failed requests are
counted.

Prints a markdown section on stdout (bench/run_all.py stitches it into docs/benchmarks.md):
requests/s, p50/p99 latency per kind and overall, error count. The client shares the machine's
cores with the server, so the rate measures both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db.publish import inspect_path, publish  # noqa: E402
from db.serve import BackgroundServer, datasette_command, load_metadata  # noqa: E402
from db.synthetic import populate  # noqa: E402

RUNAWAY = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def published_db(firms: int, folder: Path) -> tuple[Path, dict]:
    """The published database of ``firms`` synthetic firms, built once and reused."""
    folder.mkdir(parents=True, exist_ok=True)
    work, out = folder / "work.db", folder / "export_finder.db"
    timings = {}
    if not work.exists():
        started = time.perf_counter()
        populate(work, firms=firms, seed=2024)
        timings["populate_s"] = time.perf_counter() - started
        log(f"synthetic working db: {timings['populate_s']:.0f} s")
    if not out.exists() or not inspect_path(out).exists():
        started = time.perf_counter()
        publish(work, out)
        timings["publish_s"] = time.perf_counter() - started
        log(f"publish: {timings['publish_s']:.0f} s")
    return out, timings


def request_mix(db: Path, n: int, seed: int = 7) -> list[tuple[str, str]]:
    """``n`` (kind, path) pairs drawn with a fixed seed; parameters come from the data itself."""
    from urllib.parse import quote

    rng = random.Random(seed)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    firms = conn.execute("select firm_id, name from firms order by random() limit 500").fetchall()
    counties = [r[0] for r in conn.execute("select distinct county from firms where county is not null")]
    chapters = [r[0] for r in conn.execute("select hs2 from hs_hints group by hs2 order by count(*) desc limit 40")]
    products = [r[0] for r in conn.execute("select product from products order by random() limit 200")]
    countries = [r[0] for r in conn.execute("select partner_iso3 from market_suggestions group by partner_iso3 limit 30")]
    conn.close()
    makers = {
        "find my firm (canned, FTS)": lambda: f"/export_finder/find_my_firm.json?name={quote(' '.join(rng.choice(firms)[1].split()[:2]))}",
        "top opportunities (canned)": lambda: f"/export_finder/top_opportunities.json?hs={rng.choice(chapters)}",
        "firms near the port (canned, FTS)": lambda: f"/export_finder/firms_near_port.json?product={quote(rng.choice(products).split()[-1])}&max_km=80",
        "firms ready for a market (canned)": lambda: f"/export_finder/firms_ready_for_market.json?country={rng.choice(countries)}",
        "score distribution by county (canned)": lambda: "/export_finder/score_distribution_by_county.json",
        "firm profile page (HTML)": lambda: f"/export_finder/firms/{quote(rng.choice(firms)[0])}",
        "facet page: opportunities by county (HTML)": lambda: f"/export_finder/opportunities?county={quote(rng.choice(counties))}",
        "table full-text search (_search)": lambda: f"/export_finder/firms.json?_search={quote(rng.choice(firms)[1].split()[0])}",
    }
    kinds = list(makers)
    mix = [(kind, makers[kind]()) for kind in (kinds[i % len(kinds)] for i in range(n))]
    rng.shuffle(mix)
    # A few runaway queries among them: the time limit must stop each, others keep being answered.
    for i in range(0, n, max(n // 5, 1)):
        mix[i] = ("runaway recursive CTE (must be stopped: 400)", f"/export_finder.json?sql={quote(RUNAWAY)}")
    return mix


async def run_load(base: str, mix: list[tuple[str, str]], clients: int) -> dict:
    queue: asyncio.Queue = asyncio.Queue()
    for item in mix:
        queue.put_nowait(item)
    times: dict[str, list[float]] = defaultdict(list)
    errors: Counter = Counter()
    statuses: dict[str, Counter] = defaultdict(Counter)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(client: httpx.AsyncClient):
        while True:
            try:
                kind, path = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            started = time.perf_counter()
            try:
                response = await client.get(path)
                await response.aread()
                status = response.status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            times[kind].append((time.perf_counter() - started) * 1000)
            statuses[kind][status] += 1
            expected = 400 if kind.startswith("runaway") else 200
            if status != expected:
                errors[kind] += 1

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    return {"wall_s": time.perf_counter() - started, "times": times, "errors": errors, "statuses": statuses}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(q * len(values))) - 1))]


def restart_window(db: Path, base_port: int, old: BackgroundServer, clients: int, path: str, seconds: float = 4.0) -> dict:
    """Stop the serving Datasette and start a new one on the same port and file, under load.

    ``publish`` renames the new file over the served one while the old server keeps answering
    from the file it opened (tests/test_reliability_republish.py); the new data is served only
    once Datasette restarts. This measures that restart at full size: how long the port answered
    nothing, and how many requests failed meanwhile.
    """
    stop = {"flag": False}
    outcomes: list[tuple[float, bool]] = []

    async def hammer():
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{base_port}", timeout=30) as client:
            async def one():
                while not stop["flag"]:
                    t = time.perf_counter()
                    try:
                        ok = (await client.get(path)).status_code == 200
                    except httpx.HTTPError:
                        ok = False
                        await asyncio.sleep(0.05)  # a client retrying a refused connection
                    outcomes.append((t, ok))
            await asyncio.gather(*(one() for _ in range(clients)))

    import threading

    loop_thread = threading.Thread(target=lambda: asyncio.run(hammer()))
    loop_thread.start()
    time.sleep(1.0)
    with tempfile.TemporaryDirectory(prefix="ef-restart-") as tmp:
        metadata_file = Path(tmp) / "metadata.json"
        metadata_file.write_text(json.dumps(load_metadata(db)))
        down_at = time.perf_counter()
        old.proc.terminate()  # graceful: in-flight requests are answered first
        old.proc.wait(timeout=300)
        drained_at = time.perf_counter()
        proc = subprocess.Popen(datasette_command(db, metadata_file, port=base_port), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{base_port}/-/versions.json", timeout=2).read()
                break
            except OSError:
                time.sleep(0.02)
        up_at = time.perf_counter()
        time.sleep(seconds)
        stop["flag"] = True
        loop_thread.join()
        proc.terminate()
        proc.wait(timeout=30)
    failed = [t for t, ok in outcomes if not ok]
    return {"window_s": up_at - down_at, "drain_s": drained_at - down_at, "start_s": up_at - drained_at, "requests": len(outcomes), "failed": len(failed),
            "failed_span_s": (max(failed) - min(failed)) if failed else 0.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=400000)
    parser.add_argument("--requests", type=int, default=5000, help="total requests sent (bounds the run)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--folder", type=Path, help="where the databases are built and reused (default var/bench-load/<firms>)")
    parser.add_argument("--no-restart", action="store_true", help="skip the re-publish restart window")
    args = parser.parse_args()
    folder = args.folder or ROOT / "var" / "bench-load" / str(args.firms)
    db, timings = published_db(args.firms, folder)
    mix = request_mix(db, args.requests)
    server = BackgroundServer(db, public=True, timeout=300)
    try:
        asyncio.run(run_load(server.base, mix[: min(100, len(mix))], min(args.clients, 10)))  # warm-up
        log(f"load: {len(mix)} requests, {args.clients} clients")
        result = asyncio.run(run_load(server.base, mix, args.clients))
        firm_row = next(p for k, p in mix if k.startswith("firm profile")) + ".json"
        restart = None if args.no_restart else restart_window(db, server.port, server, args.clients, firm_row)
    finally:
        server.close()

    everything = [t for kind, ts in result["times"].items() if not kind.startswith("runaway") for t in ts]
    errors = sum(result["errors"].values())
    lines = [
        "## Load: 50 clients against `export-finder serve` (`bench/bench_load.py`)",
        "",
        f"Published synthetic database of **{args.firms:,} firms** served by the `datasette serve` command "
        f"`db.serve` runs (immutable, inspect file, `num_sql_threads` 3, `sql_time_limit_ms` 3000). "
        f"**{len(mix):,} requests** from **{args.clients} concurrent clients** (httpx, asyncio, one process on the "
        f"same 2 cores as the server), a fixed mix drawn with a fixed seed.",
        "",
        f"- Throughput: **{len(mix) / result['wall_s']:.0f} requests/s** ({result['wall_s']:.1f} s wall)",
        f"- Latency, all answered requests except the runaway ones: p50 **{statistics.median(everything):.0f} ms**, "
        f"p99 **{pct(everything, 0.99):.0f} ms**",
        f"- Errors (a status other than 200, or 400 for a runaway query; or no answer): **{errors}**",
        "",
        "| request | n | p50 ms | p99 ms | statuses | errors |",
        "|---|---|---|---|---|---|",
    ]
    for kind in sorted(result["times"]):
        ts = result["times"][kind]
        st = ", ".join(f"{k}: {v}" for k, v in sorted(result["statuses"][kind].items(), key=str))
        lines.append(f"| {kind} | {len(ts)} | {statistics.median(ts):.0f} | {pct(ts, 0.99):.0f} | {st} | {result['errors'][kind]} |")
    if restart:
        lines += [
            "",
            "Restart to serve a re-published file: the server stopped and a new one started on the same port "
            f"(same command, same file), {args.clients} clients asking for a firm row (JSON) all along, retrying a "
            f"refused connection after 50 ms. From the stop to the first answer of the new server: "
            f"**{restart['window_s']:.1f} s** (old server draining its in-flight requests {restart['drain_s']:.1f} s, "
            f"new one starting {restart['start_s']:.1f} s); **{restart['failed']:,}** of {restart['requests']:,} "
            f"requests failed, within {restart['failed_span_s']:.1f} s.",
        ]
    if timings:
        lines += ["", "Built for this run: " + ", ".join(f"{k.removesuffix('_s')} {v:.0f} s" for k, v in timings.items()) + "."]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
