"""Dataset labels -> the binary task: which labels count as pain is a setting, never hard-coded.

The mapping actually used (every label present, and what it became) is returned so that the
report and the model card can say exactly what "pain" meant for this model.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from monitor.errors import MonitorError
from monitor.training.cope import STIMULI
from monitor.training.samples import LoadedData, Sample

CLASSES = ("no_pain", "pain")  # the trained model's output labels, in index order
EXCLUDED = "excluded"


@dataclass(frozen=True)
class Labelled:
    samples: list[Sample]
    y: np.ndarray  # (N,) int64: 1 pain, 0 no pain
    mapping: dict[str, str]  # every label present -> "pain" | "no_pain" | "excluded"
    pain_classes: tuple[str, ...]
    exclude_classes: tuple[str, ...]


def binary_labels(data: LoadedData, pain_classes: tuple[str, ...],
                  exclude_classes: tuple[str, ...] = ()) -> Labelled:
    """Map every sample to pain / no pain; refuse settings that match nothing or leave one class."""
    pain = {c.strip().lower() for c in pain_classes}
    excluded = {c.strip().lower() for c in exclude_classes}
    both = pain & excluded
    if both:
        raise MonitorError(f"class(es) {sorted(both)} are both pain and excluded")
    present = Counter(s.label.lower() for s in data.samples)
    known = set(present) | set(STIMULI)  # a COPE stimulus absent from this data is no typo
    for name, chosen in (("pain", pain), ("excluded", excluded)):
        unknown = sorted(chosen - known)
        if unknown:
            raise MonitorError(f"{name} class(es) {unknown} match no label in the data "
                               f"(labels found: {_counts(present)})")
    mapping = {label: EXCLUDED if label in excluded else CLASSES[label in pain] for label in present}
    kept = [s for s in data.samples if mapping[s.label.lower()] != EXCLUDED]
    y = np.array([CLASSES.index(mapping[s.label.lower()]) for s in kept], dtype=np.int64)
    if len(set(y.tolist())) < 2:
        only = CLASSES[int(y[0])] if len(y) else "nothing"
        raise MonitorError(f"only one class after mapping ({only}): pain classes {sorted(pain)}, "
                           f"excluded {sorted(excluded)}, labels found: {_counts(present)}; "
                           "check --pain-classes and --exclude-classes")
    return Labelled(kept, y, dict(sorted(mapping.items())), tuple(sorted(pain)),
                    tuple(sorted(excluded)))


def _counts(counter: Counter) -> str:
    return ", ".join(f"{label} {n}" for label, n in sorted(counter.items()))
