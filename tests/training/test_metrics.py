"""Metrics and calibration against scikit-learn / scipy / direct computation on fixed predictions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from monitor.training.calibration import T_MAX, T_MIN, fit_temperature, nll, pain_probability
from monitor.training.metrics import binary_metrics, ece, roc_curve, summarise

RNG = np.random.default_rng(7)
Y = RNG.integers(0, 2, 200)
# informative but imperfect, with ties (rounded) and values exactly at the 0.5 threshold
P = np.round(np.clip(0.35 * Y + RNG.uniform(0, 0.65, 200), 0, 1), 2)
P[:5] = 0.5


@pytest.mark.parametrize("y, p", [(Y, P), (Y[:15], P[:15]),
                                  (np.array([0, 0, 1, 1]), np.array([0.9, 0.8, 0.1, 0.2]))])
def test_binary_metrics_match_scikit_learn(y, p):
    got = binary_metrics(y, p)
    pred = (p >= 0.5).astype(int)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert got["precision"] == pytest.approx(skm.precision_score(y, pred, zero_division=0))
    assert got["recall"] == pytest.approx(skm.recall_score(y, pred, zero_division=0))
    assert got["specificity"] == pytest.approx(skm.recall_score(1 - y, 1 - pred, zero_division=0))
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred, zero_division=0))
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p))
    assert got["brier"] == pytest.approx(skm.brier_score_loss(y, p))
    assert got["confusion"] == skm.confusion_matrix(y, pred, labels=[0, 1]).tolist()


def test_no_predicted_pain_gives_zero_precision_not_an_error():
    got = binary_metrics(np.array([0, 1, 1]), np.array([0.1, 0.2, 0.3]))
    assert got["precision"] == 0.0 and got["f1"] == 0.0 and got["recall"] == 0.0


def test_auc_of_one_class_is_undefined():
    assert math.isnan(binary_metrics(np.array([1, 1]), np.array([0.2, 0.9]))["roc_auc"])


def test_roc_curve_matches_scikit_learn_area():
    fpr, tpr = roc_curve(Y, P)
    assert np.trapezoid(tpr, fpr) == pytest.approx(skm.roc_auc_score(Y, P))
    sk_fpr, sk_tpr, _ = skm.roc_curve(Y, P, drop_intermediate=False)
    assert np.allclose(fpr, sk_fpr) and np.allclose(tpr, sk_tpr)


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
