"""Binary metrics of the pain probability: scikit-learn's, plus what it lacks (ECE, the
reliability bins, the across-fold summary).

The probability is thresholded at 0.5 for the confusion-matrix metrics; a ratio with nothing to
count (no predicted pain: precision) is 0, as scikit-learn's zero_division=0. ROC AUC of a fold
with one class only is undefined: NaN, left out of the fold summary and counted there. Across folds
a metric is reported as mean, sample sd and a two-sided 95% t-interval of the mean (clipped to the
metric's range).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from sklearn import metrics as skm

THRESHOLD = 0.5
METRICS = ("accuracy", "precision", "recall", "specificity", "f1", "roc_auc", "brier", "ece")


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """scikit-learn's ROC AUC, NaN where it is undefined (one class only)."""
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(skm.roc_auc_score(y, p))


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


def binary_metrics(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict:
    """Every reported metric of one set of predictions, plus its confusion matrix and counts."""
    y = np.asarray(y, np.int64)
    p = np.asarray(p, np.float64)
    pred = (p >= THRESHOLD).astype(np.int64)
    (tn, fp), (fn, tp) = skm.confusion_matrix(y, pred, labels=[0, 1])
    return {
        "accuracy": float(skm.accuracy_score(y, pred)),
        "precision": float(skm.precision_score(y, pred, labels=[0, 1], zero_division=0)),
        "recall": float(skm.recall_score(y, pred, labels=[0, 1], zero_division=0)),
        "specificity": float(skm.recall_score(y, pred, labels=[0, 1], pos_label=0, zero_division=0)),
        "f1": float(skm.f1_score(y, pred, labels=[0, 1], zero_division=0)),
        "roc_auc": roc_auc(y, p),
        "brier": float(skm.brier_score_loss(y, p, pos_label=1)),
        "ece": ece(y, p, bins),
        "confusion": [[int(tn), int(fp)], [int(fn), int(tp)]],
        "n": int(len(y)),
        "n_pain": int(np.sum(y == 1)),
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
