"""Which technical alarm conditions hold, from frame times, face outcomes and stage reports.

The engine's own watchdog sees frame times against ticks (CAMERA_LOST with no frames); the other
stages report what only they can see (frozen image, silent microphone, stalled frame, model
failure, refused writes) once their own thresholds (frozen_after_s, stalled_after_s) are passed. Refused writes become
STORAGE_FAILING here after storage_failing_after_s, because the store reports its state at once
(a database locked for a moment is no alarm); a full disk does not pass by itself, so it is
STORAGE_FAILING at once.
"""

from __future__ import annotations

from monitor.config import AlarmSettings
from monitor.packets import FaceStatus
from monitor.signal.records import (CAMERA_LOST, LOW, MEDIUM, MICROPHONE_LOST, MODEL_ERROR, NO_FACE,
                                    PIPELINE_STALLED, POOR_SIGNAL, STORAGE_BUFFER_HALF,
                                    STORAGE_FAILING, STORAGE_FULL)
from monitor.signal.timing import EPS, earliest


class TechnicalWatch:
    """Technical conditions at a given time; TechnicalAlarms raises and clears the alarms."""

    def __init__(self, settings: AlarmSettings) -> None:
        self.settings = settings
        self.armed = False  # the first frame or tick starts the watchdog
        self.picture_ended = False  # a file's picture is over: no frames are expected any more
        self.last_status: FaceStatus | None = None
        self._last_frame = 0.0
        self._face_ref = 0.0  # last face found (scored or poor quality), or a restart
        self._scored_ref = 0.0  # last scored face, or a restart
        self._reports: dict[str, tuple[float, str]] = {}  # active conditions: since, detail
        self._reporters: dict[str, set[str]] = {}  # who reports each active condition

    def heartbeat(self, t: float) -> None:
        if not self.armed:
            self.armed = True
            self._last_frame = t
            self.restart(t)

    def frame(self, t: float, status: FaceStatus) -> None:
        self.heartbeat(t)
        if self.camera_lost(t):
            self.restart(t)  # blind time is CAMERA_LOST's, not the face's
        self._last_frame = t
        self.last_status = status
        if status is not FaceStatus.NO_FACE:
            self._face_ref = t
        if status is FaceStatus.SCORED:
            self._scored_ref = t

    def restart(self, t: float) -> None:
        """Start the no-face / poor-signal timers afresh (camera back, standby over)."""
        self._face_ref = max(self._face_ref, t)
        self._scored_ref = max(self._scored_ref, t)

    def report(self, t: float, kind: str, active: bool, detail: str, reporter: str = "") -> None:
        """A condition holds while any of its reporters says so (the loop sees an old frame, the
        watchdog a loop that does not move: both are PIPELINE_STALLED)."""
        reporters = self._reporters.setdefault(kind, set())
        if active:
            reporters.add(reporter)
            since = self._reports.get(kind, (t, ""))[0]
            self._reports[kind] = (since, detail)
            return
        reporters.discard(reporter)
        if not reporters and self._reports.pop(kind, None) is not None and kind == CAMERA_LOST:
            self.restart(t)

    def detail(self, kind: str) -> str:
        return self._reports.get(kind, (0.0, ""))[1]

    def camera_lost(self, now: float) -> bool:
        if CAMERA_LOST in self._reports:
            return True
        return (self.armed and not self.picture_ended
                and now >= self._last_frame + self.settings.camera_lost_after_s - EPS)

    def conditions(self, now: float, monitoring: bool) -> dict[str, str]:
        """Technical conditions holding now, with their base priority."""
        cfg = self.settings
        held: dict[str, str] = {}
        lost = self.camera_lost(now)
        if lost:
            held[CAMERA_LOST] = MEDIUM
        for kind in (MICROPHONE_LOST, PIPELINE_STALLED, MODEL_ERROR):
            if kind in self._reports:
                held[kind] = MEDIUM
        storage = self._reports.get(STORAGE_FAILING)
        if storage is not None and now >= self._storage_due(storage[0]) - EPS:
            held[STORAGE_FAILING] = MEDIUM if STORAGE_BUFFER_HALF in self._reports else LOW
        if monitoring and self.armed and not lost and not self.picture_ended:
            if now >= self._face_ref + cfg.no_face_after_s - EPS:
                held[NO_FACE] = LOW
            elif now >= self._scored_ref + cfg.poor_signal_after_s - EPS:
                held[POOR_SIGNAL] = LOW
        return held

    def next_due(self, now: float, monitoring: bool) -> float | None:
        """The next time a condition starts to hold with no further input."""
        cfg = self.settings
        candidates: list[float | None] = []
        storage = self._reports.get(STORAGE_FAILING)
        if storage is not None:
            candidates.append(self._storage_due(storage[0]))
        if self.armed and not self.picture_ended and not self.camera_lost(now):
            candidates.append(self._last_frame + cfg.camera_lost_after_s)
            if monitoring:
                candidates += [self._face_ref + cfg.no_face_after_s,
                               self._scored_ref + cfg.poor_signal_after_s]
        return earliest(*(d for d in candidates if d > now + EPS))

    def _storage_due(self, since: float) -> float:
        """When refused writes since `since` become STORAGE_FAILING: at once on a full disk."""
        return since if STORAGE_FULL in self._reports else since + self.settings.storage_failing_after_s
