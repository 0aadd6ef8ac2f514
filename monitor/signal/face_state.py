"""The face-state cue: the face mesh's readings (FaceActions) smoothed over time and named.

Each reading's geometry (mouth opening, eye opening, brow height, in inter-ocular distances)
is smoothed with an exponential moving average weighted by the real time between readings, so
the frame rate and the mesh's cadence do not change it. States:

- eyes: `open`; `closed` (lids together, brow not lowered); `squeezed` (lids narrowed or
  closed with the brow lowered: the pain face's eye squeeze); `unknown`.
- mouth: `open`; `closed`; `covered` (the lip region shows something that is neither skin nor
  lips: a pacifier, a tube, a hand); `unknown`. Covered is never closed: a covered reading turns
  the mouth `covered` at once and it stays so until the smoothed share falls below the limit.
  In a grey picture a cover cannot be told from lips: the mouth is then `open` or `unknown`.

A poor fit (ALARMS.md "Face state") makes every state unknown and restarts the smoothing; so does
a gap in the readings longer than `hold_s`. **Relaxed** ("eyes closed, relaxed"): eyes closed,
mouth closed and brow not lowered, continuously for `relaxed_after_s` of readings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from monitor.config import FaceSettings
from monitor.packets import FaceActions

NO_READING = "no landmark reading"
GREY_PICTURE = "grey picture: a closed mouth cannot be told from a covered one"


class EyeState(StrEnum):
    UNKNOWN = "unknown"
    OPEN = "open"
    CLOSED = "closed"
    SQUEEZED = "squeezed"


class MouthState(StrEnum):
    UNKNOWN = "unknown"
    OPEN = "open"
    CLOSED = "closed"
    COVERED = "covered"


@dataclass(frozen=True)
class FaceState:
    """The face at time t. Values are the smoothed geometry (None when unknown)."""

    t: float
    eyes: EyeState = EyeState.UNKNOWN
    mouth: MouthState = MouthState.UNKNOWN
    brow_lowered: bool | None = None
    relaxed: bool = False
    mouth_open: float | None = None
    eye_open: float | None = None
    brow: float | None = None
    covered: float | None = None
    reason: str = NO_READING  # why a state is unknown; empty when all are known

    @property
    def label(self) -> str:
        """What the cue panel says: "eyes squeezed, mouth open", "eyes closed, relaxed", ..."""
        if self.relaxed:
            return "eyes closed, relaxed"
        if self.mouth is MouthState.COVERED:
            return "mouth covered" if self.eyes is EyeState.UNKNOWN else \
                f"eyes {self.eyes.value}, mouth covered"
        parts = [f"eyes {self.eyes.value}"] if self.eyes is not EyeState.UNKNOWN else []
        if self.brow_lowered:
            parts.append("brow lowered")
        if self.mouth is not MouthState.UNKNOWN:
            parts.append(f"mouth {self.mouth.value}")
        return ", ".join(parts) if parts else "face actions unknown"


def name_states(mouth_open: float | None, eye_open: float | None, brow: float | None,
                covered: bool | None, settings: FaceSettings
                ) -> tuple[EyeState, MouthState, bool | None]:
    """(eyes, mouth, brow lowered) of one set of geometry; `covered` None: a grey picture."""
    lowered = None if brow is None else brow < settings.brow_lowered_below
    if eye_open is None:
        eyes = EyeState.UNKNOWN
    elif eye_open < settings.eyes_closed_below:
        eyes = EyeState.SQUEEZED if lowered else EyeState.CLOSED
    elif eye_open < settings.eyes_narrow_below and lowered:
        eyes = EyeState.SQUEEZED
    else:
        eyes = EyeState.OPEN
    if covered:
        mouth = MouthState.COVERED
    elif mouth_open is None:
        mouth = MouthState.UNKNOWN
    elif mouth_open >= settings.mouth_open_from:
        mouth = MouthState.OPEN
    else:
        mouth = MouthState.UNKNOWN if covered is None else MouthState.CLOSED
    return eyes, mouth, lowered


def read_once(actions: FaceActions, settings: FaceSettings, t: float = 0.0) -> FaceState:
    """One reading named without smoothing (a photo, or the first reading of a stream)."""
    if actions.fit_problem:
        return FaceState(t, reason=actions.fit_problem)
    covered = None if actions.covered is None else actions.covered >= settings.covered_from
    eyes, mouth, lowered = name_states(actions.mouth_open, actions.eye_open, actions.brow,
                                       covered, settings)
    return FaceState(t, eyes, mouth, lowered, False, actions.mouth_open, actions.eye_open,
                     actions.brow, actions.covered, _reason(mouth, covered is None))


def _reason(mouth: MouthState, grey: bool) -> str:
    return GREY_PICTURE if mouth is MouthState.UNKNOWN and grey else ""


class FaceStateTracker:
    """The face state of one source over time, driven by the session clock (replayable)."""

    def __init__(self, settings: FaceSettings | None = None) -> None:
        self.settings = settings or FaceSettings()
        self.ever_read = False  # a reading arrived in this session (a replay without any: False)
        self.clear()

    def clear(self) -> None:
        """Subject changed or monitoring paused: the state restarts from the next reading."""
        self._last_t: float | None = None
        self._values: dict[str, float | None] = {}
        self._covered_now = False
        self._grey = False
        self._problem = NO_READING
        self._relaxed_since: float | None = None

    def add(self, t: float, actions: FaceActions) -> None:
        """One reading of the mesh at time t (non-decreasing)."""
        gap = None if self._last_t is None else t - self._last_t
        self._last_t, self.ever_read = t, True
        if actions.fit_problem:
            self._values, self._problem, self._relaxed_since = {}, actions.fit_problem, None
            return
        self._problem = ""
        fresh = gap is None or gap > self.settings.hold_s or not self._values
        alpha = 1.0 if fresh else 1.0 - math.exp(-max(gap, 0.0) / self.settings.tau_s)
        for key in ("mouth_open", "eye_open", "brow", "covered"):
            value, old = getattr(actions, key), self._values.get(key)
            self._values[key] = value if (old is None or value is None) else old + alpha * (value - old)
        self._grey = actions.covered is None
        self._covered_now = actions.covered is not None and actions.covered >= self.settings.covered_from
        eyes, mouth, lowered = self._named()
        calm = eyes is EyeState.CLOSED and mouth is MouthState.CLOSED and lowered is False
        if not calm:
            self._relaxed_since = None
        elif self._relaxed_since is None or fresh:
            self._relaxed_since = t

    def _named(self) -> tuple[EyeState, MouthState, bool | None]:
        v = self._values
        covered = None if self._grey else (self._covered_now or
                                           (v.get("covered") or 0.0) >= self.settings.covered_from)
        return name_states(v.get("mouth_open"), v.get("eye_open"), v.get("brow"), covered,
                           self.settings)

    def stands_until(self) -> float | None:
        """When the last reading stops standing (the state turns unknown then)."""
        return None if self._last_t is None else self._last_t + self.settings.hold_s

    def state(self, t: float) -> FaceState:
        """The state at t: unknown from `hold_s` after the last reading."""
        if self._last_t is None or t - self._last_t >= self.settings.hold_s - 1e-9:
            return FaceState(t, reason=NO_READING)
        if self._problem:
            return FaceState(t, reason=self._problem)
        eyes, mouth, lowered = self._named()
        relaxed = (self._relaxed_since is not None
                   and t - self._relaxed_since >= self.settings.relaxed_after_s - 1e-9)
        v = self._values
        return FaceState(t, eyes, mouth, lowered, relaxed, v.get("mouth_open"), v.get("eye_open"),
                         v.get("brow"), v.get("covered"),
                         _reason(mouth, self._grey))
