"""What one channel keeps: per-second samples, the packed per-frame trace, alarm events, episodes,
the heartbeat and the session's end, all handed to the store's writer thread (which never blocks
the caller)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from monitor.packets import FaceActions, FaceStatus
from monitor.pipeline.clock import SessionClock
from monitor.pipeline.seconds import Cues, SecondAggregator, TraceBuffer
from monitor.signal.cry import CryWindow
from monitor.signal.records import AlarmEvent, EpisodeRecord, Snapshot
from monitor.store.rows import EpisodeRow, EventRow, TraceRow
from monitor.store.trace import pack_face, pack_sound, pack_trace
from monitor.store.writer import StoreWriter

HEARTBEAT_EVERY_S = 1.0


class Recorder:
    def __init__(self, writer: StoreWriter, clock: SessionClock, live: bool,
                 trace_span_s: float) -> None:
        self.writer = writer
        self._clock = clock
        self._live = live
        self._seconds = SecondAggregator()
        self._trace = TraceBuffer(trace_span_s)
        self._sound = TraceBuffer(trace_span_s)
        self._readings: list[tuple[float, FaceActions]] = []  # the frame span's mesh readings
        self._last_beat: float | None = None

    def wall(self, t: float) -> datetime:
        """Wall time of session time t: the clock's for a live source; now for file analysis,
        whose session time is the file's own."""
        return self._clock.utc(t) if self._live else datetime.now(timezone.utc)

    def frame(self, t: float, status: FaceStatus, p: float | None, m: float | None,
              snapshot: Snapshot, actions: FaceActions | None = None) -> None:
        for row in self._seconds.add(t, status, p, _cues(snapshot), actions):
            self.writer.add_sample(row)
        span = self._trace.add(t, (t, status, p, m))
        if span:
            self._store_trace(*span)
        if actions is not None:
            self._readings.append((t, actions))

    def advance(self, t: float, snapshot: Snapshot) -> None:
        """Session time reached t without a frame (sound, a tick): the seconds it ended are
        stored too, so the record follows the session clock, not the picture."""
        for row in self._seconds.advance(t, _cues(snapshot)):
            self.writer.add_sample(row)

    def sound(self, window: CryWindow) -> None:
        """One scored sound window (the replayable cry input)."""
        self._seconds.sound(window.t, window.c)
        span = self._sound.add(window.t, window)
        if span:
            self._store_sound(*span)

    def alarms(self, events: list[AlarmEvent], episodes: list[EpisodeRecord]) -> None:
        for episode in episodes:
            self.writer.save_episode(EpisodeRow.of(episode))
        for event in events:
            self.writer.add_event(EventRow.of(event))

    def heartbeat(self, t: float) -> None:
        """The time of the last processed input, at most once a second of wall time."""
        now = time.monotonic()
        if self._last_beat is None or now - self._last_beat >= HEARTBEAT_EVERY_S:
            self._last_beat = now
            self.writer.heartbeat(self.wall(t))

    def close(self, t_end: float, snapshot: Snapshot, end_reason: str, frames: int,
              frames_scored: int) -> None:
        self.advance(t_end, snapshot)
        for row in self._seconds.flush():
            self.writer.add_sample(row)
        span = self._trace.take()
        if span:
            self._store_trace(*span)
        span = self._sound.take()
        if span:
            self._store_sound(*span)
        self.writer.close_session(ended_at=self.wall(t_end), end_reason=end_reason,
                                  frames=frames, frames_scored=frames_scored)

    def _store_trace(self, t0: float, rows: list) -> None:
        """A span of frames, and beside it (same t0, so each reading's time comes back as its
        frame's) the mesh readings taken on them."""
        self.writer.add_trace(TraceRow(t0=t0, n=len(rows), data=pack_trace(rows, t0)))
        if self._readings:
            readings, self._readings = self._readings, []
            self.writer.add_trace(TraceRow(t0=t0, n=len(readings), data=pack_face(readings, t0)))

    def _store_sound(self, t0: float, windows: list) -> None:
        self.writer.add_trace(TraceRow(t0=t0, n=len(windows), data=pack_sound(windows, t0)))


def _cues(snapshot: Snapshot) -> Cues:
    return Cues(snapshot.s, snapshot.f, snapshot.c, snapshot.m, snapshot.face_state)
