"""``python -m nlp.hs.calibration_study``: candidate customs corrections, compared out of sample.

The customs register's correction (``ranker.Calibration.customs``) is fitted on the 154 rows of
``cbp_rulings_validation.csv``; scored on the same rows it looks better than it is. Here every
candidate map over the shipped base map is refitted on 4/5 of the rows and scored on the top hint
of the other fifth, over the same 20 shuffles for every candidate (``train.cross_fit``), so the
differences are paired. Candidates: the shipped two-number Platt; Platt with inputs that carry
uncertainty (the logit gap to the next candidate, the nearest example's similarity, the word
count, whether a head phrase was read); a beta map; isotonic; the Platt shrunk towards the base
map (or past itself); and, with ``--corpus``, the Platt fitted on the customs corpus files'
held-out-fold predictions as well (a few minutes: the ranker's corpus folds are refitted).
The figures go to docs/nlp.md ("Customs correction, chosen out of sample"). The test file is
never read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from .evaluate import ece_noise_floor
from .ranker import NW_CAP, _logit, logit_gaps
from .train import (CUSTOMS_VALIDATION, SEED, apply_platt, base_probabilities, calibration_figures, cross_fit, fit_platt,
                    top_candidates)

COLUMNS = ("logit", "gap", "nn_sim", "log_words", "head")


def candidate_inputs(p, rid, extra: dict) -> dict:
    """Per-candidate inputs a correction may read: the base logit, its gap to the best *other*
    candidate of the row (positive only for the top one, capped at 10), the nearest example's
    similarity, log word count (capped as the base map caps it) and the head-phrase flag."""
    return {"logit": _logit(p), "gap": logit_gaps(p, rid), "nn_sim": extra["nn_sim"],
            "log_words": np.log1p(np.minimum(extra["n_words"], NW_CAP)), "head": extra["head"]}


def _platt_fit(x, y, w=None):
    return LogisticRegression(C=1.0, max_iter=3000).fit(x, y, sample_weight=w)


def _platt_apply(model, x):
    return model.predict_proba(x)[:, 1]


def _shrunk(lam: float):
    """The two-number Platt, moved ``lam`` of the way from the base map (0) to itself (1)."""
    def apply(model, p):
        c = {"a": 1 + lam * (model["a"] - 1), "b": lam * model["b"]}
        return apply_platt(c, p)
    return fit_platt, apply


def _isotonic_fit(p, y):
    return IsotonicRegression(out_of_bounds="clip", y_min=1e-3, y_max=1 - 1e-3).fit(p, y)


def _with_extra(fit, extra_x, extra_y, weight: float):
    """``fit`` on the fold's rows plus extra rows (the customs corpus), the extra weighted."""
    def fit_more(x, y):
        w = np.r_[np.ones(len(y)), np.full(len(extra_y), weight)]
        return fit(np.vstack([x, extra_x]), np.r_[y, extra_y], w)
    return fit_more


def candidates(inputs: dict, p, corpus=None) -> list[tuple[str, object, object, np.ndarray]]:
    """(name, fit, apply, per-candidate input matrix) for every correction compared."""
    def cols(*names):
        return np.column_stack([inputs[n] for n in names])

    out = [("base map only (no correction)", lambda x, y: None, lambda m, x: x, p),
           ("**Platt, 2 numbers (shipped)**", fit_platt, apply_platt, p)]
    for names in (("logit", "gap"), ("logit", "nn_sim"), ("logit", "log_words"), ("logit", "head"), COLUMNS):
        out.append((f"Platt on {' + '.join(names)}", _platt_fit, _platt_apply, cols(*names)))
    beta = np.column_stack([np.log(np.clip(p, 1e-4, 1)), -np.log(np.clip(1 - p, 1e-4, 1))])
    out.append(("beta map (log p, -log(1-p))", _platt_fit, _platt_apply, beta))
    out.append(("isotonic over all candidates", _isotonic_fit, lambda m, x: m.predict(x), p))
    for lam in (0.5, 0.75, 1.25):
        fit, apply = _shrunk(lam)
        out.append((f"Platt shrunk, lambda = {lam} (0 = base map, 1 = Platt)", fit, apply, p))
    if corpus is not None:
        for label, keep in (("customs corpus", np.ones(len(corpus["p"]), dtype=bool)),
                            ("customs corpus without drill rows", ~corpus["drill"])):
            cx = corpus["p"][keep][:, None]
            for weight in (0.05, 0.2, 1.0):
                out.append((f"Platt on validation + {label}, weight {weight}",
                            _with_extra(lambda x, y, w: _platt_fit(_logit(x), y, w), cx, corpus["y"][keep], weight),
                            lambda m, x: m.predict_proba(_logit(x))[:, 1], p[:, None]))
    return out


