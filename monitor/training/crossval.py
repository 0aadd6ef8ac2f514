"""Run a protocol fold by fold, and fit the final model: the same steps for every fit.

A fit holds out an inner validation split of its training data (by subject under the subject
protocol) for early stopping and for the temperature; the test fold is touched only to score.
Metrics of each test fold are computed before and after calibration; pooled out-of-fold
predictions feed the plots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from monitor.config import TrainingSettings
from monitor.scoring.card import Architecture, TorchvisionArchitecture
from monitor.training.calibration import fit_temperature, pain_probability
from monitor.training.fit import fit, predict_logits
from monitor.training.metrics import METRICS, binary_metrics, summarise
from monitor.training.networks import build
from monitor.training.splits import TITLES, inner_split, outer_folds

PAIN = [1]  # index of "pain" in the trained model's output


@dataclass(frozen=True)
class Prepared:
    """Face inputs with their labels, subjects and file names, ready to split."""

    x: np.ndarray  # (N, H, W) float32
    y: np.ndarray  # (N,) int64, 1 = pain
    groups: np.ndarray | None  # (N,) subject ids, None when the data has none
    files: list[str]
    value_range: tuple[float, float]


@dataclass
class Trained:
    net: nn.Module
    architecture: Architecture | TorchvisionArchitecture
    init: str
    temperature: float
    epochs_run: int
    best_epoch: int
    n_train: int
    n_val: int
    val_subjects: list[str]
    val_before: dict
    val_after: dict


def train_once(data: Prepared, index: np.ndarray, protocol: str, settings: TrainingSettings,
               device: torch.device, seed: int, desc: str) -> Trained:
    """Fit on data[index] with an inner validation split, then fit the temperature on it."""
    groups = None if data.groups is None else data.groups[index]
    inner_train, val = inner_split(protocol, data.y[index], groups, settings.val_fraction, seed)
    tr, va = index[inner_train], index[val]
    torch.manual_seed(seed)
    net, architecture, init = build(settings.arch, settings.init)
    result = fit(net, data.x[tr], data.y[tr], data.x[va], data.y[va], settings, device, seed,
                 data.value_range, desc=desc)
    logits = predict_logits(result.net, data.x[va], device)
    temperature = fit_temperature(logits, data.y[va])
    return Trained(
        result.net, architecture, init, temperature, result.epochs_run, result.best_epoch,
        len(tr), len(va), [] if groups is None else sorted(set(data.groups[va].tolist())),
        binary_metrics(data.y[va], pain_probability(logits, 1.0, PAIN), settings.ece_bins),
        binary_metrics(data.y[va], pain_probability(logits, temperature, PAIN), settings.ece_bins),
    )


def cross_validate(data: Prepared, protocol: str, settings: TrainingSettings,
                   device: torch.device) -> dict:
    """Every fold of `protocol`: fit, calibrate on validation, score the untouched test fold."""
    folds = outer_folds(protocol, data.y, data.groups, settings.folds, settings.seed)
    records, predictions = [], []
    for number, (train, test) in enumerate(tqdm(folds, desc=f"{protocol} folds", unit="fold",
                                                disable=None), start=1):
        trained = train_once(data, train, protocol, settings, device, settings.seed + number,
                             desc=f"fold {number}/{len(folds)}")
        logits = predict_logits(trained.net, data.x[test], device)
        before = pain_probability(logits, 1.0, PAIN)
        after = pain_probability(logits, trained.temperature, PAIN)
        records.append({
            "fold": number, "n_train": trained.n_train, "n_val": trained.n_val, "n_test": len(test),
            "test_subjects": [] if data.groups is None else sorted(set(data.groups[test].tolist())),
            "epochs_run": trained.epochs_run, "best_epoch": trained.best_epoch,
            "temperature": trained.temperature,
            "metrics": binary_metrics(data.y[test], after, settings.ece_bins),
            "uncalibrated": binary_metrics(data.y[test], before, settings.ece_bins),
        })
        predictions += predictions_of(data, test, number, before, after)
    return protocol_result(protocol, records, predictions, settings.ece_bins)


def predictions_of(data: Prepared, index: np.ndarray, fold: int, before: np.ndarray,
                 after: np.ndarray) -> list[dict]:
    """Per-image records (file, subject, truth, fold, probability before and after calibration)."""
    return [{"file": data.files[i], "subject": None if data.groups is None else str(data.groups[i]),
             "y": int(data.y[i]), "fold": fold, "p_uncalibrated": float(b), "p": float(a)}
            for i, b, a in zip(index, before, after)]


def protocol_result(protocol: str, records: list[dict], predictions: list[dict], bins: int) -> dict:
    """Per-fold records, their summary across folds, and pooled out-of-fold metrics."""
    y = np.array([p["y"] for p in predictions])
    pooled_before = np.array([p["p_uncalibrated"] for p in predictions])
    pooled_after = np.array([p["p"] for p in predictions])
    summary = {m: summarise([r["metrics"][m] for r in records]) for m in METRICS}
    for m in ("brier", "ece"):
        summary[f"{m}_uncalibrated"] = summarise([r["uncalibrated"][m] for r in records])
    return {
        "protocol": protocol,
        "title": TITLES[protocol],
        "folds": len(records),
        "summary": summary,
        "confusion_total": np.sum([r["metrics"]["confusion"] for r in records], axis=0).tolist(),
        "pooled": binary_metrics(y, pooled_after, bins),
        "pooled_uncalibrated": binary_metrics(y, pooled_before, bins),
        "fold_results": records,
        "predictions": predictions,
    }
