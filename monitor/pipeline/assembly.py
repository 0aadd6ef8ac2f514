"""The composition root: builds, runs and closes what monitoring needs.

A `Pipeline` owns the session clock, this process's instance lease, the shared face model, the
watchdog and one `Channel` per source (one bed each, with its own finder, alarm engine and
database writer). Everything that can fail on bad input (model, database, source) is opened
before a channel's session row is written, so a bad command line never leaves a half-written
session behind.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Callable

from monitor import __version__
from monitor.capture.media import describe_rate
from monitor.capture.microphone import open_microphone
from monitor.capture.sources import LiveSource, Source, open_source
from monitor.config import Settings
from monitor.pipeline.channel import Channel
from monitor.pipeline.clock import SessionClock
from monitor.pipeline.hearing import Hearing
from monitor.pipeline.loop import Loop
from monitor.pipeline.recorder import Recorder
from monitor.pipeline.results import FrameResult, Summary
from monitor.pipeline.watchdog import Beacon, Watchdog
from monitor.scoring.cry import CryScorer
from monitor.scoring.face_actions import FaceActionReader
from monitor.scoring.scorer import Scorer
from monitor.signal.records import AlarmEvent, EpisodeRecord, Snapshot
from monitor.store.database import describe_url, open_database
from monitor.store.lease import InstanceLease, note_unwritten_close
from monitor.store.recovery import close_crashed_sessions
from monitor.store.kept import keep, write_kept
from monitor.store.writer import StoreHealth, StoreWriter
from monitor.errors import MonitorError
from monitor.vision.finder import FaceFinder, smallest_face_px
from monitor.vision.geometry import cot_region_too_small

log = logging.getLogger(__name__)

WRITER_STOP_S = 5.0  # the writer's flush budget at the end; a window's close budget covers it


class Pipeline:
    def __init__(self, settings: Settings, scorer: Scorer | None = None,
                 clock: SessionClock | None = None) -> None:
        self.settings = settings
        self.scorer = scorer or Scorer(settings.scoring)
        self.lease = InstanceLease()
        self.clock = clock or SessionClock.start()  # t = 0: after the model, before any source
        self.channels: list[Channel] = []
        self._cry_scorer: CryScorer | None = None
        self.beacon = Beacon()
        self._stop = threading.Event()
        self.loop: Loop | None = None
        self.watchdog = Watchdog(self.beacon, settings.alarms.watchdog_after_s, self._report_stall)

    def add(
        self,
        source_spec: str | Source,
        settings: Settings | None = None,
        realtime: bool = False,
        encounter_id: str | None = None,
        on_frame: Callable[[FrameResult], None] | None = None,
        on_tick: Callable[[Snapshot], None] | None = None,
        on_drain: Callable[[list[AlarmEvent], list[EpisodeRecord]], None] | None = None,
        on_watchdog: Callable[[Snapshot], None] | None = None,
    ) -> Channel:
        """Open one source with its own finder, engine and record (`settings` per bed)."""
        settings = settings or self.settings
        hear = settings.audio.input != "none"
        source = source_spec if not isinstance(source_spec, str) else open_source(
            source_spec, settings.capture, self.clock, settings.alarms.frozen_after_s, realtime,
            audio=hear)
        finder = writer = microphone = None
        try:
            if hear and isinstance(source_spec, str) and getattr(source, "at_this_computer", False):
                microphone = open_microphone(settings.audio.input, self.clock, settings)
            elif hear and isinstance(source, LiveSource) and not source.has_audio:
                log.warning("%s: its sound is not read and this computer's microphone is not at "
                            "its cot: the cry cue is unknown", source.description)
            audio = (microphone.description if microphone is not None
                     else f"sound track of {Path(source_spec).name}"
                     f"{describe_rate(getattr(source, 'audio_rate', None))}"
                     if getattr(source, "has_audio", False) else None)
            hearing = Hearing(self.cry_scorer()) if audio is not None else None  # before the row
            size = getattr(source, "frame_size", None)
            too_small = size and cot_region_too_small(settings.vision.cot_region, *size,
                                                      smallest_face_px(settings.vision))
            if too_small:
                raise MonitorError(too_small)
            finder = FaceFinder(settings.vision, device=self.scorer.device, background=source.live)
            database = open_database(settings.store.url)
            writer = StoreWriter(database, settings.store)
            monitor_id = socket.gethostname()
            self.lease.hold_for(database)  # seen by every process using the database
            write_kept(database)  # rows an earlier run could not write, its end with them
            recovered = close_crashed_sessions(database, monitor_id)  # a killed process's rows
            session_id = writer.open_session(
                bed_label=settings.bed_label,
                encounter_id=encounter_id or uuid.uuid4().hex[:12],
                source=source.description,
                model_name=self.scorer.name,
                model_sha256=self.scorer.sha256,
                device=self.scorer.device_description,
                app_version=__version__,
                settings_json=json.dumps(settings.bedside(), sort_keys=True),
                started_at=self.clock.origin_utc,
                clock_origin_utc=self.clock.origin_utc,
                monitor_id=monitor_id,
                instance_id=self.lease.instance_id,
                audio=audio,
            )
        except BaseException:
            if writer is not None:
                writer.stop(timeout_s=WRITER_STOP_S)
            if microphone is not None:
                microphone.close()
            source.close()
            if finder is not None:
                finder.close()
            raise
        description = describe_url(str(database.url))
        log.info("session %d started: %s, model %s on %s, log %s", session_id, source.description,
                 self.scorer.name, self.scorer.device_description, description)
        summary = Summary(session_id, source.description, description,
                          self.scorer.device_description, self.scorer.name, audio=audio)
        recorder = Recorder(writer, self.clock, source.live, settings.store.trace_span_s)
        channel = Channel(settings, source, finder, recorder, self.clock, summary,
                          on_frame, on_tick, on_drain, on_watchdog, hearing, microphone)
        channel.database = database
        channel.recovered = recovered
        self.channels.append(channel)
        return channel

    def cry_scorer(self) -> CryScorer:
        """The cry model, loaded once, on the first source with sound."""
        if self._cry_scorer is None:
            self._cry_scorer = CryScorer(self.settings.scoring)
        return self._cry_scorer

    def run(self, on_progress: Callable[[Summary, Snapshot], None] | None = None) -> list[Summary]:
        """Until every source has ended or `stop()`; then each channel is closed."""
        started = time.monotonic()
        face = self.settings.face
        reader = FaceActionReader(face, self.scorer.device, self.settings.scoring.batch_size) \
            if face.landmarks else None
        self.loop = Loop(self.channels, self.scorer, self.beacon,
                         self.settings.alarms.tick_interval_s, self._stop, reader)
        self.beacon.enter("starting")
        self.watchdog.start()
        try:
            self.loop.run(on_progress)
        finally:
            self.watchdog.stop()
            for channel in self.channels:
                channel.summary.wall_s = time.monotonic() - started
            self.close()
        return [channel.summary for channel in self.channels]

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        """Flush and stop every writer, close every source; then give up the lease."""
        for channel in self.channels:
            writer = channel.recorder.writer
            kept = self._keep_unwritten(channel, writer.stop(timeout_s=WRITER_STOP_S))
            for session_id, fields in ({} if kept else writer.unwritten_closes()).items():
                try:
                    note_unwritten_close(str(channel.database.url), session_id, fields)
                except OSError as exc:
                    log.error("session %d: its end cannot be noted either (%s)", session_id, exc)
            if channel.microphone is not None:
                channel.microphone.close()
            channel.source.close()
            channel.finder.close()
            channel.database.dispose()  # each session's engine and its pooled connections
        self.lease.release()

    @staticmethod
    def _keep_unwritten(channel: Channel, health: StoreHealth) -> bool:
        """Rows the database refused to the end: kept for the next start (monitor/store/kept.py)
        and told in the summary; True if they (and the session's end with them) were kept."""
        summary = channel.summary
        summary.unwritten, summary.dropped = health.buffered, health.dropped
        summary.store_error = health.last_error
        if not health.buffered:
            return False
        unwritten = channel.recorder.writer.unwritten()
        if unwritten is None:
            log.error("session %d: %d rows not written (%s): the database still holds the "
                      "writer's last attempt, so they are not kept", summary.session_id,
                      health.buffered, health.last_error)
            return False
        try:
            summary.kept_in = str(keep(str(channel.database.url), unwritten))
        except OSError as exc:
            log.error("session %d: %d rows not written (%s) and lost: they cannot be kept (%s)",
                      summary.session_id, health.buffered, health.last_error, exc)
            return False
        log.error("session %d: %d rows not written (%s); kept in %s for the next start",
                  summary.session_id, health.buffered, health.last_error, summary.kept_in)
        return True

    def _report_stall(self, active: bool, detail: str) -> None:
        for channel in self.channels:
            if not channel.finished:
                channel.report_stall(active, detail)
