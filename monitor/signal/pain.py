"""The pain-expression run of ALARMS.md: onset, dips, escalation by T_high, end, signal loss.

Only S and time drive it. S is held constant between calls, so time is integrated exactly and
every timer fires at its own instant (see timing.py); the engine turns changes into alarms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from monitor.config import AlarmSettings
from monitor.signal.records import RESOLVED, SESSION_ENDED, SIGNAL_LOST
from monitor.signal.timing import EPS, earliest, is_due

IDLE, ONSET, ACTIVE = "idle", "onset", "active"


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
class Raised:
    t: float
    start: float
    merged: bool  # re-opens the episode that ended within merge_within before this run began


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
    end: float  # the episode's end as recorded
    reason: str
    stats: RunStats | None  # None for the cry run (fusion.py), which keeps no S statistics


PainChange = Raised | HighReached | SignalLost | SignalResumed | Ended


@dataclass(frozen=True)
class _Closed:
    """A resolved episode that a new onset within merge_within may re-open."""

    end: float
    high_acc: float
    high_done: bool
    stats: RunStats


class PainRun:
    """State of the current run; set_s/integrate/fire must be called in time order."""

    def __init__(self, settings: AlarmSettings, t: float) -> None:
        self.settings = settings
        self.now = t
        self.s: float | None = None
        self.phase = IDLE
        self.lost_since: float | None = None
        self._previous: _Closed | None = None
        self._clear_run()

    def _clear_run(self) -> None:
        self.phase = IDLE
        self.start: float | None = None
        self._on_acc = 0.0
        self._dip = 0.0
        self._high_acc = 0.0
        self._high_done = False
        self._off_since: float | None = None
        self._off_acc = 0.0
        self.stats: RunStats | None = None
        self._stats_at_off: RunStats | None = None

    # --- time -------------------------------------------------------------------------------

    def integrate(self, t: float) -> None:
        """Let time pass to t with S unchanged; timers only run while S is known."""
        dt = t - self.now
        self.now = max(self.now, t)
        s, cfg = self.s, self.settings
        if dt <= 0 or s is None or self.phase == IDLE:
            return
        if self.phase == ONSET:
            if s >= cfg.t_on:
                self._on_acc += dt
            elif s > cfg.t_off:
                self._dip += dt
        if s >= cfg.t_high:
            self._high_acc += dt
        if self._off_since is not None:
            self._off_acc += dt
        self.stats = replace(self.stats, integral=self.stats.integral + s * dt,
                             known=self.stats.known + dt)

    def next_due(self) -> float | None:
        if self.phase == IDLE:
            return None
        cfg, now = self.settings, self.now
        if self.s is None:
            return self.lost_since + cfg.resume_within_s
        if self.phase == ONSET:
            if self.s >= cfg.t_on or self._on_acc >= cfg.d_on_s - EPS:
                return now + max(0.0, cfg.d_on_s - self._on_acc)
            return now + max(0.0, cfg.dip_tolerance_s - self._dip)
        return earliest(self._high_due(), self._off_due())

    def _high_due(self) -> float | None:
        cfg = self.settings
        if self.phase != ACTIVE or self._high_done:
            return None
        if self.s is not None and self.s >= cfg.t_high or self._high_acc >= cfg.d_high_s - EPS:
            return self.now + max(0.0, cfg.d_high_s - self._high_acc)
        return None

    def _off_due(self) -> float | None:
        if self._off_since is None:
            return None
        return self.now + max(0.0, self.settings.d_off_s - self._off_acc)

    def fire(self) -> list[PainChange]:
        """Act on every timer due now (after integrate(now))."""
        cfg, now = self.settings, self.now
        if self.phase == IDLE:
            return []
        if self.s is None:
            if not is_due(self.lost_since + cfg.resume_within_s, now):
                return []
            if self.phase == ONSET:
                self._clear_run()
                return []
            return [self._close(now, self.lost_since, SIGNAL_LOST)]
        if self.phase == ONSET:
            if self._on_acc >= cfg.d_on_s - EPS:
                return [self._raise(now)]
            if self.s < cfg.t_on and self._dip >= cfg.dip_tolerance_s - EPS:
                self._clear_run()
            return []
        changes: list[PainChange] = []
        if is_due(self._high_due(), now):
            self._high_done = True
            changes.append(HighReached(now))
        if is_due(self._off_due(), now):
            changes.append(self._close(now, self._off_since, RESOLVED))
        return changes

    # --- input ------------------------------------------------------------------------------

    def set_s(self, t: float, s: float | None) -> list[PainChange]:
        """S changes at t (after integrate(t)); the same value again is harmless."""
        was, self.s = self.s, s
        cfg = self.settings
        if s is None:
            if was is None:
                return []
            self.lost_since = t
            return [SignalLost(t)] if self.phase == ACTIVE else []
        changes: list[PainChange] = []
        if was is None and self.lost_since is not None:
            if self.phase == ACTIVE:
                changes.append(SignalResumed(t))
            self.lost_since = None
        if self.phase == IDLE and s >= cfg.t_on:
            self.phase, self.start, self.stats = ONSET, t, RunStats(peak=s)
        elif self.phase == ONSET:
            if s <= cfg.t_off:
                self._clear_run()
            elif s >= cfg.t_on:
                self._dip = 0.0
        elif self.phase == ACTIVE:
            if s > cfg.t_off:
                self._off_since, self._stats_at_off = None, None
            elif self._off_since is None:
                self._off_since, self._off_acc, self._stats_at_off = t, 0.0, self.stats
        if self.stats is not None:
            self.stats = replace(self.stats, peak=max(self.stats.peak, s))
        return changes

    def note_f(self, f: float | None) -> None:
        if self.stats is not None and f is not None:
            best = f if self.stats.max_f is None else max(self.stats.max_f, f)
            self.stats = replace(self.stats, max_f=best)

    def forget_onset(self) -> None:
        """Another person's face (subject change): a run not yet raised does not carry over."""
        if self.phase == ONSET:
            self._clear_run()

    def finish(self, t: float) -> list[PainChange]:
        """Session end: an open episode ends now with reason session_ended."""
        if self.phase != ACTIVE:
            self._clear_run()
            return []
        return [self._close(t, t, SESSION_ENDED)]

    # --- transitions ------------------------------------------------------------------------

    def _raise(self, t: float) -> Raised:
        previous, self._previous = self._previous, None
        merged = previous is not None and self.start - previous.end <= self.settings.merge_within_s + EPS
        if merged:
            self._high_acc += previous.high_acc
            self._high_done = previous.high_done
            self.stats = previous.stats.merged(self.stats)
        self.phase = ACTIVE
        return Raised(t, self.start, merged)

    def _close(self, t: float, end: float, reason: str) -> Ended:
        stats = self._stats_at_off if reason == RESOLVED else self.stats
        if reason == RESOLVED:
            self._previous = _Closed(end, self._high_acc, self._high_done, stats)
        self._clear_run()
        return Ended(t, end, reason, stats)
