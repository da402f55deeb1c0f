"""The eleventh round's study of ranker columns (docs/nlp.md, "Probe variants and text length").

    python bench/hs_probe_variants.py c10 '{"base": [], "chap": ["chap_probe"], "head": ["head_probe_lp", "head_probe_rank"]}'

One training candidate matrix with every ``ranker.VARIANT_FEATURES`` column (the cross-fitted
probe at the C of the tag, ``c10`` -> C = 10; cached in ``var/cache/hs/variants-<tag>.npz``), then
per variant one ranker fitted on the columns that are not variants plus the named ones, scored through the real ``Hinter`` on CBP validation (customs register), hs_dev and the two
held-out firm sets. Why not ``python -m nlp.hs.train`` per variant: the ranker's order is all
these figures read, and one matrix with a 40-second fit per variant is a tenth of a retrain's
time; the calibration is the shipped ``ranker.json``'s (so no ECE here: retrain what is kept).
Prints one JSON line per variant: top-1 chapter / top-1 heading / top-3 heading / top-1 subheading.
Never reads the CBP test file.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from nlp.hs import probe as P
from nlp.hs import ranker as R
from nlp.hs.corpus import load_labelled_csv
from nlp.hs.evaluate import HELDOUT_FIRM_SETS, evaluate_rows
from nlp.hs.hinter import RANKER_FILE, Hinter
from nlp.hs.retrieval import CACHE_DIR
from nlp.hs.train import candidate_matrix, new_model, training_index

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LEVELS = ("top1_chapter", "top1_heading", "top3_heading", "top1_subheading")


def main(tag: str, variants: dict) -> None:
    base = [f for f in R.FEATURES if f not in R.VARIANT_FEATURES]
    if tag.startswith("c"):
        P.C = float(tag[1:])
    t0 = time.time()
    lexicon, corpus, _, index = training_index()
    R.FEATURES[:] = base + list(R.VARIANT_FEATURES)
    every = list(R.FEATURES)
    mat = CACHE_DIR / f"variants-{tag}.npz"
    if mat.exists():
        with np.load(mat) as z:
            X, y = z["X"], z["y"]
    else:
        X, y, _, _ = candidate_matrix(index, lexicon, corpus)
        np.savez(mat, X=X, y=y)
    print(f"matrix {X.shape} in {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    cal = R.Calibration.from_json(json.loads(RANKER_FILE.read_text())["calibration"])
    files = [("validation", SHARED / "cbp_rulings_validation.csv", "customs"), ("hs_dev", SHARED / "hs_dev.csv", "firm")]
    files += [(p.stem, p, "firm") for p in HELDOUT_FIRM_SETS if p.exists()]
    rows = {k: load_labelled_csv(p, check=False) for k, p, _ in files}
    for name, extra in variants.items():
        feats = base + [f for f in R.VARIANT_FEATURES if f in extra]
        R.FEATURES[:] = feats
        t = time.time()
        model = new_model().fit(X[:, [every.index(f) for f in feats]], y)
        hinter = Hinter(index=index, ranker=R.Ranker(model, cal), lexicon=lexicon)
        out = {"tag": tag, "variant": name, "extra": extra, "fit_s": round(time.time() - t)}
        for k, _, register in files:
            m = evaluate_rows(rows[k], hinter, baselines=False, register=register)["hinter"]
            out[k] = [round(100 * m[x], 1) for x in LEVELS]
        print(json.dumps(out), flush=True)
    R.FEATURES[:] = base


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
