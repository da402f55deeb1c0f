"""Benchmark the sample-site generator: wall time, peak memory and bytes for N firms.

Usage: python bench/bench_sample_site.py [N ...]   (default: 1500 40000)
Prints a markdown section (bench/run_all.py puts it in docs/benchmarks.md). There is no
baseline: the generator only feeds the other benchmarks, so its cost is reported to size them.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time

CHILD = """
import json, resource, sys, time
from export_finder.sample_site import generate
t = time.perf_counter()
s = generate(sys.argv[1], firms=int(sys.argv[2]))
print(json.dumps({"firms": int(sys.argv[2]), "seconds": round(time.perf_counter() - t, 2),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "files": sum(s["files"].values()), "mb_written": round(sum(s["bytes_written"].values()) / 1e6, 1),
                  "both": s["counts"]["both"], "hs_chapters": s["hs_chapter_count"]}))
"""


def main(sizes: list[int]) -> None:
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as out:  # one process per size: a clean peak RSS
            done = subprocess.run([sys.executable, "-c", CHILD, out, str(n)], check=True, capture_output=True, text=True)
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print("## Sample-site generator\n")
    print("| firms | seconds | firms/s | peak RSS MB | files | MB written | on both sources | HS chapters |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        rate = r["firms"] / r["seconds"] if r["seconds"] else float("nan")
        print(f"| {r['firms']:,} | {r['seconds']} | {rate:,.0f} | {r['peak_rss_mb']} | {r['files']:,} | {r['mb_written']} | {r['both']:,} | {r['hs_chapters']} |")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1500, 40000])
