"""facenet-pytorch MTCNN behind a small interface that always returns arrays (never None)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from facenet_pytorch import MTCNN

from monitor.config import VisionSettings


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

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        rgb = to_rgb(image_bgr)
        with torch.inference_mode():
            boxes, probs, landmarks = self._mtcnn.detect(rgb, landmarks=True)
        if boxes is None:  # facenet-pytorch's way of saying "no face"
            return []
        found = [
            Detection(box=box.astype(np.float32), prob=float(prob), landmarks=marks.astype(np.float32))
            for box, prob, marks in zip(boxes, probs, landmarks)
            if prob is not None and prob >= self._min_prob
        ]
        return sorted(found, key=lambda d: d.prob, reverse=True)
