"""Run the real OneSourcePipeline in a thread and wait on what it reports (never on a fixed sleep)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

from monitor.capture.sources import LiveSource
from monitor.config import AlarmSettings, Settings, StoreSettings
from monitor.pipeline.runner import OneSourcePipeline, Summary
from monitor.signal.records import AlarmEvent, Snapshot
from tests.test_capture import VideoFileCamera


def wait_for(condition: Callable[[], object], timeout_s: float, what: str) -> object:
    """Poll `condition` until it is truthy; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting for {what}"
        time.sleep(0.02)
    return value


class Running:
    """A OneSourcePipeline running in its own thread, with every drained event and the latest snapshot."""

    def __init__(self, make: Callable[..., OneSourcePipeline]) -> None:
        self.events: list[AlarmEvent] = []
        self.snapshot: Snapshot | None = None
        self.summary: Summary | None = None
        self.error: BaseException | None = None
        self.monitor = make(on_drain=lambda events, _episodes: self.events.extend(events),
                            on_tick=self._keep, on_frame=lambda r: self._keep(r.snapshot))
        self._thread = threading.Thread(target=self._run, name="monitor-under-test", daemon=True)
        self._thread.start()

    def _keep(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def _run(self) -> None:
        try:
            self.summary = self.monitor.run()
        except BaseException as exc:  # re-raised by stop(), in the test's thread
            self.error = exc

    def event(self, kind: str, transition: str, after: float = -1.0) -> AlarmEvent | None:
        """The first `kind` `transition` event at session time > `after`, if any yet."""
        return next((e for e in list(self.events)
                     if e.kind == kind and e.transition == transition and e.t > after), None)

    def alarm(self, kind: str):
        return next((a for a in self.snapshot.alarms if a.kind == kind), None) if self.snapshot \
            else None

    def stop(self, timeout_s: float = 30.0) -> Summary:
        self.monitor.stop()
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "the monitor did not stop"
        if self.error:
            raise self.error
        return self.summary


class Plug:
    """The fault switches of the fake camera, and when the monitor tried to (re)open it."""

    def __init__(self) -> None:
        self.unplugged = self.frozen = False
        self.opened_at: list[float] = []


def camera_monitor(clip: Path, db: Path, scorer, plug: Plug, store: dict | None = None,
                   **alarms) -> Running:
    """The OneSourcePipeline over a fake camera (tests/test_capture.py) serving `clip`, switched by `plug`."""
    settings = Settings(store=StoreSettings(url=f"sqlite:///{db}", **(store or {})),
                        alarms=AlarmSettings(d_on_s=3.0, **alarms))
    holder: list[OneSourcePipeline] = []

    def opener() -> VideoFileCamera:
        plug.opened_at.append(time.monotonic())
        return VideoFileCamera(clip, fps=15.0, unplugged=lambda: plug.unplugged,
                               frozen=lambda: plug.frozen)

    def make(**callbacks) -> OneSourcePipeline:
        source = LiveSource("fake camera", opener, settings.capture,
                            lambda: holder[0].clock() if holder else 0.0,
                            settings.alarms.frozen_after_s)
        holder.append(OneSourcePipeline(settings, source, scorer=scorer, **callbacks))
        return holder[0]

    return Running(make)
