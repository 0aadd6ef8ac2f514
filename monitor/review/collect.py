"""Gather what an export shows, once, for every format: the selected sessions with their episodes,
annotations, per-second samples, gaps and the alarm thresholds that were in force.

Nothing here depends on database ids (they differ between a bedside file and the central store),
so the same record gives the same export from either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Protocol

from sqlalchemy import Engine

from monitor.config import AlarmSettings, ReviewSettings
from monitor.review import data
from monitor.review.data import Gaps
from monitor.store.queries import Record

# What the episode columns mean, under the table on screen and on paper.
COLUMN_NOTE = ("Peak / mean S: smoothed pain-expression estimate (0-1) during the episode. "
               "F band: largest share of the last 30 s with a pain face (0: under 10%, 1: 10-39%, "
               "2: 40-69%, 3: 70% or more). Priority: highest alarm priority reached.")


class Progress(Protocol):
    """Told how far long work has got: `done` of `total` units, and what it is doing."""

    def __call__(self, done: int, total: int, what: str) -> None: ...


def no_progress(done: int, total: int, what: str) -> None:
    """For callers that show nothing."""


@dataclass(frozen=True)
class Thresholds:
    """The alarm thresholds recorded with the session (t_off < t_on < t_high)."""

    t_on: float
    t_off: float
    t_high: float

    @staticmethod
    def of(session: Record) -> Thresholds:
        try:
            alarms = json.loads(session.settings_json or "{}").get("alarms", {})
        except (ValueError, AttributeError):
            alarms = {}
        default = AlarmSettings()
        return Thresholds(float(alarms.get("t_on", default.t_on)),
                          float(alarms.get("t_off", default.t_off)),
                          float(alarms.get("t_high", default.t_high)))


@dataclass(frozen=True)
class SessionData:
    session: Record
    episodes: list[Record]
    annotations: list[Record]  # of those episodes, with `episode_number`
    samples: list[Record]
    gaps: Gaps
    thresholds: Thresholds
    end_t: float  # session-clock end of the record

    def wall(self, t: float | None) -> datetime | None:
        return data.wall_time(self.session, t)

    def annotations_of(self, episode: Record) -> list[Record]:
        return [a for a in self.annotations if a.episode_number == episode.number]


def collect(engine: Engine, settings: ReviewSettings, bed: str | None = None,
            session_key: str | None = None, start: datetime | None = None,
            end: datetime | None = None, progress: Progress = no_progress) -> list[SessionData]:
    """Sessions overlapping [start, end) with the episodes and samples inside that range."""
    sessions = data.sessions_for_export(engine, bed, session_key, start, end)
    out = []
    for i, session in enumerate(sessions):
        progress(i, len(sessions), f"reading session {session.uid} ({session.bed_label})")
        episodes = [e for e in data.episodes(engine, [session.id])
                    if data.in_range(session, e.start_at, e.end_at, start, end)]
        recorded = data.samples(engine, session.id)
        samples = [s for s in recorded if data.in_range(session, s.t, s.t + 1.0, start, end)]
        notes = data.annotations(engine, [e.id for e in episodes]) if episodes else []
        found = data.gaps(session, recorded, settings)
        out.append(SessionData(
            session=session, episodes=episodes, annotations=notes, samples=samples,
            gaps=found, thresholds=Thresholds.of(session), end_t=data.record_end(recorded, found),
        ))
    progress(len(sessions), len(sessions), "read")
    return out


def iso(at: datetime | None, zone: tzinfo) -> str:
    """ISO 8601 with the zone's offset, to the millisecond ('' for none)."""
    return "" if at is None else at.astimezone(zone).isoformat(timespec="milliseconds")
