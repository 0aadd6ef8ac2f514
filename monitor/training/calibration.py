"""Temperature scaling (Guo et al. 2017): one number T fitted on validation logits.

Dividing logits by T leaves every ranking and thresholded decision of a binary model
unchanged and only makes its probabilities more or less confident; the negative
log-likelihood is convex in 1/T, so a bounded scalar search finds the optimum.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

# A tiny or perfectly separated validation set pushes T towards 0 (or infinity); bounding it
# keeps one unlucky split from making a model absurdly over- or under-confident.
T_MIN, T_MAX = 0.1, 10.0


def pain_probability(logits: np.ndarray, temperature: float, pain_indices: list[int]) -> np.ndarray:
    """Summed softmax of the pain classes at temperature T, as the Scorer computes it."""
    return softmax(np.asarray(logits, np.float64) / temperature, axis=1)[:, pain_indices].sum(axis=1)


def nll(logits: np.ndarray, y: np.ndarray, temperature: float) -> float:
    logp = log_softmax(np.asarray(logits, np.float64) / temperature, axis=1)
    return float(-logp[np.arange(len(y)), y].mean())


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The T in [T_MIN, T_MAX] that minimises the validation negative log-likelihood."""
    found = minimize_scalar(lambda beta: nll(logits, y, 1.0 / beta), bounds=(1.0 / T_MAX, 1.0 / T_MIN),
                            method="bounded", options={"xatol": 1e-5})
    return float(1.0 / found.x)
