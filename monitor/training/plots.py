"""ROC and reliability diagrams as PNG files, from the pooled out-of-fold predictions.

Figures are drawn on the Agg canvas directly, so no global matplotlib backend is switched in a
process that may also run the Qt window.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from monitor.training.metrics import reliability


def _arrays(result: dict, key: str) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([p["y"] for p in result["predictions"]]),
            np.array([p[key] for p in result["predictions"]]))


def roc_png(results: dict[str, dict], path: Path) -> None:
    """One pooled ROC curve per protocol, labelled with its area and the AUC across folds."""
    fig = Figure(figsize=(5, 5), dpi=100)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ls=":", color="grey", label="chance")
    for name, result in results.items():
        y, p = _arrays(result, "p")
        fpr, tpr, _ = roc_curve(y, p)
        auc = result["summary"]["roc_auc"]
        spread = f" ± {auc['sd']:.3f}" if np.isfinite(auc["sd"]) else ""
        ax.plot(fpr, tpr, lw=2, label=f"{name}: pooled AUC {result['pooled']['roc_auc']:.3f}; "
                                      f"per fold {auc['mean']:.3f}{spread}")
    ax.set(xlabel="false positive rate (1 - specificity)", ylabel="true positive rate (recall)",
           title="ROC, pooled out-of-fold predictions", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right", fontsize=8)
    _save(fig, path)


def reliability_png(results: dict[str, dict], path: Path, bins: int) -> None:
    """Observed pain rate against predicted probability, before and after temperature scaling."""
    fig = Figure(figsize=(5 * len(results), 5), dpi=100)
    for i, (name, result) in enumerate(results.items(), start=1):
        ax = fig.add_subplot(1, len(results), i)
        ax.plot([0, 1], [0, 1], ls=":", color="grey", label="perfect calibration")
        for key, label, pooled in (("p_uncalibrated", "before", "pooled_uncalibrated"),
                                   ("p", "after", "pooled")):
            y, p = _arrays(result, key)
            points = reliability(y, p, bins)
            ax.plot([c[0] for c in points], [c[1] for c in points], marker="o",
                    label=f"{label}: ECE {result[pooled]['ece']:.3f}, "
                          f"Brier {result[pooled]['brier']:.3f}")
        ax.set(xlabel="predicted P(pain)", ylabel="observed pain rate", title=f"{name}",
               xlim=(0, 1), ylim=(0, 1))
        ax.legend(loc="upper left", fontsize=8)
    _save(fig, path)


def _save(fig: Figure, path: Path) -> None:
    fig.tight_layout()
    FigureCanvasAgg(fig).print_png(str(path))
