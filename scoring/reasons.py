"""Plain-English reasons whose points add up to the score.

Why this way: a score a trade officer cannot take apart is a score nobody trusts. The score is

    score = start + (readiness reasons) + (market reasons) + other

- ``start``: the points a typical firm of this population gets from the readiness part (the
  model's probability for a firm with every fact at its median or most common value);
- a readiness reason: that fact's share of the gap between the firm's readiness and the
  typical firm's, measured by setting that one fact to the typical value, all others kept
  ("occlusion", in log-odds, see :func:`occlusion`); exact for a logistic model, nearly so for
  a boosted one, the difference shown as its own line, ``other``, never hidden;
- a market reason: one of the market part's pieces, each with its figure and the reference
  row it comes from (the market part is a sum of these pieces, so they are exact).
Every row is stored, so ``sum(contribution) == score`` for every firm (tested).
"""

from __future__ import annotations

import json
import math

import numpy as np

from .features import COLUMNS, FEATURE_LABELS

TOP_REASONS = 3  # readiness reasons shown; the market part's pieces (up to 3) are all shown
SECTION_NAMES: dict[str, str] = {}  # filled from hs_sections by the score run


EPS = 1e-9


def _logit(p):
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


def occlusion(model, X: np.ndarray, reference: np.ndarray, batch: int = 50000) -> tuple[np.ndarray, np.ndarray, float]:
    """Probability, each feature's share of ``p - p(typical)`` in probability, and p(typical).

    Each feature's effect is measured in log-odds: ``logit p(x) - logit p(x with that feature
    typical)``. The log-odds gap to the typical firm is then shared out in proportion. For a
    logistic model with sigmoid calibration the log-odds effects add up exactly, so the shares
    sum to ``p - p(typical)``; for a boosted model they nearly do, and the rest is shown as
    "other" by :func:`firm_reasons`.
    """
    n = len(X)
    p = np.empty(n)
    effects = np.empty((n, len(COLUMNS)))
    for start in range(0, n, batch):
        chunk = X[start : start + batch]
        p_chunk = model.predict_proba(chunk)[:, 1]
        p[start : start + batch] = p_chunk
        for j in range(len(COLUMNS)):
            swapped = chunk.copy()
            swapped[:, j] = reference[j]
            effects[start : start + batch, j] = _logit(p_chunk) - _logit(model.predict_proba(swapped)[:, 1])
    p_ref = float(model.predict_proba(reference.reshape(1, -1))[:, 1][0])
    gap = _logit(p) - _logit(np.array([p_ref]))[0]
    scale = np.where(np.abs(gap) > 1e-9, (p - p_ref) / np.where(np.abs(gap) > 1e-9, gap, 1.0), 0.0)
    return p, effects * scale[:, None], p_ref


