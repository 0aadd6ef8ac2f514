"""Our metrics code: its wiring of scikit-learn on a case worked by hand, the edge cases of
small folds, ECE (which scikit-learn lacks) against a direct computation, the fold summary, and
temperature scaling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from monitor.training.calibration import T_MAX, T_MIN, fit_temperature, nll, pain_probability
from monitor.training.metrics import METRICS, binary_metrics, ece, summarise

RNG = np.random.default_rng(7)


def test_metrics_of_a_small_case_worked_by_hand():
    """y 0 0 1 1 1, p .2 .7 .6 .4 .9 at threshold 0.5: tn 1, fp 1, fn 1, tp 2; of the 6
    (pain, no pain) pairs the pain image scores higher in 4; squared errors sum to 1.06."""
    got = binary_metrics(np.array([0, 0, 1, 1, 1]), np.array([0.2, 0.7, 0.6, 0.4, 0.9]))
    assert got["confusion"] == [[1, 1], [1, 2]] and (got["n"], got["n_pain"]) == (5, 3)
    assert got["accuracy"] == pytest.approx(3 / 5)
    assert got["precision"] == pytest.approx(2 / 3) and got["recall"] == pytest.approx(2 / 3)
    assert got["specificity"] == pytest.approx(1 / 2) and got["f1"] == pytest.approx(2 / 3)
    assert got["roc_auc"] == pytest.approx(4 / 6) and got["brier"] == pytest.approx(1.06 / 5)
    assert list(got)[:len(METRICS)] == list(METRICS)


def test_no_predicted_pain_gives_zero_precision_not_an_error():
    got = binary_metrics(np.array([0, 1, 1]), np.array([0.1, 0.2, 0.3]))
    assert got["precision"] == 0.0 and got["f1"] == 0.0 and got["recall"] == 0.0


@pytest.mark.parametrize("y", [[1, 1], [0, 0]])
def test_a_fold_of_one_class_has_an_undefined_auc_and_the_rest_defined(y):
    got = binary_metrics(np.array(y), np.array([0.2, 0.9]))
    assert math.isnan(got["roc_auc"])
    assert got["accuracy"] == 0.5 and got["brier"] == pytest.approx(((0.2 - y[0]) ** 2 + (0.9 - y[0]) ** 2) / 2)
    assert summarise([got["roc_auc"], 0.8, 0.9])["undefined_folds"] == 1


def _direct_ece(y, p, bins):
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(yi, pi) for yi, pi in zip(y, p) if lo <= pi < hi or (b == bins - 1 and pi == 1.0)]
        if inside:
            conf = sum(pi for _, pi in inside) / len(inside)
            rate = sum(yi for yi, _ in inside) / len(inside)
            total += len(inside) / len(y) * abs(conf - rate)
    return total


@pytest.mark.parametrize("bins", [5, 10, 15])
def test_ece_matches_a_direct_computation(bins):
    p = RNG.uniform(0, 1, 300)
    p[:3] = [0.0, 1.0, 0.5]
    y = (RNG.uniform(0, 1, 300) < p ** 2).astype(int)
    assert ece(y, p, bins) == pytest.approx(_direct_ece(y, p, bins), abs=1e-12)
    assert ece(y, p, bins) > 0.05  # p**2 as the true rate: clearly miscalibrated


def test_summary_is_mean_sd_and_t_interval():
    values = [0.81, 0.9, 0.77, 0.86, 0.95]
    got = summarise(values)
    sd = np.std(values, ddof=1)
    half = stats.t.ppf(0.975, 4) * sd / math.sqrt(5)
    assert got["mean"] == pytest.approx(np.mean(values)) and got["sd"] == pytest.approx(sd)
    assert got["ci95"] == pytest.approx([np.mean(values) - half, min(np.mean(values) + half, 1.0)])
    assert summarise([0.5, float("nan"), 0.7])["undefined_folds"] == 1


def test_temperature_recovers_the_true_one():
    """Labels drawn from softmax(z / 2.5): fitting on z must find T close to 2.5."""
    margin = RNG.normal(0, 6, 20000)
    logits = np.stack([np.zeros_like(margin), margin], axis=1)
    y = (RNG.uniform(0, 1, len(margin)) < 1 / (1 + np.exp(-margin / 2.5))).astype(int)
    t = fit_temperature(logits, y)
    assert t == pytest.approx(2.5, rel=0.05)
    assert nll(logits, y, t) < nll(logits, y, 1.0)
    before, after = pain_probability(logits, 1.0, [1]), pain_probability(logits, t, [1])
    assert ece(y, after) < ece(y, before) / 3
    assert np.array_equal(before >= 0.5, after >= 0.5)  # no decision changes


def test_temperature_is_bounded_on_separable_data():
    logits = np.array([[0.0, 3.0], [0.0, -3.0]] * 10)
    assert fit_temperature(logits, np.array([1, 0] * 10)) == pytest.approx(T_MIN, rel=1e-3)
    assert fit_temperature(logits, np.array([0, 1] * 10)) == pytest.approx(T_MAX, rel=1e-3)
