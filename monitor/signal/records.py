"""What the alarm engine hands out: immutable snapshots, events and episode records."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AlarmKind(StrEnum):
    """Alarm conditions; the values are what the store keeps in `alarm_event.kind`."""

    PAIN = "PAIN"
    CRYING = "CRYING"
    NO_FACE = "NO_FACE"
    POOR_SIGNAL = "POOR_SIGNAL"
    CAMERA_LOST = "CAMERA_LOST"
    MICROPHONE_LOST = "MICROPHONE_LOST"
    PIPELINE_STALLED = "PIPELINE_STALLED"
    MODEL_ERROR = "MODEL_ERROR"
    STORAGE_FAILING = "STORAGE_FAILING"
    STORAGE_BUFFER_HALF = "STORAGE_BUFFER_HALF"  # a report only: escalates STORAGE_FAILING
    STORAGE_FULL = "STORAGE_FULL"  # a report only: the disk is full, STORAGE_FAILING at once


class EventKind(StrEnum):
    """Logged transitions that are not alarms."""

    SESSION = "SESSION"
    AUDIO = "AUDIO"
    MODE = "MODE"
    SETTINGS = "SETTINGS"
    SUBJECT = "SUBJECT"
    ACTION = "ACTION"
    CUE = "CUE"  # a cue's reading that changes what it means (a cry heard is another infant's)


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Mode(StrEnum):
    MONITORING = "monitoring"
    PROCEDURE = "procedure"
    STANDBY = "standby"


class Transition(StrEnum):
    """ALARMS.md "Every transition is logged": the values of `alarm_event.transition`."""

    STARTED = "started"
    RAISED = "raised"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    SILENCE_ENDED = "silence_ended"
    REMINDER = "reminder"
    SIGNAL_LOST = "signal_lost"
    SIGNAL_RESUMED = "signal_resumed"
    ENDED = "ended"
    LATCHED = "latched"
    CLEARED = "cleared"
    AUDIO_PAUSED = "audio_paused"
    AUDIO_RESUMED = "audio_resumed"
    PROCEDURE_STARTED = "procedure_started"
    PROCEDURE_ENDED = "procedure_ended"
    STANDBY_STARTED = "standby_started"
    STANDBY_ENDED = "standby_ended"
    STANDBY_OVERDUE = "standby_overdue"
    SETTINGS_CHANGED = "settings_changed"
    SUBJECT_CHANGED = "subject_changed"
    PICTURE_ENDED = "picture_ended"  # a file's video track ended before its sound
    CRY_NEARBY = "cry_nearby"  # a cry is heard while this infant's face is calm (whose_cry.py)
    CRY_NEARBY_ENDED = "cry_nearby_ended"
    FAILED = "failed"


class EpisodeEnd(StrEnum):
    RESOLVED = "resolved"
    SIGNAL_LOST = "signal_lost"
    SESSION_ENDED = "session_ended"
    CRASHED = "crashed"


PAIN, CRYING = AlarmKind.PAIN, AlarmKind.CRYING
NO_FACE, POOR_SIGNAL = AlarmKind.NO_FACE, AlarmKind.POOR_SIGNAL
CAMERA_LOST, MICROPHONE_LOST = AlarmKind.CAMERA_LOST, AlarmKind.MICROPHONE_LOST
PIPELINE_STALLED, MODEL_ERROR = AlarmKind.PIPELINE_STALLED, AlarmKind.MODEL_ERROR
STORAGE_FAILING, STORAGE_BUFFER_HALF = AlarmKind.STORAGE_FAILING, AlarmKind.STORAGE_BUFFER_HALF
STORAGE_FULL = AlarmKind.STORAGE_FULL

PATIENT_KINDS = (PAIN, CRYING)  # alarms about the infant: suppressed in procedure, paused in standby
TECHNICAL_KINDS = (CAMERA_LOST, MICROPHONE_LOST, PIPELINE_STALLED, MODEL_ERROR, NO_FACE, POOR_SIGNAL,
                   STORAGE_FAILING)
ALARM_KINDS = (*PATIENT_KINDS, *TECHNICAL_KINDS)
REPORTED_KINDS = (CAMERA_LOST, MICROPHONE_LOST, PIPELINE_STALLED, MODEL_ERROR, STORAGE_FAILING,
                  STORAGE_BUFFER_HALF, STORAGE_FULL)

LOW, MEDIUM, HIGH = Priority.LOW, Priority.MEDIUM, Priority.HIGH
NO_SIGNAL = "none"  # max_priority of a face-only episode recorded without an alarm (face_only_priority)
RANK = {LOW: 0, MEDIUM: 1, HIGH: 2}
SYMBOL = {LOW: "!", MEDIUM: "!!", HIGH: "!!!"}

MONITORING, PROCEDURE, STANDBY = Mode.MONITORING, Mode.PROCEDURE, Mode.STANDBY

RESOLVED, SIGNAL_LOST, SESSION_ENDED = EpisodeEnd.RESOLVED, EpisodeEnd.SIGNAL_LOST, EpisodeEnd.SESSION_ENDED


@dataclass(frozen=True)
class AlarmEvent:
    """One logged transition (ALARMS.md "Every transition is logged")."""

    t: float
    kind: str
    priority: str | None
    transition: str
    user: str | None = None
    episode: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class EpisodeRecord:
    """One pain episode; re-sent whole on every change so a store can upsert by number."""

    number: int
    start: float
    alarm_at: float
    end: float | None
    end_reason: str | None
    peak_s: float
    mean_s: float | None
    max_share: float | None
    max_band: int | None
    max_priority: str
    ack_at: float | None
    ack_by: str | None
    mode: str
    cues: str = "face"  # the cues that carried the alarm: "face", "face+cry", "face+cry+movement"


@dataclass(frozen=True)
class AlarmState:
    """One alarm as the screen shows it; `audible` already accounts for silence, pause and mode."""

    kind: str
    priority: str
    active: bool
    latched: bool
    signal_lost: bool
    audible: bool
    silenced_until: float | None
    since: float
    episode: int | None
    text: str


@dataclass(frozen=True)
class Tone:
    """What should sound now; technical alarms use their own pattern (ALARMS.md)."""

    kind: str
    priority: str
    technical: bool


@dataclass(frozen=True)
class Snapshot:
    """Everything the screen needs at time t; s/f are None when unknown, never 0."""

    t: float
    s: float | None
    s_reason: str | None
    s_band: int | None
    s_label: str | None
    f: float | None
    f_band: int | None
    mode: str
    mode_until: float | None
    audio_paused_until: float | None
    alarms: tuple[AlarmState, ...]
    tone: Tone | None
    reminder_due: bool
    # The cues beyond the face (ARCHITECTURE.md): None / "unknown" states are never zeros.
    c: float | None = None  # smoothed cry cue C; None without a microphone reading
    cry_state: str = "no_microphone"  # monitor.signal.cry.CryState
    cry_reason: str = ""  # why there is no reading (no microphone, microphone lost, no sound yet)
    m: float | None = None  # movement cue M; None when unknown
    movement_state: str = "unknown"  # monitor.signal.movement.MovementState
    movement_reason: str = ""  # why unknown (camera moving, picture changing, no picture)
    # The face state (face_state.py), None until the face mesh gave a reading in this session
    face_state: str | None = None  # in words: "eyes squeezed, mouth open", "eyes closed, relaxed"
    eyes_state: str | None = None  # monitor.signal.face_state.EyeState
    mouth_state: str | None = None  # monitor.signal.face_state.MouthState