def _num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def describe(feature: str, value, typical) -> tuple[str, float | None]:
    """The fact in words, and the figure behind it (as the firm's data gives it)."""
    v, t = _num(value), _num(typical)
    if feature == "log_employees":
        if v is None:
            return "Its number of employees is not known", None
        n = round(10**v)
        typical = f" (a typical firm here: about {round(10**t):,})" if t is not None else ""
        return f"About {n:,} employees{typical}", float(n)
    if feature == "years_in_business":
        if v is None:
            return "Its founding year is not known", None
        typical = f" (typical here: {t:.0f})" if t is not None else ""
        return f"In business about {v:.0f} years{typical}", v
    if feature == "n_certifications":
        return (f"Lists {v:.0f} certification{'s' if v != 1 else ''}" if v else "Lists no certifications"), v
    if feature == "international_certs":
        if not v:
            return "No certification to an international standard (ISO, AS9100, CE ...) found", v
        return f"Holds {v:.0f} certification{'s' if v != 1 else ''} to international standards (ISO, AS9100, CE ...)", v
    if feature == "n_sources":
        return f"Listed in {v:.0f} director{'ies' if v != 1 else 'y'}", v
    if feature == "has_website":
        return ("Has a website" if v else "No website found"), v
    if feature == "distance_to_port_km":
        if v is None:
            return "Its location is not known", None
        return f"About {v:,.0f} km from the Port of LA", round(v, 1)
    if feature == "n_products":
        return (f"{v:.0f} product{'s' if v != 1 else ''} recognised in its listings" if v else "No products recognised in its listings"), v
    if feature == "n_hs_chapters":
        return (f"Its products fall in {v:.0f} HS chapter{'s' if v != 1 else ''}" if v else "No HS chapter recognised"), v
    if feature == "log_facility_sqft":
        if v is None:
            return "Its facility size is not known", None
        return f"A facility of about {round(10**v):,} sq ft", float(round(10**v))
    if feature == "hs_section":
        if value in (None, "none"):
            return "No product group recognised", None
        name = SECTION_NAMES.get(str(value))
        return f"Makes goods in HS section {value}" + (f" ({name})" if name else ""), None
    if feature == "county":
        if value in (None, "unknown"):
            return "County not known", None
        county = str(value)
        return f"Based in {county if county.lower().endswith(' county') else county + ' County'}", None
    return f"{FEATURE_LABELS.get(feature, feature)}: {value}", v


def readiness_reason(feature: str, value, typical, points: float) -> dict:
    fact, figure = describe(feature, value, typical)
    direction = "more" if points >= 0 else "less"
    return {
        "feature": feature,
        "part": "readiness",
        "contribution": points,
        "sentence": f"{fact}: firms like this look {direction} like exporters ({points:+.1f} points).",
        "figure": figure,
        "source": "the firm's listings (resolve and extract stages)",
        "cites_table": None,
        "cites_key": None,
        "cites_column": None,
    }


def firm_reasons(firm_id: str, score: float, start_points: float, readiness_points: np.ndarray, x_row: np.ndarray, reference: np.ndarray, market_components: list, market_weight: float, top: int = TOP_REASONS) -> list[dict]:
    """All reason rows for one firm: the top readiness reasons and every market piece, largest
    first; then the start; then one line for the rest, so the rows sum to the score."""
    readiness = []
    for j, feature in enumerate(COLUMNS):
        pts = float(readiness_points[j])
        if abs(pts) >= 0.05:
            readiness.append(readiness_reason(feature, x_row[j], reference[j], pts))
    readiness.sort(key=lambda r: (-abs(r["contribution"]), r["feature"]))
    candidates = readiness[:top]
    for c in market_components:
        candidates.append(
            {
                "feature": c.feature,
                "part": "market_fit",
                "contribution": market_weight * c.points,
                "sentence": f"{c.sentence[:-1]} ({market_weight * c.points:+.1f} points).",
                "figure": c.figure,
                "source": c.source,
                "cites_table": c.cites_table,
                "cites_key": json.dumps(c.cites_key) if c.cites_key is not None else None,
                "cites_column": c.cites_column,
            }
        )
    candidates.sort(key=lambda r: (-abs(r["contribution"]), r["feature"]))
    shown = candidates
    rows = shown + [
        {
            "feature": "start",
            "part": "start",
            "contribution": start_points,
            "sentence": f"A typical firm in this population starts at {start_points:.1f} points from the readiness part.",
            "figure": None,
            "source": "readiness model (model_runs)",
            "cites_table": None,
            "cites_key": None,
            "cites_column": None,
        }
    ]
    other = score - sum(r["contribution"] for r in rows)
    rows.append(
        {
            "feature": "other",
            "part": "other",
            "contribution": other,
            "sentence": f"Other facts not listed here, and how the facts combine: {other:+.1f} points.",
            "figure": None,
            "source": "readiness model (model_runs)",
            "cites_table": None,
            "cites_key": None,
            "cites_column": None,
        }
    )
    for rank, row in enumerate(rows, start=1):
        row["firm_id"] = firm_id
        row["rank"] = rank
    return rows

