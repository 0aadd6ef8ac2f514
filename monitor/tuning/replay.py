"""A stored session's inputs replayed through the alarm engine: frames with their movement
readings and face mesh readings, sound windows, subject changes and user actions.

Reuses the engine-driving code of `monitor.signal.trace`, so a stored session and a CSV trace are
replayed by the same rules. The cues are re-derived from the stored raw inputs (each window's
crying scores and loudness, each frame's m) with the session's own [audio] and [movement]
settings, so the alarms settings under test decide as they would have live. User actions are
re-applied at their stored times; mid-session settings changes are not (the replay runs one set
of settings throughout) and are listed instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from monitor.config import AlarmSettings, Settings, from_stored
from monitor.errors import MonitorError
from monitor.packets import FaceStatus
from monitor.signal.cry import CryWindow
from monitor.signal.engine import AlarmEngine
from monitor.signal.records import AlarmEvent, EpisodeRecord
from monitor.signal.trace import apply_row, collect_output
from monitor.store import queries
from monitor.store.rows import episode_record
from monitor.store.trace import UNKNOWN_M, TraceFrame, TraceReading

# stored event transition -> trace kind (monitor.signal.trace vocabulary)
USER_ACTIONS = {"acknowledged": "ack", "audio_paused": "audio_pause",
                "procedure_started": "procedure_start", "procedure_ended": "procedure_end",
                "standby_started": "standby_start", "standby_ended": "standby_end"}
PROCEDURE_MINUTES = re.compile(r"([0-9.]+) min$")

Row = tuple[float, str, float | None, str]  # t, trace kind, value, user


@dataclass(frozen=True)
class StoredSession:
    """What a replay needs from the store, and the episodes the monitor recorded live."""

    id: int
    settings: Settings
    frames: list[TraceFrame]
    windows: list[CryWindow]  # scored sound windows; empty without a microphone
    heard: bool  # the session had sound (a microphone or a sound track)
    subject_changes: list[tuple[float, str]]
    actions: list[Row]
    end_t: float
    not_replayed: list[str]
    episodes: list[EpisodeRecord]
    readings: list[TraceReading] = field(default_factory=list)  # face mesh; empty without one


def load_session(engine: Engine, session_id: int) -> StoredSession:
    """Read one session; a session without a frame trace or settings cannot be replayed."""
    session = queries.get_session(engine, session_id)
    if session is None:
        raise MonitorError(f"no session {session_id} in this database")
    if not session.settings_json:
        raise MonitorError(f"session {session_id} has no stored settings to replay with")
    frames = queries.trace(engine, session_id)
    if not frames:
        raise MonitorError(f"session {session_id} has no frame trace (purged, or recorded before traces)")
    events = queries.events(engine, session_id)
    actions, not_replayed = _user_actions(events)
    ended = [e.t for e in events if e.kind == "SESSION" and e.transition == "ended"]
    subject_changes = [(e.t, e.detail or "") for e in events
                       if e.kind == "SUBJECT" and e.transition == "subject_changed"]
    return StoredSession(
        id=session_id, settings=from_stored(session.settings_json), frames=frames,
        windows=queries.sound_trace(engine, session_id), heard=session.audio is not None,
        subject_changes=subject_changes, actions=actions, end_t=ended[-1] if ended else frames[-1].t, not_replayed=not_replayed,
        episodes=[episode_record(row) for row in queries.episodes(engine, session_id)],
        readings=queries.face_trace(engine, session_id))


def replay(session: StoredSession, settings: AlarmSettings) -> list[EpisodeRecord]:
    """The episodes these settings would have recorded over the same inputs and user actions."""
    return replay_output(session, settings)[1]


def replay_output(session: StoredSession, settings: AlarmSettings
                  ) -> tuple[list[AlarmEvent], list[EpisodeRecord]]:
    """The alarm events and the episodes these settings would have recorded."""
    # The pipeline's order within one instant: sound windows ending by then, a subject change,
    # the frame's movement, its face mesh reading, the frame; a user action after the frame it
    # followed (Channel.conclude).
    timeline: list[tuple[float, int, Callable[[AlarmEngine], None]]] = []
    for w in session.windows:
        timeline.append((w.t, 0, lambda e, w=w: e.cry_window(w)))
    for t, detail in session.subject_changes:
        timeline.append((t, 1, lambda e, t=t, d=detail: e.subject_changed(t, d)))
    for f in session.frames:
        if f.m is not None:  # a frame the meter measured (UNKNOWN_M: measured, unknown)
            known = f.m != UNKNOWN_M
            timeline.append((f.t, 2, lambda e, t=f.t, m=f.m, known=known: e.movement(
                t, m if known else None, "" if known else "unknown when recorded")))
        row = (f.t, "p", f.p, "") if f.status is FaceStatus.SCORED else (f.t, f.status.value, None, "")
        timeline.append((f.t, 4, lambda e, row=row: apply_row(e, *row)))
    for r in session.readings:
        timeline.append((r.t, 3, lambda e, r=r: e.face_actions(r.t, r.actions)))
    for row in session.actions:
        timeline.append((row[0], 5, lambda e, row=row: apply_row(e, *row)))
    timeline.sort(key=lambda item: item[:2])
    engine = AlarmEngine(settings, start_t=0.0, audio=session.settings.audio,
                         movement=session.settings.movement, face=session.settings.face)
    engine.sound(0.0, session.heard, "" if session.heard else "no microphone")
    events: list[AlarmEvent] = []
    episodes: dict[int, EpisodeRecord] = {}
    for _, _, step in timeline:
        step(engine)
    engine.end_session(max(session.end_t, timeline[-1][0]))
    collect_output(engine, events, episodes)
    return events, [episodes[n] for n in sorted(episodes)]


def _user_actions(events: list) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    skipped = []
    for e in events:
        kind = USER_ACTIONS.get(e.transition)
        if e.transition == "settings_changed":
            skipped.append(f"settings changed at {e.t:.1f} s by {e.user}: {e.detail}")
        elif kind is None or (kind == "procedure_end" and e.detail != "by_user"):
            continue  # engine transitions, and a procedure that ended by itself
        elif kind == "procedure_start":
            minutes = PROCEDURE_MINUTES.search(e.detail or "")
            rows.append((e.t, kind, float(minutes.group(1)) if minutes else None, e.user or ""))
        elif kind != "ack" or (e.t, kind, None, e.user or "") not in rows:  # one key acks them all
            rows.append((e.t, kind, None, e.user or ""))
    return rows, skipped
