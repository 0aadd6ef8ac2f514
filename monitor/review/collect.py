"""Gather what an export shows, once, for every format: the selected sessions with their episodes,
annotations, per-second samples (S, F and the cry and movement cues), gaps and the thresholds that
were in force, the events that change how the record reads (another face tracked, alarms paused,
settings changed), and the words every format uses for the cues and those events.

Nothing here depends on database ids (they differ between a bedside file and the central store),
so the same record gives the same export from either.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Protocol

from sqlalchemy import Engine

from monitor.config import (
    AlarmSettings,
    AudioSettings,
    MovementSettings,
    ReviewSettings,
)
from monitor.review import data
from monitor.review.data import Gaps
from monitor.signal.records import EventKind, Transition
from monitor.store.queries import Record

# What the episode columns mean, under the table on screen and on paper.
COLUMN_NOTE = ("Peak / mean S: smoothed pain-expression estimate (0-1) during the episode. "
               "F band: largest share of the last 30 s with a pain face (0: under 10%, 1: 10-39%, "
               "2: 40-69%, 3: 70% or more). Priority: highest alarm priority reached. "
               "Cues: what carried the alarm besides the face (cry: the infant was heard crying; "
               "movement: moving in the cot); each cue on its own, not a pain score.")
NO_MICROPHONE = "no microphone"
MOVEMENT_STATES = ("still", "moving", "vigorous")
# Events listed beside the trace (alarm transitions are summed up in the episode table): a new
# tracked face means S and F after it belong to another subject.
LISTED_EVENTS = (EventKind.SUBJECT, EventKind.MODE, EventKind.SETTINGS)
EVENT_NAMES = {Transition.SUBJECT_CHANGED: "tracked face changed"}


def cue_words(cues: str | None) -> str:
    """An episode's stored cues ("face+cry") in words ("face + cry", "face only"); '' when the
    record predates cues."""
    names = [c for c in (cues or "").split("+") if c]
    if not names:
        return ""
    return "face only" if names == ["face"] else " + ".join(names)


def heard(session: Record) -> str:
    """What the session listened to (a microphone, a file's sound track), or "no microphone":
    without one, no cry in the record means nothing was heard, not that the infant was quiet."""
    return session.audio or NO_MICROPHONE


def event_name(event: Record) -> str:
    """What happened, in words (e.g. 'tracked face changed', 'procedure started')."""
    return EVENT_NAMES.get(event.transition, event.transition.replace("_", " "))


def event_text(event: Record) -> str:
    """The name with its detail and who acted, on one line."""
    text = event_name(event) + (f": {event.detail}" if event.detail else "")
    return text + (f" ({event.user})" if event.user else "")


class Progress(Protocol):
    """Told how far long work has got: `done` of `total` units, and what it is doing."""

    def __call__(self, done: int, total: int, what: str) -> None: ...


def no_progress(done: int, total: int, what: str) -> None:
    """For callers that show nothing."""


@dataclass(frozen=True)
class Thresholds:
    """The thresholds recorded with the session: the face's alarm thresholds (t_off < t_on <
    t_high), the cry cue's C from which crying may start, and the movement cue's steps."""

    t_on: float
    t_off: float
    t_high: float
    cry_on: float = AudioSettings().cry_on
    moving_from: float = MovementSettings().moving_from
    vigorous_from: float = MovementSettings().vigorous_from

    @staticmethod
    def of(session: Record) -> Thresholds:
        try:
            stored = json.loads(session.settings_json or "{}")
            alarms, audio, movement = (dict(stored.get(k) or {}) for k in ("alarms", "audio", "movement"))
        except (ValueError, AttributeError, TypeError):
            alarms, audio, movement = {}, {}, {}
        default, hearing, motion = AlarmSettings(), AudioSettings(), MovementSettings()
        return Thresholds(float(alarms.get("t_on", default.t_on)),
                          float(alarms.get("t_off", default.t_off)),
                          float(alarms.get("t_high", default.t_high)),
                          float(audio.get("span_on", hearing.span_on)
                                if audio.get("cry_rule") == "detector_span"  # issue 22's rule
                                else audio.get("cry_on", hearing.cry_on)),
                          float(movement.get("moving_from", motion.moving_from)),
                          float(movement.get("vigorous_from", motion.vigorous_from)))

    def movement_state(self, m: float | None) -> str | None:
        """A stored movement cue m as its state (None: unknown), with the session's own steps."""
        if m is None:
            return None
        return "vigorous" if m >= self.vigorous_from else "moving" if m >= self.moving_from else "still"


@dataclass(frozen=True)
class SessionData:
    session: Record
    episodes: list[Record]
    annotations: list[Record]  # of those episodes, with `episode_number`
    samples: list[Record]
    gaps: Gaps
    thresholds: Thresholds
    end_t: float  # session-clock end of the record
    events: list[Record] = field(default_factory=list)  # LISTED_EVENTS, in time order

    def wall(self, t: float | None) -> datetime | None:
        return data.wall_time(self.session, t)

    def annotations_of(self, episode: Record) -> list[Record]:
        return [a for a in self.annotations if a.episode_number == episode.number]

    @property
    def heard(self) -> str:
        return heard(self.session)

    def movement_runs(self) -> list[tuple[float, float, str | None]]:
        """Consecutive seconds of one movement state, [start, end) on the session clock; None:
        unknown (camera moving, picture changing). Seconds without a sample are left out."""
        runs: list[tuple[float, float, str | None]] = []
        for row in self.samples:
            state = self.thresholds.movement_state(row.m)
            if runs and runs[-1][2] == state and math.isclose(runs[-1][1], row.t):
                runs[-1] = (runs[-1][0], row.t + 1.0, state)
            else:
                runs.append((row.t, row.t + 1.0, state))
        return runs

    def peak_c(self, episode: Record) -> float | None:
        """The highest cry cue C of the episode's seconds (None: nothing heard then)."""
        end = episode.end_at if episode.end_at is not None else self.end_t
        values = [row.c for row in self.samples
                  if row.c is not None and episode.start_at - 1.0 < row.t < end]
        return max(values) if values else None


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
        events = [e for e in data.events(engine, session.id, LISTED_EVENTS)
                  if data.in_range(session, e.t, e.t, start, end)]
        out.append(SessionData(
            session=session, episodes=episodes, annotations=notes, samples=samples,
            gaps=found, thresholds=Thresholds.of(session), end_t=data.record_end(recorded, found),
            events=events,
        ))
    progress(len(sessions), len(sessions), "read")
    return out


def iso(at: datetime | None, zone: tzinfo) -> str:
    """ISO 8601 with the zone's offset, to the millisecond ('' for none)."""
    return "" if at is None else at.astimezone(zone).isoformat(timespec="milliseconds")
