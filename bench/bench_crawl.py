"""Crawl benchmark: full extraction against a do-nothing spider on the same pages, same run.

    .venv/bin/python bench/bench_crawl.py                 # 44,000 firms -> 40,000 pages
    .venv/bin/python bench/bench_crawl.py --firms 12000 --pages 10000
    .venv/bin/python bench/bench_crawl.py --profile 5000  # where the time goes (cProfile)

Generates the sample member directory, serves it with nginx when installed (a threaded
Python server otherwise, which is then the bottleneck: it is measured and said), and crawls it
with politeness lifted (``fast=True``) twice, each in its own process:
- **null**: the same spider walking the same index and detail pages, doing nothing with a detail
  page (no extraction, no pipelines): the ``scrapy bench``-style ceiling;
- **full**: the real ``member_directory`` spider: structured data, selectors, clean, validate,
  store into ``listings``; by default in a page worker process (``PAGE_WORKERS=1``), whose CPU
  and memory are reported beside the crawl process's (``--page-workers 0,1`` runs both paths).
Both report pages/s and peak RSS at 10,000 pages and at the end (``--pages``, 40,000 by default).
The two are interleaved (null, full, null, full with ``--repeat 2``) because the machine's 2 cores
are shared and their speed drifts. Figures print as a markdown table and go to
``bench/results/crawl.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CHECKPOINT = 10_000


# --- serving --------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def nginx(root: Path):
    """nginx on a free loopback port serving ``root``; None when nginx is not installed."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not binary:
        yield None
        return
    port = _free_port()
    prefix = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    (prefix / "logs").mkdir()
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
user root;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  default_type text/html;
  types {{ text/html html; application/xml xml; text/plain txt; text/css css; }}
  keepalive_requests 100000;
  server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
""")
    proc = subprocess.Popen([binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"])
    try:
        for _ in range(50):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(prefix, ignore_errors=True)


@contextlib.contextmanager
def python_server(site: Path):
    from export_finder.sample_site.server import serving

    with serving(site) as bases:
        yield bases["member_directory"]


# --- the child process: one crawl, measured from inside -------------------------------------

def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _children_memory_mb() -> dict:
    """RSS and PSS (shared pages split between sharers) of this process's children: the page
    worker, forked from the crawl process, shares most of its pages with it."""
    out = {"rss_mb": 0.0, "pss_mb": 0.0, "self_pss_mb": 0.0}
    pids = []
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            pids += (task / "children").read_text().split()
    for key, path in [("", f"/proc/{pid}/smaps_rollup") for pid in pids] + [("self_", "/proc/self/smaps_rollup")]:
        with contextlib.suppress(OSError):
            for line in Path(path).read_text().splitlines():
                name, _, value = line.partition(":")
                if name in ("Rss", "Pss") and (not key or name == "Pss"):
                    out[f"{key}{name.lower()}_mb"] += int(value.split()[0]) / 1024
    return out


def child(spec: dict) -> None:
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from crawler.run import _settings
    from crawler.spiders.member_directory import MemberDirectorySpider

    class NullSpider(MemberDirectorySpider):
        """Walks the same pages, reads nothing from a detail page."""

        name = "member_directory"

        def parse_listing(self, response):
            return ()

    settings = _settings(spec["job"])
    if spec["mode"] == "null":
        settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    settings.set("LOG_LEVEL", "ERROR", priority="cmdline")
    if spec.get("workers") is not None:
        settings.set("EXTRACT_WORKERS", spec["workers"], priority="cmdline")
    if spec.get("page_workers") is not None:
        settings.set("PAGE_WORKERS", spec["page_workers"], priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(NullSpider if spec["mode"] == "null" else MemberDirectorySpider)
    state = {"pages": 0, "t0": None, "checkpoints": {}}

    def cpu(who=resource.RUSAGE_SELF) -> float:
        usage = resource.getrusage(who)
        return usage.ru_utime + usage.ru_stime

    def opened(spider):
        state["t0"] = time.perf_counter()
        state["cpu0"] = cpu()
        state["child_cpu0"] = cpu(resource.RUSAGE_CHILDREN)

    def received(response, request, spider):
        state["pages"] += 1
        if state["pages"] in spec["checkpoints"]:
            state["checkpoints"][state["pages"]] = {
                "seconds": time.perf_counter() - state["t0"],
                "rss_mb": _rss_mb(),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "workers": _children_memory_mb(),
            }

    def closed(spider, reason):
        state["seconds"] = time.perf_counter() - state["t0"]
        state["cpu_seconds"] = cpu() - state["cpu0"]
        # Page workers (PAGE_WORKERS) have exited and been waited for by now: their CPU is here.
        state["worker_cpu_seconds"] = cpu(resource.RUSAGE_CHILDREN) - state["child_cpu0"]
        state["reason"] = reason
        state["items"] = crawler.stats.get_value("listing/stored", 0)

    crawler.signals.connect(opened, signal=signals.spider_opened)
    crawler.signals.connect(received, signal=signals.response_received)
    crawler.signals.connect(closed, signal=signals.spider_closed)
    process.crawl(crawler, base_url=spec["base_url"])
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.runcall(process.start)
        profiler.dump_stats(spec["profile"])
    else:
        process.start()
    state["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # An upper bound for the page worker's peak (Linux keeps the largest waited-for descendant's).
    state["largest_child_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    state["rss_mb"] = _rss_mb()
    Path(spec["out"]).write_text(json.dumps(state))


def run_child(mode: str, base_url: str, work: Path, pages: int, profile: str | None = None, workers: int | None = None,
              page_workers: int | None = None) -> dict:
    from crawler.run import build_job

    db = work / f"{mode}.db"
    for path in work.glob(f"{mode}.db*"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    job = build_job(db, source="member_directory", base_urls={"member_directory": base_url}, fast=True, max_pages=pages)
    out = work / f"{mode}.json"
    spec = {"job": job, "mode": mode, "base_url": base_url, "checkpoints": [CHECKPOINT, pages], "out": str(out), "profile": profile, "workers": workers,
            "page_workers": page_workers}
    subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], check=True, cwd=REPO)
    result = json.loads(out.read_text())
    result["rate"] = result["pages"] / result["seconds"]
    result["cpu_ms_per_page"] = 1000 * result["cpu_seconds"] / result["pages"]
    result["worker_cpu_ms_per_page"] = 1000 * result.get("worker_cpu_seconds", 0.0) / result["pages"]
    return result


def summarise_profile(path: str, top: int = 25) -> list[tuple[str, float]]:
    """Share of total time per area (own time of each function, grouped by where it lives)."""
    import pstats

    stats = pstats.Stats(path)
    total = sum(v[2] for v in stats.stats.values())
    areas: dict[str, float] = {}
    rows = []
    for (filename, line, func), (cc, nc, tt, ct, callers) in stats.stats.items():
        f = filename.replace(str(REPO) + "/", "")
        if "site-packages/" in f:
            package = f.split("site-packages/")[1].split("/")[0]
        elif f.startswith("crawler/"):
            package = f
        elif f.startswith("~") or f.startswith("<"):
            package = "builtins (" + func.split(" ")[-1].strip("<>'") + ")" if "method" in func else "builtins"
        else:
            package = "python stdlib"
        areas[package] = areas.get(package, 0.0) + tt
        rows.append((tt, f"{f}:{line}({func})"))
    rows.sort(reverse=True)
    print("\nTop functions by own time:")
    for tt, name in rows[:top]:
        print(f"  {100 * tt / total:5.1f}%  {name}")
    return sorted(((k, 100 * v / total) for k, v in areas.items()), key=lambda kv: -kv[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--firms", type=int, default=44_000, help="firms in the generated site (44k gives > 40k member pages)")
    parser.add_argument("--pages", type=int, default=40_000, help="stop each crawl after this many pages")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved null/full pairs")
    parser.add_argument("--server", choices=["auto", "nginx", "python"], default="auto")
    parser.add_argument("--profile", type=int, default=0, help="profile a full crawl of this many pages instead")
    parser.add_argument("--workers", type=int, default=None, help="EXTRACT_WORKERS for the full spider (default: settings)")
    parser.add_argument("--page-workers", default=None,
                        help="PAGE_WORKERS for the full spider, or a comma list to compare (e.g. 0,1); default: settings")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-crawl")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return

    from export_finder.sample_site import generate

    args.work.mkdir(parents=True, exist_ok=True)
    site = args.work / f"site-{args.firms}"
    if not (site / "truth.jsonl").exists():
        t = time.perf_counter()
        generate(site, firms=args.firms, seed=2020)
        print(f"generated {args.firms} firms in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    serve = nginx(site / "member_directory") if args.server in ("auto", "nginx") else contextlib.nullcontext(None)
    with serve as base_url:
        server = "nginx" if base_url else "python ThreadingHTTPServer"
        if base_url is None and args.server == "nginx":
            sys.exit("nginx is not installed")
        with (contextlib.nullcontext(base_url) if base_url else python_server(site)) as url:
            if args.profile:
                prof = str(args.work / "full.prof")
                pw = int(args.page_workers.split(",")[0]) if args.page_workers else None
                result = run_child("full", url, args.work, args.profile, profile=prof, workers=0, page_workers=pw)
                print(f"profiled full crawl: {result['pages']} pages at {result['rate']:.0f} pages/s (under cProfile)")
                print("\nOwn time by area:")
                for area, share in summarise_profile(prof)[:15]:
                    print(f"  {share:5.1f}%  {area}")
                return
            variants = [None] if args.page_workers is None else [int(v) for v in args.page_workers.split(",")]
            fulls = {("full" if v is None else f"full pw={v}"): v for v in variants}
            results = {"null": [], **{m: [] for m in fulls}}
            for _ in range(args.repeat):
                for mode in results:
                    r = run_child("null" if mode == "null" else "full", url, args.work, args.pages,
                                  workers=args.workers if mode != "null" else 0, page_workers=fulls.get(mode, 0))
                    results[mode].append(r)
                    print(f"{mode}: {r['pages']} pages in {r['seconds']:.1f}s = {r['rate']:.0f} pages/s, "
                          f"{r['cpu_ms_per_page']:.2f} CPU ms/page (+{r['worker_cpu_ms_per_page']:.2f} in workers), "
                          f"peak RSS {r['peak_rss_mb']:.0f} MB, items {r['items']}, load {os.getloadavg()[0]:.1f}",
                          file=sys.stderr, flush=True)
    best = {m: max(rs, key=lambda r: r["rate"]) for m, rs in results.items()}
    main_full = list(fulls)[-1]
    ratio = best[main_full]["rate"] / best["null"]["rate"]
    print("## Crawl (bench/bench_crawl.py)\n")
    print(f"Member directory of {args.firms} fictional firms served by {server} on loopback; each crawl "
          f"stops at {args.pages} pages or the end of the site; politeness lifted (fast=True); "
          f"best of {args.repeat} interleaved run(s).\n")
    cpu = {m: min(r["cpu_ms_per_page"] for r in rs) for m, rs in results.items()}
    wcpu = {m: min(r["worker_cpu_ms_per_page"] for r in rs) for m, rs in results.items()}
    print("| spider | pages | pages/s (wall) | crawl-process CPU ms/page | page-worker CPU ms/page | peak RSS at 10k pages | peak RSS at end | page worker RSS (PSS) at end |")
    print("|---|---|---|---|---|---|---|---|")
    for mode in results:
        r = best[mode]
        at10 = r["checkpoints"].get(str(CHECKPOINT), {}).get("peak_rss_mb", float("nan"))
        last = r["checkpoints"].get(str(args.pages), {}).get("workers") or {}
        worker = f"{last['rss_mb']:.0f} ({last['pss_mb']:.0f}) MB" if last.get("rss_mb") else "-"
        print(f"| {mode} | {r['pages']} | {r['rate']:.0f} | {cpu[mode]:.2f} | {wcpu[mode]:.2f} | {at10:.0f} MB | {r['peak_rss_mb']:.0f} MB | {worker} |")
    print(f"\nFull extraction ({main_full}) runs at **{ratio:.2f}x** the do-nothing spider's rate (target 0.8x); "
          f"by crawl-process CPU per page **{cpu['null'] / cpu[main_full]:.2f}x**. Load average at the end: "
          f"{os.getloadavg()[0]:.1f}. Peak RSS is the crawl process's (a page worker holds ~its own).")
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "crawl.json").write_text(json.dumps({"server": server, "firms": args.firms, "pages": args.pages,
                                                 "results": results, "ratio": ratio, "cpu_ratio": cpu["null"] / cpu[main_full]}, indent=1))


if __name__ == "__main__":
    main()
