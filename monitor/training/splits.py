"""Who is tested on what: the two protocols' outer folds, and the inner validation split.

`subjects`: grouped, stratified K-fold; no infant is ever in training and test of one fold,
nor in the inner training and validation sets. `random`: stratified K-fold over images, the
split most published numbers are believed to use, in which the same infants appear on both
sides. Every test fold must hold both classes, else its AUC would be undefined.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, StratifiedShuffleSplit

from monitor.errors import MonitorError

PROTOCOLS = ("subjects", "random")
TITLES = {
    "subjects": "subject-disjoint grouped K-fold (no infant in both training and test)",
    "random": "stratified random K-fold over images (same infants in training and test)",
    "held_out": "held-out set scored by a trained model",
}

Split = tuple[np.ndarray, np.ndarray]


def outer_folds(protocol: str, y: np.ndarray, groups: np.ndarray | None, k: int, seed: int) -> list[Split]:
    """K (train, test) index pairs for `protocol`; a MonitorError if the data cannot support it."""
    if protocol == "subjects":
        subjects = len(set(groups.tolist()))
        if subjects < k:
            raise MonitorError(f"subject-disjoint {k}-fold needs at least {k} subjects, found "
                               f"{subjects}; use --folds {max(subjects, 2)} or more data")
        splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        folds = list(splitter.split(np.zeros(len(y)), y, groups))
    else:
        smallest = int(np.bincount(y, minlength=2).min())
        if smallest < k:
            raise MonitorError(f"stratified {k}-fold needs at least {k} images of each class, the "
                               f"smaller class has {smallest}; use fewer --folds")
        folds = list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(y, y))
    for number, (_, test) in enumerate(folds, start=1):
        if len(set(y[test].tolist())) < 2:
            raise MonitorError(f"{protocol} fold {number} of {k} would test on one class only "
                               "(too few subjects with both classes); use fewer --folds")
    return folds


def inner_split(protocol: str, y: np.ndarray, groups: np.ndarray | None, fraction: float,
                seed: int) -> Split:
    """(train, validation) indices inside a training set, disjoint by subject for `subjects`."""
    if protocol == "subjects":
        parts = max(2, min(round(1 / fraction), len(set(groups.tolist()))))
        splitter = StratifiedGroupKFold(n_splits=parts, shuffle=True, random_state=seed)
        try:
            for train, val in splitter.split(np.zeros(len(y)), y, groups):
                if len(set(y[val].tolist())) == 2 and len(set(y[train].tolist())) == 2:
                    return train, val
        except ValueError:  # fewer subjects than parts
            pass
        raise MonitorError("cannot hold out validation subjects with both classes inside a "
                           "training fold: too few subjects; use fewer --folds or more data")
    try:
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
        return next(splitter.split(y, y))
    except ValueError as exc:
        raise MonitorError(f"cannot hold out a stratified validation split: {exc}") from None
