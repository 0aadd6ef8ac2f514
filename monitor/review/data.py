"""What review and export read and write: sessions of a bed in a time range, their episodes with
annotations, the gaps in the record, and the audited writes (annotations, "session opened").

Works the same on a bedside SQLite file and on the ward's central PostgreSQL store. Episode and
sample times are session-clock seconds; `wall_time` turns them into UTC datetimes.
"""

from __future__ import annotations

import getpass
import json
import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, Engine, func, insert, or_, select

from monitor.config import ReviewSettings
from monitor.errors import MonitorError
from monitor.store.queries import Record
from monitor.store.schema import (
    ANNOTATION,
    AUDIT,
    EPISODE,
    EVENT,
    SAMPLE,
    SESSION,
)
from monitor.text import plain_text

NIPS_RANGE = range(8)  # Neonatal Infant Pain Scale, 0-7
LOCALTIME = "/etc/localtime"
# The session's last sign of life: a crashed monitor leaves ended_at empty.
LAST_SEEN = func.coalesce(SESSION.c.ended_at, SESSION.c.heartbeat_at, SESSION.c.started_at)


def current_user() -> str:
    """The login name, as the default reviewer and audit user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def display_zone(settings: ReviewSettings) -> tzinfo:
    """The zone times are shown and exported in: the setting, else this computer's own (with its
    daylight-saving rules, so a summer night and a winter night both read right)."""
    if settings.timezone:
        return ZoneInfo(settings.timezone)
    try:
        if os.environ.get("TZ"):
            return ZoneInfo(os.environ["TZ"].lstrip(":"))
        with open(LOCALTIME, "rb") as fh:
            return ZoneInfo.from_file(fh, key="localtime")
    except (OSError, ValueError, ZoneInfoNotFoundError):
        return datetime.now().astimezone().tzinfo or timezone.utc


def wall_time(session: Record, t: float | None) -> datetime | None:
    """UTC wall time of session-clock second `t` (None stays None)."""
    if t is None:
        return None
    return session.clock_origin_utc + timedelta(seconds=t)


def session_clock(session: Record, at: datetime) -> float:
    """Session-clock seconds of a wall time (for rows written during review)."""
    return (at - session.clock_origin_utc).total_seconds()


def _all(conn: Connection, query: Any) -> list[Record]:
    return [Record(row._mapping) for row in conn.execute(query)]


def beds(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(SESSION.c.bed_label).distinct()).scalars())


def find_sessions(engine: Engine, bed: str | None = None, start: datetime | None = None,
                  end: datetime | None = None) -> list[Record]:
    """Sessions of `bed` (all beds if None) that overlap [start, end), oldest first, with the
    number of `episodes` and the session-clock second of the last sample (`last_sample_t`);
    purged sessions are left out."""
    counts = (select(EPISODE.c.session_id, func.count().label("n"))
              .group_by(EPISODE.c.session_id).subquery())
    last = (select(SAMPLE.c.session_id, func.max(SAMPLE.c.t).label("t"))
            .group_by(SAMPLE.c.session_id).subquery())
    query = (select(SESSION, func.coalesce(counts.c.n, 0).label("episodes"),
                    last.c.t.label("last_sample_t"))
             .outerjoin(counts, counts.c.session_id == SESSION.c.id)
             .outerjoin(last, last.c.session_id == SESSION.c.id)
             .where(SESSION.c.purged_at.is_(None))
             .order_by(SESSION.c.started_at, SESSION.c.id))
    if bed is not None:
        query = query.where(SESSION.c.bed_label == bed)
    if end is not None:
        query = query.where(SESSION.c.started_at < end)
    if start is not None:
        query = query.where(LAST_SEEN >= start)
    with engine.connect() as conn:
        return _all(conn, query)


def resolve_session(engine: Engine, key: str) -> Record:
    """A session by its database id or its uid (ids differ between bedside and central)."""
    condition = SESSION.c.uid == key
    if key.isdigit():
        condition = or_(condition, SESSION.c.id == int(key))
    with engine.connect() as conn:
        rows = _all(conn, select(SESSION).where(condition))
    if not rows:
        raise MonitorError(f"no session {key!r} in this database (give its id or uid)")
    if rows[0].purged_at is not None:
        raise MonitorError(f"session {key} was purged on {rows[0].purged_at:%Y-%m-%d}")
    return rows[0]


def episodes(engine: Engine, session_ids: Sequence[int]) -> list[Record]:
    """Episodes of these sessions in time order, each with its session's `bed_label`,
    `encounter_id`, `session_uid`, `clock_origin_utc` and its number of `annotations`."""
    counts = (select(ANNOTATION.c.episode_id, func.count().label("n"))
              .group_by(ANNOTATION.c.episode_id).subquery())
    query = (
        select(EPISODE, SESSION.c.bed_label, SESSION.c.encounter_id,
               SESSION.c.uid.label("session_uid"), SESSION.c.clock_origin_utc,
               func.coalesce(counts.c.n, 0).label("annotations"))
        .join(SESSION, SESSION.c.id == EPISODE.c.session_id)
        .outerjoin(counts, counts.c.episode_id == EPISODE.c.id)
        .where(EPISODE.c.session_id.in_(list(session_ids)))
        .order_by(SESSION.c.started_at, EPISODE.c.session_id, EPISODE.c.number)
    )
    with engine.connect() as conn:
        return _all(conn, query)


def annotations(engine: Engine, episode_ids: Sequence[int]) -> list[Record]:
    """Annotations of these episodes, oldest first, with `episode_number`."""
    query = (select(ANNOTATION, EPISODE.c.number.label("episode_number"))
             .join(EPISODE, EPISODE.c.id == ANNOTATION.c.episode_id)
             .where(ANNOTATION.c.episode_id.in_(list(episode_ids)))
             .order_by(ANNOTATION.c.episode_id, ANNOTATION.c.t, ANNOTATION.c.id))
    with engine.connect() as conn:
        return _all(conn, query)


def samples(engine: Engine, session_id: int) -> list[Record]:
    query = select(SAMPLE).where(SAMPLE.c.session_id == session_id).order_by(SAMPLE.c.t, SAMPLE.c.id)
    with engine.connect() as conn:
        return _all(conn, query)


def events(engine: Engine, session_id: int, kinds: Sequence[str] | None = None) -> list[Record]:
    """A session's alarm events in time order (only these kinds, if given), with `episode`."""
    query = (select(EVENT, EPISODE.c.number.label("episode"))
             .outerjoin(EPISODE, EVENT.c.episode_id == EPISODE.c.id)
             .where(EVENT.c.session_id == session_id).order_by(EVENT.c.t, EVENT.c.id))
    if kinds is not None:
        query = query.where(EVENT.c.kind.in_([str(k) for k in kinds]))
    with engine.connect() as conn:
        return _all(conn, query)


