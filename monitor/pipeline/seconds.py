"""Per-second aggregates and the compact per-frame trace, cut from the stream of frame results."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from monitor.packets import FaceStatus


@dataclass
class _Second:
    t: int
    frames: int = 0
    scored: int = 0
    no_face: int = 0
    poor: int = 0
    p_sum: float = 0.0
    p_max: float | None = None

    def add(self, status: FaceStatus, p: float | None) -> None:
        self.frames += 1
        if status is FaceStatus.SCORED and p is not None:
            self.scored += 1
            self.p_sum += p
            self.p_max = p if self.p_max is None else max(self.p_max, p)
        elif status is FaceStatus.NO_FACE:
            self.no_face += 1
        else:
            self.poor += 1

    def row(self, s: float | None, f: float | None) -> dict:
        return {
            "t": float(self.t), "s": s, "f": f, "frames": self.frames,
            "frames_scored": self.scored, "frames_no_face": self.no_face,
            "frames_poor_quality": self.poor,
            "p_mean": self.p_sum / self.scored if self.scored else None, "p_max": self.p_max,
        }


class SecondAggregator:
    """Turns frames into one `sample` row per session-second (S and F as they stood at its end)."""

    def __init__(self) -> None:
        self._current: _Second | None = None

    def add(self, t: float, status: FaceStatus, p: float | None,
            s: float | None, f: float | None) -> list[dict]:
        """Adds a frame; returns the rows of seconds that this frame closed (usually none or one)."""
        second = math.floor(t)
        closed = []
        if self._current is not None and second != self._current.t:
            closed.append(self._current.row(self._s, self._f))
            self._current = None
        if self._current is None:
            self._current = _Second(second)
        self._current.add(status, p)
        self._s, self._f = s, f
        return closed

    def flush(self) -> list[dict]:
        if self._current is None:
            return []
        row, self._current = self._current.row(self._s, self._f), None
        return [row]


@dataclass
class TraceBuffer:
    """Collects (t, status, p) for one span of `span_s` seconds before it is packed and stored."""

    span_s: float
    t0: float | None = None
    rows: list[tuple[float, FaceStatus, float | None]] = field(default_factory=list)

    def add(self, t: float, status: FaceStatus, p: float | None) -> tuple[float, list] | None:
        """Adds a frame; returns (t0, rows) of a completed span when this frame starts a new one."""
        done = None
        if self.t0 is not None and t - self.t0 >= self.span_s:
            done = self.take()
        if self.t0 is None:
            self.t0 = t
        self.rows.append((t, status, p))
        return done

    def take(self) -> tuple[float, list] | None:
        if self.t0 is None:
            return None
        done, self.t0, self.rows = (self.t0, self.rows), None, []
        return done
