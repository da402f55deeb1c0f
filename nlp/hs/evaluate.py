"""Accuracy and calibration of HS hints, beside the two baselines, on a labelled CSV.

Top-k at a level counts a row right when one of the first k hints has the right code at that
level (chapter, heading, subheading; subheading only over rows that give one). The calibration
error (ECE) compares the top hint's confidence with whether its heading is right, over 10 equal-
width bins, weighted by the rows in each bin. Beside every ECE stand its bootstrap 90% interval
and its *noise floor*: the ECE a perfectly calibrated model would show on the same confidences
(outcomes simulated as Bernoulli(confidence)), since on a file of 150 rows chance alone gives a
few hundredths. The baselines are TF-IDF nearest description over
the nomenclature and the raw encoder's nearest description; their "confidence" is their raw
cosine similarity, shown to make the point that a similarity is not a probability.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .corpus import load_labelled_csv


def ece(conf, correct, bins: int = 10) -> float:
    conf = np.asarray(conf, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if len(conf) == 0:
        return float("nan")
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() / len(conf) * abs(conf[m].mean() - correct[m].mean())
    return float(total)


def ece_many(conf, correct, bins: int = 10) -> np.ndarray:
    """``ece`` of many (confidence, outcome) samples at once: rows of ``conf`` and ``correct``.

    Same bins as ``ece``; written with one ``bincount`` so thousands of simulated or resampled
    files cost milliseconds (the sum over bins of |sum of confidences - sum of outcomes| / n is
    the bin-weighted gap ``ece`` computes).
    """
    conf = np.atleast_2d(np.asarray(conf, dtype=float))
    correct = np.atleast_2d(np.asarray(correct, dtype=float))
    conf, correct = np.broadcast_arrays(conf, correct)
    k, n = conf.shape
    if n == 0:
        return np.full(k, np.nan)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1) + bins * np.arange(k)[:, None]
    gap = np.bincount(idx.ravel(), weights=(conf - correct).ravel(), minlength=k * bins)
    return np.abs(gap.reshape(k, bins)).sum(axis=1) / n


NOISE_SIMULATIONS = 2000
NOISE_SEED = 2022
ECE_TARGET = 0.05  # the target, "ECE <= 0.05 on held-out folds"


def ece_noise_floor(conf, bins: int = 10, sims: int = NOISE_SIMULATIONS, seed: int = NOISE_SEED) -> dict:
    """The ECE a *perfectly calibrated* model would show on a file with these confidences.

    Why: with a few hundred rows the binned ECE is never 0 even when every confidence is exactly
    the probability of being right; each bin's accuracy is a small-sample average. Outcomes are
    drawn as Bernoulli(confidence) for the same confidences ``sims`` times (seeded, so the figure
    is reproducible); the mean is what calibration error pure chance adds, and the 90th percentile
    is the value an honest model exceeds one time in ten. An ECE under the p90 is not evidence of
    miscalibration. ``share_meeting_target``: how often that perfect model would show an ECE of
    ``ECE_TARGET`` or less on this file, i.e. whether the file can show the target at all.
    """
    conf = np.asarray(conf, dtype=float)
    if len(conf) == 0:
        return {"mean": None, "p90": None, "share_meeting_target": None, "sims": sims}
    rng = np.random.default_rng(seed)
    draws = ece_many(conf, rng.random((sims, len(conf))) < conf, bins)
    return {"mean": round(float(draws.mean()), 4), "p90": round(float(np.quantile(draws, 0.9)), 4),
            "share_meeting_target": round(float(np.mean(draws <= ECE_TARGET)), 3), "sims": sims}


def ece_interval(conf, correct, bins: int = 10, boots: int = NOISE_SIMULATIONS, seed: int = NOISE_SEED,
                 level: float = 0.9) -> list:
    """Bootstrap percentile interval of the ECE (rows resampled with replacement, seeded).

    Why: one ECE on 154 rows moves by a few hundredths with which rows happen to be in the file;
    the interval says how far. A resample repeats rows, which makes bins noisier, so the
    interval sits somewhat above the point figure: read it with the noise floor beside it.
    """
    conf = np.asarray(conf, dtype=float)
    correct = np.asarray(correct, dtype=float)
    n = len(conf)
    if n == 0:
        return [None, None]
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, n, size=(boots, n))
    draws = ece_many(conf[pick], correct[pick], bins)
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return [round(float(lo), 4), round(float(hi), 4)]


def ece_report(conf, correct, bins: int = 10) -> dict:
    """The ECE with what it can be read against: its bootstrap 90% interval and the noise floor."""
    return {"ece": round(ece(conf, correct, bins), 4), "ece_interval_90": ece_interval(conf, correct, bins),
            "ece_noise_floor": ece_noise_floor(conf, bins)}


def reliability_table(conf, correct, bins: int = 5) -> list[dict]:
    conf = np.asarray(conf, dtype=float)
    correct = np.asarray(correct, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        m = idx == b
        rows.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": int(m.sum()),
                     "mean_confidence": round(float(conf[m].mean()), 3) if m.any() else None,
                     "heading_accuracy": round(float(correct[m].mean()), 3) if m.any() else None})
    return rows


def score(rows: list[dict], predictions: list[list[dict]]) -> dict:
    """``predictions[i]``: hints (dicts with hs4, hs6, confidence) for ``rows[i]``."""
    n = len(rows)
    out: dict = {"n": n}
    for level, width in (("chapter", 2), ("heading", 4), ("subheading", 6)):
        for k in (1, 3):
            hits, total = 0, 0
            for row, preds in zip(rows, predictions):
                gold = row["hs6"] if level == "subheading" else row["hs4"][:width]
                if not gold:
                    continue
                total += 1
                got = [(p.get("hs6") or "")[:width] if level == "subheading" else p["hs4"][:width]
                       for p in preds[:k]]
                hits += gold in got
            out[f"top{k}_{level}"] = round(hits / total, 4) if total else None
    conf = [p[0]["confidence"] if p else 0.0 for p in predictions]
    correct = [bool(p) and p[0]["hs4"] == r["hs4"] for r, p in zip(rows, predictions)]
    out.update(ece_report(conf, correct))
    return out


def _baseline_preds(ranked, sims_conf=None):
    return [[{"hs4": h, "hs6": s, "confidence": 0.0} for h, s in r] for r in ranked]


def evaluate_rows(rows: list[dict], hinter=None, baselines: bool = True, exclude_groups=None,
                  register: str = "firm") -> dict:
    from .hinter import get_hinter

    hinter = hinter or get_hinter()
    texts = [r["text"] for r in rows]
    t0 = time.perf_counter()
    preds = hinter.hint(texts, top=5, exclude_groups=exclude_groups, register=register)
    elapsed = time.perf_counter() - t0
    result = {"rows": len(rows), "register": register, "hinter": {"method": hinter.method, **score(rows, preds)},
              "seconds": round(elapsed, 2)}
    conf = [p[0]["confidence"] if p else 0.0 for p in preds]
    correct = [bool(p) and p[0]["hs4"] == r["hs4"] for r, p in zip(rows, preds)]
    result["hinter"]["reliability"] = reliability_table(conf, correct)
    result["hinter"]["uncertain_share"] = round(float(np.mean([c < hinter.uncertain_below for c in conf])), 4) if conf else None
    if baselines:
        ix = hinter.index
        vecs = hinter.encoder.encode(texts)
        tf = ix.baseline_tfidf(texts, top=5)
        en = ix.baseline_encoder(texts, top=5, vecs=vecs)
        result["baseline_tfidf"] = _strip_ece(score(rows, _baseline_preds(tf)))
        result["baseline_encoder"] = _strip_ece(score(rows, _baseline_preds(en)))
    return result


def _strip_ece(d: dict) -> dict:
    d = dict(d)
    for key in ("ece", "ece_interval_90", "ece_noise_floor"):
        d[key] = None  # a nearest-description baseline gives no probability to calibrate
    return d


def evaluate_file(path, register: str = "firm") -> dict:
    rows = load_labelled_csv(Path(path), check=False)
    result = evaluate_rows(rows, register=register)
    result["labels"] = str(path)
    return result


def dev_cross_validation(path, folds: int = 5, seed: int = 2022) -> dict:
    """Figures on a labelled file used *as training data* only under K-fold rotation.

    For each fold the ranker is refitted on the project corpus plus the other folds' rows (which
    also join the neighbour examples), its firm correction refitted on the firm calibration set,
    and scored on the held-out fold only. Nothing is saved:
    the shipped model never sees the file.
    """
    from sklearn.model_selection import KFold

    from .hinter import Hinter
    from .ranker import word_count
    from .train import FIRM_CALIBRATION, attach_register_corrections, candidate_matrix, fit_ranker, load_firm_calibration, training_index

    rows = load_labelled_csv(Path(path), check=False)
    for i, r in enumerate(rows):
        r["group"] = f"labelled:{i}"
    lexicon, corpus, base_examples, index = training_index()
    firm_rows = load_firm_calibration()
    preds: list = [None] * len(rows)
    for tr, te in KFold(n_splits=folds, shuffle=True, random_state=seed).split(rows):
        train_rows = [rows[i] for i in tr]
        index.set_examples(base_examples + train_rows)
        queries = corpus + train_rows
        X, y, rid, _ = candidate_matrix(index, lexicon, queries)
        ranker, _ = fit_ranker(X, y, rid, [q["group"] for q in queries], [word_count(q["text"]) for q in queries])
        attach_register_corrections(ranker, index, lexicon, firm_rows, None, FIRM_CALIBRATION.name)
        hinter = Hinter(index=index, ranker=ranker, lexicon=lexicon)
        for i, hints in zip(te, hinter.hint([rows[i]["text"] for i in te], top=5)):
            preds[i] = hints
    index.set_examples(base_examples)
    out = score(rows, preds)
    conf = [p[0]["confidence"] if p else 0.0 for p in preds]
    correct = [bool(p) and p[0]["hs4"] == r["hs4"] for r, p in zip(rows, preds)]
    out["reliability"] = reliability_table(conf, correct)
    out["protocol"] = f"{folds}-fold: corpus + {folds - 1}/{folds} of the file as training and examples, scored on the rest"
    return out


def correction_figures(path, hinter=None, register: str = "customs") -> dict:
    """The shipped hinter's register correction re-examined on the file it is fitted on.

    A correction fitted on a file and scored on it looks better than it is: this refits the
    register's correction (in its shipped form) on 4/5 of the file's rows over the shipped base
    map and scores the top hint of the other fifth (``train.cross_fit_correction``, 20 shuffles),
    beside the in-sample figure. Nothing is saved. Meant for CBP validation (customs) and the firm
    calibration set (firm).
    """
    from .hinter import get_hinter
    from .train import base_probabilities, cross_fit_correction

    hinter = hinter or get_hinter()
    if hinter.ranker is None:
        raise ValueError("no trained ranker: run `python -m nlp.hs.train`")
    rows = load_labelled_csv(Path(path), check=False)
    p, y, rid = base_probabilities(hinter.ranker, hinter.index, hinter.lexicon, rows)
    shipped = getattr(hinter.ranker.calibration, register, None) or {}
    form = shipped.get("form", "platt")
    return {"labels": str(path), "form": form, **cross_fit_correction(p, y, rid, form=form)}


def misses(path, limit: int = 20, register: str = "firm") -> list[dict]:
    """The rows the shipped hinter gets wrong at top-3 heading (for the docs' 'typical misses')."""
    from .hinter import get_hinter

    rows = load_labelled_csv(Path(path), check=False)
    preds = get_hinter().hint([r["text"] for r in rows], top=3, register=register)
    out = []
    for r, p in zip(rows, preds):
        if r["hs4"] not in [h["hs4"] for h in p]:
            out.append({"text": r["text"], "gold": r["hs4"], "got": [h["hs4"] for h in p],
                        "top_confidence": p[0]["confidence"] if p else None})
    return out[:limit]


# The project's held-out firm-style sets: each written by another writer who never read the corpus,
# the lexicon or the calibration set, about other products than hs_dev.csv's; never training data.
HELDOUT_FIRM = Path(__file__).resolve().parents[2] / "tests" / "data" / "hs_heldout_firm.csv"
HELDOUT_FIRM_SETS = (HELDOUT_FIRM, HELDOUT_FIRM.with_name("hs_heldout_firm2.csv"))


def main(argv=None) -> int:
    """``python -m nlp.hs.evaluate``: the figures in docs/nlp.md, from ../shared/data."""
    import argparse
    import json

    ap = argparse.ArgumentParser(description="HS hint figures for docs/nlp.md")
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    ap.add_argument("--skip-cv", action="store_true")
    ap.add_argument("--skip-test", action="store_true",
                    help="leave cbp_rulings_test.csv unscored: for tuning runs, which choose on validation only")
    args = ap.parse_args(argv)
    if not args.shared.exists():
        raise SystemExit(f"{args.shared} is absent: the shared evaluation files are not on this machine")
    report = {}
    names = ("hs_dev.csv", "cbp_rulings_validation.csv") + (() if args.skip_test else ("cbp_rulings_test.csv",))
    for name in names:
        r = evaluate_file(args.shared / name, register="customs" if name.startswith("cbp") else "firm")
        report[name] = r
    from .train import FIRM_CALIBRATION

    report["customs correction, re-fitted out of sample on cbp_rulings_validation.csv"] = correction_figures(
        args.shared / "cbp_rulings_validation.csv")
    report["firm correction, re-fitted out of sample on calibration_firm.csv"] = correction_figures(FIRM_CALIBRATION, register="firm")
    for path in HELDOUT_FIRM_SETS:
        if path.exists():
            report[path.name] = evaluate_file(path, register="firm")
            report[f"misses_{path.stem}"] = misses(path, 60)
    if not args.skip_cv:
        report["hs_dev.csv (cross-validated)"] = dev_cross_validation(args.shared / "hs_dev.csv")
    report["misses_dev"] = misses(args.shared / "hs_dev.csv", 40)
    report["misses_cbp_validation"] = misses(args.shared / "cbp_rulings_validation.csv", 40, "customs")
    report["calibration_summary"] = calibration_summary(report)
    print(json.dumps(report, indent=1, default=str))
    return 0


def calibration_summary(report: dict) -> dict:
    """One line per scored file: the ECE beside its interval and the perfectly calibrated model's."""
    out = {}
    for name, r in report.items():
        fig = r.get("hinter", r) if isinstance(r, dict) else None
        if not isinstance(fig, dict) or fig.get("ece") is None:
            continue
        lo, hi = fig["ece_interval_90"]
        floor = fig["ece_noise_floor"]
        out[name] = (f"ECE {fig['ece']:.3f} (bootstrap 90% {lo:.3f}-{hi:.3f}); a perfectly calibrated model "
                     f"on these confidences: {floor['mean']:.3f} mean, {floor['p90']:.3f} p90, "
                     f"<= {ECE_TARGET} in {floor['share_meeting_target']:.0%} of draws")
    for name, r in report.items():
        if isinstance(r, dict) and "cross_fitted" in r:
            cf, floor = r["cross_fitted"], r["cross_fitted"]["noise_floor"]
            out[name] = (f"in-sample ECE {r['in_sample']['ece']:.3f}, log loss {r['in_sample']['log_loss']:.3f}; "
                         f"cross-fitted ECE {cf['ece']:.3f} (sd {cf['ece_sd']:.3f} over shuffles), log loss "
                         f"{cf['log_loss']:.3f}; a perfectly calibrated model: {floor['mean']:.3f} mean, "
                         f"{floor['p90']:.3f} p90")
    return out


if __name__ == "__main__":
    import sys

    sys.exit(main())
