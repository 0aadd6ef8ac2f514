"""What the nurse switches on (ALARMS.md "Modes"): procedure / care, standby, and audio pause.

An engine part: its timers are the end of audio pause, a procedure's end, and standby's
overdue reminders. Standby also pauses the cues beyond the face and restarts the no-face timers
when it ends; the pain alarm is told by the engine (it forgets S).
"""

from __future__ import annotations

import math

from monitor.config import AlarmSettings
from monitor.errors import MonitorError
from monitor.signal.clockwork import Bench, Part
from monitor.signal.cues import CorroboratingCues
from monitor.signal.records import MONITORING, PROCEDURE, STANDBY, EventKind, Transition
from monitor.signal.technical import TechnicalWatch
from monitor.signal.timing import earliest, is_due

SECONDS_PER_MINUTE = 60.0


class Modes(Part):
    """The mode (monitoring, procedure, standby), its end or reminder, and audio pause."""

    def __init__(self, bench: Bench, watch: TechnicalWatch, cues: CorroboratingCues) -> None:
        self.bench = bench
        self._watch = watch
        self._cues = cues
        self.mode = MONITORING
        self.mode_until: float | None = None
        self.paused_until: float | None = None
        self.last_procedure_end = -math.inf
        self._standby_reminder: float | None = None

    @property
    def in_procedure(self) -> bool:
        return self.mode == PROCEDURE

    @property
    def in_standby(self) -> bool:
        return self.mode == STANDBY

    @property
    def patient_audio_suppressed(self) -> bool:
        return self.mode in (PROCEDURE, STANDBY)

    # --- user actions -----------------------------------------------------------------------

    def audio_pause(self, user: str) -> None:
        """Silence all audio for audio_pause_max_s from now; visual signals stay."""
        bench = self.bench
        self.paused_until = bench.now + bench.settings.audio_pause_max_s
        bench.emit(EventKind.AUDIO, None, Transition.AUDIO_PAUSED, user, detail=f"until {self.paused_until:.1f}")

    def procedure_minutes(self, minutes: float | None) -> float:
        """The duration asked for, checked before anything happens (None: the default)."""
        cfg = self.bench.settings
        minutes = cfg.procedure_default_min if minutes is None else minutes
        if not (isinstance(minutes, (int, float)) and 0 < minutes <= cfg.procedure_max_min):
            raise MonitorError(f"procedure duration must be more than 0 and at most "
                               f"{cfg.procedure_max_min:g} minutes (got {minutes})")
        return minutes

    def procedure_start(self, minutes: float, reason: str, user: str) -> None:
        """Procedure / care: patient alarm audio suppressed for `minutes`; technical alarms stay on."""
        bench = self.bench
        if self.mode == STANDBY:
            self._end_standby(user)
        self.mode = PROCEDURE
        self.mode_until = bench.now + minutes * SECONDS_PER_MINUTE
        bench.emit(EventKind.MODE, None, Transition.PROCEDURE_STARTED, user,
                   detail=f"{reason}; {minutes:g} min".lstrip("; "))

    def procedure_end(self, user: str) -> None:
        if self.mode == PROCEDURE:
            self._end_procedure(user, "by_user")

    def standby_start(self, user: str) -> bool:
        """Infant out of the cot: True when standby starts now (the engine then forgets S)."""
        if self.mode == STANDBY:
            return False
        bench = self.bench
        if self.mode == PROCEDURE:
            self._end_procedure(user, "standby")
        self.mode = STANDBY
        self.mode_until = self._standby_reminder = bench.now + bench.settings.standby_max_min * SECONDS_PER_MINUTE
        bench.emit(EventKind.MODE, None, Transition.STANDBY_STARTED, user)
        self._cues.pause()
        return True

    def standby_end(self, user: str) -> None:
        if self.mode == STANDBY:
            self._end_standby(user)

    def use(self, settings: AlarmSettings) -> None:
        """A shorter audio_pause_max shortens the pause running now."""
        if self.paused_until is not None:
            self.paused_until = min(self.paused_until, self.bench.now + self.bench.settings.audio_pause_max_s)

    def _end_procedure(self, user: str | None, detail: str) -> None:
        self.mode, self.mode_until = MONITORING, None
        self.last_procedure_end = self.bench.now
        self.bench.emit(EventKind.MODE, None, Transition.PROCEDURE_ENDED, user, detail=detail)

    def _end_standby(self, user: str) -> None:
        self.mode = MONITORING
        self.mode_until = self._standby_reminder = None
        self._watch.restart(self.bench.now)
        self._cues.resume()
        self.bench.emit(EventKind.MODE, None, Transition.STANDBY_ENDED, user)

    # --- the clockwork ----------------------------------------------------------------------

    def _standby_reminder_at(self) -> float | None:
        if self.mode != STANDBY:
            return None
        return max(self._standby_reminder, self.paused_until or -math.inf)

    def next_due(self) -> float | None:
        return earliest(self.paused_until, self.mode_until if self.mode == PROCEDURE else None,
                        self._standby_reminder_at())

    def fire(self) -> None:
        bench, now = self.bench, self.bench.now
        if is_due(self.paused_until, now):
            self.paused_until = None
            bench.emit(EventKind.AUDIO, None, Transition.AUDIO_RESUMED)
        if self.mode == PROCEDURE and is_due(self.mode_until, now):
            self._end_procedure(None, "expired")
        if is_due(self._standby_reminder_at(), now):
            self._standby_reminder = now + bench.settings.reminder_every_s
            bench.reminder_due = True
            bench.emit(EventKind.MODE, None, Transition.STANDBY_OVERDUE)
