"""Deadline arithmetic shared by the engine's parts.

Timers fire at their exact due time on the session clock, so a replay gives the same result at
any sampling rate; EPS absorbs float round-off so a timer met exactly is never missed.
"""

from __future__ import annotations

EPS = 1e-6  # seconds
# Session times beyond this many seconds (about 31 years) are refused: a double there still
# resolves EPS (at 1e18 s, 10 s added to a time is the same time, and a timer never comes).
MAX_SESSION_S = 1e9


def is_due(deadline: float | None, now: float) -> bool:
    return deadline is not None and deadline <= now + EPS


def earliest(*deadlines: float | None) -> float | None:
    present = [d for d in deadlines if d is not None]
    return min(present) if present else None
