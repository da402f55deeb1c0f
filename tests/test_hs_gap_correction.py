"""The register correction that also reads the logit gap (``ranker.logit_gaps``,
``train.fit_platt_gap``, ``train.choose_correction``): it must keep every text's hint order, be
offered only when it cannot reorder, and be chosen only on cross-fitted figures."""

import numpy as np
import pytest

from nlp.hs.ranker import Calibration, apply_correction, logit_gaps
from nlp.hs.train import choose_correction, cross_fit_correction, fit_platt_gap


def _logit(p):
    return np.log(p / (1 - p))


def test_gaps_per_text():
    p = np.array([0.1, 0.7, 0.2, 0.9, 0.5, 0.05])
    rid = np.array([0, 0, 0, 1, 2, 2])
    g = logit_gaps(p, rid)
    z = _logit(p)
    assert g[1] == pytest.approx(z[1] - z[2]) and g[0] == pytest.approx(z[0] - z[1])
    assert g[3] == 10.0  # a lone candidate reads as a wide, capped lead
    assert g[4] == pytest.approx(z[4] - z[5]) and g[5] == pytest.approx(z[5] - z[4])
    # rows need not be sorted or contiguous
    perm = np.array([5, 2, 0, 4, 1, 3])
    assert np.allclose(logit_gaps(p[perm], rid[perm]), g[perm])
    assert np.allclose(logit_gaps(p[:3]), g[:3])  # default: one text


def _synthetic_with_gap(rows: int, seed: int, g_true: float = 0.8):
    """Rows whose top candidate is right more often the wider its lead over the runner-up."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 8, rows)
    rid = np.repeat(np.arange(rows), sizes)
    p = rng.uniform(0.02, 0.98, len(rid))
    gap = logit_gaps(p, rid)
    true = 1 / (1 + np.exp(-(0.6 * _logit(p) + g_true * gap - 0.8)))
    return p, (rng.random(len(rid)) < true).astype(int), rid


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gap_form_never_reorders_a_texts_hints(seed):
    p, y, rid = _synthetic_with_gap(800, seed)
    fit = fit_platt_gap(p, y, rid)
    assert fit is not None and fit["g"] > 0
    conf = apply_correction(fit, p, rid)
    for r in np.unique(rid):
        m = rid == r
        assert np.array_equal(np.argsort(-p[m], kind="stable"), np.argsort(-conf[m], kind="stable"))


def test_a_fit_that_could_reorder_is_not_offered():
    # The runner-up is right far more often than a wide lead would say: a strongly negative gap.
    rng = np.random.default_rng(5)
    rid = np.repeat(np.arange(600), 3)
    p = rng.uniform(0.02, 0.98, len(rid))
    gap = logit_gaps(p, rid)
    y = (gap < -0.5).astype(int)
    assert fit_platt_gap(p, y, rid) is None
    assert choose_correction(p, y, rid)["form"] == "platt"


def test_the_choice_follows_cross_fitted_ece_and_keeps_both_figures():
    p, y, rid = _synthetic_with_gap(1500, 3, g_true=1.2)
    got = choose_correction(p, y, rid)
    compared = got["forms_compared"]
    assert set(compared) == {"platt", "platt+gap"}
    assert got["form"] == min(compared, key=lambda f: compared[f]["ece"])
    assert got["form"] == "platt+gap"  # the gap is real here, and the data large enough to see it
    assert "g" in got and got["cross_fit"]["cross_fitted"] == compared["platt+gap"]


def test_calibration_reads_rid_only_for_the_gap_form():
    q = np.array([0.6, 0.3, 0.1, 0.8, 0.2])
    rid = np.array([0, 0, 0, 1, 1])
    nn, nw = np.full(5, 0.7), np.full(5, 8)
    two = Calibration([1, 0, 0, 0, 0], 0.0, customs={"a": 1.1, "b": -0.2})
    assert np.allclose(two(q, nn, nw, "customs", rid), two(q, nn, nw, "customs"))
    gap = Calibration([1, 0, 0, 0, 0], 0.0, customs={"a": 1.1, "g": 0.5, "b": -0.2})
    together = gap(q, nn, nw, "customs", rid)
    apart = np.r_[gap(q[:3], nn[:3], nw[:3], "customs"), gap(q[3:], nn[3:], nw[3:], "customs")]
    assert np.allclose(together, apart)  # a batch gives what each text gives alone


def test_unknown_form_is_an_error():
    p, y, rid = _synthetic_with_gap(50, 4)
    with pytest.raises(ValueError, match="form"):
        cross_fit_correction(p, y, rid, form="isotonic")
