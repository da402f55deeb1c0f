"""Benchmark: N sample firms through `extract`, against a tokenizer-only spaCy pass.

Builds the sample sites (`export_finder.sample_site.generate`), reads each firm's listing
pages into `firms` rows (`nlp.eval.sample_rows`; not timed), then times:
1. baseline: `spacy.blank("en").pipe` over the same texts (descriptions and product entries),
   with the same `n_process` - the cost of tokenising alone;
2. `nlp.extract.extract` on a fresh working database: the whole stage, HS hinter included
   (loading it, and embedding each distinct product phrase once), writes included.
Prints a markdown section for docs/benchmarks.md (`make bench`).

    python bench/bench_extract.py --firms 40000 [--n-process 1] [--no-hints]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class NoHints:
    def hint(self, texts, top=5):
        return [[] for _ in texts]


def texts_of(rows: list[dict]) -> list[str]:
    from nlp.extract import FirmInput

    out = []
    for row in rows:
        out.extend(text for _, text in FirmInput(row, []).texts)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=40_000)
    parser.add_argument("--n-process", type=int, default=1, help="worker processes (2 is slower on this machine: docs/nlp-extraction.md)")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--no-hints", action="store_true", help="leave the HS hinter out (text reading only)")
    parser.add_argument("--no-tagger", action="store_true", help="leave the trained product tagger out (rules only), to measure its cost")
    args = parser.parse_args(argv)

    import spacy

    from export_finder.sample_site import generate
    from export_finder.schema import ensure_table, open_work_db
    from nlp.eval.sample_rows import firm_rows
    from nlp.extract import extract

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        generate(tmp / "site", firms=args.firms, seed=args.seed)
        rows, _ = firm_rows(tmp / "site")
        prep = time.perf_counter() - t0
        db = open_work_db(tmp / "work.db")
        ensure_table(db, "firms")
        db["firms"].insert_all(rows, pk="firm_id", batch_size=2000)
        texts = texts_of(rows)
        chars = sum(len(t) for t in texts)

        blank = spacy.blank("en")
        t0 = time.perf_counter()
        for _ in blank.pipe(texts, n_process=args.n_process, batch_size=256):
            pass
        base_s = time.perf_counter() - t0

        if args.no_tagger:
            from nlp import extract as extract_module
            from nlp.pipeline import build_pipeline

            rules_only = build_pipeline(hs_hints=not args.no_hints)
            rules_only.remove_pipe("ef_product_tagger")
            extract_module._PIPELINES["blank"] = rules_only
        t0, c0 = time.perf_counter(), time.process_time()
        summary = extract(tmp / "work.db", n_process=args.n_process, hinter=NoHints() if args.no_hints else None)
        ext_s = time.perf_counter() - t0
        ext_cpu = time.process_time() - c0

    n = len(rows)
    target = 300 * n / 40_000
    lines = [
        "## extract (`bench/bench_extract.py`)",
        "",
        f"{n:,} sample firms ({len(texts):,} texts, {chars / 1e6:.1f} M characters; seed {args.seed}), "
        f"`n_process={args.n_process}`, HS hints {'off' if args.no_hints else 'on (nlp.hs hinter)'}, "
        f"product tagger {'off' if args.no_tagger else 'on'}. "
        f"Building the sample and reading its pages took {prep:.0f} s (not timed below).",
        "",
        "| run | seconds | firms/s | texts/s |",
        "|---|---:|---:|---:|",
        f"| baseline: `spacy.blank('en').pipe` (tokenizer only) | {base_s:.1f} | {n / base_s:,.0f} | {len(texts) / base_s:,.0f} |",
        f"| `extract` (whole stage, writes included) | {ext_s:.1f} | {n / ext_s:,.0f} | {len(texts) / ext_s:,.0f} |",
        "",
        f"CPU time of extract in this process: {ext_cpu:.1f} s (wall time swells when other work shares the cores; "
        f"with `n_process=1` CPU time is the figure to compare between runs).",
        "",
        f"extract / baseline time: {ext_s / base_s:.1f}x. Target: {n:,} firms in {target:.0f} s "
        f"(40,000 in 300 s): {'met' if ext_s <= target else 'NOT met'} ({ext_s:.0f} s).",
        f"Rows: {summary['products']:,} products, {summary['hs_hints']:,} HS hints, {summary['signals']:,} signals; "
        f"distinct product phrases sent to the hinter: {summary.get('hs_phrases_asked')}.",
        "",
        "```json",
        json.dumps({k: v for k, v in summary.items() if k != "note_samples"}, indent=1),
        "```",
        "",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
