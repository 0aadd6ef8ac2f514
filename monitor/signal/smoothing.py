"""The derived signals of ALARMS.md: S (smoothed score) and F (pain-face time share), both causal.

Both weigh frames by the real time they stand for, so 10, 24 or 30 fps give the same signal.
"""

from __future__ import annotations

import math
from collections import deque

from monitor.config import AlarmSettings
from monitor.signal.timing import EPS

# PIPP-R facial-action cut-offs of the time share: 0-9 % -> 0, 10-39 % -> 1, 40-69 % -> 2, >= 70 % -> 3.
# They define the published scale, so they are not settings.
FACE_BAND_CUTS = (0.10, 0.40, 0.70)


class Smoother:
    """S: exponential moving average of p over scored frames, time constant tau_s.

    S goes unknown stale_after_s after the last scored frame and then restarts from the first
    new p, so an old value never carries over a gap. S fed directly holds until the next feed.
    """

    def __init__(self, settings: AlarmSettings) -> None:
        self.settings = settings
        self.value: float | None = None
        self.ever_known = False
        self._last_scored: float | None = None
        self._direct = False

    def scored(self, t: float, p: float) -> None:
        if self.value is None or self._last_scored is None:
            self.value = p
        else:
            weight = 1.0 - math.exp(-(t - self._last_scored) / self.settings.tau_s)
            self.value += weight * (p - self.value)
        self._last_scored = t
        self._direct = False
        self.ever_known = True

    def feed(self, t: float, s: float | None) -> None:
        self.value = s
        self._last_scored = t
        self._direct = True
        self.ever_known = self.ever_known or s is not None

    def forget(self) -> None:
        """Monitoring paused (standby): S is unknown and restarts from the next p."""
        self.value = None
        self._direct = False

    def stale_at(self) -> float | None:
        if self._direct or self.value is None or self._last_scored is None:
            return None
        return self._last_scored + self.settings.stale_after_s

    def expire(self, now: float) -> bool:
        """Turn S unknown if its stale deadline has passed; True when that happened now."""
        deadline = self.stale_at()
        if deadline is None or deadline > now + EPS:
            return False
        self.value = None
        return True


class FaceShare:
    """F: share of scored time in the trailing window_s with p >= p_face.

    A scored frame stands for the time until the next frame, at most camera_lost_after_s (after
    that the monitor is blind, not scoring). Unknown while less than half the window was scored.
    """

    def __init__(self, settings: AlarmSettings) -> None:
        self.settings = settings
        self._closed: deque[tuple[float, float, bool]] = deque()  # start, end, pain face
        self._scored = 0.0
        self._face = 0.0
        self._face_spans = 0  # counted so that running sums snap back to exact 0 or 1
        self._open: tuple[float, bool] | None = None

    def frame(self, t: float, p: float | None) -> None:
        """Any frame ends the previous frame's span; a scored one (p given) starts a new span."""
        if self._open is not None:
            start, face = self._open
            end = min(t, start + self.settings.camera_lost_after_s)
            if end > start:
                self._closed.append((start, end, face))
                self._scored += end - start
                self._face += (end - start) if face else 0.0
                self._face_spans += face
        self._open = None if p is None else (t, p >= self.settings.p_face)

    def clear(self) -> None:
        self._closed.clear()
        self._scored = self._face = 0.0
        self._face_spans = 0
        self._open = None

    def trim(self, now: float) -> None:
        """Drop the spans that ended before the window at `now` from the running sums."""
        dropped, self._scored, self._face, self._face_spans = self._trimmed(now)
        for _ in range(dropped):
            self._closed.popleft()

    def _trimmed(self, now: float) -> tuple[int, float, float, int]:
        """How many spans have left the window at `now`, and the running sums without them."""
        closed, scored, face_time, spans = self._closed, self._scored, self._face, self._face_spans
        lo = now - self.settings.window_s
        dropped = 0
        while dropped < len(closed) and closed[dropped][1] <= lo:
            start, end, face = closed[dropped]
            scored -= end - start
            face_time -= (end - start) if face else 0.0
            spans -= face
            dropped += 1
        left = len(closed) - dropped
        if not left:
            scored = 0.0
        if spans == 0:
            face_time = 0.0
        elif spans == left:
            face_time = scored
        return dropped, scored, face_time, spans

    def value(self, now: float) -> float | None:
        """F at `now`; only reads (trim() is where the window moves on)."""
        window = self.settings.window_s
        lo = now - window
        dropped, scored, face_time, _ = self._trimmed(now)
        first = self._closed[dropped] if dropped < len(self._closed) else None
        if first is not None and first[0] < lo:
            start, _, face = first
            scored -= lo - start
            face_time -= (lo - start) if face else 0.0
        if self._open is not None:
            start, face = self._open
            span = min(now, start + self.settings.camera_lost_after_s) - max(start, lo)
            if span > 0:
                scored += span
                face_time += span if face else 0.0
        if scored < window / 2 - EPS:
            return None
        return min(1.0, max(0.0, face_time / scored))


def face_band(f: float | None) -> int | None:
    if f is None:
        return None
    return sum(f >= cut for cut in FACE_BAND_CUTS)


def s_band(s: float | None, settings: AlarmSettings) -> int | None:
    """Gauge band of S: 0 calm, 1 watch, 2 pain (labels in settings.band_labels)."""
    if s is None:
        return None
    return 0 if s < settings.band_watch else 1 if s < settings.band_pain else 2
