"""`make bench`: run every stage's benchmark and write docs/benchmarks.md.

Each `bench/bench_<stage>.py` runs its own baseline in the same process run and prints a
markdown section (figures and ratios) on stdout; this script only runs them in order, with the
sizes below, and stitches the sections under a header naming the machine. A benchmark that
fails is reported as failed in the page, with its exit code, rather than silently left out.

Set BENCH_QUICK=1 for a smoke run at small sizes (the page then says so).
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
    ("bench_crawl.py", ["--firms", "40000"], ["--firms", "2000"]),
    ("bench_extract.py", ["--firms", "40000"], ["--firms", "2000"]),
    ("bench_hs.py", [], ["--quick"]),
    ("bench_score.py", ["--firms", "40000", "400000"], ["--firms", "4000"]),
    ("bench_publish.py", ["--firms", "400000"], ["--firms", "20000"]),
]


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


def main() -> int:
    sections = []
    failures = 0
    for script, full, quick in BENCHES:
        path = ROOT / "bench" / script
        if not path.exists():
            sections.append(f"## {script}\n\nNot built yet: `bench/{script}` does not exist.\n")
            continue
        args = quick if QUICK else full
        print(f"== {script} {' '.join(args)}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(path), *args], cwd=ROOT, capture_output=True, text=True)
        took = time.perf_counter() - started
        if result.returncode != 0:
            failures += 1
            sections.append(
                f"## {script}\n\nFAILED with exit code {result.returncode} after {took:.0f} s:\n\n"
                f"```\n{result.stderr[-3000:]}\n```\n"
            )
        else:
            sections.append(result.stdout.strip() + f"\n\n_(`bench/{script} {' '.join(args)}`, {took:.0f} s)_\n")
    header = (
        "# Benchmarks\n\n"
        "Written by `make bench` (`bench/run_all.py`); do not edit by hand. Every figure is measured "
        "against a baseline run in the same command, on the same machine, at the same time.\n\n"
        f"- Run: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}\n"
        f"- Sizes: {'QUICK smoke sizes (BENCH_QUICK=1), not the targets' if QUICK else 'full sizes'}\n"
    )
    out = ROOT / "docs" / "benchmarks.md"
    out.write_text(header + "\n" + "\n".join(sections))
    print(f"wrote {out}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
