"""The movement cue M(t) and its state, from the per-frame readings m of monitor/vision/movement.py.

Infants in active (REM) sleep twitch: brief jerks of a limb that are not distress. M is therefore
a sustained level, not an average: the highest m reached during at least `sustained_share` of
the known time in the trailing `window_s` (with the defaults, the median over the last 4 s). A
twitch of half a second leaves M where it was; restlessness over a few seconds lifts it.

Each reading stands for the real time until the next one (at most MAX_SPAN_S), so 10 or 30 fps
give the same M. Unknown readings (camera moving, picture changing, no picture) are neither
movement nor stillness: they are left out, and while less than half the window is known M is
unknown with the reason, never 0.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from monitor.config import MovementSettings
from monitor.signal.timing import EPS

MAX_SPAN_S = 1.0  # a reading older than this says nothing about now: frames have stopped
MIN_KNOWN_SHARE = 0.5  # of the window, as for the face time share F
STARTING = "starting"
NO_PICTURE = "no picture"


class MovementState(StrEnum):
    UNKNOWN = "unknown"
    STILL = "still"
    MOVING = "moving"
    VIGOROUS = "vigorous"


@dataclass(frozen=True)
class MovementCue:
    """M at time t: value None and state unknown, with the reason, when it cannot be told."""

    t: float
    value: float | None
    state: MovementState
    reason: str = ""  # why unknown; empty otherwise
    known_share: float = 0.0  # share of the window with a known reading


@dataclass(frozen=True)
class _Span:
    start: float
    end: float
    m: float | None
    reason: str


class MovementSmoother:
    """M and its state for one source, driven by the session clock (replayable from stored m)."""

    def __init__(self, settings: MovementSettings | None = None) -> None:
        self.settings = settings or MovementSettings()
        self._closed: deque[_Span] = deque()
        self._open: tuple[float, float | None, str] | None = None  # t, m, reason
        self._first_t: float | None = None

    def clear(self) -> None:
        """Monitoring paused or the source changed: M restarts from the next reading."""
        self._closed.clear()
        self._open = None
        self._first_t = None

    def add(self, t: float, m: float | None, reason: str = "") -> None:
        """One frame's reading: m, or None with the reason it is unknown."""
        if self._first_t is None:
            self._first_t = t
        if self._open is not None:
            start, prev_m, prev_reason = self._open
            end = min(t, start + MAX_SPAN_S)
            if end > start:
                self._closed.append(_Span(start, end, prev_m, prev_reason))
        self._open = (t, m, reason if m is None else "")
        self._forget_before(t - self.settings.window_s)

    def at(self, now: float) -> MovementCue:
        """M, its state and the share of the window it rests on, at `now`. Only reads: spans
        that ended before the window count for nothing (add() drops them)."""
        window = self.settings.window_s
        lo = now - window
        spans = list(self._closed)
        if self._open is not None:
            start, m, reason = self._open
            spans.append(_Span(start, min(now, start + MAX_SPAN_S), m, reason))
        known = [(min(s.end, now) - max(s.start, lo), s.m) for s in spans if s.m is not None]
        known = [(d, m) for d, m in known if d > 0.0]
        known_time = sum(d for d, _ in known)
        share = min(1.0, known_time / window)
        if known_time < MIN_KNOWN_SHARE * window - EPS:
            return MovementCue(now, None, MovementState.UNKNOWN, self._reason(spans, lo), share)
        value = self._sustained(known, known_time)
        return MovementCue(now, value, self.state_of(value), "", share)

    def state_of(self, value: float) -> MovementState:
        s = self.settings
        if value >= s.vigorous_from:
            return MovementState.VIGOROUS
        if value >= s.moving_from:
            return MovementState.MOVING
        return MovementState.STILL

    def _sustained(self, known: list[tuple[float, float]], known_time: float) -> float:
        """The highest m that readings reach during at least sustained_share of the known time."""
        durations = np.array([d for d, _ in known])
        values = np.array([m for _, m in known])
        order = np.argsort(-values, kind="stable")
        reached = np.cumsum(durations[order])
        index = int(np.searchsorted(reached, self.settings.sustained_share * known_time - EPS))
        return float(values[order][min(index, len(order) - 1)])

    def _reason(self, spans: list[_Span], lo: float) -> str:
        for span in reversed(spans):
            if span.m is None and span.end > lo:
                return span.reason or NO_PICTURE
        if self._first_t is None or self._first_t > lo:
            return STARTING
        return NO_PICTURE

    def _forget_before(self, lo: float) -> None:
        while self._closed and self._closed[0].end <= lo:
            self._closed.popleft()
