"""The one run machine behind PAIN and CRYING (ALARMS.md): onset with dips, an end timer, signal
loss and the resume window. The owner says at each change which band its input is in; the run
counts known time only, and every timer fires at its own instant (see timing.py).

Bands: ON counts towards the onset; BETWEEN (pain: T_off < S < T_on) is a dip in the onset and
cancels an end; OFF starts the end once raised, and in the onset either drops it (pain: S <= T_off)
or is a dip (crying: not crying), as `RunRules.off_resets_onset` says; None is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from monitor.signal.records import RESOLVED, SESSION_ENDED, SIGNAL_LOST
from monitor.signal.timing import EPS, is_due

if TYPE_CHECKING:
    from monitor.signal.pain import RunStats

IDLE, ONSET, ACTIVE = "idle", "onset", "active"


class Band(StrEnum):
    ON = "on"
    BETWEEN = "between"
    OFF = "off"


@dataclass(frozen=True)
class RunRules:
    onset_s: float  # ON time that completes the onset (D_on, crying_after_s)
    clear_s: float  # OFF time that ends the condition (D_off, crying_clear_s)
    dip_s: float  # the longest dip an onset survives
    resume_s: float  # unknown this long: an onset is dropped, a raised run ends signal_lost
    off_resets_onset: bool


@dataclass(frozen=True)
class Raised:
    t: float
    start: float
    merged: bool = False  # pain: re-opens the episode that ended within merge_within before


@dataclass(frozen=True)
class HighReached:
    t: float


@dataclass(frozen=True)
class SignalLost:
    t: float


@dataclass(frozen=True)
class SignalResumed:
    t: float


@dataclass(frozen=True)
class Ended:
    t: float  # when the condition cleared
    end: float  # the end as recorded
    reason: str
    stats: RunStats | None = None  # the face run's statistics (pain.py); None for crying


RunChange = Raised | HighReached | SignalLost | SignalResumed | Ended


class HysteresisRun:
    """State of the current run; set_band/integrate/fire must be called in time order."""

    def __init__(self, rules: RunRules, t: float) -> None:
        self.rules = rules
        self.now = t
        self.band: Band | None = None
        self.lost_since: float | None = None
        self.clear()

    def clear(self) -> None:
        self.phase = IDLE
        self.start: float | None = None
        self._on_acc = 0.0
        self._dip = 0.0
        self.off_since: float | None = None
        self._off_acc = 0.0

    def integrate(self, t: float) -> None:
        """Let time pass to t in the same band; the clocks count known time only."""
        dt = t - self.now
        self.now = max(self.now, t)
        if dt <= 0 or self.band is None or self.phase == IDLE:
            return
        if self.phase == ONSET:
            if self.band is Band.ON:
                self._on_acc += dt
            elif self.band is Band.BETWEEN or not self.rules.off_resets_onset:
                self._dip += dt
        if self.off_since is not None:
            self._off_acc += dt

    def next_due(self) -> float | None:
        rules, now = self.rules, self.now
        if self.phase == IDLE:
            return None
        if self.band is None:
            return self.lost_since + rules.resume_s
        if self.phase == ONSET:
            if self.band is Band.ON or self._on_acc >= rules.onset_s - EPS:
                return now + max(0.0, rules.onset_s - self._on_acc)
            return now + max(0.0, rules.dip_s - self._dip)
        return self._off_due()

    def _off_due(self) -> float | None:
        if self.off_since is None:
            return None
        return self.now + max(0.0, self.rules.clear_s - self._off_acc)

    def fire(self) -> list[RunChange]:
        """Act on every timer due now (after integrate(now))."""
        rules, now = self.rules, self.now
        if self.phase == IDLE:
            return []
        if self.band is None:
            if not is_due(self.lost_since + rules.resume_s, now):
                return []
            if self.phase == ONSET:
                self.clear()
                return []
            return [self._close(now, self.lost_since, SIGNAL_LOST)]
        if self.phase == ONSET:
            if self._on_acc >= rules.onset_s - EPS:
                self.phase = ACTIVE
                return [Raised(now, self.start)]
            if self.band is not Band.ON and self._dip >= rules.dip_s - EPS:
                self.clear()
            return []
        if is_due(self._off_due(), now):
            return [self._close(now, self.off_since, RESOLVED)]
        return []

    def set_band(self, t: float, band: Band | None) -> list[RunChange]:
        """The input's band at t (after integrate(t)); the same band again is harmless."""
        was, self.band = self.band, band
        if band is None:
            if was is None:
                return []
            self.lost_since = t
            return [SignalLost(t)] if self.phase == ACTIVE else []
        changes: list[RunChange] = []
        if was is None and self.lost_since is not None:
            if self.phase == ACTIVE:
                changes.append(SignalResumed(t))
            self.lost_since = None
        if self.phase == IDLE:
            if band is Band.ON:
                self.phase, self.start = ONSET, t
        elif self.phase == ONSET:
            if band is Band.ON:
                self._dip = 0.0
            elif band is Band.OFF and self.rules.off_resets_onset:
                self.clear()
        elif band is not Band.OFF:
            self.off_since = None
        elif self.off_since is None:
            self.off_since, self._off_acc = t, 0.0
        return changes

    def forget_onset(self) -> None:
        """An onset not yet raised does not carry over (another person's face)."""
        if self.phase == ONSET:
            self.clear()

    def finish(self, t: float) -> list[RunChange]:
        """Session end: a raised run ends now with reason session_ended."""
        if self.phase != ACTIVE:
            self.clear()
            return []
        return [self._close(t, t, SESSION_ENDED)]

    def _close(self, t: float, end: float, reason: str) -> Ended:
        self.clear()
        return Ended(t, end, reason)
