"""One monitored bed inside a session: its source, face finder, alarm engine and record.

The loop drives a channel from its own thread; the watchdog reports a stall into it from another,
so `lock` guards the engine and the record (held only for the short, pure signal and store steps,
never while detecting or scoring, so a hang there leaves it free for the watchdog).
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
import queue
import threading
import time
from typing import Callable

from monitor.capture.microphone import Microphone, MicrophoneStatus
from monitor.capture.sources import Source
from monitor.config import Settings
from monitor.errors import MODEL_FAULTS, RuntimeFault
from monitor.packets import (AudioBlock, FaceActions, FaceObservation, FaceStatus, FramePacket,
                             FrameScore)
from monitor.pipeline.clock import SessionClock
from monitor.pipeline.hearing import Hearing
from monitor.pipeline.recorder import Recorder
from monitor.pipeline.results import FrameResult, Summary
from monitor.signal.actions import UserAction
from monitor.signal.cry import CryState, CryWindow
from monitor.signal.engine import AlarmEngine
from monitor.signal.records import (CAMERA_LOST, MICROPHONE_LOST, MODEL_ERROR, PIPELINE_STALLED,
                                    STORAGE_BUFFER_HALF, STORAGE_FAILING, STORAGE_FULL,
                                    AlarmEvent, EpisodeRecord, EventKind, Priority, Snapshot,
                                    Transition)
from monitor.store.rows import EventRow
from monitor.store.schema import SessionEnd
from monitor.store.trace import UNKNOWN_M
from monitor.vision.finder import FaceFinder
from monitor.vision.movement import MovementMeter, MovementReading

log = logging.getLogger(__name__)

STALL_LOCK_TIMEOUT_S = 0.5


@dataclasses.dataclass(frozen=True)
class CryFault:
    """The cry stage failed (`detail`) or works again (None) from session time t; it waits in
    line with the scored windows, so the engine meets it at the picture's time, in order."""

    t: float
    detail: str | None


