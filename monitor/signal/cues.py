"""The cues beyond the face (ALARMS.md "Cues beyond the face: fusion"): the cry cue C and the
movement cue M of one session, and which of them corroborate a face run at an instant.

An engine part: its only timer is the cry cue going `no_microphone` by itself
`audio.lost_after_s` after the last window, and that is where the cue forgets its reading
(`cry_reading`, what snapshot() shows, never changes it).
"""

from __future__ import annotations

import math
from dataclasses import replace

from monitor.config import AudioSettings, MovementSettings
from monitor.packets import FaceStatus
from monitor.signal.clockwork import Bench, Part
from monitor.signal.cry import CryCue, CryReading, CryState, CryWindow
from monitor.signal.movement import MAX_SPAN_S, MovementCue, MovementSmoother, MovementState
from monitor.signal.timing import EPS, is_due
from monitor.signal.whose_cry import WhoseCry

FACE, CRY, MOVEMENT = "face", "cry", "movement"
CUE_ORDER = (FACE, CRY, MOVEMENT)  # a new corroborating cue adds its name here
CORROBORATING_MOVEMENT = (MovementState.MOVING, MovementState.VIGOROUS)
NO_MICROPHONE_REASON = "no microphone"
NO_SOUND_YET = "no sound yet"
STANDBY_REASON = "standby"
LATE_WINDOW_STEP_S = 1e-3  # a late window that would not follow the previous one is dated this later


def cue_label(cues: set[str] | frozenset[str]) -> str:
    """'face', 'face+cry', 'face+movement' or 'face+cry+movement' (EpisodeRecord.cues)."""
    return "+".join(cue for cue in CUE_ORDER if cue == FACE or cue in cues)


class CorroboratingCues(Part):
    """C and M; `corroborating(now)` names those that corroborate a face run at that instant."""

    def __init__(self, bench: Bench, audio: AudioSettings, movement: MovementSettings) -> None:
        self.bench = bench
        self.cry = CryCue(audio, reason=NO_MICROPHONE_REASON)
        self.motion = MovementSmoother(movement)
        self.available = False
        self._absent_reason = NO_MICROPHONE_REASON
        self.last_window: float | None = None
        self._moving_until: float | None = None  # M corroborates until then (see movement())
        self.whose: WhoseCry | None = None  # says when a cry heard is another infant's

    # --- the clockwork ----------------------------------------------------------------------

    def next_due(self) -> float | None:
        return self.cry.stale_at()

    def fire(self) -> None:
        self.cry.at(self.bench.now)  # reading a cue past its stale time forgets it

    # --- inputs -----------------------------------------------------------------------------

    def window_time(self, t: float, now: float) -> float:
        """When a window counts: its end, or now if late, and always after the previous window."""
        t = max(t, now)
        if self.last_window is not None and t <= self.last_window + EPS:
            t = self.last_window + LATE_WINDOW_STEP_S
        return t

    def window(self, w: CryWindow) -> None:
        self.cry.window(w)
        self.last_window = w.t
        self.available = True

    def sound(self, now: float, available: bool, reason: str) -> None:
        """A source exists (windows will follow) or not (with why): never a score of 0."""
        self.available = available
        if not available:
            self._absent_reason = reason or NO_MICROPHONE_REASON
            self._forget(self._absent_reason)
        elif self.cry.at(now).state is CryState.NO_MICROPHONE:
            self._forget(reason or NO_SOUND_YET)

    def movement(self, t: float, m: float | None, reason: str) -> None:
        """One reading; M's state is read here, once per reading (it is what corroborates until
        the next reading, at most MAX_SPAN_S), so a frame costs one evaluation of M."""
        self.motion.add(t, m, reason)
        moving = self.motion.at(t).state in CORROBORATING_MOVEMENT
        self._moving_until = t + MAX_SPAN_S if moving else None

    def pause(self) -> None:
        """Standby: both cues unknown until readings return."""
        self._forget(STANDBY_REASON)
        self.motion.clear()
        self._moving_until = None

    def resume(self) -> None:
        """Standby over: the cry cue says again why there is no reading yet."""
        self._forget(NO_SOUND_YET if self.available else self._absent_reason)

    def _forget(self, reason: str) -> None:
        self.cry.lost(reason)
        self.last_window = None

    # --- readings ---------------------------------------------------------------------------

    def cry_at(self, now: float) -> CryReading:
        """The cry cue at `now`; crying while this infant's face is calm reads NEARBY."""
        return self._whose_reading(self.cry.at(now), now)

    def cry_reading(self, now: float) -> CryReading:
        """The cry cue at `now` for the screen; only reads (a stale reading is forgotten at its
        timer, in fire(), never here)."""
        if is_due(self.cry.stale_at(), now):
            return CryReading(t=now, state=CryState.NO_MICROPHONE,
                              reason=f"no sound for {self.cry.settings.lost_after_s:g} s")
        return self._whose_reading(self.cry.at(now), now)

    def _whose_reading(self, reading: CryReading, now: float) -> CryReading:
        if reading.state is CryState.CRYING and self.whose is not None and self.whose.nearby(now):
            return replace(reading, state=CryState.NEARBY)
        return reading

    def movement_at(self, now: float) -> MovementCue:
        return self.motion.at(now)

    def crying(self, now: float) -> bool | None:
        """True while the cry state is crying, None while there is no sound reading."""
        state = self.cry_at(now).state
        return None if state is CryState.NO_MICROPHONE else state is CryState.CRYING

    def corroborating(self, now: float) -> frozenset[str]:
        """The cues that corroborate a face run at this instant (unknown ones never do)."""
        cues = set()
        if self.crying(now):
            cues.add(CRY)
        if self._moving_until is not None and now < self._moving_until:
            cues.add(MOVEMENT)
        return frozenset(cues)


def checked_unit(value: float, name: str) -> float:
    """A score (p, S) is within 0..1."""
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be within 0..1 (got {value})")
    return value


def checked_frame(status: FaceStatus | str, p: float | None) -> tuple[FaceStatus, float | None]:
    """A frame's outcome: p within 0..1, given exactly when the face was scored."""
    status = FaceStatus(status)
    if (status is FaceStatus.SCORED) != (p is not None):
        raise ValueError(f"p must be given exactly for scored frames (status {status.value}, p {p})")
    return status, None if p is None else checked_unit(p, "p")


def checked_kind(kind: str, kinds: tuple[str, ...], what: str) -> None:
    if kind not in kinds:
        raise ValueError(f"unknown {what} {kind!r} (expected one of {kinds})")


def checked_movement(m: float | None) -> float | None:
    """A movement reading is a finite speed >= 0, or None when unknown."""
    if m is None:
        return None
    m = float(m)
    if not (math.isfinite(m) and m >= 0.0):
        raise ValueError(f"movement m must be a finite number >= 0 (got {m})")
    return m


def dated(w: CryWindow, t: float) -> CryWindow:
    return w if w.t == t else replace(w, t=t)
