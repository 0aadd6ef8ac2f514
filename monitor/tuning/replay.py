"""A stored session's inputs (frames and user actions) replayed through the alarm engine.

Reuses the engine-driving code of `monitor.signal.trace`, so a stored session and a CSV trace are
replayed by the same rules. User actions are re-applied at their stored times; mid-session
settings changes are not (the replay runs one set of settings throughout) and are listed instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Engine

from monitor.config import AlarmSettings, Settings, from_stored
from monitor.errors import MonitorError
from monitor.packets import FaceStatus
from monitor.signal.engine import AlarmEngine
from monitor.signal.records import AlarmEvent, EpisodeRecord
from monitor.signal.trace import apply_row, collect_output
from monitor.store import queries
from monitor.store.trace import TraceFrame

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
    actions: list[Row]
    end_t: float
    not_replayed: list[str]
    episodes: list[EpisodeRecord]


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
    return StoredSession(
        id=session_id, settings=from_stored(session.settings_json), frames=frames,
        actions=actions, end_t=ended[-1] if ended else frames[-1].t, not_replayed=not_replayed,
        episodes=[_stored_episode(row) for row in queries.episodes(engine, session_id)])


def replay(session: StoredSession, settings: AlarmSettings) -> list[EpisodeRecord]:
    """The episodes these settings would have recorded over the same frames and user actions."""
    frames: list[tuple[float, int, Row]] = [
        (f.t, 0, (f.t, "p", f.p, "") if f.status is FaceStatus.SCORED else (f.t, f.status.value, None, ""))
        for f in session.frames]
    # A user action ran after the frame it followed (the runner's loop order), hence the 1.
    timeline = sorted(frames + [(row[0], 1, row) for row in session.actions], key=lambda x: x[:2])
    engine = AlarmEngine(settings, start_t=0.0)
    events: list[AlarmEvent] = []
    episodes: dict[int, EpisodeRecord] = {}
    for _, _, (t, kind, value, user) in timeline:
        apply_row(engine, t, kind, value, user)
    engine.end_session(max(session.end_t, timeline[-1][0]))
    collect_output(engine, events, episodes)
    return [episodes[n] for n in sorted(episodes)]


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


def _stored_episode(row) -> EpisodeRecord:
    return EpisodeRecord(
        number=row.number, start=row.start_at, alarm_at=row.alarm_at, end=row.end_at,
        end_reason=row.end_reason, peak_s=row.peak_s, mean_s=row.mean_s, max_share=row.max_share,
        max_band=row.max_band, max_priority=row.max_priority, ack_at=row.ack_at, ack_by=row.ack_by,
        mode=row.mode)
