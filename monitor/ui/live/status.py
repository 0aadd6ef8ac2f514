"""The status line at the foot of the live window, and the start-up self-test's tiles.

The status line says what the screen rests on: frames analysed per second, latency, device and
model, the camera and the database, sound, and the screen's own repaint rate.
"""

from __future__ import annotations

import time
from collections import deque

from PyQt6.QtWidgets import QLabel

from monitor.signal.records import HIGH, LOW, MEDIUM, Snapshot
from monitor.ui.live import words
from monitor.ui.live.alarmbar import SELF_TEST, Tile
from monitor.ui.live.worker import StartedSession, Update
from monitor.ui.live.sound import AlarmSound

RATE_WINDOW_S = 3.0
SELF_TEST_STEPS = ((HIGH, False), (MEDIUM, False), (LOW, True), (MEDIUM, True))


class StatusLine(QLabel):
    """Counts the frames painted and the screen's ticks; shows them with the session's health."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("status")
        self.frames: deque[float] = deque()  # when each analysed frame was received
        self.ticks: deque[float] = deque()  # when the screen repainted

    def show_state(self, heading: str, started: StartedSession | None, update: Update | None,
                   sound: AlarmSound, ended: bool) -> None:
        """`heading`: what stands first while no session has started."""
        parts = []
        if started is None:
            parts.append(heading)
        else:
            parts.append(f"{_rate(self.frames):.1f} fps analysed")
            if update is not None and update.latency_s is not None:
                parts.append(f"latency {update.latency_s * 1000:.0f} ms")
            parts.append(started.device)
            parts.append(f"model {started.model}")
            parts.append(f"camera: {_camera_text(started, update, ended)}")
            parts.append(f"database: {_store_text(update)}")
        parts.append("sound: on" if sound.available else f"SOUND UNAVAILABLE ({sound.why})")
        parts.append(f"screen {_rate(self.ticks):.0f} Hz")
        self.setText("   |   ".join(parts))


def _camera_text(started: StartedSession, update: Update | None, ended: bool) -> str:
    if ended:
        return "closed"
    if update is None:
        return "waiting"
    camera = update.camera
    if not started.live:
        return "file (analysis)"
    if not camera.connected:
        return f"LOST, reconnecting (try {camera.reconnects})"
    if camera.frozen:
        return "FROZEN image"
    return f"connected, {camera.dropped} frames skipped"


def _store_text(update: Update | None) -> str:
    if update is None:
        return "open"
    store = update.store
    if store.failing_since is not None:
        return f"FAILING, {store.buffered} rows waiting ({store.last_error})"
    return f"ok, {store.written} rows written"


def _rate(stamps: deque[float]) -> float:
    """Events per second over the last RATE_WINDOW_S."""
    now = time.monotonic()
    while stamps and stamps[0] < now - RATE_WINDOW_S:
        stamps.popleft()
    if len(stamps) < 2:
        return 0.0
    return (len(stamps) - 1) / max(now - stamps[0], 1e-6)


class SelfTest:
    """The start-up self-test: every alarm colour for `step_s` each, unless a real alarm comes."""

    def __init__(self, step_s: float) -> None:
        self.step_s = step_s
        self._started: float | None = None

    def start(self, sound: AlarmSound) -> dict:
        """Sound the tone once and start the colours; returns what to log and audit."""
        self._started = time.monotonic()
        sound.play("medium")
        colours = [f"{'technical' if technical else 'patient'} {priority}"
                   for priority, technical in SELF_TEST_STEPS]
        return {"tone": "played" if sound.available else f"unavailable: {sound.why}",
                "colours": colours}

    def tile(self, snapshot: Snapshot | None) -> Tile | None:
        """The colour shown now; None once the steps are over or a real alarm is raised."""
        if self._started is None:
            return None
        step = int((time.monotonic() - self._started) / self.step_s)
        if step >= len(SELF_TEST_STEPS) or (snapshot is not None and snapshot.alarms):
            self._started = None
            return None
        priority, technical = SELF_TEST_STEPS[step]
        return Tile(SELF_TEST, priority, technical, f"{words.symbol(priority)} SELF-TEST",
                    "checking alarm colours and sound", flashing=False)
