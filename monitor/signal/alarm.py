"""One alarm's signal state: priority, condition, latch, silence and timers (ALARMS.md "Signals")."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.signal.records import (CAMERA_LOST, CRYING, MICROPHONE_LOST, MODEL_ERROR, NO_FACE, PAIN,
                                    PIPELINE_STALLED, POOR_SIGNAL, RANK, STORAGE_FAILING, SYMBOL)

TEXT = {
    PAIN: "Pain expression (estimate from the face)",
    CRYING: "Crying heard (the face does not show pain, or is not seen)",
    CAMERA_LOST: "Camera lost: the monitor is blind",
    MICROPHONE_LOST: "Microphone lost: crying cannot be heard",
    PIPELINE_STALLED: "Processing stalled: frames wait for a score",
    MODEL_ERROR: "Model error: no scores",
    NO_FACE: "No face in view",
    POOR_SIGNAL: "Face not clear enough to score",
    STORAGE_FAILING: "Storage failing: data is buffered",
}


@dataclass
class AlarmSignal:
    """Mutable inside the engine; the outside world only sees AlarmState copies."""

    kind: str
    priority: str
    since: float
    episode: int | None = None
    active: bool = True
    latched: bool = False
    signal_lost: bool = False
    unacked: bool = True
    silenced_until: float | None = None
    escalate_ref: float = 0.0  # PAIN, CRYING: escalate_after counts from here (raise, ack, mode back)
    next_reminder: float | None = None
    latch_span: tuple[float, float] | None = None  # PAIN, CRYING: start and end, for the screen
    cues: str = ""  # PAIN: the cues that carry it, e.g. "face+cry"

    def raise_(self, t: float, priority: str) -> None:
        """A new alarm signal: it sounds even if an earlier one was acknowledged."""
        self.priority = priority if RANK[priority] > RANK[self.priority] else self.priority
        self.active, self.latched, self.unacked = True, False, True
        self.since = t
        self.silenced_until = None
        self.escalate_ref = t
        self.next_reminder = None
        self.latch_span = None

    def escalate(self, priority: str) -> None:
        self.priority = priority
        self.unacked = True
        self.silenced_until = None

    def text(self) -> str:
        words = TEXT[self.kind]
        if self.cues:
            words += f", cues: {self.cues.replace('+', ' + ')}"
        if self.latched and self.latch_span is not None:
            start, end = self.latch_span
            words += f" {_clock(start)}-{_clock(end)} (session time), not acknowledged"
        if self.signal_lost:
            words += ", signal lost"
        return f"{SYMBOL[self.priority]} {words}"


def _clock(t: float) -> str:
    whole = int(t)
    return f"{whole // 3600:d}:{whole // 60 % 60:02d}:{whole % 60:02d}"
