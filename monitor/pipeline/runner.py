"""The headless monitor: one loop that takes frames, finds and scores the face, feeds the alarm
engine and hands everything to the store's writer thread.

Everything that can fail on bad input (source, model, database) is opened before the session row
is written, so a bad command line never leaves a half-written session behind.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import logging
import queue
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterator

from monitor import __version__
from monitor.capture.sources import Source, SourceEnded, open_source
from monitor.config import Settings
from monitor.packets import FaceObservation, FaceStatus, FramePacket, FrameScore
from monitor.pipeline.seconds import SecondAggregator, TraceBuffer
from monitor.scoring.scorer import ModelOutputError, Scorer
from monitor.signal.engine import AlarmEngine
from monitor.signal.records import AlarmEvent, EpisodeRecord, Snapshot
from monitor.store.database import describe_url, open_database
from monitor.store.recovery import close_crashed_sessions
from monitor.store.trace import pack_trace
from monitor.store.writer import StoreWriter
from monitor.vision.finder import FaceFinder

log = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 1.0
PROGRESS_EVERY_S = 1.0


@dataclass(frozen=True)
class FrameResult:
    """What a display needs for one processed frame."""

    packet: FramePacket
    observation: FaceObservation
    score: FrameScore
    snapshot: Snapshot
    latency_s: float


@dataclass
class Summary:
    session_id: int
    source: str
    database: str
    device: str
    model: str
    frames: int = 0
    frames_scored: int = 0
    frames_no_face: int = 0
    frames_poor_quality: int = 0
    no_face_s: float = 0.0
    duration_s: float = 0.0
    wall_s: float = 0.0
    end_reason: str = ""
    episodes: dict[int, EpisodeRecord] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0


class Monitor:
    """One monitoring session over one source. `run()` blocks until the source ends or `stop()`."""

    def __init__(
        self,
        settings: Settings,
        source_spec: str | Source,
        realtime: bool = False,
        encounter_id: str | None = None,
        on_frame: Callable[[FrameResult], None] | None = None,
        on_tick: Callable[[Snapshot], None] | None = None,
        on_drain: Callable[[list[AlarmEvent], list[EpisodeRecord]], None] | None = None,
        scorer: Scorer | None = None,
    ) -> None:
        self.settings = settings
        self._on_frame = on_frame
        self._on_tick = on_tick  # a screen needs the state while no frames come (camera lost)
        self._on_drain = on_drain  # and every transition (reminder tones, episode spans)
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._commands: queue.SimpleQueue[Callable[[AlarmEngine, float], None]] = queue.SimpleQueue()
        self.source: Source = source_spec if not isinstance(source_spec, str) else open_source(
            source_spec, settings.capture, self.clock, settings.alarms.frozen_after_s, realtime)
        try:
            self.scorer = scorer or Scorer(settings.scoring)
            self.finder = FaceFinder(settings.vision, device=self.scorer.device,
                                     background=self.source.live)
            self.database = database = open_database(settings.store.url)
            self.database_description = describe_url(str(database.url))
            self.writer = StoreWriter(database, settings.store)
            self.engine = AlarmEngine(settings.alarms)
            self._clock_origin = datetime.now(timezone.utc)
            monitor_id = socket.gethostname()
            self.recovered = close_crashed_sessions(database, monitor_id)  # a killed run's rows
            self.session_id = self.writer.open_session(
                bed_label=settings.bed_label,
                encounter_id=encounter_id or uuid.uuid4().hex[:12],
                source=self.source.description,
                model_name=self.scorer.name,
                model_sha256=self.scorer.sha256,
                device=self.scorer.device_description,
                app_version=__version__,
                settings_json=json.dumps(settings.model_dump(mode="json"), sort_keys=True),
                started_at=self._clock_origin,
                clock_origin_utc=self._clock_origin,
                monitor_id=monitor_id,
            )
        except BaseException:
            self._release()
            raise
        log.info("session %d started: %s, model %s on %s, log %s", self.session_id,
                 self.source.description, self.scorer.name, self.scorer.device_description,
                 self.database_description)
        self.summary = Summary(self.session_id, self.source.description, self.database_description,
                               self.scorer.device_description, self.scorer.name)
        self._seconds = SecondAggregator()
        self._trace = TraceBuffer(settings.store.trace_span_s)
        self._last_t: float | None = None
        self._last_heartbeat = 0.0
        self.stages = StageTimes()
        self._read_at = 0.0

    def clock(self) -> float:
        """The live session clock (monotonic seconds since start)."""
        return time.monotonic() - self._started

    def stop(self) -> None:
        self._stop.set()

    def command(self, action: Callable[[AlarmEngine, float], None]) -> None:
        """Run a user action (acknowledge, pause, ...) on the loop thread, which owns the engine."""
        self._commands.put(action)

    def run(self, on_progress: Callable[[Summary, Snapshot], None] | None = None) -> Summary:
        end_reason = "stopped_by_user"
        last_progress = 0.0
        try:
            while not self._stop.is_set():
                try:
                    with self.stages.timed("decode"):
                        packet = self.source.read(self.settings.alarms.tick_interval_s)
                except SourceEnded:
                    end_reason = "source_ended"
                    break
                self._run_commands()
                if packet is None:
                    self.engine.tick(self.clock())
                    if self._on_tick:
                        self._on_tick(self.engine.snapshot())
                else:
                    observation = self._observe(packet)
                    self._conclude(packet, observation, self._score([(packet, observation)])[0])
                self._watch()
                if on_progress and time.monotonic() - last_progress >= PROGRESS_EVERY_S:
                    last_progress = time.monotonic()
                    on_progress(self.summary, self.engine.snapshot())
        except KeyboardInterrupt:
            end_reason = "stopped_by_user"
        except BaseException:
            self._finish("crashed")
            raise
        self._finish(end_reason)
        return self.summary

    def _run_commands(self) -> None:
        while True:
            try:
                action = self._commands.get_nowait()
            except queue.Empty:
                return
            action(self.engine, self._now())

    def _now(self) -> float:
        return self.clock() if self.source.live else (self._last_t or 0.0)

    def _observe(self, packet: FramePacket) -> FaceObservation:
        self._read_at = time.perf_counter()
        if self.source.live:
            waited = self.clock() - packet.t
            self.engine.technical(packet.t, "PIPELINE_STALLED",
                                  waited > self.settings.alarms.stalled_after_s,
                                  f"frame waited {waited:.1f} s")
        with self.stages.timed("detect"):
            return self.finder.observe(packet)

    def _score(self, frames: list[tuple[FramePacket, FaceObservation]]) -> list[float | None]:
        """p for each frame whose face passed the gate, in one batched forward pass (else None)."""
        wanted = [(packet.image, obs.box) for packet, obs in frames if obs.status is FaceStatus.SCORED]
        if not wanted:
            return [None] * len(frames)
        t = frames[-1][0].t
        try:
            with self.stages.timed("score"):
                scores = iter(self.scorer.score(wanted).tolist())
            self.engine.technical(t, "MODEL_ERROR", False)
        except ModelOutputError as exc:
            self.engine.technical(t, "MODEL_ERROR", True, str(exc))
            return [None] * len(frames)
        return [next(scores) if obs.status is FaceStatus.SCORED else None for _, obs in frames]

    def _conclude(self, packet: FramePacket, observation: FaceObservation, p: float | None) -> None:
        """Signal, alarms, store and display for one frame; a face the model failed on is not scored."""
        status = observation.status
        if status is FaceStatus.SCORED and p is None:
            status = FaceStatus.POOR_QUALITY
        with self.stages.timed("signal"):
            self.engine.frame(packet.t, status, p)
            snapshot = self.engine.snapshot()
        self._count(packet.t, status)
        with self.stages.timed("store"):
            for row in self._seconds.add(packet.t, status, p, snapshot.s, snapshot.f):
                self.writer.add_sample(row)
            span = self._trace.add(packet.t, status, p)
            if span:
                self._store_trace(*span)
            self._drain()
        latency = self.clock() - packet.t if self.source.live else time.perf_counter() - self._read_at
        self.stages.latencies.append(latency)
        if self._on_frame:
            score = FrameScore(packet.t, packet.index, status, p, observation.box, packet.source_id)
            self._on_frame(FrameResult(packet, observation, score, snapshot, latency))

    def _count(self, t: float, status: FaceStatus) -> None:
        s = self.summary
        if self._last_t is not None and status is FaceStatus.NO_FACE:
            s.no_face_s += t - self._last_t
        s.frames += 1
        s.frames_scored += status is FaceStatus.SCORED
        s.frames_no_face += status is FaceStatus.NO_FACE
        s.frames_poor_quality += status is FaceStatus.POOR_QUALITY
        self._last_t = t

    def _watch(self) -> None:
        """Reports from capture and storage to the engine, and the heartbeat."""
        now = self._now()
        status = self.source.status()
        self.engine.technical(now, "CAMERA_LOST", not status.connected or status.frozen, status.detail)
        health = self.writer.health()  # the engine waits storage_failing_after_s before raising
        self.engine.technical(now, "STORAGE_FAILING", health.failing_since is not None,
                              health.last_error or "")
        self.engine.technical(now, "STORAGE_BUFFER_HALF",
                              health.buffered > self.settings.store.queue_size // 2)
        if time.monotonic() - self._last_heartbeat >= HEARTBEAT_EVERY_S:
            self._last_heartbeat = time.monotonic()
            self.writer.heartbeat(datetime.now(timezone.utc))
        self._drain()

    def _drain(self) -> None:
        events, episodes = self.engine.drain()
        if self._on_drain and (events or episodes):
            self._on_drain(events, episodes)
        for episode in episodes:
            self.summary.episodes[episode.number] = episode
            self.writer.save_episode(episode_row(episode))
        for event in events:
            self.writer.add_event(dataclasses.asdict(event))

    def _store_trace(self, t0: float, rows: list) -> None:
        self.writer.add_trace({"t0": t0, "n": len(rows), "data": pack_trace(rows, t0)})

    def _finish(self, end_reason: str) -> None:
        log.info("session %d ending: %s after %d frames", self.session_id, end_reason,
                 self.summary.frames)
        try:
            t_end = self._now()
            self.engine.end_session(t_end, "crashed" if end_reason == "crashed" else "session_ended")
            self._drain()
            for row in self._seconds.flush():
                self.writer.add_sample(row)
            span = self._trace.take()
            if span:
                self._store_trace(*span)
            self.summary.end_reason = end_reason
            self.summary.duration_s = t_end
            self.summary.wall_s = time.monotonic() - self._started
            self.writer.close_session(
                ended_at=datetime.now(timezone.utc), end_reason=end_reason,
                frames=self.summary.frames, frames_scored=self.summary.frames_scored)
        finally:
            self._release()

    def _release(self) -> None:
        """Stop what __init__ started, whichever part of it got that far."""
        if hasattr(self, "writer"):
            self.writer.stop(timeout_s=10.0)
        self.source.close()
        if hasattr(self, "finder"):
            self.finder.close()


def run_together(monitors: list[Monitor]) -> list[Summary]:
    """Several recorded sources analysed in one loop that shares one scorer: each round takes a
    frame from every source and scores all their faces in one batched forward pass."""
    active = list(monitors)
    try:
        while active:
            frames = []
            for monitor in list(active):
                try:
                    with monitor.stages.timed("decode"):
                        packet = monitor.source.read(0.0)
                except SourceEnded:
                    monitor._finish("source_ended")
                    active.remove(monitor)
                    continue
                frames.append((monitor, packet, monitor._observe(packet)))
            if not frames:
                break
            scores = frames[0][0]._score([(packet, obs) for _, packet, obs in frames])
            for (monitor, packet, obs), p in zip(frames, scores):
                monitor._conclude(packet, obs, p)
                monitor._watch()
    except BaseException:
        for monitor in active:
            monitor._finish("crashed")
        raise
    return [m.summary for m in monitors]


class StageTimes:
    """Where the loop's time goes (seconds per stage) and each frame's latency, for `painmon bench`."""

    def __init__(self) -> None:
        self.total: dict[str, float] = {}
        self.latencies: collections.deque[float] = collections.deque(maxlen=100_000)

    @contextlib.contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.total[stage] = self.total.get(stage, 0.0) + time.perf_counter() - start


def episode_row(episode: EpisodeRecord) -> dict:
    return {
        "number": episode.number, "start_at": episode.start, "alarm_at": episode.alarm_at,
        "end_at": episode.end, "end_reason": episode.end_reason, "peak_s": episode.peak_s,
        "mean_s": episode.mean_s, "max_share": episode.max_share, "max_band": episode.max_band,
        "max_priority": episode.max_priority, "ack_at": episode.ack_at, "ack_by": episode.ack_by,
        "mode": episode.mode,
    }


