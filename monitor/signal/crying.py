"""CRYING (ALARMS.md "CRYING: a cry the face does not carry"): the hysteresis run on the cry
state and the CRYING alarm's condition.

An engine part: its timers are the cry run's (crying_after_s, dips, crying_clear_s,
resume_within). Whether the completed onset raises CRYING, or PAIN carries the cry, is the fusion
part's decision (fusion.py).
"""

from __future__ import annotations

from monitor.config import AlarmSettings
from monitor.signal.alarm import AlarmSignal
from monitor.signal.book import AlarmBook
from monitor.signal.clockwork import Bench, Part
from monitor.signal.cues import CorroboratingCues
from monitor.signal.hysteresis import (ACTIVE, Band, Ended, HysteresisRun, Raised, RunChange,
                                       RunRules, SignalLost)
from monitor.signal.modes import Modes
from monitor.signal.records import CRYING, MEDIUM, Transition

NO_SOUND = "no sound"


def cry_rules(settings: AlarmSettings) -> RunRules:
    return RunRules(onset_s=settings.crying_after_s, clear_s=settings.crying_clear_s,
                    dip_s=settings.dip_tolerance_s, resume_s=settings.resume_within_s,
                    off_resets_onset=False)


class CryingAlarm(Part):
    """The cry run and the CRYING alarm's signal loss and end (one CRYING alarm at a time)."""

    def __init__(self, bench: Bench, book: AlarmBook, modes: Modes, cues: CorroboratingCues) -> None:
        self.bench, self._book, self._modes, self._cues = bench, book, modes, cues
        self.run = HysteresisRun(cry_rules(bench.settings), bench.now)
        self.crying: bool | None = None  # the cry state the run last saw (None: unknown)
        self._since: float | None = None  # start of the active cry run

    @property
    def alarm(self) -> AlarmSignal | None:
        return self._book.get(CRYING)

    @property
    def onset_complete(self) -> bool:
        return self.run.phase == ACTIVE

    def use(self, settings: AlarmSettings) -> None:
        self.run.rules = cry_rules(settings)

    def finish(self) -> None:
        for change in self.run.finish(self.bench.now):
            self._on_run(change)

    # --- the clockwork ----------------------------------------------------------------------

    def integrate(self, t: float) -> None:
        self.run.integrate(t)

    def next_due(self) -> float | None:
        return self.run.next_due()

    def fire(self) -> None:
        """Feed the cry state to the cry run, then act on its timers."""
        now = self.bench.now
        crying = None if self._modes.in_standby else self._cues.crying(now)
        if crying != self.crying:
            self.crying = crying
            band = None if crying is None else Band.ON if crying else Band.OFF
            for change in self.run.set_band(now, band):
                self._on_run(change)
        for change in self.run.fire():
            self._on_run(change)

    def _on_run(self, change: RunChange) -> None:
        if isinstance(change, Raised):
            self._since = change.start
            return  # fusion raises CRYING when the face does not carry the cry
        alarm = self.alarm
        if alarm is None or not alarm.active:
            return
        if isinstance(change, Ended):
            self._book.end(alarm, change.reason, (self._since, change.end))
        else:
            lost = isinstance(change, SignalLost)
            alarm.signal_lost = lost
            self.bench.emit(CRYING, alarm.priority, Transition.SIGNAL_LOST if lost else Transition.SIGNAL_RESUMED,
                            detail=NO_SOUND if lost else "")

    # --- what fusion decides ----------------------------------------------------------------

    def raise_alarm(self) -> None:
        now = self.bench.now
        alarm = self.alarm
        if alarm is None:
            alarm = self._book.add(CRYING, MEDIUM, now)
        alarm.raise_(now, MEDIUM)
        alarm.signal_lost = self.crying is None
        self.bench.emit(CRYING, alarm.priority, Transition.RAISED)
