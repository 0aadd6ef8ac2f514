"""One pain episode's bookkeeping inside the engine, and the record it hands out."""

from __future__ import annotations

from monitor.signal.cues import FACE, cue_label
from monitor.signal.pain import RunStats
from monitor.signal.records import MEDIUM, EpisodeRecord
from monitor.signal.smoothing import face_band


class Episode:
    """Bookkeeping for one episode number; records are built from it on drain."""

    def __init__(self, number: int, start: float, alarm_at: float, mode: str) -> None:
        self.number, self.start, self.alarm_at, self.mode = number, start, alarm_at, mode
        self.end: float | None = None
        self.end_reason: str | None = None
        self.stats: RunStats | None = None  # set when ended; open episodes read the run
        self.max_priority: str = MEDIUM  # or NO_SIGNAL: a face-only episode without an alarm
        self.ack_at: float | None = None
        self.ack_by: str | None = None
        self.cues: set[str] = {FACE}
        self.high_reached = False  # T_high held D_high while the alarm stayed below medium

    def record(self, open_stats: RunStats | None) -> EpisodeRecord:
        stats = self.stats if self.stats is not None else open_stats
        return EpisodeRecord(
            number=self.number, start=self.start, alarm_at=self.alarm_at,
            end=self.end, end_reason=self.end_reason, peak_s=stats.peak, mean_s=stats.mean,
            max_share=stats.max_f, max_band=face_band(stats.max_f), max_priority=self.max_priority,
            ack_at=self.ack_at, ack_by=self.ack_by, mode=self.mode, cues=cue_label(self.cues),
        )
