"""The watcher that does not share the loop's thread (ARCHITECTURE.md "The monitor watches itself").

The loop marks each step on a `Beacon` (a stage name and a monotonic time: two attribute writes).
The `Watchdog`, a thread of its own, reads it every `period_s`: when the loop has not moved for
`stalled_after_s` (stuck in capture, MTCNN, the CNN, the cry model or a database call), it calls
`on_stall(True, detail)` at once and on every period while the hang lasts, so that the alarm is
raised, stored and shown, and its timers keep running; `on_stall(False, "")` once the loop moves.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)


class Beacon:
    """Where the loop is and when it last moved."""

    def __init__(self) -> None:
        self.stage = "starting"
        self.moved = time.monotonic()

    def enter(self, stage: str) -> None:
        self.stage = stage
        self.moved = time.monotonic()

    def age(self) -> float:
        return time.monotonic() - self.moved


class Watchdog:
    def __init__(self, beacon: Beacon, stalled_after_s: float,
                 on_stall: Callable[[bool, str], None], period_s: float = 0.25) -> None:
        self._beacon = beacon
        self._stalled_after_s = stalled_after_s
        self._on_stall = on_stall
        self._period_s = period_s
        self._stop = threading.Event()
        self.stalled = False
        self.stalls = 0
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)

    def _run(self) -> None:
        while not self._stop.wait(self._period_s):
            age, stage = self._beacon.age(), self._beacon.stage
            stalled = age >= self._stalled_after_s
            if stalled and not self.stalled:
                self.stalls += 1
                log.error("monitoring stopped: the analysis loop has not moved for %.1f s (in %s)",
                          age, stage)
            elif self.stalled and not stalled:
                log.warning("the analysis loop moves again (stalled in %s)", stage)
            was, self.stalled = self.stalled, stalled
            if stalled:
                self._report(True, f"monitoring stopped: no progress for {age:.0f} s in {stage}")
            elif was:
                self._report(False, "")

    def _report(self, stalled: bool, detail: str) -> None:
        try:
            self._on_stall(stalled, detail)
        except Exception:  # the watcher must outlive what it reports to
            log.exception("the watchdog could not report a stall")
