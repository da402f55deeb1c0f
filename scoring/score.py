"""``export-finder score``: train the readiness model, score every firm, explain each score.

Two parts, kept apart and shown together (the International Trade Centre's export-potential
habit: what the firm brings, and what the market takes):

- readiness (``scores.readiness``, 0-100): the calibrated probability that a firm like this one
  exports, learned from firms whose listings say they do (:mod:`scoring.model`);
- market fit (``scores.market_fit``, 0-100, or empty with "no data"): how well the firm's
  products travel through the Port of LA to markets that buy them (:mod:`scoring.markets`).

``score = 0.6 x readiness + 0.4 x market fit``; where the market part has no data the score is
the readiness part alone, and ``market_fit_note`` says so. Every firm in ``firms`` gets a row,
even one with no products or text (marked low-confidence). The run is deterministic for a
seed and idempotent: the same inputs give the same ``run_id`` and the same rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import pickle
import time
from collections import Counter
from pathlib import Path

from threadpoolctl import threadpool_limits

from export_finder.schema import TABLES, ensure_stage_tables, ensure_table, open_work_db

from .bands import LOW_CONFIDENCE_NOTE, band_for
from .features import COLUMNS, FEATURE_SOURCES, LABEL_SIGNAL_KINDS, read_firm_data, reference_row
from .markets import MarketData, firm_market_fit
from .model import DEFAULT_SEED, MODEL_VERSION, train
from . import reasons
from .reasons import firm_reasons, occlusion
from .refdata import reference_sources

WEIGHTS = {"readiness": 0.6, "market_fit": 0.4}
CHUNK = 20000  # firms per write
MIN_EVIDENCE = 3  # fewer known facts than this: the score is marked low-confidence


class ScoringError(Exception):
    """The score cannot run; the message says what is missing."""


def score(work_db, *, seed: int = DEFAULT_SEED, reference_year: int | None = None, model_dir=None, max_train_rows: int = 60000, folds: int = 5) -> dict:
    """Score every firm in ``work_db``; write scores, reasons, markets and a model_runs row."""
    clock = {"started": time.perf_counter()}
    work_db = Path(work_db)
    db = open_work_db(work_db)
    if "firms" not in db.table_names():
        # a summary, not an exception: the demo carries on past a stage with nothing to do
        return {"firms": 0, "reason": f"{work_db} has no firms table: run `export-finder resolve` first"}
    ensure_stage_tables(db, "score")
    data = read_firm_data(db, reference_year)
    if not data.firm_ids:
        return {"firms": 0, "reason": "the firms table is empty: nothing to score"}

    clock["read"] = time.perf_counter()
    train_mask = data.has_text  # a firm with no text cannot show export evidence either way
    X_train, y_train = data.X[train_mask], data.y[train_mask]
    # One OpenMP thread: on a shared machine, gradient boosting's spinning threads slowed a
    # 4,000-firm training twentyfold when the other cores were busy (measured, docs/scoring.md).
    with threadpool_limits(limits=1, user_api="openmp"):
        trained = train(X_train, y_train, seed=seed, max_rows=max_train_rows, folds=folds)
        clock["train"] = time.perf_counter()
        reference = reference_row(X_train if len(X_train) else data.X)
        p, deltas, p_ref = occlusion(trained.model, data.X, reference)
    clock["predict"] = time.perf_counter()

    refs = reference_sources(db)
    run_id = hashlib.sha1(json.dumps([trained.data_sha256, seed, folds, MODEL_VERSION, refs.get("refdata_run_id"), trained.estimator]).encode()).hexdigest()[:12]
    model_version = f"{MODEL_VERSION}-{trained.estimator}"

    if "hs_sections" in db.table_names():
        reasons.SECTION_NAMES.update({r["code"]: r["description"].lower() for r in db["hs_sections"].rows})
    market = MarketData(db)
    stats = Counter()

    def firm_rows():
        """Each firm's score row, reason rows and market rows, one firm at a time."""
        for i, firm_id in enumerate(data.firm_ids):
            fit = firm_market_fit(market, data.chapters.get(firm_id, []))
            readiness = 100.0 * float(p[i])
            if fit.score is None:
                w_r, w_m = 1.0, 0.0
                stats["no_market_data"] += 1
                total = readiness
            else:
                w_r, w_m = WEIGHTS["readiness"], WEIGHTS["market_fit"]
                total = w_r * readiness + w_m * fit.score
            total = round(float(min(100.0, max(0.0, total))), 4)
            band, sentence = band_for(total)
            stats["band:" + band] += 1
            why_low = []
            if not data.has_text[i]:
                why_low.append("no products or description found for this firm")
            if data.evidence_count[i] < MIN_EVIDENCE:
                why_low.append(f"only {data.evidence_count[i]} of 7 basic facts known (size, age, certifications, products, listings, website, facility)")
            if not trained.cv:
                why_low.append("too few firms with export evidence to train a model: every firm gets the same readiness")
            stats["low_confidence"] += bool(why_low)
            score_row = {
                "firm_id": firm_id,
                "score": total,
                "band": band,
                "band_sentence": sentence + (" " + LOW_CONFIDENCE_NOTE if why_low else ""),
                "probability": float(p[i]),
                "readiness": round(readiness, 4),
                "market_fit": round(fit.score, 4) if fit.score is not None else None,
                "low_confidence": int(bool(why_low)),
                "low_confidence_reason": "; ".join(why_low) or None,
                "model_version": model_version,
                "run_id": run_id,
                "label": int(data.y[i]),
                "evidence_count": int(data.evidence_count[i]),
                "market_fit_note": fit.note,
                "hs_chapter": fit.chapter[:2] if fit.chapter else None,
            }
            reasons_ = firm_reasons(firm_id, total, w_r * 100.0 * p_ref, w_r * 100.0 * deltas[i], data.X[i], reference, fit.components, w_m)
            yield score_row, reasons_, [{"firm_id": firm_id, **s} for s in fit.suggestions]

    card_sources = {k: v for k, v in refs.items()}
    model_path = Path(model_dir) if model_dir else work_db.parent / "models"
    model_path.mkdir(parents=True, exist_ok=True)
    model_file = model_path / f"readiness-{run_id}.pkl"
    with open(model_file, "wb") as handle:  # our own file, loaded only by us (trusted)
        pickle.dump({"model": trained.model, "columns": COLUMNS, "reference": reference, "run_id": run_id}, handle)

    existing = {r["run_id"]: r for r in db["model_runs"].rows_where("run_id = ?", [run_id])}
    run_at = existing[run_id]["run_at"] if run_id in existing else dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    run_row = {
        "run_id": run_id,
        "run_at": run_at,
        "model_version": model_version,
        "training_rows": trained.rows,
        "positives": trained.positives,
        "features": json.dumps(COLUMNS),
        "estimator": trained.estimator,
        "params": json.dumps(trained.params, sort_keys=True),
        "cv_roc_auc": trained.cv.get("calibrated", {}).get("roc_auc"),
        "cv_brier": trained.cv.get("calibrated", {}).get("brier"),
        "baseline": "DummyClassifier(strategy='prior'): every firm gets the share of firms that export",
        "baseline_roc_auc": trained.cv.get("baseline_roc_auc"),
        "baseline_brier": trained.cv.get("baseline_brier"),
        "calibration": json.dumps(trained.calibration),
        "reference_sources": json.dumps(card_sources),
        "seed": seed,
        "candidates": json.dumps(trained.candidates),
        "data_sha256": trained.data_sha256,
        "versions": json.dumps(trained.versions),
        "model_path": str(model_file),
    }
    run_row["card"] = model_card(run_row, trained, len(data.firm_ids), int((~train_mask).sum()))

    # Rows are written as they are made, in chunks, inside one transaction: memory stays flat
    # at 400,000 firms, and a kill mid-write leaves the previous scores in place.
    names = ("scores", "score_reasons", "market_suggestions")
    with db.atomic():
        for name in names:
            ensure_table(db, name).delete_where()
        buffers: dict[str, list] = {name: [] for name in names}
        for score_row, reason_rows, market_rows in firm_rows():
            buffers["scores"].append(score_row)
            buffers["score_reasons"].extend(reason_rows)
            buffers["market_suggestions"].extend(market_rows)
            if len(buffers["scores"]) >= CHUNK:
                for name in names:
                    stats["rows:" + name] += _insert_many(db, name, buffers[name])
                    buffers[name] = []
        for name in names:
            stats["rows:" + name] += _insert_many(db, name, buffers[name])
        clock["explain"] = time.perf_counter()
        ensure_table(db, "model_runs").upsert(run_row, pk="run_id")
    clock["write"] = time.perf_counter()
    steps = ["started", "read", "train", "predict", "explain", "write"]  # explain: reasons, markets and their rows written
    timings = {f"{b}_s": round(clock[b] - clock[a], 3) for a, b in zip(steps, steps[1:])}
    return {
        "run_id": run_id,
        "firms": stats["rows:scores"],
        "training_rows": trained.rows,
        "training_rows_used": trained.cv.get("training_rows_used", trained.rows),
        "positives": trained.positives,
        "estimator": trained.estimator,
        "cv_roc_auc": run_row["cv_roc_auc"],
        "baseline_roc_auc": run_row["baseline_roc_auc"],
        "cv_brier": run_row["cv_brier"],
        "baseline_brier": run_row["baseline_brier"],
        "low_confidence": stats["low_confidence"],
        "no_market_data": stats["no_market_data"],
        "bands": {k.split(":", 1)[1]: v for k, v in sorted(stats.items()) if k.startswith("band:")},
        "reasons": stats["rows:score_reasons"],
        "market_suggestions": stats["rows:market_suggestions"],
        "model_path": str(model_file),
        "timings": timings,
    }


