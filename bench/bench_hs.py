"""Benchmark: `hs-hint` descriptions per second against the raw encoder's own rate.

Texts are firm-style descriptions built from the project's corpus (each made distinct with a
lead-in, so no cache helps either side). Three runs on the same texts, one process, warm model:
the raw encoder (sentence-transformers `encode`, batch 64: the floor every hint pays), `hint()`
on distinct texts (encoder + TF-IDF + neighbours + ranker + explanations), and `hint()` on a
stream where each description appears 5 times (what `extract` sees: repeated phrases are
embedded once). Prints a markdown table; the target is hint/raw >= 0.7. Each run is timed by
the wall clock and by the process's CPU time: on a shared machine the wall-clock ratio moves with
other people's load, the CPU-time ratio much less. The raw and distinct-text runs are repeated
(``--repeat``, alternating, each pair on texts of its own, so no cache of an earlier pair helps):
the table shows the median pair's rates and lists every pair's ratio, since one run's ratio moved
by +-0.02 on a quiet machine.

    .venv/bin/python bench/bench_hs.py [--n 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

LEAD_INS = ["We manufacture", "Our line of", "Supplier of", "Custom", "Wholesale", "Premium",
            "Made in California:", "Exporter of", "Industrial-grade", "Family-owned maker of"]


def texts_for(n: int, seed: int = 7) -> list[str]:
    from nlp.hs.corpus import load_corpus

    rows = load_corpus()
    rnd = random.Random(seed)
    out, seen = [], set()
    while len(out) < n:
        t = f"{rnd.choice(LEAD_INS)} {rnd.choice(rows)['text'].lower()} #{len(out)}"
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3, help="raw / hint run pairs (the median is shown)")
    args = ap.parse_args(argv)
    import torch

    from nlp.hs.hinter import Hinter

    t0 = time.perf_counter()
    hinter = Hinter()
    hinter.hint(["warm-up: nitrile gloves"])
    startup = time.perf_counter() - t0
    enc = hinter.encoder

    def timed(fn, n):
        """(texts per wall-clock second, texts per CPU second) of one call."""
        t, c = time.perf_counter(), time.process_time()
        fn()
        return n / (time.perf_counter() - t), n / (time.process_time() - c)

    pairs = []
    for k in range(max(1, args.repeat)):
        texts = texts_for(args.n, seed=7 + k)
        raw, raw_cpu = timed(lambda: enc.raw_encode(texts), args.n)
        enc._cache.clear()
        hint_rate, hint_cpu = timed(lambda: hinter.hint(texts, top=5), args.n)
        enc._cache.clear()
        pairs.append((hint_rate / raw, raw, raw_cpu, hint_rate, hint_cpu))
    pairs.sort()
    _, raw, raw_cpu, hint_rate, hint_cpu = pairs[len(pairs) // 2]
    ratios = ", ".join(f"{p[0]:.2f}" for p in pairs)
    ratios_cpu = ", ".join(f"{r:.2f}" for r in sorted(p[4] / p[2] for p in pairs))
    stream = [x for x in texts[: args.n // 5] for _ in range(5)]
    random.Random(1).shuffle(stream)
    repeat_rate, repeat_cpu = timed(lambda: hinter.hint(stream, top=5), len(stream))

    t = time.perf_counter()
    for x in texts[:50]:
        enc._cache.pop(x, None)
        hinter.hint([x])
    single_ms = (time.perf_counter() - t) / 50 * 1000

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"### hs-hint speed ({args.n} distinct firm-style descriptions, {platform.machine()}, "
          f"{os.cpu_count()} cores, torch threads {torch.get_num_threads()}, load {load:.1f})\n")
    print("| run | descriptions/s (wall) | vs raw encoder | descriptions per CPU-s | vs raw encoder (CPU) |")
    print("|---|---:|---:|---:|---:|")
    print(f"| raw encoder (`encode`, batch 64) | {raw:,.0f} | 1.00 | {raw_cpu:,.0f} | 1.00 |")
    print(f"| `hint()`, distinct texts | {hint_rate:,.0f} | {hint_rate / raw:.2f} | {hint_cpu:,.0f} | {hint_cpu / raw_cpu:.2f} |")
    print(f"| `hint()`, each text 5 times | {repeat_rate:,.0f} | {repeat_rate / raw:.2f} | {repeat_cpu:,.0f} | {repeat_cpu / raw_cpu:.2f} |")
    print(f"\n`hint()` / raw encoder, distinct texts, each of {len(pairs)} run pairs (the table shows the median): "
          f"wall {ratios}; CPU time {ratios_cpu}.")
    print(f"\nOne description alone: {single_ms:.1f} ms. Start-up (vectors, TF-IDF, ranker): {startup:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
