"""Start-up clean-up after a killed process (SIGKILL, power cut): its session and episode rows were
left open. They are closed `crashed` (not `signal_lost`, so a crash stays visible in review) at
the last trace the dead process left: its heartbeat and its last stored sample.

Only this computer's rows are touched (a ward's central database holds every bed's sessions), and
never a session whose writing process is still alive: each process holds a lease beside the
database (monitor.store.lease), so a second `painmon` beside the bedside monitor leaves its
session alone, whatever its OS user or state folder.
Rows written before instances were recorded (no `instance_id`) fall back to "not opened here".
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from monitor.store.database import explain
from monitor.store.lease import close_notes, is_alive_for
from monitor.store.schema import (
    AUDIT,
    EPISODE,
    SAMPLE,
    SESSION,
)

log = logging.getLogger(__name__)


# (database URL, session id) of every session this process opened: alive, whatever it looks like.
OPENED_HERE: set[tuple[str, int]] = set()


def close_crashed_sessions(engine: Engine, monitor_id: str) -> list[int]:
    """Close `crashed` the sessions of `monitor_id` that no running process owns; their ids.

    A database that refuses is logged, not raised: monitoring matters more than this tidying,
    which the next start retries."""
    try:
        return _close(engine, monitor_id)
    except SQLAlchemyError as exc:
        log.warning("could not close the sessions of a stopped process: %s", explain(exc))
        return []


def _apply_close_notes(engine: Engine) -> None:
    """Clean ends that the database refused while their process was exiting: applied, not
    mistaken for crashes."""
    for path, note in close_notes(str(engine.url)):
        session_id = note.pop("session_id")
        note.pop("database")
        with engine.begin() as conn:
            conn.execute(update(SESSION).where(
                (SESSION.c.id == session_id) & SESSION.c.ended_at.is_(None)).values(**note))
            conn.execute(update(EPISODE).where(
                (EPISODE.c.session_id == session_id) & EPISODE.c.end_reason.is_(None)).values(
                end_reason="session_ended"))
            conn.execute(insert(AUDIT).values(
                session_id=session_id, at=datetime.now(timezone.utc), action="session_end_applied",
                detail_json=json.dumps({"end_reason": note["end_reason"],
                                        "why": "the database refused it at the end"})))
        path.unlink(missing_ok=True)
        log.info("session %d: its end (%s), which the database refused at exit, is now recorded",
                 session_id, note["end_reason"])


def _close(engine: Engine, monitor_id: str) -> list[int]:
    _apply_close_notes(engine)
    url = str(engine.url)
    closed = []
    with engine.begin() as conn:
        orphans = conn.execute(
            select(SESSION.c.id, SESSION.c.started_at, SESSION.c.heartbeat_at, SESSION.c.instance_id)
            .where((SESSION.c.monitor_id == monitor_id) & SESSION.c.ended_at.is_(None))
        ).all()
        for session_id, started_at, heartbeat_at, instance_id in orphans:
            if (url, session_id) in OPENED_HERE or (instance_id and is_alive_for(instance_id, engine)):
                continue
            of_session = SAMPLE.c.session_id == session_id
            last_t, frames, scored = conn.execute(
                select(func.max(SAMPLE.c.t), func.sum(SAMPLE.c.frames),
                       func.sum(SAMPLE.c.frames_scored)).where(of_session)).one()
            conn.execute(update(SESSION).where(SESSION.c.id == session_id).values(
                ended_at=heartbeat_at or started_at, end_reason="crashed",
                frames=frames or 0, frames_scored=scored or 0))
            episodes = conn.execute(select(EPISODE.c.id, EPISODE.c.start_at).where(
                (EPISODE.c.session_id == session_id) & EPISODE.c.end_reason.is_(None))).all()
            for episode_id, start_at in episodes:  # ends where the stored signal ends
                end_at = start_at if last_t is None else max(start_at, last_t + 1.0)
                conn.execute(update(EPISODE).where(EPISODE.c.id == episode_id).values(
                    end_reason="crashed", end_at=end_at))
            conn.execute(insert(AUDIT).values(
                session_id=session_id, at=datetime.now(timezone.utc), action="session_crashed",
                detail_json=json.dumps({"monitor_id": monitor_id, "instance_id": instance_id,
                                        "episodes_closed": len(episodes)})))
            log.warning("session %d of %s was left open by a stopped process: closed as crashed "
                        "(%d open episode(s) closed)", session_id, monitor_id, len(episodes))
            closed.append(session_id)
    return closed
