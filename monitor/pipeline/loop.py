"""The analysis loop: moves packets from each channel's source through the stages.

    source --FramePacket--> faces (finder) --> face score (one batched pass for all channels)
           --AudioBlock---> (cry stage)                 \\--> signal and alarms --> record / display

Several channels (beds, sources) in one loop share the scorer: each round takes what every
source has and scores all their faces in one forward pass. The loop marks each step on the
beacon, which the watchdog reads from its own thread.

A model's fault (the face detector, the face or the cry model) is contained where it happens:
MODEL_ERROR, and the other cues go on. Anything else that escapes a stage ends every channel `crashed` and leaves as a
RuntimeFault (exit 1, restarted by the supervisor): input accepted at the start is never turned
into "bad input" by a failure later.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Callable, Iterator

from monitor.capture.sources import SourceEnded
from monitor.errors import MODEL_FAULTS, MonitorError, RuntimeFault
from monitor.packets import AudioBlock, FaceActions, FaceObservation, FaceStatus, FramePacket
from monitor.pipeline.channel import Channel
from monitor.pipeline.results import Summary
from monitor.pipeline.watchdog import Beacon
from monitor.scoring.face_actions import FaceActionReader
from monitor.scoring.scorer import Scorer
from monitor.signal.records import Snapshot
from monitor.store.schema import SessionEnd

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 1.0

Faces = list[tuple[Channel, FramePacket, FaceObservation]]


class StageTimes:
    """Where the loop's time goes (seconds per stage), for `painmon bench`."""

    def __init__(self) -> None:
        self.total: dict[str, float] = {}

    @contextlib.contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.total[stage] = self.total.get(stage, 0.0) + time.perf_counter() - start


class Loop:
    def __init__(self, channels: list[Channel], scorer: Scorer, beacon: Beacon,
                 tick_interval_s: float, stop: threading.Event,
                 face_reader: FaceActionReader | None = None) -> None:
        self.channels = channels
        self.scorer = scorer
        self.face_reader = face_reader  # the face mesh; None: no landmark stage
        self.beacon = beacon
        self.stop = stop
        self.stages = StageTimes()
        live = any(ch.live for ch in channels)
        # live sources wait for input up to one watchdog tick in all; files never wait
        self._timeout = tick_interval_s / max(len(channels), 1) if live else 0.0

    def run(self, on_progress: Callable[[Summary, Snapshot], None] | None = None) -> None:
        active = list(self.channels)
        last_progress = 0.0
        try:
            while active and not self.stop.is_set():
                faces: Faces = []
                for channel in list(active):
                    if not self._take(channel, faces):
                        active.remove(channel)
                if faces:
                    self._conclude(faces)
                for channel in active:
                    self._step("watch", channel.watch)
                if on_progress and active and time.monotonic() - last_progress >= PROGRESS_EVERY_S:
                    last_progress = time.monotonic()
                    on_progress(active[0].summary, active[0].snapshot())
        except KeyboardInterrupt:
            pass
        except BaseException as exc:
            for channel in active:
                channel.finish(SessionEnd.CRASHED)
            if not isinstance(exc, Exception) or isinstance(exc, RuntimeFault):
                raise
            log.exception("the analysis loop crashed")
            raise RuntimeFault(f"the analysis loop crashed ({type(exc).__name__}: {exc}); "
                               "every session was closed as crashed") from exc
        for channel in active:
            channel.finish(SessionEnd.STOPPED_BY_USER)

    def _take(self, channel: Channel, faces: Faces) -> bool:
        """One input of one channel into the stages; False once its source has ended."""
        try:
            with self._timed("decode"):
                item = channel.source.read(self._timeout)
        except SourceEnded:
            channel.finish(SessionEnd.SOURCE_ENDED)
            return False
        except MonitorError as exc:  # the source failed for good (a damaged file): keep what came
            channel.finish(SessionEnd.SOURCE_FAILED, str(exc))
            return False
        self._step("actions", channel.apply_actions)
        with self._timed("audio"):
            channel.listen()
        if item is None:
            self._step("tick", channel.idle)
        elif isinstance(item, AudioBlock):
            with self._timed("audio"):
                channel.hear(item)
        else:
            with self._timed("detect"):
                faces.append((channel, item, channel.observe(item)))
        return True

    def _conclude(self, faces: Faces) -> None:
        with self._timed("score"):
            scores = self._score(faces)
        with self._timed("landmarks"):
            readings = self._read_faces(faces, scores)
        for (channel, packet, observation), p, actions in zip(faces, scores, readings):
            with self._timed("movement"):
                movement = channel.move(packet)
            with self._timed("signal+store"):
                channel.conclude(packet, observation, p, movement, actions)

    def _read_faces(self, faces: Faces, scores: list[float | None]) -> list[FaceActions | None]:
        """The face mesh on the scored faces that need it (p >= face.min_p: below it no face run
        can start), at most every face.every_s per channel, all in one batch; None for the rest.
        A mesh that fails leaves the face state unknown (it never suppresses), the rest goes on."""
        wanted = [i for i, ((channel, packet, obs), p) in enumerate(zip(faces, scores))
                  if self.face_reader is not None and p is not None
                  and p >= channel.settings.face.min_p and obs.landmarks is not None
                  and packet.t >= channel.next_face_reading - 1e-9]
        readings: list[FaceActions | None] = [None] * len(faces)
        if not wanted:
            return readings
        try:
            actions = self.face_reader.read([(faces[i][1].image, faces[i][2].box, faces[i][2].landmarks)
                                             for i in wanted])
        except (*MODEL_FAULTS, MonitorError) as exc:
            log.warning("face mesh failed: %s", exc)
            return readings
        for i, reading in zip(wanted, actions):
            channel, packet, _ = faces[i]
            channel.next_face_reading = packet.t + channel.settings.face.every_s
            readings[i] = reading
        return readings

    def _score(self, faces: Faces) -> list[float | None]:
        """p for each face that passed the gate, in one batched forward pass (else None); a model
        failure is reported to each channel whose faces were in the batch."""
        wanted = [(packet.image, obs.box) for _, packet, obs in faces if obs.status is FaceStatus.SCORED]
        if not wanted:
            return [None] * len(faces)
        scoring = {id(ch): (ch, packet.t) for ch, packet, obs in faces
                   if obs.status is FaceStatus.SCORED}
        try:
            scores = iter(self.scorer.score(wanted).tolist())
        except MODEL_FAULTS as exc:  # the device or the model: no p this round, the rest goes on
            for channel, t in scoring.values():
                channel.model_result(t, f"face model failed: {exc}")
            return [None] * len(faces)
        for channel, t in scoring.values():
            channel.model_result(t, None)
        return [next(scores) if obs.status is FaceStatus.SCORED else None for _, _, obs in faces]

    def _step(self, stage: str, action: Callable[[], None]) -> None:
        self.beacon.enter(stage)
        action()

    @contextlib.contextmanager
    def _timed(self, stage: str) -> Iterator[None]:
        self.beacon.enter(stage)
        with self.stages.timed(stage):
            yield
