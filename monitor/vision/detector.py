"""facenet-pytorch MTCNN behind a small interface that always returns arrays (never None)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
import torch
from facenet_pytorch import MTCNN

from monitor.config import VisionSettings
from monitor.vision.geometry import centre


@dataclass(frozen=True)
class Detection:
    box: np.ndarray  # x0, y0, x1, y1 in image pixels (may run past the edge)
    prob: float
    landmarks: np.ndarray  # 5x2: left eye, right eye, nose, mouth left, mouth right


def to_rgb(image: np.ndarray) -> np.ndarray:
    """BGR, BGRA or single-channel (infrared-like) frames as the RGB that MTCNN expects."""
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class FaceDetector:
    """All faces in an image, most probable first. Weights ship inside facenet-pytorch."""

    def __init__(self, settings: VisionSettings, device: torch.device | str = "cpu") -> None:
        self._mtcnn = MTCNN(
            min_face_size=settings.min_face_size,
            thresholds=list(settings.detect_thresholds),
            keep_all=True,
            device=device,
        )
        self._min_prob = settings.min_detection_prob
        self._min_face_size = settings.min_face_size
        self._device = torch.device(device)

    def detect(self, image_bgr: np.ndarray, min_face_size: float | None = None) -> list[Detection]:
        """`min_face_size` overrides the setting for one call: a larger one skips the costly fine
        levels of MTCNN's image pyramid when the expected face size is known."""
        rgb = to_rgb(image_bgr)
        self._mtcnn.min_face_size = min_face_size or self._min_face_size
        try:
            with torch.inference_mode():
                boxes, probs, landmarks = self._mtcnn.detect(rgb, landmarks=True)
        except ValueError as exc:
            # facenet-pytorch concatenates an empty list when no candidate fits the image (one
            # smaller than the smallest face, or every candidate box outside it): no face
            if "non-empty list of Tensors" not in str(exc):
                raise
            return []
        if boxes is None:  # facenet-pytorch's way of saying "no face"
            return []
        found = [
            Detection(box=np.asarray(box, np.float32), prob=float(prob),
                      landmarks=np.asarray(marks, np.float32))
            for box, prob, marks in zip(boxes, probs, landmarks)
            if prob is not None and prob >= self._min_prob
        ]
        return sorted(found, key=lambda d: d.prob, reverse=True)

    def refine(self, image_bgr: np.ndarray, box: Sequence[float]) -> Detection | None:
        """MTCNN's last stage alone (ONet) on the square around a known box, at a few sizes.

        This is how a tracked face is followed from frame to frame: ONet regresses the box and the
        landmarks from a 48x48 crop, about a tenth of the cost of a search over the image pyramid.
        None when no candidate reaches the detection probability.
        """
        rgb = to_rgb(image_bgr)
        candidates = [_square(box, grow) for grow in REFINE_SIZES]
        crops = np.stack([_crop48(rgb, c) for c in candidates])
        batch = torch.from_numpy(crops).permute(0, 3, 1, 2).float().to(self._device)
        with torch.inference_mode():
            reg, points, probs = self._mtcnn.onet((batch - 127.5) * 0.0078125)
        reg, points, probs = reg.cpu().numpy(), points.cpu().numpy(), probs[:, 1].cpu().numpy()
        best = int(np.argmax(probs))
        if probs[best] < self._min_prob:
            return None
        x0, y0, x1, y1 = candidates[best]
        w, h = x1 - x0 + 1, y1 - y0 + 1
        refined = np.array([x0, y0, x1, y1], np.float32) + reg[best] * np.array([w, h, w, h], np.float32)
        marks = np.stack([w * points[best, :5] + x0 - 1, h * points[best, 5:] + y0 - 1], axis=1)
        return Detection(box=refined, prob=float(probs[best]), landmarks=marks.astype(np.float32))


REFINE_SIZES = (1.0, 1.15)  # a face that grew or moved a little still fits the larger square


def _square(box: Sequence[float], grow: float) -> tuple[float, float, float, float]:
    cx, cy = centre(box)
    half = max(box[2] - box[0], box[3] - box[1]) * grow / 2
    return cx - half, cy - half, cx + half, cy + half


def _crop48(rgb: np.ndarray, box: Sequence[float]) -> np.ndarray:
    """ONet's 48x48 input; the part of the square outside the image is black."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    span_w, span_h = max(x1 - x0, 1), max(y1 - y0, 1)
    canvas = np.zeros((span_h, span_w, 3), np.uint8)
    sx0, sy0 = max(x0, 0), max(y0, 0)
    sx1, sy1 = min(x1, rgb.shape[1]), min(y1, rgb.shape[0])
    if sx1 > sx0 and sy1 > sy0:
        canvas[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    return cv2.resize(canvas, (48, 48), interpolation=cv2.INTER_AREA)
