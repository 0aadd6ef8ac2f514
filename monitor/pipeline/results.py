"""What the pipeline hands out: one processed frame for a display, and a session's summary."""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.packets import FaceObservation, FramePacket, FrameScore
from monitor.signal.records import EpisodeRecord, Snapshot


@dataclass(frozen=True)
class FrameResult:
    """What a display needs for one processed frame."""

    packet: FramePacket
    observation: FaceObservation
    score: FrameScore
    snapshot: Snapshot
    latency_s: float


@dataclass
class Summary:
    session_id: int
    source: str
    database: str
    device: str
    model: str
    frames: int = 0
    frames_scored: int = 0
    frames_no_face: int = 0
    frames_poor_quality: int = 0
    no_face_s: float = 0.0
    duration_s: float = 0.0
    wall_s: float = 0.0
    end_reason: str = ""
    end_detail: str = ""  # why a source failed, in words
    audio: str | None = None  # what was heard; None: no microphone
    audio_blocks: int = 0
    crying_s: float = 0.0  # session time with the cry cue in its "crying" state
    picture_ended_at: float | None = None  # a file whose sound went on after its picture
    episodes: dict[int, EpisodeRecord] = field(default_factory=dict)
    unwritten: int = 0  # rows the database refused to the end
    dropped: int = 0  # rows lost because the writer's buffer was full
    store_error: str | None = None  # why the database refused
    kept_in: str | None = None  # the file the unwritten rows were kept in for the next start

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0
