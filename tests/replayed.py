"""Comparing a replayed episode with the one recorded live: stored times are float32 offsets
from their span's start (monitor.store.trace), so times agree within TRACE_PRECISION_S."""

from __future__ import annotations

import math

TRACE_PRECISION_S = 1e-5


def same_episode(live, replayed) -> bool:
    """Every field equal, times within the trace's precision."""
    for name, x in vars(live).items():
        y = getattr(replayed, name)
        if isinstance(x, float) and isinstance(y, float):
            if not math.isclose(x, y, abs_tol=TRACE_PRECISION_S):
                return False
        elif x != y:
            return False
    return True
