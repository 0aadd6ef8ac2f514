"""Deadline arithmetic shared by the engine's parts.

Timers fire at their exact due time on the session clock, so a replay gives the same result at
any sampling rate; EPS absorbs float round-off so a timer met exactly is never missed.
"""

from __future__ import annotations

EPS = 1e-6  # seconds


def is_due(deadline: float | None, now: float) -> bool:
    return deadline is not None and deadline <= now + EPS


def earliest(*deadlines: float | None) -> float | None:
    present = [d for d in deadlines if d is not None]
    return min(present) if present else None
