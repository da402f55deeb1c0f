"""How much of an ECE is chance: the noise floor and bootstrap interval in ``nlp.hs.evaluate``.

The customs calibration is judged on 154 rows; these tests pin down that the figures read beside
an ECE behave as statistics should (a perfectly calibrated model sits under its floor's p90 about
nine times in ten, a miscalibrated one far above it, the floor shrinks with more rows), without
running the hinter.
"""

from __future__ import annotations

import numpy as np
import pytest

from nlp.hs.evaluate import ece, ece_interval, ece_many, ece_noise_floor, ece_report, score


@pytest.mark.parametrize("seed", range(5))
def test_ece_many_matches_ece_row_by_row(seed):
    rng = np.random.default_rng(seed)
    conf = rng.random((7, 60))
    conf[0, :5] = [0.0, 1.0, 0.1, 0.2, 0.9999]  # bin edges and ends
    correct = rng.random((7, 60)) < 0.6
    for bins in (5, 10):
        many = ece_many(conf, correct, bins)
        for k in range(7):
            assert many[k] == pytest.approx(ece(conf[k], correct[k], bins), abs=1e-12)


def test_noise_floor_is_reproducible_and_ordered():
    conf = np.random.default_rng(1).uniform(0.1, 0.99, 154)
    a, b = ece_noise_floor(conf), ece_noise_floor(conf)
    assert a == b  # seeded
    assert 0.0 < a["mean"] <= a["p90"] < 1.0
    assert ece_noise_floor(conf, seed=7)["mean"] == pytest.approx(a["mean"], abs=0.01)


def test_noise_floor_shrinks_with_more_rows():
    rng = np.random.default_rng(2)
    small = ece_noise_floor(rng.uniform(0.2, 0.95, 150))["mean"]
    large = ece_noise_floor(rng.uniform(0.2, 0.95, 6000), sims=200)["mean"]
    assert small > 0.03  # 150 rows: chance alone gives a few hundredths
    assert large < small / 4  # about 1/sqrt(n): 40x the rows, ~6x smaller


def test_a_calibrated_model_stays_under_p90_about_nine_times_in_ten():
    rng = np.random.default_rng(3)
    conf = rng.uniform(0.1, 0.99, 154)
    p90 = ece_noise_floor(conf)["p90"]
    outcomes = rng.random((400, 154)) < conf
    share_over = float(np.mean(ece_many(conf, outcomes) > p90))
    assert 0.04 < share_over < 0.17


def test_a_miscalibrated_model_is_far_above_the_floor():
    rng = np.random.default_rng(4)
    conf = rng.uniform(0.6, 0.99, 154)
    correct = rng.random(154) < conf - 0.25  # 25 points over-confident
    report = ece_report(conf, correct)
    assert report["ece"] > 2 * report["ece_noise_floor"]["p90"]
    lo, hi = report["ece_interval_90"]
    assert report["ece_noise_floor"]["p90"] < lo <= report["ece"] <= hi


def test_interval_brackets_the_point_figure_and_narrows_with_rows():
    rng = np.random.default_rng(5)
    widths = []
    for n in (100, 3000):
        conf = rng.uniform(0.1, 0.99, n)
        correct = rng.random(n) < np.clip(conf - 0.1, 0, 1)
        lo, hi = ece_interval(conf, correct, boots=500)
        assert lo <= ece(conf, correct) <= hi
        widths.append(hi - lo)
    assert widths[1] < widths[0] / 3


def test_empty_input_gives_no_figures_not_a_crash():
    assert ece_noise_floor([]) ["mean"] is None
    assert ece_interval([], []) == [None, None]
    assert np.isnan(ece_many(np.zeros((2, 0)), np.zeros((2, 0)))).all()


def test_score_reports_the_floor_beside_the_ece():
    rows = [{"text": f"t{i}", "hs4": "4015", "hs6": "401519"} for i in range(40)]
    preds = [[{"hs4": "4015" if i % 4 else "3926", "hs6": "", "confidence": 0.75}] for i in range(40)]
    out = score(rows, preds)
    assert out["ece"] == pytest.approx(0.0)  # 30 of 40 right at 0.75
    assert out["ece_noise_floor"]["mean"] > 0.0
    assert out["ece_interval_90"][0] <= out["ece_interval_90"][1]


# --- cross-fitting a register correction (nlp.hs.train), on synthetic candidates -----------------

from nlp.hs.train import apply_platt, cross_fit, cross_fit_correction, fit_platt, top_candidates  # noqa: E402


