"""What flows between the stages (ARCHITECTURE.md): Source -> FaceFinder -> Scorer -> Signal."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np


class FaceStatus(str, Enum):
    """Per-frame outcome. Only SCORED carries a p; the others are states, never scores."""

    SCORED = "scored"
    NO_FACE = "no_face"
    POOR_QUALITY = "poor_quality"


@dataclass(frozen=True)
class FramePacket:
    """One captured frame. `t` is the session clock in seconds (file time or monotonic)."""

    t: float
    index: int
    image: np.ndarray  # BGR uint8, HxWx3
    source_id: str = "main"


@dataclass(frozen=True)
class FaceObservation:
    """The tracked subject's face in one frame (SCORED: passed the gate, ready to score), or why not."""

    status: FaceStatus
    box: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1, clipped to the image
    prob: float | None = None
    landmarks: np.ndarray | None = None  # 5x2
    quality: dict[str, float] | None = None
    reason: str = ""
    faces_seen: bool = False  # any face found in this frame, the subject or not
    subject_changed: bool = False  # this face starts a track of someone other than the last subject
    subject_detail: str = ""  # where the new face is and how it differs from the last, when changed


@dataclass(frozen=True)
class FaceActions:
    """What the face mesh reads on a scored face (monitor/scoring/face_actions.py): geometry in
    inter-ocular distances, None where it cannot be read. `fit_problem` names why the fit is not
    trusted ("" when it is); `covered` is the share of the lip region that looks like neither
    skin nor lips (a pacifier, a tube, a hand), None in a grey picture. States are named from
    these by monitor/signal/face_state.py."""

    mouth_open: float | None  # inner-lip gap
    eye_open: float | None  # upper to lower lid, both eyes' mean
    brow: float | None  # inner brow to the eye's centre (smaller: brow lowered)
    covered: float | None
    face_score: float  # the mesh's own "a face is there" score, 0..1
    fit_problem: str = ""
    # eye and lip outlines in image pixels, for the live video's optional drawing
    outlines: tuple[tuple[tuple[float, float], ...], ...] = ()


@dataclass(frozen=True)
class FrameScore:
    """One frame's result, as the signal engine and the store see it."""

    t: float
    index: int
    status: FaceStatus
    p: float | None = None
    box: tuple[float, float, float, float] | None = None
    source_id: str = "main"
    actions: FaceActions | None = None  # the face mesh's reading, when it ran on this frame


@dataclass(frozen=True)
class AudioBlock:
    """A stretch of mono sound from the cot microphone or a file's sound track.

    `t` is the session time of its first sample, so sound and frames share one clock whatever
    the analysis speed. Samples are float32 in -1..1 at `rate` Hz (sources resample to 16 kHz,
    the cry model's rate)."""

    t: float
    samples: np.ndarray
    rate: int
    source_id: str = "main"

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate
