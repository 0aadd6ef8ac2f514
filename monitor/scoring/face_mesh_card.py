"""The face mesh's card: crop in, network layers, what the 468 points and the face flag are.

Same rules as the other cards (monitor/scoring/card.py, whose licence, source, weights and
JSON-reading parts it reuses): a missing or damaged folder is refused with a clear MonitorError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from monitor.scoring.card import CardBase, Source, Strict, read_json_card

FACE_MESH_FIX = "restore the model folder or re-run tools/convert_face_mesh.py"

LayerSpec = tuple[Literal["conv", "reduce", "residual", "output"], int, int]


class FaceMeshArchitecture(Strict):
    """Layers as (kind, channels_out, stride), built by monitor/scoring/face_mesh_net.py."""

    name: Literal["mediapipe_face_mesh"]
    backbone: tuple[LayerSpec, ...] = Field(min_length=1)
    landmark_head: tuple[LayerSpec, ...] = Field(min_length=1)
    face_head: tuple[LayerSpec, ...] = Field(min_length=1)


class MeshInputSpec(Strict):
    """A square RGB crop about the face, rotated so the eyes are level."""

    size: int = Field(ge=32)
    color: Literal["rgb"]
    value_range: tuple[float, float] = Field(description="pixel 0 -> first, 255 -> second")
    crop_scale: float = Field(gt=1, description="crop side / face size (MediaPipe's ROI: 1.5)")


class MeshOutputSpec(Strict):
    points: int = Field(ge=5)
    coordinates: Literal["crop_pixels_xyz"]
    face_flag: Literal["logit"]


class FaceMeshCard(CardBase):
    architecture: FaceMeshArchitecture
    input: MeshInputSpec
    output: MeshOutputSpec
    source: Source


def read_face_mesh_card(model_dir: Path) -> FaceMeshCard:
    """The folder's face mesh card, or a MonitorError that says what is wrong and how to fix it."""
    return read_json_card(model_dir, FaceMeshCard, FACE_MESH_FIX)
