"""Read helpers for the CLI summary, exports and tests.

Rows come back as Records: dicts of column values that also read as attributes (`row.t`).
SQLAlchemy's own Row cannot serve: its `t` is a method, and `t` is a contract column.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Select, select

from monitor.store.schema import (
    AUDIT,
    EPISODE,
    EVENT,
    SAMPLE,
    SESSION,
    TRACE,
)
from monitor.signal.cry import CryWindow
from monitor.store.trace import (TraceFrame, TraceReading, is_face, is_sound, unpack_face,
                                 unpack_sound, unpack_trace)

ID_MAX = 2**63 - 1  # row ids are 64-bit integers (SQLite INTEGER, PostgreSQL BIGINT)


class Record(dict[str, Any]):
    """One row: `row["t"]` and `row.t` alike; read-only as attributes."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _all(engine: Engine, query: Select) -> list[Record]:
    with engine.connect() as conn:
        return [Record(row._mapping) for row in conn.execute(query)]


def _one(engine: Engine, query: Select) -> Record | None:
    rows = _all(engine, query.limit(1))
    return rows[0] if rows else None


def get_session(engine: Engine, session_id: int) -> Record | None:
    if not 0 < session_id <= ID_MAX:
        return None  # no such row can exist (and the driver cannot even send the number)
    return _one(engine, select(SESSION).where(SESSION.c.id == session_id))


def latest_session(engine: Engine) -> Record | None:
    """The most recently started session (any monitor), or None in an empty database."""
    return _one(engine, select(SESSION).order_by(SESSION.c.started_at.desc(), SESSION.c.id.desc()))


def samples(engine: Engine, session_id: int) -> list[Record]:
    return _all(engine, select(SAMPLE).where(SAMPLE.c.session_id == session_id)
                .order_by(SAMPLE.c.t, SAMPLE.c.id))


def episodes(engine: Engine, session_id: int) -> list[Record]:
    return _all(engine, select(EPISODE).where(EPISODE.c.session_id == session_id)
                .order_by(EPISODE.c.number))


def events(engine: Engine, session_id: int) -> list[Record]:
    """Alarm events in order, each with `episode`: the number of its episode (or None)."""
    query = (
        select(EVENT, EPISODE.c.number.label("episode"))
        .outerjoin(EPISODE, EVENT.c.episode_id == EPISODE.c.id)
        .where(EVENT.c.session_id == session_id)
        .order_by(EVENT.c.t, EVENT.c.id)
    )
    return _all(engine, query)


def _trace_rows(engine: Engine, session_id: int) -> list[Record]:
    return _all(engine, select(TRACE.c.t0, TRACE.c.data).where(TRACE.c.session_id == session_id)
                .order_by(TRACE.c.t0, TRACE.c.id))


def trace(engine: Engine, session_id: int) -> list[TraceFrame]:
    """Every stored frame of the session, unpacked, in time order."""
    return [frame for row in _trace_rows(engine, session_id)
            if not is_sound(row.data) and not is_face(row.data)
            for frame in unpack_trace(row.t0, row.data)]


def sound_trace(engine: Engine, session_id: int) -> list[CryWindow]:
    """Every stored sound window of the session (empty without a microphone), in time order."""
    return [window for row in _trace_rows(engine, session_id) if is_sound(row.data)
            for window in unpack_sound(row.t0, row.data)]


def face_trace(engine: Engine, session_id: int) -> list[TraceReading]:
    """Every stored face mesh reading of the session (empty without landmarks), in time order."""
    return [reading for row in _trace_rows(engine, session_id) if is_face(row.data)
            for reading in unpack_face(row.t0, row.data)]


def audit(engine: Engine) -> list[Record]:
    """The whole audit log in the order it was written."""
    return _all(engine, select(AUDIT).order_by(AUDIT.c.id))
