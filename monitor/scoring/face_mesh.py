"""Faces -> 468 facial landmarks in image pixels, batched, on the face model's device.

The crop is MediaPipe's: a square of `crop_scale` x the face size about the face, turned so the
eyes are level, resized to 192x192. The first pass places it from the tracked face (MTCNN box and
its two eye points); the second re-centres it on the first pass's own landmarks (their extent and
eye corners), as MediaPipe does from one video frame to the next, which fits open mouths better.
Loading follows the other models (monitor/scoring/model.py): verified sha256, strict shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
import torch

from monitor.errors import MonitorError
from monitor.scoring.device import LoadedOnDevice, choose_device
from monitor.scoring.face_mesh_card import FACE_MESH_FIX, FaceMeshCard, read_face_mesh_card
from monitor.scoring.face_mesh_net import FaceMeshNet
from monitor.scoring.model import load_verified
from monitor.scoring.preprocess import Box

# MediaPipe's mesh: the outer corners of the eyes, subject's right (image left) then left.
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263


@dataclass(frozen=True)
class LoadedFaceMesh:
    card: FaceMeshCard
    net: FaceMeshNet
    sha256: str
    device: torch.device
    directory: Path


def build_face_mesh_network(card: FaceMeshCard) -> FaceMeshNet:
    arch = card.architecture
    return FaceMeshNet(arch.backbone, arch.landmark_head, arch.face_head)


def load_face_mesh(model_dir: Path, device: torch.device) -> LoadedFaceMesh:
    """Read the card, verify the weights against its sha256, load strictly onto `device`."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise MonitorError(f"face mesh folder not found: {model_dir} "
                           f"(check scoring.face_mesh_dir; {FACE_MESH_FIX})")
    card = read_face_mesh_card(model_dir)
    net = load_verified(build_face_mesh_network(card), model_dir, card.weights, FACE_MESH_FIX)
    return LoadedFaceMesh(card, net.to(device).eval(), card.weights.sha256, device, model_dir)


@dataclass(frozen=True)
class MeshCrop:
    """Where a crop lies: centre (image px), side (image px), roll (radians, eye line vs x axis)."""

    cx: float
    cy: float
    side: float
    roll: float

    def to_crop(self, size: int) -> np.ndarray:
        """The 2x3 affine map from image pixels to crop pixels."""
        scale = size / self.side
        c, s = np.cos(self.roll) * scale, np.sin(self.roll) * scale
        # rotate by -roll about the centre, scale, then put the centre in the middle of the crop
        return np.array([[c, s, size / 2 - c * self.cx - s * self.cy],
                         [-s, c, size / 2 + s * self.cx - c * self.cy]])

    def image_points(self, crop_points: np.ndarray, size: int) -> np.ndarray:
        """(n, 3) crop (x, y, z) -> image pixels (z scaled like x and y)."""
        inverse = cv2.invertAffineTransform(self.to_crop(size))
        xy = crop_points[:, :2] @ inverse[:, :2].T + inverse[:, 2]
        return np.column_stack([xy, crop_points[:, 2] * self.side / size])


def crop_from_face(box: Box, points5: np.ndarray, scale: float) -> MeshCrop:
    """The first pass: about the box centre, side `scale` x the box's longer side, level eyes."""
    x0, y0, x1, y1 = box
    dx, dy = np.asarray(points5[1], float) - np.asarray(points5[0], float)
    return MeshCrop((x0 + x1) / 2, (y0 + y1) / 2, scale * max(x1 - x0, y1 - y0),
                    float(np.arctan2(dy, dx)))


def crop_from_landmarks(points: np.ndarray, scale: float) -> MeshCrop:
    """The second pass: about the landmarks' extent in their own upright frame, level eye corners."""
    dx, dy = points[LEFT_EYE_OUTER, :2] - points[RIGHT_EYE_OUTER, :2]
    roll = float(np.arctan2(dy, dx))
    c, s = np.cos(roll), np.sin(roll)
    upright = points[:, :2] @ np.array([[c, -s], [s, c]])  # rotated by -roll
    low, high = upright.min(axis=0), upright.max(axis=0)
    mid = (low + high) / 2
    centre = np.array([c * mid[0] - s * mid[1], s * mid[0] + c * mid[1]])  # back by +roll
    return MeshCrop(float(centre[0]), float(centre[1]), scale * float((high - low).max()), roll)


def cut(image_bgr: np.ndarray, crop: MeshCrop, size: int) -> np.ndarray:
    """(size, size, 3) uint8 RGB crop; outside the image is black. Colour is converted on the
    crop, not the frame (a 4K frame costs more to convert than the mesh to run)."""
    pixels = cv2.warpAffine(image_bgr, crop.to_crop(size), (size, size), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        return cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGB if pixels.shape[2] == 4 else cv2.COLOR_BGR2RGB)


@dataclass(frozen=True)
class MeshFit:
    """One face's landmarks (468, 3) in image pixels, the mesh's face score, and its crop."""

    points: np.ndarray
    face_score: float
    crop: MeshCrop


class FaceMesh(LoadedOnDevice):
    """Loads the mesh once; `fit` places 468 points on each (image, box, five points) in two
    batched passes. float32 on every device: 2 MB of weights, and points want the precision."""

    def __init__(self, model_dir: Path, device: str | torch.device = "cpu",
                 batch_size: int = 32) -> None:
        device = choose_device(device) if isinstance(device, str) else device
        self._model = load_face_mesh(model_dir, device)
        # the crops arrive as NHWC: channels-last weights skip a layout copy (about 1.5x on a CPU)
        self._model.net.to(memory_format=torch.channels_last)
        self._batch_size = batch_size
        self._pin = device.type == "cuda"

    @property
    def card(self) -> FaceMeshCard:
        return self._model.card

    def fit(self, items: Sequence[tuple[np.ndarray, Box, np.ndarray]]) -> list[MeshFit]:
        """Two passes: from the tracked face, then re-centred on the first pass's landmarks."""
        scale = self.card.input.crop_scale
        crops = [crop_from_face(box, points5, scale) for _, box, points5 in items]
        first = self.run([image for image, _, _ in items], crops)
        crops = [crop_from_landmarks(f.points, scale) for f in first]
        return self.run([image for image, _, _ in items], crops)

    def run(self, images: Sequence[np.ndarray], crops: Sequence[MeshCrop]) -> list[MeshFit]:
        """One pass: each image cut at its crop, all in batches."""
        size = self.card.input.size
        batch = np.stack([cut(image, crop, size) for image, crop in zip(images, crops)]) \
            if images else np.zeros((0, size, size, 3), np.uint8)
        points, logits = self.forward(batch)
        return [MeshFit(crop.image_points(p, size), float(1 / (1 + np.exp(-z))), crop)
                for p, z, crop in zip(points, logits, crops)]

    def forward(self, crops_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, 468, 3) crop-pixel landmarks and (n,) face logits for (n, 192, 192, 3) uint8 RGB."""
        low, high = self.card.input.value_range
        points = np.empty((len(crops_rgb), self.card.output.points, 3), np.float32)
        logits = np.empty(len(crops_rgb), np.float32)
        with torch.inference_mode():
            for start in range(0, len(crops_rgb), self._batch_size):
                x = torch.from_numpy(np.ascontiguousarray(crops_rgb[start:start + self._batch_size]))
                if self._pin:
                    x = x.pin_memory()
                x = x.to(self.device, non_blocking=self._pin).permute(0, 3, 1, 2).float()
                p, z = self._model.net(x * ((high - low) / 255.0) + low)
                points[start:start + len(x)] = p.cpu().numpy()
                logits[start:start + len(x)] = z.cpu().numpy()
        if not (np.isfinite(points).all() and np.isfinite(logits).all()):
            raise MonitorError("face mesh output contains NaN or infinity (faulty device or "
                               "weights); restart the monitor, and if it persists use device 'cpu'")
        return points, logits
