"""The quality gate: a face too small, blurred, dark, bright or turned away is not scored."""

from __future__ import annotations

import cv2
import numpy as np

from monitor.config import VisionSettings
from monitor.vision.geometry import Box, side

GATE_SIZE = 96  # faces are resized to this before measuring sharpness, so size does not bias it


def measure(gray: np.ndarray, box: Box, landmarks: np.ndarray | None) -> dict[str, float]:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    face = gray[y0:y1, x0:x1]
    if face.size == 0:
        return {"size": 0.0, "sharpness": 0.0, "brightness": 0.0, "yaw": 1.0}
    face = cv2.resize(face, (GATE_SIZE, GATE_SIZE), interpolation=cv2.INTER_AREA)
    return {
        "size": float(side(box)),
        "sharpness": float(cv2.Laplacian(face, cv2.CV_64F).var()),
        "brightness": float(face.mean()),
        "yaw": _yaw(landmarks),
    }


def _yaw(landmarks: np.ndarray | None) -> float:
    """How far the nose sits off the line between the eyes' midpoint, along the eye axis (any roll)."""
    if landmarks is None:
        return 0.0
    left, right, nose = landmarks[0], landmarks[1], landmarks[2]
    axis = right - left
    distance = float(np.linalg.norm(axis))
    if distance < 1e-6:
        return 1.0
    offset = float(np.dot(nose - (left + right) / 2.0, axis / distance))
    return abs(offset) / distance


def verdict(quality: dict[str, float], settings: VisionSettings) -> str:
    """Empty when the face may be scored, else the reason in a few words."""
    if quality["size"] < settings.min_face_px:
        return "face too small"
    if quality["brightness"] < settings.min_brightness:
        return "too dark"
    if quality["brightness"] > settings.max_brightness:
        return "too bright"
    if quality["sharpness"] < settings.min_sharpness:
        return "blurred"
    if quality["yaw"] > settings.max_nose_offset:
        return "face turned away"
    return ""
