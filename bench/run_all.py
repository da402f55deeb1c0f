"""`make bench`: run every stage's benchmark and write docs/benchmarks.md.

Each `bench/bench_<stage>.py` runs its own baseline in the same process run and prints a
markdown section (figures and ratios) on stdout; this script only runs them in order, with the
sizes below, and stitches the sections under a header naming the machine. A benchmark that
fails is reported as failed in the page, with its exit code, rather than silently left out.

Set BENCH_QUICK=1 for a smoke run at small sizes (the page then says so). Name benchmarks
(`python bench/run_all.py crawl score`) to re-run only those: each section sits between its
own markers in the page, so a partial run replaces its sections and keeps the others.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUICK = os.environ.get("BENCH_QUICK") == "1"

# (script, full-size arguments, quick arguments)
BENCHES = [
    ("bench_sample_site.py", ["1500", "40000"], ["1500"]),
    ("bench_crawl.py", ["--firms", "44000"], ["--firms", "2000"]),
    ("bench_extract.py", ["--firms", "40000"], ["--firms", "2000"]),
    ("bench_hs.py", [], ["--n", "300"]),
    ("bench_score.py", ["--firms", "40000", "400000"], ["--firms", "4000"]),
    ("bench_publish.py", ["--firms", "400000"], ["--firms", "20000"]),
    ("bench_load.py", ["--firms", "400000"], ["--firms", "20000", "--requests", "2000"]),
]


def name_of(script: str) -> str:
    return script.removeprefix("bench_").removesuffix(".py")


def merge(page: str, name: str, section: str) -> str:
    """Replace the section between this benchmark's markers, or append it."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{section.strip()}\n{end}"
    if start in page and end in page:
        before, rest = page.split(start, 1)
        return before + block + rest.split(end, 1)[1]
    return page.rstrip() + "\n\n" + block + "\n"


def machine() -> str:
    cpus = os.cpu_count()
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) // 1024 // 1024} GiB"
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {cpus} cores{mem}, Python {platform.python_version()}"


def main(only: list[str]) -> int:
    out = ROOT / "docs" / "benchmarks.md"
    page = out.read_text() if out.exists() else ""
    failures = 0
    for script, full, quick in BENCHES:
        name = name_of(script)
        if only and name not in only:
            continue
        path = ROOT / "bench" / script
        if not path.exists():
            page = merge(page, name, f"## {script}\n\nNot built yet: `bench/{script}` does not exist.\n")
            continue
        args = quick if QUICK else full
        print(f"== {script} {' '.join(args)}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(path), *args], cwd=ROOT, capture_output=True, text=True)
        took = time.perf_counter() - started
        stamp = f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {'QUICK sizes' if QUICK else 'full sizes'}"
        if result.returncode != 0:
            failures += 1
            section = (
                f"## {script}\n\nFAILED with exit code {result.returncode} after {took:.0f} s ({stamp}):\n\n"
                f"```\n{result.stderr[-3000:]}\n```\n"
            )
        else:
            section = result.stdout.strip() + f"\n\n_(`bench/{script} {' '.join(args)}`, {took:.0f} s, run {stamp})_\n"
        page = merge(page, name, section)
        # The header is rewritten each time; the body keeps exactly one blank line under it.
        body = page.split(HEADER_END, 1)[-1] if HEADER_END in page else page
        out.write_text(header() + "\n" + body.lstrip("\n"))
        page = out.read_text()
    print(f"wrote {out}", file=sys.stderr)
    return 1 if failures else 0


HEADER_END = "<!-- /header -->"


def header() -> str:
    return (
        "# Benchmarks\n\n"
        "Written by `make bench` (`bench/run_all.py`); do not edit by hand. Every figure is measured "
        "against a baseline run in the same command, on the same machine, at the same time; each "
        "section says when it ran (a partial run, `python bench/run_all.py NAME ...`, refreshes only "
        f"its sections). Machine: {machine()}.\n{HEADER_END}\n"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
