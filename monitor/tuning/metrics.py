"""Episode-level scores against truth: what a nurse hears, not what a frame classifier gets right.

A truth interval is *hit* when an alarm is sounding at some time between its start and
`match_after_s` after its end; its time to alarm is from its start to that alarm's raise (0 when
the alarm was already on). An episode whose alarm time (raise to end) meets no truth interval so
extended is a *false alarm*. Unknown time is time without a scored face (no face, poor quality,
camera gaps longer than `camera_lost_after_s`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.packets import FaceStatus
from monitor.signal.records import EpisodeRecord
from monitor.store.trace import TraceFrame
from monitor.tuning.truth import Interval

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class Recording:
    """One monitored session with its truth: the unit the scores add up over."""

    name: str
    duration_s: float
    unknown_s: float
    truth: list[Interval]


@dataclass(frozen=True)
class Scores:
    truth_events: int
    hits: int
    false_alarms: int
    delays_s: tuple[float, ...]
    alarm_s: float
    unknown_s: float
    monitored_s: float

    @property
    def misses(self) -> int:
        return self.truth_events - self.hits

    @property
    def sensitivity(self) -> float | None:
        return self.hits / self.truth_events if self.truth_events else None

    @property
    def false_alarms_per_hour(self) -> float:
        return self.false_alarms * SECONDS_PER_HOUR / self.monitored_s

    def delay_s(self, percentile: float) -> float | None:
        return float(np.percentile(self.delays_s, percentile)) if self.delays_s else None

    def as_dict(self) -> dict:
        return {"truth_events": self.truth_events, "hits": self.hits, "misses": self.misses,
                "false_alarms": self.false_alarms, "sensitivity": self.sensitivity,
                "false_alarms_per_hour": self.false_alarms_per_hour,
                "time_to_alarm_median_s": self.delay_s(50), "time_to_alarm_p90_s": self.delay_s(90),
                "times_to_alarm_s": list(self.delays_s), "time_in_alarm_s": self.alarm_s,
                "time_in_alarm_share": self.alarm_s / self.monitored_s,
                "unknown_share": self.unknown_s / self.monitored_s, "monitored_s": self.monitored_s}


def unknown_seconds(frames: list[TraceFrame], end_t: float, camera_lost_after_s: float) -> float:
    """Session time (from 0 to end_t) that no scored frame stands for."""
    covered = 0.0
    for frame, nxt in zip(frames, [f.t for f in frames[1:]] + [end_t]):
        if frame.status is FaceStatus.SCORED:
            covered += min(max(nxt - frame.t, 0.0), camera_lost_after_s)
    return max(end_t - covered, 0.0)


COUNTED = {"low": ("low", "medium", "high"), "medium": ("medium", "high")}


def score(runs: list[tuple[Recording, list[EpisodeRecord]]], match_after_s: float,
          count_from: str = "low") -> Scores:
    """Add up hits, false alarms and times over recordings, each with the episodes it raised.

    Only episodes that reached `count_from` or above are alarms (a face-only episode recorded at
    priority "none" never is); an upgraded episode counts from its raise."""
    truth_events = hits = false_alarms = 0
    delays: list[float] = []
    alarm_s = unknown_s = monitored_s = 0.0
    for rec, episodes in runs:
        alarms = [(e.alarm_at, rec.duration_s if e.end is None else max(e.end, e.alarm_at))
                  for e in episodes if e.max_priority in COUNTED[count_from]]
        windows = [(i.start, i.end + match_after_s) for i in rec.truth]
        for start, until in windows:
            raised = [a for a, b in alarms if a <= until and b >= start]
            if raised:
                hits += 1
                delays.append(max(min(raised) - start, 0.0))
        false_alarms += sum(not any(a <= until and b >= start for start, until in windows)
                            for a, b in alarms)
        truth_events += len(windows)
        alarm_s += sum(b - a for a, b in alarms)
        unknown_s += rec.unknown_s
        monitored_s += rec.duration_s
    return Scores(truth_events, hits, false_alarms, tuple(sorted(delays)), alarm_s, unknown_s, monitored_s)