def _synthetic(rows: int, a: float, b: float, seed: int):
    """Rows of 1-6 candidates whose base probabilities are miscalibrated by a known Platt map:
    the true chance of a candidate is sigmoid(a * logit(p) + b)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 7, rows)
    rid = np.repeat(np.arange(rows), sizes)
    p = rng.uniform(0.01, 0.99, len(rid))
    true = 1 / (1 + np.exp(-(a * np.log(p / (1 - p)) + b)))
    return p, (rng.random(len(rid)) < true).astype(int), rid


def test_top_candidates_are_each_rows_best():
    p = np.array([0.1, 0.7, 0.2, 0.9, 0.5, 0.05])
    rid = np.array([0, 0, 0, 1, 2, 2])
    assert top_candidates(p, rid).tolist() == [1, 3, 4]


def test_platt_recovers_a_known_miscalibration():
    p, y, rid = _synthetic(4000, 0.7, -0.6, 0)
    fit = fit_platt(p, y)
    assert fit["a"] == pytest.approx(0.7, abs=0.08) and fit["b"] == pytest.approx(-0.6, abs=0.08)
    q = np.array([0.2, 0.5, 0.9])
    assert np.all(np.diff(apply_platt(fit, q)) > 0)  # monotone: the hints' order never changes


def test_cross_fit_never_scores_a_row_with_a_fit_that_saw_it():
    p, y, rid = _synthetic(60, 1.0, 0.0, 1)
    top = top_candidates(p, rid)

    def fit(pp, yy):
        return set(np.round(pp, 12))

    def apply(seen, pp):
        assert not set(np.round(pp, 12)) & seen
        return pp

    out = cross_fit(p, y, rid, fit, apply, folds=5, repeats=3)
    assert out.shape == (3, 60)
    assert np.allclose(out, p[top])  # every row scored once per shuffle, by a fit without it


def test_cross_fitted_figures_are_worse_than_in_sample_when_there_is_nothing_to_learn():
    p, _, rid = _synthetic(150, 1.0, 0.0, 2)
    y = (np.random.default_rng(9).random(len(p)) < 0.35).astype(int)  # outcomes unrelated to p
    figs = cross_fit_correction(p, y, rid, repeats=5)
    assert figs["cross_fitted"]["log_loss"] > figs["in_sample"]["log_loss"]
    assert figs["cross_fitted"]["noise_floor"]["mean"] > 0


def test_cross_fitted_ece_of_a_large_well_specified_set_is_near_its_noise_floor():
    p, y, rid = _synthetic(3000, 0.6, -0.5, 3)
    figs = cross_fit_correction(p, y, rid, repeats=2)
    assert figs["cross_fitted"]["ece"] < figs["cross_fitted"]["noise_floor"]["p90"] + 0.01
    assert figs["cross_fitted"]["ece"] < 0.03


# --- the candidate comparison (nlp.hs.calibration_study) -----------------------------------------

from nlp.hs import calibration_study  # noqa: E402


def test_candidate_inputs_gap_is_positive_only_for_each_rows_top():
    p = np.array([0.1, 0.7, 0.2, 0.9, 0.5, 0.05])
    rid = np.array([0, 0, 0, 1, 2, 2])
    extra = {"nn_sim": np.linspace(0, 1, 6), "n_words": np.array([3, 3, 3, 60, 12, 12]), "head": np.zeros(6)}
    got = calibration_study.candidate_inputs(p, rid, extra)
    z = np.log(p / (1 - p))
    assert got["gap"][1] == pytest.approx(z[1] - z[2])      # top minus the runner-up
    assert got["gap"][0] == pytest.approx(z[0] - z[1])      # others: minus the top (negative)
    assert got["gap"][3] == 10.0                            # a lone candidate: capped, not infinite
    assert got["gap"][4] > 0 > got["gap"][5]
    assert got["log_words"][3] == pytest.approx(np.log1p(40))  # capped as the base map caps it


def test_every_candidate_fits_and_predicts_probabilities():
    p, y, rid = _synthetic(120, 0.7, -0.6, 4)
    extra = {"nn_sim": np.full(len(p), 0.5), "n_words": np.full(len(p), 8), "head": np.zeros(len(p))}
    inputs = calibration_study.candidate_inputs(p, rid, extra)
    corpus = {"p": p[:50], "y": y[:50], "drill": np.arange(50) % 4 == 0}
    names = []
    for name, fit, apply, x in calibration_study.candidates(inputs, p, corpus):
        conf = cross_fit(p, y, rid, fit, apply, repeats=1, inputs=x)
        assert conf.shape == (1, 120) and np.all((conf >= 0) & (conf <= 1)), name
        names.append(name)
    assert sum("shipped" in n for n in names) == 1 and any("corpus" in n for n in names)


def test_the_study_refuses_the_test_file(tmp_path):
    path = tmp_path / "cbp_rulings_test.csv"
    path.write_text("text,hs4,hs6\nx,4015,401519\n")
    with pytest.raises(SystemExit, match="never used"):
        calibration_study.main(["--labels", str(path)])


def test_share_meeting_target_falls_as_the_file_shrinks():
    rng = np.random.default_rng(6)
    conf = rng.uniform(0.3, 0.95, 2000)
    big = ece_noise_floor(conf, sims=300)["share_meeting_target"]
    small = ece_noise_floor(conf[:150], sims=300)["share_meeting_target"]
    assert big > 0.95 and small < 0.5
