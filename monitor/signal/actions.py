"""What a user can do to the alarm engine, as small command objects.

The window builds them (their checks run there, on the UI thread, so a bad value is refused where
the nurse typed it) and the pipeline's loop applies them to the engine it owns, under a guard: a
failing action is logged, shown and recorded, never the end of monitoring.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.config import AlarmSettings
from monitor.signal.engine import AlarmEngine
from monitor.signal.records import AlarmKind


def _who(user: str) -> str:
    user = (user or "").strip()
    return user or "bedside"


@dataclass(frozen=True)
class Acknowledge:
    """Acknowledge one kind of alarm, or all of them (kind None)."""

    user: str = "bedside"
    kind: AlarmKind | None = None

    def __post_init__(self) -> None:
        if self.kind is not None:
            object.__setattr__(self, "kind", AlarmKind(self.kind))

    def apply(self, engine: AlarmEngine, t: float) -> None:
        engine.acknowledge(t, _who(self.user), self.kind)


@dataclass(frozen=True)
class PauseAudio:
    user: str = "bedside"

    def apply(self, engine: AlarmEngine, t: float) -> None:
        engine.audio_pause(t, _who(self.user))


@dataclass(frozen=True)
class StartProcedure:
    """Procedure / care for `minutes` (within the settings' maximum)."""

    minutes: float
    reason: str = ""
    user: str = "bedside"

    def __post_init__(self) -> None:
        if not 0 < self.minutes:
            raise ValueError(f"a procedure lasts more than 0 minutes (got {self.minutes})")

    def apply(self, engine: AlarmEngine, t: float) -> None:
        engine.procedure_start(t, self.minutes, self.reason, _who(self.user))


@dataclass(frozen=True)
class EndProcedure:
    user: str = "bedside"

    def apply(self, engine: AlarmEngine, t: float) -> None:
        engine.procedure_end(t, _who(self.user))


@dataclass(frozen=True)
class StartStandby:
    user: str = "bedside"

    def apply(self, engine: AlarmEngine, t: float) -> None:
        engine.standby_start(t, _who(self.user))


@dataclass(frozen=True)
class EndStandby:
    user: str = "bedside"

    def apply(self, engine: AlarmEngine, t: float) -> None:
        engine.standby_end(t, _who(self.user))


@dataclass(frozen=True)
class ChangeAlarmSettings:
    """Audited settings change; `alarms` is already validated (a pydantic model)."""

    alarms: AlarmSettings
    user: str = "bedside"

    def apply(self, engine: AlarmEngine, t: float) -> None:
        engine.update_settings(t, self.alarms, _who(self.user))


UserAction = Acknowledge | PauseAudio | StartProcedure | EndProcedure | StartStandby | EndStandby \
    | ChangeAlarmSettings
