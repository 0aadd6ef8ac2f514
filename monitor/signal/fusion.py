"""The cues beyond the face (ALARMS.md "Cues beyond the face: fusion"): which corroborate, and
the cry run that raises CRYING.

Pure and on the session clock like the face run (pain.py): the cry state is held between windows,
so the run's time is integrated exactly and its timers fire at their own instants.
"""

from __future__ import annotations

import math
from dataclasses import replace

from monitor.config import AlarmSettings, AudioSettings, MovementSettings
from monitor.signal.cry import CryCue, CryReading, CryState, CryWindow
from monitor.signal.movement import MAX_SPAN_S, MovementCue, MovementSmoother, MovementState
from monitor.signal.pain import ACTIVE, IDLE, ONSET, Ended, Raised, SignalLost, SignalResumed
from monitor.signal.records import RESOLVED, SESSION_ENDED, SIGNAL_LOST
from monitor.signal.timing import EPS, is_due

FACE, CRY, MOVEMENT = "face", "cry", "movement"
CUE_ORDER = (FACE, CRY, MOVEMENT)
CORROBORATING_MOVEMENT = (MovementState.MOVING, MovementState.VIGOROUS)
NO_MICROPHONE_REASON = "no microphone"
NO_SOUND_YET = "no sound yet"
STANDBY_REASON = "standby"
LATE_WINDOW_STEP_S = 1e-3  # a late window that would not follow the previous one is dated this later

CryChange = Raised | SignalLost | SignalResumed | Ended


def cue_label(cues: set[str] | frozenset[str]) -> str:
    """'face', 'face+cry', 'face+movement' or 'face+cry+movement' (EpisodeRecord.cues)."""
    return "+".join(cue for cue in CUE_ORDER if cue == FACE or cue in cues)


class Cues:
    """The cry cue C and the movement cue M of one session; which of them corroborate now."""

    def __init__(self, audio: AudioSettings, movement: MovementSettings) -> None:
        self.cry = CryCue(audio, reason=NO_MICROPHONE_REASON)
        self.motion = MovementSmoother(movement)
        self.available = False
        self._absent_reason = NO_MICROPHONE_REASON
        self.last_window: float | None = None
        self._moving_until: float | None = None  # M corroborates until then (see movement())

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

    def cry_at(self, now: float) -> CryReading:
        return self.cry.at(now)

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

    def next_due(self) -> float | None:
        """The cry cue turns no_microphone by itself audio.lost_after_s after the last window."""
        return self.cry.stale_at()


class CryRun:
    """The CRYING condition on the cry state: onset with dips, end after crying_clear_s, and
    signal loss while the cue is unknown. set_state/integrate/fire must be called in time order."""

    def __init__(self, settings: AlarmSettings, t: float) -> None:
        self.settings = settings
        self.now = t
        self.crying: bool | None = None
        self.lost_since: float | None = None
        self._clear()

    def _clear(self) -> None:
        self.phase = IDLE
        self.start: float | None = None
        self._on_acc = 0.0
        self._dip = 0.0
        self._off_since: float | None = None
        self._off_acc = 0.0

    def integrate(self, t: float) -> None:
        """Time passes to t with the state unchanged; the run's clocks count known time only."""
        dt = t - self.now
        self.now = max(self.now, t)
        if dt <= 0 or self.crying is None or self.phase == IDLE:
            return
        if self.phase == ONSET:
            if self.crying:
                self._on_acc += dt
            else:
                self._dip += dt
        if self._off_since is not None:
            self._off_acc += dt

    def next_due(self) -> float | None:
        cfg, now = self.settings, self.now
        if self.phase == IDLE:
            return None
        if self.crying is None:
            return self.lost_since + cfg.resume_within_s
        if self.phase == ONSET:
            if self.crying:
                return now + max(0.0, cfg.crying_after_s - self._on_acc)
            return now + max(0.0, cfg.dip_tolerance_s - self._dip)
        if self._off_since is not None:
            return now + max(0.0, cfg.crying_clear_s - self._off_acc)
        return None

    def fire(self) -> list[CryChange]:
        cfg, now = self.settings, self.now
        if self.phase == IDLE:
            return []
        if self.crying is None:
            if not is_due(self.lost_since + cfg.resume_within_s, now):
                return []
            if self.phase == ONSET:
                self._clear()
                return []
            return [self._close(now, self.lost_since, SIGNAL_LOST)]
        if self.phase == ONSET:
            if self._on_acc >= cfg.crying_after_s - EPS:
                self.phase = ACTIVE
                return [Raised(now, self.start, merged=False)]
            if not self.crying and self._dip >= cfg.dip_tolerance_s - EPS:
                self._clear()
            return []
        if self._off_since is not None and self._off_acc >= cfg.crying_clear_s - EPS:
            return [self._close(now, self._off_since, RESOLVED)]
        return []

    def set_state(self, t: float, crying: bool | None) -> list[CryChange]:
        """The cry state at t (after integrate(t)): crying, not crying, or unknown (None)."""
        was, self.crying = self.crying, crying
        if crying is None:
            if was is None:
                return []
            self.lost_since = t
            return [SignalLost(t)] if self.phase == ACTIVE else []
        changes: list[CryChange] = []
        if was is None and self.lost_since is not None:
            if self.phase == ACTIVE:
                changes.append(SignalResumed(t))
            self.lost_since = None
        if crying:
            if self.phase == IDLE:
                self.phase, self.start = ONSET, t
            self._dip = 0.0
            self._off_since = None
        elif self.phase == ACTIVE and self._off_since is None:
            self._off_since, self._off_acc = t, 0.0
        return changes

    def finish(self, t: float) -> list[CryChange]:
        """Session end: an active run ends now with reason session_ended."""
        if self.phase != ACTIVE:
            self._clear()
            return []
        return [self._close(t, t, SESSION_ENDED)]

    def _close(self, t: float, end: float, reason: str) -> Ended:
        self._clear()
        return Ended(t, end, reason, stats=None)


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
