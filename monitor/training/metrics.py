"""Binary metrics written out in numpy, so tests can hold them against scikit-learn.

The pain probability is thresholded at 0.5 for the confusion-matrix metrics; ROC AUC is the
Mann-Whitney statistic with ties counted half. Across folds a metric is reported as mean,
sample sd and a two-sided 95% t-interval of the mean (clipped to the metric's range).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

THRESHOLD = 0.5
METRICS = ("accuracy", "precision", "recall", "specificity", "f1", "roc_auc", "brier", "ece")


def confusion(y: np.ndarray, p: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """[[tn, fp], [fn, tp]] with pain (1) as the positive class."""
    pred = (p >= threshold).astype(np.int64)
    y = np.asarray(y, dtype=np.int64)
    return np.array([[np.sum((y == 0) & (pred == 0)), np.sum((y == 0) & (pred == 1))],
                     [np.sum((y == 1) & (pred == 0)), np.sum((y == 1) & (pred == 1))]])


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Probability that a random pain image scores above a random no-pain one (ties: half)."""
    y = np.asarray(y)
    pos, neg = int(np.sum(y == 1)), int(np.sum(y == 0))
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = stats.rankdata(p)  # average ranks for ties
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def roc_curve(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct threshold, from (0, 0) to (1, 1)."""
    y = np.asarray(y)
    order = np.argsort(-np.asarray(p), kind="stable")
    ys, ps = y[order], np.asarray(p)[order]
    last_of_tie = np.r_[np.diff(ps) != 0, True]
    tp, fp = np.cumsum(ys == 1)[last_of_tie], np.cumsum(ys == 0)[last_of_tie]
    pos, neg = max(int(np.sum(y == 1)), 1), max(int(np.sum(y == 0)), 1)
    return np.r_[0.0, fp / neg], np.r_[0.0, tp / pos]


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, np.float64) - np.asarray(y)) ** 2))


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the pain probability: equal-width bins on [0, 1],
    sum over bins of (share of images) * |mean predicted - observed pain rate|."""
    p = np.asarray(p, np.float64)
    index = np.minimum((p * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = index == b
        if inside.any():
            total += inside.mean() * abs(p[inside].mean() - np.mean(np.asarray(y)[inside]))
    return float(total)


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[tuple[float, float, int]]:
    """(mean predicted, observed pain rate, count) for each non-empty bin, for the plot."""
    p = np.asarray(p, np.float64)
    index = np.minimum((p * bins).astype(np.int64), bins - 1)
    return [(float(p[index == b].mean()), float(np.mean(np.asarray(y)[index == b])),
             int(np.sum(index == b))) for b in range(bins) if np.any(index == b)]


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else 0.0  # as scikit-learn's zero_division=0


def binary_metrics(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict:
    """Every reported metric of one set of predictions, plus its confusion matrix and counts."""
    (tn, fp), (fn, tp) = confusion(y, p)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {
        "accuracy": _ratio(tp + tn, tp + tn + fp + fn),
        "precision": precision,
        "recall": recall,
        "specificity": _ratio(tn, tn + fp),
        "f1": _ratio(2 * precision * recall, precision + recall),
        "roc_auc": roc_auc(y, p),
        "brier": brier(y, p),
        "ece": ece(y, p, bins),
        "confusion": [[int(tn), int(fp)], [int(fn), int(tp)]],
        "n": int(len(y)),
        "n_pain": int(np.sum(np.asarray(y) == 1)),
    }


def summarise(values: list[float]) -> dict:
    """Mean, sample sd and 95% t-interval of per-fold values (NaN folds left out and counted)."""
    finite = [v for v in values if not math.isnan(v)]
    k = len(finite)
    mean = float(np.mean(finite)) if k else float("nan")
    sd = float(np.std(finite, ddof=1)) if k > 1 else float("nan")
    half = float(stats.t.ppf(0.975, k - 1) * sd / math.sqrt(k)) if k > 1 else float("nan")
    return {"mean": mean, "sd": sd, "ci95": [max(mean - half, 0.0), min(mean + half, 1.0)],
            "values": [float(v) for v in values], "undefined_folds": len(values) - k}
