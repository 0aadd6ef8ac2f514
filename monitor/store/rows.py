"""The rows the store's writer takes: one frozen dataclass per table, fields named as its columns.

Typed rows make a misspelt or missing column an error where the row is built, on the caller's
thread, instead of a failed write on the writer thread later. Columns the writer fills itself
(`id`, `session_id`, `origin_id`, the audit's `at`) are not fields.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from monitor.signal.records import AlarmEvent, EpisodeRecord

# EpisodeRecord's fields are the episode table's columns but for these two names
EPISODE_COLUMNS = {"start": "start_at", "end": "end_at"}


@dataclass(frozen=True)
class SampleRow:
    """One session-second (`sample`); `s`, `f` and the cues are None when unknown."""

    t: float
    s: float | None
    f: float | None
    frames: int
    frames_scored: int
    frames_no_face: int
    frames_poor_quality: int
    p_mean: float | None
    p_max: float | None
    c: float | None = None  # smoothed cry cue; None without a microphone
    cry_max: float | None = None
    m: float | None = None  # movement cue
    mouth_open: float | None = None  # the second's last face mesh reading (issue 23)
    eye_open: float | None = None
    brow: float | None = None
    mouth_covered: float | None = None
    face_state: str | None = None  # the face state in words at the second's end


@dataclass(frozen=True)
class TraceRow:
    """A packed span of per-frame readings (`frame_trace`; layout: monitor.store.trace)."""

    t0: float
    n: int
    data: bytes


@dataclass(frozen=True)
class EventRow:
    """One alarm transition (`alarm_event`)."""

    t: float
    kind: str
    priority: str | None
    transition: str
    user: str | None = None
    episode: int | None = None  # the episode's number; the writer links the episode row's id
    detail: str | None = ""

    @classmethod
    def of(cls, event: AlarmEvent) -> "EventRow":
        return cls(**asdict(event))


@dataclass(frozen=True)
class EpisodeRow:
    """A whole episode (`episode`): every save replaces all its columns (upsert by number)."""

    number: int
    start_at: float
    alarm_at: float | None
    end_at: float | None
    end_reason: str | None
    peak_s: float | None
    mean_s: float | None
    max_share: float | None
    max_band: int | None
    max_priority: str | None
    ack_at: float | None
    ack_by: str | None
    mode: str | None
    cues: str | None = "face"

    @classmethod
    def of(cls, record: EpisodeRecord) -> "EpisodeRow":
        return cls(**{EPISODE_COLUMNS.get(name, name): value for name, value in asdict(record).items()})


def episode_record(row) -> EpisodeRecord:
    """The engine's record of a stored episode row (any object with the episode's columns);
    rows stored before the cues column read "face"."""
    record = EpisodeRecord(**{f.name: getattr(row, EPISODE_COLUMNS.get(f.name, f.name))
                              for f in fields(EpisodeRecord)})
    return record if record.cues else replace(record, cues="face")


@dataclass(frozen=True)
class AuditRow:
    """A user action or setting change (`audit_event`); the writer stamps `at` (UTC now)."""

    action: str
    t: float | None = None  # session-clock time; None outside a session
    user: str | None = None
    detail_json: str | None = None