def customs_corpus_predictions() -> dict:
    """Held-out-fold base-map probabilities of the customs corpus files' candidates (the ranker
    refitted on grouped folds as ``train.fit_ranker`` does), with their labels and drill flags."""
    from .train import (candidate_matrix, drill_exclusions, fit_calibration, heldout_probabilities, training_index)
    from .ranker import NN_COL, word_count

    lexicon, corpus, _, index = training_index()
    X, y, rid, _ = candidate_matrix(index, lexicon, corpus)
    q = heldout_probabilities(X, y, rid, [r["group"] for r in corpus])
    nw = np.array([word_count(r["text"]) for r in corpus])[rid]
    p = fit_calibration(q, y, X[:, NN_COL], nw)(q, X[:, NN_COL], nw)
    customs = np.array([r["source"].startswith("corpus_customs") for r in corpus])
    drill = np.array([isinstance(e, tuple) for e in drill_exclusions(corpus)])
    keep = customs[rid]
    return {"p": p[keep], "y": y[keep], "drill": drill[rid][keep], "rows": int(customs.sum()),
            "top1": round(float(y[top_candidates(p, rid)][customs].mean()), 3)}


def study(rows, hinter=None, corpus=None) -> dict:
    """Cross-fitted figures of every candidate on ``rows`` (held-out customs rows)."""
    from .hinter import get_hinter

    hinter = hinter or get_hinter()
    extra: dict = {}
    p, y, rid = base_probabilities(hinter.ranker, hinter.index, hinter.lexicon, rows, extra)
    inputs = candidate_inputs(p, rid, extra)
    top = top_candidates(p, rid)
    correct = y[top].astype(float)

    def row_log_loss(conf):
        c = np.clip(conf, 1e-4, 1 - 1e-4)
        return -(correct * np.log(c) + (1 - correct) * np.log(1 - c))

    results, row_losses = [], []
    for name, fit, apply, x in candidates(inputs, p, corpus):
        cf = cross_fit(p, y, rid, fit, apply, inputs=x)
        eces = np.array([calibration_figures(c, correct)["ece"] for c in cf])
        row_losses.append(np.mean([row_log_loss(c) for c in cf], axis=0))
        results.append({"name": name, "ece": round(float(eces.mean()), 4), "ece_sd": round(float(eces.std()), 4),
                        "log_loss": round(float(row_losses[-1].mean()), 4), "mean_confidence": round(float(cf.mean()), 3),
                        "in_sample_ece": calibration_figures(apply(fit(x, y), x[top]), correct)["ece"]})
    # Paired: each candidate's per-row log loss minus the shipped one's, rows resampled (seeded).
    shipped_rows = row_losses[next(i for i, r in enumerate(results) if "shipped" in r["name"])]
    rng = np.random.default_rng(SEED)
    pick = rng.integers(0, len(correct), size=(2000, len(correct)))
    for entry, losses in zip(results, row_losses):
        d = losses - shipped_rows
        lo, hi = np.quantile(d[pick].mean(axis=1), [0.05, 0.95])
        entry["log_loss_vs_shipped"] = [round(float(d.mean()), 4), round(float(lo), 4), round(float(hi), 4)]
    shipped = cross_fit(p, y, rid, fit_platt, apply_platt).mean(axis=0)
    words = extra["n_words"][top]
    by_length = [{"words": f"{lo}-{hi - 1}" if hi < 999 else f"{lo}+", "n": int(m.sum()),
                  "mean_confidence": round(float(shipped[m].mean()), 3), "top1_heading": round(float(correct[m].mean()), 3)}
                 for lo, hi in ((1, 6), (6, 10), (10, 15), (15, 999)) for m in [(words >= lo) & (words < hi)]]
    chapters = [r["hs4"][:2] for r in rows]
    by_chapter = cross_fit(p, y, rid, fit_platt, apply_platt, row_groups=chapters)[0]
    return {"rows": len(rows), "top1_heading": round(float(correct.mean()), 3), "candidates": results,
            "shipped_by_length": by_length,
            "shipped_chapter_folds": calibration_figures(by_chapter, correct),
            "noise_floor_of_shipped": ece_noise_floor(shipped),
            "corpus": None if corpus is None else {k: corpus[k] for k in ("rows", "top1")}}


def markdown(result: dict) -> str:
    lines = ["| correction (refitted on 4/5, scored on the rest, 20 shuffles) | cross-fitted ECE (sd) | log loss | "
             "log loss vs shipped (90% row bootstrap) | mean confidence | in-sample ECE |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in result["candidates"]:
        d = r.get("log_loss_vs_shipped")
        dd = "" if d is None or "shipped" in r["name"] else f"{d[0]:+.4f} ({d[1]:+.4f} to {d[2]:+.4f})"
        lines.append(f"| {r['name']} | {r['ece']:.3f} ({r['ece_sd']:.3f}) | {r['log_loss']:.3f} | {dd} | "
                     f"{r['mean_confidence']:.3f} | {r['in_sample_ece']:.3f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    import json

    from .corpus import load_labelled_csv

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=CUSTOMS_VALIDATION, help="held-out customs rows (text,hs4,hs6)")
    ap.add_argument("--corpus", action="store_true",
                    help="also fit on the customs corpus files' held-out-fold predictions (refits the ranker's folds)")
    args = ap.parse_args(argv)
    if "test" in args.labels.name:
        raise SystemExit("the CBP test file is never used to choose a calibration")
    if not args.labels.exists():
        raise SystemExit(f"{args.labels} is absent")
    corpus = customs_corpus_predictions() if args.corpus else None
    result = study(load_labelled_csv(args.labels, check=False), corpus=corpus)
    print(json.dumps({k: v for k, v in result.items() if k != "candidates"}, indent=1))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