@dataclass(frozen=True)
class Gaps:
    """Stretches of a session's record, in session-clock seconds [start, end).

    `unknown`: the monitor ran but S was unknown (no face, poor quality): not calm.
    `not_running`: no samples at all (monitor stalled, or stopped without ending the session):
    not calm either.
    """

    unknown: list[tuple[float, float]]
    not_running: list[tuple[float, float]]


def gaps(session: Record, rows: Sequence[Record], settings: ReviewSettings) -> Gaps:
    """Both kinds of gap. A session that never ended and whose heartbeat outlived its last
    sample was alive but stalled until that heartbeat: 'not running' up to there."""
    unknown: list[tuple[float, float]] = []
    not_running: list[tuple[float, float]] = []
    limit = settings.not_running_after_s
    previous_end = 0.0
    for row in rows:
        if row.t - previous_end >= limit:
            not_running.append((previous_end, row.t))
        if row.s is None:
            if unknown and math.isclose(unknown[-1][1], row.t):
                unknown[-1] = (unknown[-1][0], row.t + 1.0)
            else:
                unknown.append((row.t, row.t + 1.0))
        previous_end = row.t + 1.0
    if session.ended_at is None and session.heartbeat_at is not None:
        last_beat = session_clock(session, session.heartbeat_at)
        if last_beat - previous_end >= limit:
            not_running.append((previous_end, last_beat))
    return Gaps(unknown, not_running)