class Channel:
    def __init__(
        self,
        settings: Settings,
        source: Source,
        finder: FaceFinder,
        recorder: Recorder,
        clock: SessionClock,
        summary: Summary,
        on_frame: Callable[[FrameResult], None] | None = None,
        on_tick: Callable[[Snapshot], None] | None = None,
        on_drain: Callable[[list[AlarmEvent], list[EpisodeRecord]], None] | None = None,
        on_watchdog: Callable[[Snapshot], None] | None = None,
        hearing: Hearing | None = None,
        microphone: Microphone | None = None,
    ) -> None:
        self.settings = settings
        self.source = source
        self.finder = finder
        self.recorder = recorder
        self.clock = clock
        self.summary = summary
        self.engine = AlarmEngine(settings.alarms, audio=settings.audio, movement=settings.movement,
                                  face=settings.face)
        self.next_face_reading = 0.0  # the face mesh runs at most every face.every_s
        self.hearing = hearing  # None: no sound to hear (the cry cue stays "no microphone")
        self.microphone = microphone
        self.meter = MovementMeter(settings.vision.cot_region, settings.movement)
        self._windows: collections.deque[CryWindow | CryFault] = collections.deque()  # not yet due
        self._failing: set[str] = set()  # the models whose last call failed (face model, detector)
        self._cry_failing = False  # the cry stage's last call failed (as heard)
        self._cry_fault: str | None = None  # ... and as the engine knows it
        self._next_move = -math.inf  # session time of the next movement reading
        self.engine.sound(0.0, hearing is not None, "" if hearing else "no microphone")
        self.lock = threading.RLock()
        self.live = source.live
        self.finished = False
        self._on_frame, self._on_tick, self._on_drain = on_frame, on_tick, on_drain
        self._on_watchdog = on_watchdog or on_tick  # a display may tell the loop's pulse apart
        self._actions: queue.SimpleQueue[UserAction] = queue.SimpleQueue()
        self._last_t: float | None = None  # the last frame's time
        self._file_t = 0.0  # a file's own clock: its latest frame or sound block
        self._counted: tuple[float, bool] | None = None  # (time, crying then) of the last count
        self._picture_ended = False
        self._read_at = 0.0
        self._stall_stored: float | None = None  # when a stall was stored without the engine
        self._stall_in_engine = False  # the engine's PIPELINE_STALLED is raised
        self.latencies: collections.deque[float] = collections.deque(maxlen=100_000)  # for bench

    def now(self) -> float:
        """Live: the session clock; a file: the time of its latest frame or sound (its own clock)."""
        return self.clock.now() if self.live else self._file_t

    # --- user actions (any thread in, the loop thread applies) ------------------------------

    def act(self, action: UserAction) -> None:
        self._actions.put(action)

    def apply_actions(self) -> None:
        while True:
            try:
                action = self._actions.get_nowait()
            except queue.Empty:
                return
            with self.lock:
                try:
                    action.apply(self.engine, self.now())
                except Exception as exc:  # a failed action is shown and recorded; monitoring goes on
                    log.exception("user action %r failed", action)
                    event = AlarmEvent(self.engine.snapshot().t, EventKind.ACTION, None,
                                       Transition.FAILED, getattr(action, "user", None),
                                       None, f"{type(action).__name__}: {exc}")
                    self._publish([event], [])
                self._drain()

    # --- the loop's steps --------------------------------------------------------------------

    def observe(self, packet: FramePacket) -> FaceObservation:
        self._read_at = time.perf_counter()
        if self.live:
            waited = self.clock.now() - packet.t
            with self.lock:
                self.engine.technical(packet.t, PIPELINE_STALLED,
                                      waited > self.settings.alarms.stalled_after_s,
                                      f"frame waited {waited:.1f} s", reporter="frame age")
        try:
            observation = self.finder.observe(packet)
        except MODEL_FAULTS as exc:  # MTCNN's device: this frame's face is unread, not absent
            self.model_result(packet.t, f"face detector failed: {exc}", "face detector")
            return FaceObservation(FaceStatus.POOR_QUALITY, reason="face detector failed")
        if "face detector" in self._failing:
            self.model_result(packet.t, None, "face detector")
        return observation

    def model_result(self, t: float, error: str | None, model: str = "face model") -> None:
        """A model's outcome (the face model's per batch, the detector's when it fails or works
        again): a fault is MODEL_ERROR, with the reason, while it lasts."""
        if (error is not None) != (model in self._failing):
            if error is not None:
                self._failing.add(model)
                log.error("%s; monitoring goes on without it until it works again", error)
            else:
                self._failing.discard(model)
                log.warning("the %s works again", model)
        with self.lock:
            self.engine.technical(t, MODEL_ERROR, error is not None, error or "", reporter=model)

    def move(self, packet: FramePacket) -> MovementReading | None:
        """The movement reading of this frame (optical flow in the cot region), at most every
        `movement.every_s`; None for the frames between."""
        if packet.t < self._next_move - 1e-9:
            return None
        self._next_move = packet.t + self.settings.movement.every_s
        return self.meter.measure(packet.t, packet.image)

    def conclude(self, packet: FramePacket, observation: FaceObservation, p: float | None,
                 movement: MovementReading | None, actions: FaceActions | None = None) -> None:
        """Signal, alarms, record and display for one frame; a face the model failed on is not scored."""
        status = observation.status
        if status is FaceStatus.SCORED and p is None:
            status = FaceStatus.POOR_QUALITY
        with self.lock:
            self._release_windows(packet.t)
            if observation.subject_changed:
                self.engine.subject_changed(packet.t, observation.subject_detail)
            m = None
            if movement is not None:
                self.engine.movement(packet.t, movement.m, movement.unknown or "")
                m = UNKNOWN_M if movement.m is None else movement.m
            if actions is not None:
                self.engine.face_actions(packet.t, actions)
            self.engine.frame(packet.t, status, p)
            snapshot = self.engine.snapshot()
            self._file_t = max(self._file_t, packet.t)
            self._count(packet.t, status, snapshot)
            self.recorder.frame(packet.t, status, p, m, snapshot, actions)
            self._drain()
        latency = self.clock.now() - packet.t if self.live else time.perf_counter() - self._read_at
        self.latencies.append(latency)
        if self._on_frame:
            score = FrameScore(packet.t, packet.index, status, p, observation.box, packet.source_id,
                               actions)
            self._on_frame(FrameResult(packet, observation, score, snapshot, latency))

    def hear(self, block: AudioBlock) -> None:
        """A block of sound on the session clock; its scored windows wait for the picture's time.

        A file's sound is demuxed a little ahead of its frames, and a window is complete only at
        its end: it reaches the engine once the session time passes that end, so frames are
        never handled as late and a replay of the stored trace meets the same order."""
        self.summary.audio_blocks += 1
        if self.hearing is not None:
            self._windows.extend(self._scored(block))
        if not self.live:  # a file's sound moves its clock on, past the picture's end too
            self._file_t = max(self._file_t, block.t)
        if not self.live or self._picture_ended:  # no frame to wait for (a live one: to pace)
            with self.lock:
                self._pass_time(self.now())
                self._drain()

    def _release_windows(self, until: float | None) -> None:
        """Scored windows ending by `until` (all with None) into the engine and the record."""
        while self._windows and (until is None or self._windows[0].t <= until):
            window = self._windows.popleft()
            if isinstance(window, CryFault):
                self._cry_fault = window.detail
                self.engine.technical(window.t, MODEL_ERROR, window.detail is not None,
                                      window.detail or "", reporter="cry model")
                self.engine.sound(window.t, self._sound_available(), self._sound_reason())
                continue
            self.engine.cry_window(window)
            snapshot = self.engine.snapshot()
            self._count_crying(window.t, snapshot)
            self.recorder.advance(window.t, snapshot)
            self.recorder.sound(window)

    def idle(self) -> None:
        """No input within the tick: time still passes (a blind monitor raises CAMERA_LOST)."""
        with self.lock:
            snapshot = self._pass_time(self.now())
        if self._on_tick:
            self._on_tick(snapshot)

    def _pass_time(self, t: float) -> Snapshot:
        """Session time reached t without a frame: sound windows due by then, timers, the
        seconds passed into the record, and the end of a file's picture where it has come."""
        self._note_picture_end(t)
        self._release_windows(t)
        self.engine.tick(t)
        snapshot = self.engine.snapshot()
        self._count_crying(t, snapshot)
        self.recorder.advance(t, snapshot)
        return snapshot

    def _note_picture_end(self, t: float) -> None:
        """Tell the engine once a file's picture has ended while its sound goes on (not a lost
        camera); before any other input reaches it past that end."""
        end = getattr(self.source, "picture_ended_at", None)
        if end is not None and not self._picture_ended and t >= end:
            self._picture_ended = True
            self.summary.picture_ended_at = end
            self.engine.picture_ended(end, f"the video ends at {end:.1f} s while its sound goes "
                                      "on: face unknown from here, sound still heard")

    def listen(self) -> None:
        """Sound from the microphone, if this channel has one (a file's track comes with its frames)."""
        if self.microphone is not None:
            for block in self.microphone.read_blocks():
                self.hear(block)

    def watch(self) -> None:
        """Reports from capture and storage to the engine, and the heartbeat."""
        now = self.now()
        status = self.source.status()
        health = self.recorder.writer.health()  # the engine waits storage_failing_after_s itself
        microphone = self.microphone.status() if self.microphone is not None else None
        with self.lock:
            self._note_picture_end(now)
            if microphone is not None:
                self.engine.technical(now, MICROPHONE_LOST, not microphone.connected,
                                      microphone.detail)
                self.engine.sound(now, self._sound_available(microphone),
                                  self._sound_reason(microphone))
            self.engine.technical(now, CAMERA_LOST, not status.connected or status.frozen,
                                  status.detail)
            self.engine.technical(now, STORAGE_FAILING, health.failing_since is not None,
                                  health.last_error or "")
            self.engine.technical(now, STORAGE_BUFFER_HALF,
                                  health.buffered > self.settings.store.queue_size // 2)
            self.engine.technical(now, STORAGE_FULL, health.disk_full)
            self.recorder.heartbeat(now)
            self._drain()

    def snapshot(self) -> Snapshot:
        """The engine's state now, read under the lock (the watchdog's thread changes the engine)."""
        with self.lock:
            return self.engine.snapshot()

    def report_stall(self, active: bool, detail: str) -> None:
        """From the watchdog's thread: raise (and keep ticking) or clear PIPELINE_STALLED.

        When the engine itself is stuck (its lock not free within STALL_LOCK_TIMEOUT_S), the
        stall is stored without it, once per stall; the engine learns of it as soon as the lock
        is free, and the raise it then emits is not stored a second time."""
        if not self.lock.acquire(timeout=STALL_LOCK_TIMEOUT_S):
            self._store_stall(active, detail)
            return
        try:
            now = self.now()
            if self._stall_stored is not None:
                self.engine.technical(self._stall_stored, PIPELINE_STALLED, True, detail,
                                      reporter="watchdog")
            self.engine.technical(now, PIPELINE_STALLED, active, detail, reporter="watchdog")
            self.engine.tick(now)
            snapshot = self.engine.snapshot()
            self._drain()
            self._stall_stored = None
        finally:
            self.lock.release()
        if self._on_watchdog:
            self._on_watchdog(snapshot)

    def _store_stall(self, active: bool, detail: str) -> None:
        """The stall's raise, or its clear, straight to the writer: the engine is held."""
        t = self.now()
        if active and self._stall_stored is None and not self._stall_in_engine:
            log.error("watchdog: the engine is held by the stuck loop; storing the stall directly")
            self._stall_stored, transition = t, Transition.RAISED
        elif not active and self._stall_stored is not None:
            self._stall_stored = None  # over before the engine could be told: it never will be
            transition = Transition.CLEARED
        else:
            return
        self.recorder.writer.add_event(EventRow(t=t, kind=PIPELINE_STALLED,
                                                priority=Priority.MEDIUM, transition=transition,
                                                detail=detail))

    def finish(self, end_reason: SessionEnd, detail: str = "") -> None:
        """End the session: close the open episode, store what is left, record why it ended."""
        if self.finished:
            return
        self.finished = True
        log.info("session %d ending: %s after %d frames%s", self.summary.session_id, end_reason,
                 self.summary.frames, f" ({detail})" if detail else "")
        with self.lock:
            self._release_windows(None)
            snapshot = self.engine.snapshot()
            t_end = max(self.now(), snapshot.t)
            self._count_crying(t_end, snapshot)
            self.engine.end_session(t_end, "crashed" if end_reason == SessionEnd.CRASHED
                                    else "session_ended")
            self._drain()
            self.summary.end_reason = end_reason
            self.summary.end_detail = detail
            self.summary.duration_s = t_end
            self.recorder.close(t_end, snapshot, end_reason, self.summary.frames,
                                self.summary.frames_scored)

    # --- helpers -------------------------------------------------------------------------------

    def _scored(self, block: AudioBlock) -> list[CryWindow | CryFault]:
        """The cry stage's windows for one block; its fault (and its end) as a CryFault in line."""
        try:
            windows: list[CryWindow | CryFault] = list(self.hearing.hear(block))
        except RuntimeFault as exc:
            if self._cry_failing:
                return []
            self._cry_failing = True
            log.error("%s; the cry cue is unknown until it works again", exc)
            return [CryFault(block.t + block.samples.size / block.rate, str(exc))]
        if self._cry_failing and windows:
            self._cry_failing = False
            log.warning("the cry model works again")
            windows.insert(0, CryFault(windows[0].t, None))
        return windows

    def _sound_available(self, microphone: MicrophoneStatus | None = None) -> bool:
        connected = microphone is None or microphone.connected
        return self.hearing is not None and connected and self._cry_fault is None

    def _sound_reason(self, microphone: MicrophoneStatus | None = None) -> str:
        if self.hearing is None:
            return "no microphone"
        if microphone is not None and not microphone.connected:
            return f"microphone lost: {microphone.detail}"
        return self._cry_fault or ""

    def _count(self, t: float, status: FaceStatus, snapshot: Snapshot) -> None:
        s = self.summary
        if self._last_t is not None and status is FaceStatus.NO_FACE:
            s.no_face_s += t - self._last_t
        self._count_crying(t, snapshot)
        s.frames += 1
        s.frames_scored += status is FaceStatus.SCORED
        s.frames_no_face += status is FaceStatus.NO_FACE
        s.frames_poor_quality += status is FaceStatus.POOR_QUALITY
        self._last_t = t

    def _count_crying(self, t: float, snapshot: Snapshot) -> None:
        """Crying time on the session clock (frames or not): each stretch counts in the state
        that held during it."""
        if self._counted is not None:
            since, crying = self._counted
            if crying and t > since:
                self.summary.crying_s += float(t - since)
            t = max(t, since)
        self._counted = (t, snapshot.cry_state == CryState.CRYING)

    def _drain(self) -> None:
        events, episodes = self.engine.drain()
        self._publish(events, episodes)

    def _publish(self, events: list[AlarmEvent], episodes: list[EpisodeRecord]) -> None:
        if not (events or episodes):
            return
        for episode in episodes:
            self.summary.episodes[episode.number] = episode
        stalls = [e.transition for e in events if e.kind == PIPELINE_STALLED]
        if stalls:
            self._stall_in_engine = stalls[-1] != Transition.CLEARED
        stored = events if self._stall_stored is None else [  # that raise is stored already
            e for e in events if (e.kind, e.transition) != (PIPELINE_STALLED, Transition.RAISED)]
        self.recorder.alarms(stored, episodes)
        if self._on_drain:
            self._on_drain(events, episodes)
