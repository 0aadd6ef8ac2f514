"""The pain-expression run of ALARMS.md: the hysteresis run on S, plus what only the face has:
escalation by T_high held for D_high, the episode's S statistics, and merging with the episode it
last resolved.

Only S and time drive it. S is held constant between calls, so time is integrated exactly and
every timer fires at its own instant (see timing.py); the pain alarm turns changes into alarms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from monitor.config import AlarmSettings
from monitor.signal.hysteresis import (ACTIVE, IDLE, ONSET, Band, Ended, HighReached,
                                       HysteresisRun, Raised, RunChange, RunRules)
from monitor.signal.records import RESOLVED
from monitor.signal.timing import EPS, earliest, is_due


@dataclass(frozen=True)
class RunStats:
    """Summary of known S (and F) over an episode; the mean is weighted by time."""

    peak: float
    integral: float = 0.0
    known: float = 0.0
    max_f: float | None = None

    @property
    def mean(self) -> float | None:
        return self.integral / self.known if self.known > 0 else None

    def merged(self, other: "RunStats") -> "RunStats":
        return RunStats(
            peak=max(self.peak, other.peak),
            integral=self.integral + other.integral,
            known=self.known + other.known,
            max_f=max((f for f in (self.max_f, other.max_f) if f is not None), default=None),
        )


@dataclass(frozen=True)
class _Closed:
    """A resolved episode that a new onset within merge_within may re-open."""

    end: float
    high_acc: float
    high_done: bool
    stats: RunStats


def pain_rules(settings: AlarmSettings) -> RunRules:
    return RunRules(onset_s=settings.d_on_s, clear_s=settings.d_off_s,
                    dip_s=settings.dip_tolerance_s, resume_s=settings.resume_within_s,
                    off_resets_onset=True)


def s_band_of(s: float | None, settings: AlarmSettings) -> Band | None:
    if s is None:
        return None
    return Band.ON if s >= settings.t_on else Band.BETWEEN if s > settings.t_off else Band.OFF


class PainRun:
    """The face run; set_s/integrate/fire must be called in time order."""

    def __init__(self, settings: AlarmSettings, t: float) -> None:
        self._run = HysteresisRun(pain_rules(settings), t)
        self.settings = settings
        self.s: float | None = None
        self._previous: _Closed | None = None
        self._reset()

    @property
    def settings(self) -> AlarmSettings:
        return self._settings

    @settings.setter
    def settings(self, settings: AlarmSettings) -> None:
        self._settings = settings
        self._run.rules = pain_rules(settings)

    @property
    def phase(self) -> str:
        return self._run.phase

    @property
    def start(self) -> float | None:
        return self._run.start

    def _reset(self) -> None:
        self._high_acc = 0.0
        self._high_done = False
        self.stats: RunStats | None = None
        self._stats_at_off: RunStats | None = None

    def _follow(self) -> None:
        """The run went back to idle: what it collected goes with it."""
        if self._run.phase == IDLE:
            self._reset()

    # --- time -------------------------------------------------------------------------------

    def integrate(self, t: float) -> None:
        """Let time pass to t with S unchanged; timers only run while S is known."""
        dt = t - self._run.now
        counting = self.s is not None and self._run.phase != IDLE
        self._run.integrate(t)
        if dt <= 0 or not counting:
            return
        s = self.s
        if s >= self._settings.t_high:
            self._high_acc += dt
        self.stats = replace(self.stats, integral=self.stats.integral + s * dt,
                             known=self.stats.known + dt)

    def next_due(self) -> float | None:
        if self._run.phase != ACTIVE or self.s is None:
            return self._run.next_due()
        return earliest(self._high_due(), self._run.next_due())

    def _high_due(self) -> float | None:
        cfg = self._settings
        if self._run.phase != ACTIVE or self._high_done:
            return None
        if self.s is not None and self.s >= cfg.t_high or self._high_acc >= cfg.d_high_s - EPS:
            return self._run.now + max(0.0, cfg.d_high_s - self._high_acc)
        return None

    def fire(self) -> list[RunChange]:
        """Act on every timer due now (after integrate(now))."""
        changes: list[RunChange] = []
        if self._run.phase == ACTIVE and self.s is not None and is_due(self._high_due(), self._run.now):
            self._high_done = True
            changes.append(HighReached(self._run.now))
        changes += [self._own(change) for change in self._run.fire()]
        self._follow()
        return changes

    # --- input ------------------------------------------------------------------------------

    def set_s(self, t: float, s: float | None) -> list[RunChange]:
        """S changes at t (after integrate(t)); the same value again is harmless."""
        was_idle, was_off = self._run.phase == IDLE, self._run.off_since
        self.s = s
        changes = self._run.set_band(t, s_band_of(s, self._settings))
        self._follow()
        if s is None:
            return changes
        if was_idle and self._run.phase == ONSET:
            self.stats = RunStats(peak=s)
        if self._run.phase == ACTIVE:
            if self._run.off_since is None:
                self._stats_at_off = None
            elif was_off is None:
                self._stats_at_off = self.stats
        if self.stats is not None:
            self.stats = replace(self.stats, peak=max(self.stats.peak, s))
        return changes

    def note_f(self, f: float | None) -> None:
        if self.stats is not None and f is not None:
            best = f if self.stats.max_f is None else max(self.stats.max_f, f)
            self.stats = replace(self.stats, max_f=best)

    def forget_subject(self) -> None:
        """Another person's face (subject change): a run not yet raised does not carry over, and
        the episode last resolved cannot be re-opened by the new person's run."""
        self._run.forget_onset()
        self._follow()
        self._previous = None

    def finish(self, t: float) -> list[RunChange]:
        """Session end: an open episode ends now with reason session_ended."""
        changes = [self._own(change) for change in self._run.finish(t)]
        self._follow()
        return changes

    # --- transitions ------------------------------------------------------------------------

    def _own(self, change: RunChange) -> RunChange:
        """The face's part of a raise (merging) and of an end (statistics)."""
        if isinstance(change, Raised):
            previous, self._previous = self._previous, None
            merged = (previous is not None
                      and change.start - previous.end <= self._settings.merge_within_s + EPS)
            if merged:
                self._high_acc += previous.high_acc
                self._high_done = previous.high_done
                self.stats = previous.stats.merged(self.stats)
            return replace(change, merged=merged)
        if isinstance(change, Ended):
            stats = self._stats_at_off if change.reason == RESOLVED else self.stats
            if change.reason == RESOLVED:
                self._previous = _Closed(change.end, self._high_acc, self._high_done, stats)
            return replace(change, stats=stats)
        return change