def record_end(rows: Sequence[Record], found: Gaps) -> float:
    """Session-clock end of the record: its last sample or the end of a trailing gap.

    Not `ended_at`: for a recorded file the session clock is the video's, not the wall clock.
    """
    ends = [rows[-1].t + 1.0] if rows else [0.0]
    ends += [end for _, end in found.not_running]
    return max(ends)


def crashed(session: Record, now: datetime | None = None) -> bool:
    """Never ended and silent for a minute: the monitor stopped without closing the session."""
    now = now or datetime.now(timezone.utc)
    last = session.heartbeat_at or session.started_at
    return session.ended_at is None and (now - last).total_seconds() > 60


def record_audit(conn: Connection, user: str, action: str, session: Record | None = None,
                 detail: dict[str, Any] | None = None, at: datetime | None = None) -> None:
    """Append one audit entry inside the caller's transaction (atomic with what it records)."""
    plain_text(user, "the user name")  # the log must show who acted as they are
    at = at or datetime.now(timezone.utc)
    conn.execute(insert(AUDIT).values(
        session_id=session.id if session else None,
        t=session_clock(session, at) if session else None,
        at=at, user=user, action=action,
        detail_json=json.dumps(detail, sort_keys=True) if detail is not None else None,
    ))


def audit_opened(engine: Engine, session: Record, user: str, where: str) -> None:
    """Protected health data: who opened which session's record, when, and from where."""
    with engine.begin() as conn:
        record_audit(conn, user, "session_opened", session,
                     {"bed": session.bed_label, "session_uid": session.uid, "via": where})


def add_annotation(engine: Engine, settings: ReviewSettings, episode: Record, author: str,
                   intervention: str | None, nips: int | None, comment: str | None,
                   at: datetime | None = None) -> int:
    """Store a note on an episode and its audit entry in one transaction; returns its id.

    Annotations are never changed afterwards (the database refuses): a correction is a new one.
    """
    author = plain_text((author or "").strip(), "the author")
    comment = plain_text((comment or "").strip(), "the comment") or None
    if not author:
        raise MonitorError("an annotation needs its author")
    if intervention is not None and intervention not in settings.interventions:
        raise MonitorError(f"intervention {intervention!r} is not one of "
                           f"{', '.join(settings.interventions)} (review.interventions)")
    if nips is not None and nips not in NIPS_RANGE:
        raise MonitorError(f"NIPS score {nips} is outside 0-7")
    if intervention is None and nips is None and comment is None:
        raise MonitorError("an annotation needs an intervention, a NIPS score or a comment")
    at = at or datetime.now(timezone.utc)
    with engine.begin() as conn:
        session = _all(conn, select(SESSION).where(SESSION.c.id == episode.session_id))[0]
        t = session_clock(session, at)
        annotation_id = conn.execute(insert(ANNOTATION).values(
            episode_id=episode.id, t=t, author=author, intervention=intervention, nips=nips,
            comment=comment)).inserted_primary_key[0]
        record_audit(conn, author, "annotation_added", session, {
            "episode": episode.number, "annotation_id": annotation_id,
            "intervention": intervention, "nips": nips, "comment": comment,
        }, at=at)
    return annotation_id


def sessions_for_export(engine: Engine, bed: str | None, session_key: str | None,
                        start: datetime | None, end: datetime | None) -> list[Record]:
    """The sessions an export or forward selects; a named session must also match the rest."""
    if session_key is not None:
        session = resolve_session(engine, session_key)
        matches = find_sessions(engine, bed, start, end)
        chosen = [row for row in matches if row.id == session.id]
        if not chosen:
            raise MonitorError(f"session {session_key} is outside the chosen bed or time range")
        return chosen
    return find_sessions(engine, bed, start, end)


def in_range(session: Record, t0: float, t1: float | None, start: datetime | None,
             end: datetime | None) -> bool:
    """Whether [t0, t1] (session clock; t1 None = still open) overlaps [start, end)."""
    first = wall_time(session, t0)
    last = wall_time(session, t1) if t1 is not None else None
    return (end is None or first < end) and (start is None or last is None or last >= start)
