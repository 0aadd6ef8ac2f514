"""Per-second aggregates and the compact traces, cut from the stream of frame and sound results."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from monitor.packets import FaceActions, FaceStatus
from monitor.store.rows import SampleRow

# A jump of the clock longer than this (a file's damaged time stamp) is not filled with a row for
# every empty second: a stamp far ahead would otherwise make millions of rows at once.
EMPTY_SECONDS_FILLED = 3600


@dataclass
class _Second:
    t: int
    frames: int = 0
    scored: int = 0
    no_face: int = 0
    poor: int = 0
    p_sum: float = 0.0
    p_max: float | None = None
    actions: FaceActions | None = None  # the second's last trusted face mesh reading

    def add(self, status: FaceStatus, p: float | None, actions: FaceActions | None = None) -> None:
        self.frames += 1
        if actions is not None and not actions.fit_problem:
            self.actions = actions
        if status is FaceStatus.SCORED and p is not None:
            self.scored += 1
            self.p_sum += p
            self.p_max = p if self.p_max is None else max(self.p_max, p)
        elif status is FaceStatus.NO_FACE:
            self.no_face += 1
        else:
            self.poor += 1

    def row(self, cues: Cues, cry_max: float | None) -> SampleRow:
        return SampleRow(
            t=float(self.t), s=cues.s, f=cues.f, frames=self.frames, frames_scored=self.scored,
            frames_no_face=self.no_face, frames_poor_quality=self.poor,
            p_mean=self.p_sum / self.scored if self.scored else None, p_max=self.p_max,
            c=cues.c, cry_max=cry_max, m=cues.m, face_state=cues.face_state,
            **_action_values(self.actions))


def _action_values(actions: FaceActions | None) -> dict:
    if actions is None:
        return {}
    return dict(mouth_open=actions.mouth_open, eye_open=actions.eye_open, brow=actions.brow,
                mouth_covered=actions.covered)


@dataclass(frozen=True)
class Cues:
    """The smoothed signals as they stood at a second's end (None: unknown, never 0)."""

    s: float | None = None
    f: float | None = None
    c: float | None = None
    m: float | None = None
    face_state: str | None = None  # in words; None before the first face mesh reading


class SecondAggregator:
    """Turns the session clock's seconds into one `sample` row each (the cues as they stood at
    its end), counting the frames that fell in it (none where the picture was lost or had
    ended) and the highest sound-window cry score of that second."""

    def __init__(self) -> None:
        self._current: _Second | None = None
        self._cues = Cues()
        self._cry_max: dict[int, float] = {}

    def advance(self, t: float, cues: Cues) -> list[SampleRow]:
        """Session time has reached t, with these cues from then on; returns the rows of the
        seconds that ended before it (one per second, with or without frames)."""
        second = math.floor(t)
        closed = []
        if self._current is None:
            self._current = _Second(second)
        while second > self._current.t:
            following = self._current.t + 1
            closed.append(self._close())
            if second - following > EMPTY_SECONDS_FILLED:
                following = second
            self._current = _Second(following)
        self._cues = cues
        return closed

    def add(self, t: float, status: FaceStatus, p: float | None, cues: Cues,
            actions: FaceActions | None = None) -> list[SampleRow]:
        """Adds a frame; returns the rows of seconds that this frame closed (usually none or one)."""
        closed = self.advance(t, cues)
        self._current.add(status, p, actions)
        return closed

    def sound(self, t: float, c: float) -> None:
        """A scored sound window ending at t, with its raw cry score."""
        second = math.floor(t)
        if self._current is None or second >= self._current.t:
            self._cry_max[second] = max(c, self._cry_max.get(second, 0.0))

    def flush(self) -> list[SampleRow]:
        return [] if self._current is None else [self._close()]

    def _close(self) -> SampleRow:
        second, self._current = self._current, None
        for old in [k for k in self._cry_max if k < second.t]:
            del self._cry_max[old]
        return second.row(self._cues, self._cry_max.pop(second.t, None))


@dataclass
class TraceBuffer:
    """Collects rows (frames: t, status, p, m; or sound windows) for one span of `span_s` seconds
    before they are packed and stored."""

    span_s: float
    t0: float | None = None
    rows: list = field(default_factory=list)

    def add(self, t: float, row: object) -> tuple[float, list] | None:
        """Adds a row at time t; returns (t0, rows) of a completed span when it starts a new one."""
        done = None
        if self.t0 is not None and t - self.t0 >= self.span_s:
            done = self.take()
        if self.t0 is None:
            self.t0 = t
        self.rows.append(row)
        return done

    def take(self) -> tuple[float, list] | None:
        if self.t0 is None:
            return None
        done, self.t0, self.rows = (self.t0, self.rows), None, []
        return done
