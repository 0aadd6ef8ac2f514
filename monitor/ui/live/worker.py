"""One session's pipeline on its own thread, talking to the window only through Qt signals.

The window never waits on capture, inference or the database: `PipelineWorker` builds and runs
a `OneSourcePipeline` on a worker thread (loading the model and opening the camera take
seconds), each result is turned into an `Update` there (the frame already converted to a
QImage), and user actions travel back as commands that the pipeline's loop runs on the thread
that owns the alarm engine.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QImage

from monitor.capture.sources import SourceStatus
from monitor.config import Settings
from monitor.errors import MonitorError
from monitor.review.data import record_audit
from monitor.signal.actions import UserAction
from monitor.signal.records import AlarmEvent, EpisodeRecord, Snapshot
from monitor.store.database import open_database
from monitor.store.rows import AuditRow
from monitor.store.writer import StoreHealth

log = logging.getLogger(__name__)

EXIT_FAULT = 1  # a session that failed to start for a reason other than bad input: worth a restart


@dataclass(frozen=True)
class StartedSession:
    """What the window started: the `monitoring_session` row and what produces it, as the status
    line and the time labels need it."""

    session_id: int
    source: str
    live: bool
    device: str
    model: str
    database: str
    origin: datetime | None  # wall time of session t = 0 for live sources; None for file analysis
    audio: str | None = None  # what is heard, as the session records it ("... (8 kHz, narrow band)")


@dataclass(frozen=True)
class Update:
    """One pipeline result for the screen: a processed frame, or a watchdog tick (no image)."""

    snapshot: Snapshot
    image: QImage | None
    face_status: str | None
    box: tuple[float, float, float, float] | None
    face_reason: str
    latency_s: float | None  # live: capture to result; file: time to process the frame
    camera: SourceStatus
    store: StoreHealth
    received: float  # time.monotonic() on the pipeline thread, for the frame rate
    from_loop: bool = True  # False: sent by the pipeline's watchdog while the loop does not move
    outlines: tuple = ()  # the face mesh's eye and lip outlines when it ran on this frame


def to_qimage(image: np.ndarray) -> QImage:
    """BGR uint8 frame -> a QImage that owns its pixels (safe to hand to the UI thread)."""
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    return QImage(image.data, width, height, image.strides[0], QImage.Format.Format_BGR888).copy()


class PipelineWorker(QObject):
    """Runs one monitoring session (`OneSourcePipeline`, one source) on its own thread for the window."""

    ready = pyqtSignal(object)  # StartedSession
    update = pyqtSignal(object)  # Update
    drained = pyqtSignal(object, object)  # list[AlarmEvent], list[EpisodeRecord]
    ended = pyqtSignal(object)  # Summary, or None when it never started
    failed = pyqtSignal(str, int)  # why it could not start, in words, and the exit status it means
    crashed = pyqtSignal(str, int)  # the analysis thread died: why, and the session it left

    def __init__(self, settings: Settings, source: str, realtime: bool,
                 encounter_id: str | None) -> None:
        super().__init__()
        self.settings = settings
        self.source = source
        self.encounter_id = encounter_id
        self._realtime = realtime
        self._pipeline = None
        self._lock = threading.Lock()
        self._stop_requested = False
        self._over = False  # `ended` is on its way: nothing more will run
        self._before_start: list[UserAction] = []
        self._thread = threading.Thread(target=self._run, name="pipeline", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to end; `ended` follows once the store is flushed."""
        with self._lock:
            self._stop_requested = True
            if self._pipeline is not None:
                self._pipeline.stop()

    @property
    def running(self) -> bool:
        """Started and not yet ended (once `ended` is sent, its writer has stopped)."""
        return self._thread.is_alive() and not self._over

    def command(self, action: UserAction, before_start: bool = False) -> bool:
        """Queue a user action for the loop thread; False when no session is running.
        `before_start`: one given while the session still starts is applied once it has."""
        with self._lock:
            pipeline = self._pipeline
            if pipeline is None and before_start and self.running:
                self._before_start.append(action)
                return True
        if pipeline is None or not self.running:
            return False
        pipeline.act(action)
        return True

    def audit(self, action: str, by: str, t: float | None, **detail: Any) -> bool:
        """Append to this session's audit log (returns at once: the writer thread writes it);
        False when it has no writer (not started yet, or over)."""
        with self._lock:
            pipeline = self._pipeline
        if pipeline is None or not self.running:
            return False
        log.info("audit %s by %s: %s", action, by, detail)
        pipeline.writer.add_audit(AuditRow(
            action=action, t=t, user=by,
            detail_json=json.dumps(detail, sort_keys=True, default=str)))
        return True

    # --- the worker thread -------------------------------------------------------------------

    def _run(self) -> None:
        from monitor.pipeline.runner import OneSourcePipeline  # torch: loaded on this thread, not the UI's

        try:
            pipeline = OneSourcePipeline(self.settings, self.source, realtime=self._realtime,
                                         encounter_id=self.encounter_id, on_frame=self._on_frame,
                                         on_tick=self._on_tick, on_drain=self._on_drain,
                                         on_watchdog=self._on_watchdog)
        except MonitorError as exc:
            self.failed.emit(str(exc), exc.exit_code)
            self._end(None)
            return
        except Exception as exc:  # a bug or a broken install: say so on screen, keep the window
            log.exception("the monitoring session could not start")
            self.failed.emit(f"could not start: {exc}", EXIT_FAULT)
            self._end(None)
            return
        with self._lock:
            self._pipeline = pipeline
            for action in self._before_start:
                pipeline.act(action)
            if self._stop_requested:
                pipeline.stop()
        live = pipeline.source.live
        origin = pipeline.pipeline.clock.origin_utc if live else None  # the one session clock
        self.ready.emit(StartedSession(pipeline.session_id, pipeline.source.description, live,
                                    pipeline.scorer.device_description, pipeline.scorer.name,
                                    pipeline.database_description, origin, pipeline.summary.audio))
        try:
            summary = pipeline.run()
        except BaseException as exc:  # the session is closed `crashed`; the window must know at once
            log.exception("the monitoring session crashed")
            self.crashed.emit(f"{type(exc).__name__}: {exc}", pipeline.session_id)
            self._end(None)
            return
        self._end(summary)

    def _end(self, summary) -> None:
        self._over = True
        self.ended.emit(summary)

    def _state(self) -> tuple[SourceStatus, StoreHealth]:
        pipeline = self._pipeline
        return dataclasses.replace(pipeline.source.status()), pipeline.writer.health()

    def _on_frame(self, result) -> None:
        camera, store = self._state()
        observation = result.observation
        self.update.emit(Update(
            snapshot=result.snapshot, image=to_qimage(result.packet.image),
            face_status=result.score.status.value, box=observation.box,
            face_reason=observation.reason, latency_s=result.latency_s,
            camera=camera, store=store, received=time.monotonic(),
            outlines=result.score.actions.outlines if result.score.actions else ()))

    def _on_tick(self, snapshot: Snapshot, from_loop: bool = True) -> None:
        camera, store = self._state()
        self.update.emit(Update(snapshot, None, None, None, "", None, camera, store, time.monotonic(),
                                from_loop))

    def _on_watchdog(self, snapshot: Snapshot) -> None:
        self._on_tick(snapshot, from_loop=False)

    def _on_drain(self, events: list[AlarmEvent], episodes: list[EpisodeRecord]) -> None:
        self.drained.emit(list(events), list(episodes))


def audit_outside_session(url: str | None, action: str, by: str, **detail: Any) -> threading.Thread:
    """An audit entry while no session runs (no session id, no session time), written on its own
    thread so that the window never waits on the database; the thread is returned to be joined."""
    detail = json.loads(json.dumps(detail, default=str))
    log.info("audit %s by %s (no session running): %s", action, by, detail)

    def write() -> None:
        try:
            engine = open_database(url)
            try:
                with engine.begin() as conn:
                    record_audit(conn, by, action, detail=detail)
            finally:
                engine.dispose()
        except Exception:  # the log file keeps it; the window's own state says what is wrong
            log.exception("audit %s could not be written", action)

    thread = threading.Thread(target=write, name="audit", daemon=True)
    thread.start()
    return thread