def _insert_many(db, name: str, rows: list[dict]) -> int:
    """Plain executemany on the declared columns: sqlite-utils' insert_all spent most of a
    400,000-firm run checking types the schema already fixes."""
    if not rows:
        return 0
    columns = list(TABLES[name][0])
    sql = f"INSERT INTO [{name}] ({', '.join(f'[{c}]' for c in columns)}) VALUES ({', '.join('?' for _ in columns)})"
    db.conn.executemany(sql, [tuple(r.get(c) for c in columns) for r in rows])
    return len(rows)


def model_card(run: dict, trained, n_firms: int, n_untrained: int) -> str:
    """A model card in Markdown: what was learned from what, how well, and its limits."""
    cv = trained.cv
    lines = [
        f"# Readiness model {run['model_version']} (run {run['run_id']})",
        "",
        f"- Run: {run['run_at']}, seed {trained.seed}; scikit-learn {trained.versions.get('scikit-learn')}.",
        f"- Trained on {trained.rows} firms with products or text ({trained.positives} with export evidence); "
        f"{n_untrained} of {n_firms} firms had no text and were scored but not trained on."
        + (f" Training used a stratified sample of {cv['training_rows_used']} of them." if cv and cv.get("training_rows_used", trained.rows) < trained.rows else ""),
        f"- Label: the firm's own listings say it exports, names foreign markets or a distributor abroad "
        f"(signal kinds {sorted(LABEL_SIGNAL_KINDS - {'no_export'})}). These signals are never features.",
        f"- Features: {', '.join(COLUMNS)} (origins: {json.dumps(FEATURE_SOURCES)}).",
        f"- Estimator: {trained.estimator}, chosen by {cv.get('folds', '-')}-fold stratified cross-validated ROC-AUC; "
        "probabilities calibrated (sigmoid).",
    ]
    if cv:
        lines.append(
            f"- Out-of-fold, calibrated: ROC-AUC {cv['calibrated']['roc_auc']:.3f}, Brier {cv['calibrated']['brier']:.4f}; "
            f"baseline (every firm gets the export share): ROC-AUC {cv['baseline_roc_auc']:.3f}, Brier {cv['baseline_brier']:.4f}."
        )
        lines.append("- Every candidate, out of fold: " + "; ".join(f"{k} ROC-AUC {v['roc_auc']:.3f} Brier {v['brier']:.4f}" for k, v in sorted(trained.candidates.items())))
        lines.append("- Calibration (predicted vs observed export share, by decile): " + ", ".join(f"{c['predicted']:.2f}->{c['observed']:.2f} (n={c['n']})" for c in trained.calibration))
    lines += [
        "- Reference data: " + run["reference_sources"],
        "- Limits: labels come from what firms say about themselves; a firm that exports but does not say so counts as a "
        "non-exporter. On the bundled fictional sample sites the model learns the sample generator's rules, not the world.",
    ]
    return "\n".join(lines)
