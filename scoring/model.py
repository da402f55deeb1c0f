"""The readiness model: one Pipeline, chosen by cross-validation against a baseline, calibrated.

Why this shape (scikit-learn's own advice, ``doc/common_pitfalls.rst``): all preprocessing sits
inside the Pipeline so no fold sees another fold's statistics; every candidate is scored on the
same stratified folds with a fixed seed; the figures on the model card are out-of-fold
predictions of the *calibrated* chosen model, so they describe what staff will see.
The baseline is the honest floor: every firm gets the share of firms that export
(``DummyClassifier(strategy="prior")``). A size-only logistic model is also reported, since
"big firms export" is the rule of thumb any model must beat to be worth its complexity.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field

import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from .features import COLUMNS, NUMERIC, make_column_transformer, to_float

MODEL_VERSION = "readiness-2"
DEFAULT_SEED = 2020
MIN_CLASS_ROWS = 10  # fewer positives (or negatives) than this: no model, the prior only


def candidates(seed: int) -> dict[str, Pipeline]:
    """The estimators tried; the one with the best cross-validated ROC-AUC is kept."""
    return {
        "logistic_regression": Pipeline(
            [("features", make_column_transformer()), ("model", LogisticRegression(C=1.0, max_iter=2000))]
        ),
        # the same, regularised harder: a few hundred labelled firms and ~40 columns overfit easily
        "logistic_regression_c0.1": Pipeline(
            [("features", make_column_transformer()), ("model", LogisticRegression(C=0.1, max_iter=2000))]
        ),
        "gradient_boosting": Pipeline(
            [
                ("features", make_column_transformer(dense=True)),
                (
                    "model",
                    HistGradientBoostingClassifier(
                        max_iter=150, learning_rate=0.08, max_leaf_nodes=15, min_samples_leaf=20, l2_regularization=1.0, early_stopping=False, random_state=seed
                    ),
                ),
            ]
        ),
    }


def baselines() -> dict[str, Pipeline]:
    size_col = NUMERIC.index("log_employees")
    size_only = ColumnTransformer(
        [("size", Pipeline([("float", FunctionTransformer(to_float)), ("impute", SimpleImputer(strategy="median"))]), [size_col])]
    )
    return {
        "prior": Pipeline([("features", make_column_transformer()), ("model", DummyClassifier(strategy="prior"))]),
        "size_only_logistic": Pipeline([("features", size_only), ("model", LogisticRegression(max_iter=1000))]),
    }


@dataclass
class TrainedModel:
    model: object  # fitted, calibrated; predict_proba on an object array with COLUMNS
    estimator: str
    params: dict
    rows: int
    positives: int
    cv: dict  # chosen model and baseline figures, out of fold
    candidates: dict  # every candidate's out-of-fold figures
    calibration: list  # [{bin_mean_predicted, observed_rate, n}]
    data_sha256: str
    seed: int
    versions: dict = field(default_factory=dict)


def _figures(y, p) -> dict:
    return {"roc_auc": float(roc_auc_score(y, p)), "brier": float(brier_score_loss(y, p))}


def data_hash(X, y) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(COLUMNS).encode())
    for row, label in zip(X.tolist(), y.tolist()):
        digest.update(repr((row, label)).encode())
    return digest.hexdigest()


def calibration_table(y, p, bins: int = 10) -> list[dict]:
    """Observed export rate against predicted probability, by bin of equal count."""
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
    table = []
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    for b in range(len(edges) - 1):
        mask = idx == b
        if mask.any():
            table.append({"predicted": round(float(p[mask].mean()), 4), "observed": round(float(y[mask].mean()), 4), "n": int(mask.sum())})
    return table


def train(X: np.ndarray, y: np.ndarray, seed: int = DEFAULT_SEED, folds: int = 5, max_rows: int = 60000) -> TrainedModel:
    """Pick the estimator by stratified CV, calibrate it, and measure it against the baseline.

    Above ``max_rows`` labelled firms a stratified sample of that size is used for training
    (stated on the model card); scoring always covers every firm.
    """
    versions = {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "numpy": np.__version__}
    positives = int(y.sum())
    rows = int(len(y))
    sha = data_hash(X, y)
    if positives < MIN_CLASS_ROWS or rows - positives < MIN_CLASS_ROWS:
        model = baselines()["prior"].fit(X, y) if len(set(y.tolist())) > 1 else _ConstantModel(float(y.mean()) if rows else 0.0)
        return TrainedModel(model, "prior only (too few labelled firms to learn from)", {}, rows, positives, {}, {}, [], sha, seed, versions)
    if rows > max_rows:
        rng = np.random.default_rng(seed)
        keep = np.concatenate([rng.choice(np.flatnonzero(y == c), size=int(round(max_rows * (y == c).mean())), replace=False) for c in (0, 1)])
        keep.sort()
        X, y = X[keep], y[keep]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    results = {}
    for name, pipe in {**candidates(seed), **baselines()}.items():
        p = cross_val_predict(pipe, X, y, cv=splitter, method="predict_proba")[:, 1]
        results[name] = _figures(y, p)
    chosen = max(candidates(seed), key=lambda name: (results[name]["roc_auc"], name))
    calibrated = CalibratedClassifierCV(candidates(seed)[chosen], method="sigmoid", cv=StratifiedKFold(3, shuffle=True, random_state=seed), ensemble=False)
    p_oof = cross_val_predict(calibrated, X, y, cv=splitter, method="predict_proba")[:, 1]
    cv = {"chosen": chosen, "calibrated": _figures(y, p_oof), "baseline": "prior", **{f"baseline_{k}": v for k, v in results["prior"].items()}, "folds": folds, "training_rows_used": int(len(y))}
    model = clone(calibrated).fit(X, y)
    params = {k: v for k, v in candidates(seed)[chosen].named_steps["model"].get_params().items() if isinstance(v, (int, float, str, bool, type(None)))}
    params["calibration"] = "sigmoid, 3-fold, ensemble=False"
    return TrainedModel(model, chosen, params, rows, positives, cv, results, calibration_table(y, p_oof), sha, seed, versions)


class _ConstantModel:
    """Every firm gets the same probability: used when there is nothing to learn from."""

    def __init__(self, p: float):
        self.p = p

    def predict_proba(self, X):
        n = len(X)
        return np.column_stack([np.full(n, 1 - self.p), np.full(n, self.p)])
