"""Benchmark of `export-finder score`: training and scoring time at 40,000 and 400,000 firms.

The firms are synthetic rows in the working-database schema (``scoring.synthetic``), not crawled
sites: the crawl and extract stages cannot reach 400,000 firms on this machine in a bench run,
and the score reads only those tables. The reference data is the real shared trade file when
``../shared/data/`` is there (the page says which). The baseline, run in the same process on
the same features, is the least a score could do: one plain logistic regression fitted once
(no model choice, no calibration, no reasons, no markets) and its probabilities written.
Prints a markdown section on stdout (``bench/run_all.py`` stitches it into docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from export_finder.schema import open_work_db  # noqa: E402
from scoring import refdata  # noqa: E402
from scoring.features import make_column_transformer, read_firm_data  # noqa: E402
from scoring.score import score  # noqa: E402
from scoring.synthetic import write_population  # noqa: E402


def baseline(db) -> float:
    """Read features, fit one logistic regression, write one probability per firm."""
    started = time.perf_counter()
    data = read_firm_data(db)
    pipe = Pipeline([("features", make_column_transformer()), ("model", LogisticRegression(max_iter=2000))])
    pipe.fit(data.X[data.has_text], data.y[data.has_text])
    p = pipe.predict_proba(data.X)[:, 1]
    with db.atomic():
        db["bench_baseline_scores"].drop(ignore=True)
        db["bench_baseline_scores"].insert_all(({"firm_id": f, "p": float(v)} for f, v in zip(data.firm_ids, p)), pk="firm_id", batch_size=5000)
    return time.perf_counter() - started


def run(n: int, folder: Path) -> dict:
    path = folder / f"work-{n}.db"
    db = open_work_db(path)
    t = time.perf_counter()
    write_population(db, n, seed=2024)
    generate_s = time.perf_counter() - t
    t = time.perf_counter()
    ref = refdata.load_refdata(path)
    refdata_s = time.perf_counter() - t
    c = time.process_time()
    base_s = baseline(db)
    base_cpu = time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    summary = score(path)
    score_s, score_cpu = time.perf_counter() - t, time.process_time() - c
    return {"n": n, "generate_s": generate_s, "refdata_s": refdata_s, "trade": ref["trade_source"], "baseline_s": base_s, "baseline_cpu": base_cpu, "score_s": score_s, "score_cpu": score_cpu, "summary": summary, "db_mb": path.stat().st_size / 1e6}


def against_truth(out_dir: Path) -> list[str]:
    """How the score ranks the sample sites' firms against the generator's hidden truth.

    ``truth.jsonl`` (written by ``export_finder.sample_site``) says which fictional firms
    export (``exporter_latent``), including those whose pages never say so. Firms are joined on
    their web domain. This measures the model against the generator, not the world.
    """
    import json

    from sklearn.metrics import roc_auc_score

    db = open_work_db(out_dir / "work.db")
    truth = {}
    for line in (out_dir / "sample-site" / "truth.jsonl").read_text().splitlines():
        t = json.loads(line)
        if t.get("domain"):
            truth[t["domain"].lower()] = t
    rows = list(db.query("select s.probability, s.score, s.label, f.domain from scores s join firms f using (firm_id)"))
    joined = [(r, truth[r["domain"].lower()]) for r in rows if r["domain"] and r["domain"].lower() in truth]
    y_true = [int(t["exporter_latent"]) for _, t in joined]
    label = [r["label"] for r, _ in joined]
    prob = [r["probability"] for r, _ in joined]
    score_ = [r["score"] for r, _ in joined]
    run = next(db.query("select * from model_runs order by run_at desc limit 1"))
    lines = [
        "",
        f"### Against the sample generator's hidden truth ({out_dir})",
        "",
        f"{len(joined)} of {len(rows)} scored firms joined to `truth.jsonl` by web domain; "
        f"{sum(y_true)} truly export in the generator, {sum(label)} say so on their pages (the training label).",
        "",
        "These firms also trained the model, so both columns are in-sample; the model card's cross-validated figure is the held-out one.",
        "",
        "| ranking by | ROC-AUC vs true exporters | ROC-AUC vs stated label |",
        "|---|---|---|",
        f"| readiness probability | {roc_auc_score(y_true, prob):.3f} | {roc_auc_score(label, prob):.3f} |",
        f"| whole score (with market fit) | {roc_auc_score(y_true, score_):.3f} | {roc_auc_score(label, score_):.3f} |",
        "",
        f"Model card for that run: {run['estimator']}, cross-validated ROC-AUC {run['cv_roc_auc']:.3f} "
        f"(baseline {run['baseline_roc_auc']:.3f}), Brier {run['cv_brier']:.4f} (baseline {run['baseline_brier']:.4f}), "
        f"{run['training_rows']} training firms, {run['positives']} positives.",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--firms", type=int, nargs="*", default=[40000, 400000])
    parser.add_argument("--demo-out", type=Path, help="an `export-finder demo --out` folder to measure against truth.jsonl")
    args = parser.parse_args()
    if args.demo_out and not args.firms:
        print("\n".join(against_truth(args.demo_out)))
        return 0
    results = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-score-") as tmp:
        for n in args.firms:
            print(f"scoring {n} synthetic firms ...", file=sys.stderr, flush=True)
            results.append(run(n, Path(tmp)))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        "## Score (`bench/bench_score.py`)",
        "",
        "Synthetic firms in the working-database schema (`scoring/synthetic.py`: firms, products, HS hints, "
        "signals; not crawled sites). Reference data: " + ("the real shared trade file." if results and results[0]["trade"] == "file" else "MISSING (no shared trade file: market part is 'no data')."),
        "Training uses at most 60,000 labelled firms (a stratified sample above that, stated on the model card); "
        "every firm is scored. Baseline: one plain logistic regression, fitted once, probabilities written.",
        "",
        "Wall-clock times on a shared machine swing with the other jobs; CPU time (this process's own) is the steadier figure.",
        "",
        "| firms | train (CV + calibration) | predict + reasons | markets, rows, write | whole `score`, wall | whole `score`, CPU | baseline wall / CPU | score / baseline (CPU) | rows written | CV ROC-AUC (baseline prior) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s, t = r["summary"], r["summary"]["timings"]
        rows = s["firms"] + s["reasons"] + s["market_suggestions"]
        lines.append(
            f"| {r['n']:,} | {t['train_s']:.1f} s ({s['training_rows_used']:,} of {s['training_rows']:,} labelled firms, {s['estimator']}) | {t['predict_s']:.1f} s | "
            f"{t['explain_s'] + t['write_s']:.1f} s | {r['score_s']:.1f} s ({r['n'] / r['score_s']:,.0f} firms/s) | {r['score_cpu']:.1f} s | "
            f"{r['baseline_s']:.1f} s / {r['baseline_cpu']:.1f} s | {r['score_cpu'] / r['baseline_cpu']:.1f}x | {rows:,} | {s['cv_roc_auc']:.3f} ({s['baseline_roc_auc']:.3f}) |"
        )
    lines += [
        "",
        f"Peak memory of the bench process: {peak_mb:,.0f} MB. Working database at the largest size: {results[-1]['db_mb']:,.0f} MB. "
        f"Machine load (1-minute average, {os.cpu_count()} cores) {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end: "
        "other jobs shared the cores, so these times are upper bounds.",
    ]
    if args.demo_out:
        lines += against_truth(args.demo_out)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
