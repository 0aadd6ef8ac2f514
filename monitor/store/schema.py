"""Tables of the schema contract (ARCHITECTURE.md "Schema contract"): keep the names, extend freely.

Time columns:
- `t`, `t0` and the episode's `start_at`, `alarm_at`, `end_at`, `ack_at` are **session-clock
  seconds** (float): frame capture time for files, monotonic time live. Keeping episode times on
  the session clock lets a replay through the alarm engine compare them exactly; wall time is
  `monitoring_session.clock_origin_utc + t`, which a clock change during the night cannot reorder.
- `monitoring_session` `*_at` columns and `audit_event.at` are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from enum import StrEnum

from sqlalchemy import (
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from monitor.signal.records import EpisodeEnd



class SessionEnd(StrEnum):
    """Why a session ended: the values of `monitoring_session.end_reason`."""

    COMPLETED = "completed"
    STOPPED_BY_USER = "stopped_by_user"
    SOURCE_ENDED = "source_ended"
    SOURCE_FAILED = "source_failed"  # a damaged file or a source that gave up: what came is kept
    CRASHED = "crashed"


SESSION_END_REASONS = frozenset(SessionEnd)
EPISODE_END_REASONS = frozenset(EpisodeEnd)

# Named constraints, so that later batch migrations on SQLite can find and alter them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend; SQLite keeps no zone, so store naive UTC there.

    A naive datetime is refused: its zone would be a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC datetimes")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def new_uid() -> str:
    """A random session identity, unique across every monitor of a ward."""
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {float: Double(), datetime: UtcDateTime(), str: String()}


class MonitoringSession(Base):
    """One monitoring run of one source; `monitor_id` names the bedside machine that wrote it."""

    __tablename__ = "monitoring_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    monitor_id: Mapped[str] = mapped_column(index=True)
    bed_label: Mapped[str]
    encounter_id: Mapped[str | None]
    source: Mapped[str]
    model_name: Mapped[str | None]
    model_sha256: Mapped[str | None]
    device: Mapped[str | None]
    app_version: Mapped[str]
    settings_json: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(index=True)
    clock_origin_utc: Mapped[datetime]  # wall time of session-clock 0
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None]  # SESSION_END_REASONS
    heartbeat_at: Mapped[datetime | None]  # last processed frame: "calm" vs "not running"
    frames: Mapped[int | None]  # totals, set when the session ends
    frames_scored: Mapped[int | None]
    # Global identity for the ward's central store (ids differ between databases); filled in on
    # insert, so nullable only to keep it optional for the writer.
    uid: Mapped[str | None] = mapped_column(String(32), unique=True, index=True, default=new_uid)
    purged_at: Mapped[datetime | None]  # data removed by `painmon purge`; the row stays for audit
    instance_id: Mapped[str | None] = mapped_column(String(32))  # the writing process (lease.py)
    audio: Mapped[str | None]  # what it heard (microphone, sound track); null: no microphone


class Sample(Base):
    """Per-second aggregate for display and export; `s` and `f` are null when unknown."""

    __tablename__ = "sample"
    __table_args__ = (Index("ix_sample_session_id_t", "session_id", "t"),
                      Index("ix_sample_session_id_origin_id", "session_id", "origin_id",
                            unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("monitoring_session.id"))
    t: Mapped[float]
    s: Mapped[float | None]
    f: Mapped[float | None]
    frames: Mapped[int]
    frames_scored: Mapped[int]
    frames_no_face: Mapped[int]
    frames_poor_quality: Mapped[int]
    p_mean: Mapped[float | None]
    p_max: Mapped[float | None]
    origin_id: Mapped[int | None]  # id in the bedside database it was forwarded from
    c: Mapped[float | None]  # smoothed cry cue; null when unknown or no microphone
    cry_max: Mapped[float | None]  # highest cry score of the second's sound windows
    m: Mapped[float | None]  # movement cue; null when unknown
    # the second's last face mesh reading (issue 23; inter-ocular distances) and the state words
    mouth_open: Mapped[float | None]
    eye_open: Mapped[float | None]
    brow: Mapped[float | None]
    mouth_covered: Mapped[float | None]  # share of the lip region unlike skin and lips
    face_state: Mapped[str | None]  # "eyes closed, relaxed", ...; null before the first reading


class FrameTrace(Base):
    """Packed per-frame (t, status, p) for a span starting at `t0` (layout: monitor.store.trace)."""

    __tablename__ = "frame_trace"
    __table_args__ = (Index("ix_frame_trace_session_id_t0", "session_id", "t0"),
                      Index("ix_frame_trace_session_id_origin_id", "session_id", "origin_id",
                            unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("monitoring_session.id"))
    t0: Mapped[float]
    n: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    origin_id: Mapped[int | None]  # id in the bedside database it was forwarded from


class Episode(Base):
    """A sustained pain-expression episode; `number` counts 1, 2, ... within its session.

    `start_at`, `alarm_at`, `end_at`, `ack_at` are session-clock seconds, not datetimes, so that
    a replay compares exactly; wall time is the session's `clock_origin_utc` plus the value.
    """

    __tablename__ = "episode"
    __table_args__ = (UniqueConstraint("session_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("monitoring_session.id"))
    number: Mapped[int]
    start_at: Mapped[float]
    alarm_at: Mapped[float | None]
    end_at: Mapped[float | None]
    end_reason: Mapped[str | None]  # EPISODE_END_REASONS; null while open
    peak_s: Mapped[float | None]
    mean_s: Mapped[float | None]
    max_share: Mapped[float | None]
    max_band: Mapped[int | None]
    max_priority: Mapped[str | None]
    ack_at: Mapped[float | None]
    ack_by: Mapped[str | None]
    mode: Mapped[str | None]
    cues: Mapped[str | None]  # which cues carried the alarm, e.g. "face+cry"


class AlarmEventRow(Base):
    """Every alarm transition (raised, escalated, acknowledged, ...) with who acted, if anyone."""

    __tablename__ = "alarm_event"
    __table_args__ = (Index("ix_alarm_event_session_id_t", "session_id", "t"),
                      Index("ix_alarm_event_session_id_origin_id", "session_id", "origin_id",
                            unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("monitoring_session.id"))
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episode.id"), index=True)
    t: Mapped[float]
    kind: Mapped[str]
    priority: Mapped[str | None]
    transition: Mapped[str]
    user: Mapped[str | None]
    detail: Mapped[str | None] = mapped_column(Text)
    origin_id: Mapped[int | None]  # id in the bedside database it was forwarded from


class Annotation(Base):
    """A reviewer's note on an episode (intervention given, NIPS score, free comment).

    Never updated (a trigger refuses it): a correction is a new annotation, audited like the first.
    `t` is the session-clock time of writing (the wall time is `clock_origin_utc + t`).
    """

    __tablename__ = "annotation"
    __table_args__ = (Index("ix_annotation_episode_id_t", "episode_id", "t"),
                      Index("ix_annotation_episode_id_origin_id", "episode_id", "origin_id",
                            unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"))
    t: Mapped[float]
    author: Mapped[str]
    intervention: Mapped[str | None]
    nips: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    origin_id: Mapped[int | None]  # id in the bedside database it was forwarded from


class AuditEvent(Base):
    """Append-only log of user actions and setting changes; triggers refuse UPDATE and DELETE.

    `session_id` and `t` (session clock) are null for actions outside a session; `at` is the
    UTC wall time at which the action was recorded.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_session_id_t", "session_id", "t"),
                      Index("ix_audit_event_session_id_origin_id", "session_id", "origin_id",
                            unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("monitoring_session.id"))
    t: Mapped[float | None]
    at: Mapped[datetime]
    user: Mapped[str | None]
    action: Mapped[str]
    detail_json: Mapped[str | None] = mapped_column(Text)
    origin_id: Mapped[int | None]  # id in the bedside database it was forwarded from


# The tables, for the Core statements of the writer, queries, recovery, review and forwarding.
SESSION = MonitoringSession.__table__
SAMPLE = Sample.__table__
TRACE = FrameTrace.__table__
EPISODE = Episode.__table__
EVENT = AlarmEventRow.__table__
ANNOTATION = Annotation.__table__
AUDIT = AuditEvent.__table__
