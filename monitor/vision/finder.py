"""FaceFinder: frame in, the tracked subject's face (or why there is none) out."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from monitor.config import VisionSettings
from monitor.packets import FaceObservation, FaceStatus, FramePacket
from monitor.vision import quality
from monitor.vision.detector import Detection, FaceDetector
from monitor.vision.geometry import clip_box, region_pixels
from monitor.vision.tracker import SubjectTracker


def to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code)


class FaceFinder:
    """Detects inside the cot region only, so faces outside it are never candidates."""

    def __init__(self, settings: VisionSettings, device: torch.device | str = "cpu",
                 detector: FaceDetector | None = None) -> None:
        self._settings = settings
        self._detector = detector or FaceDetector(settings, device)
        self.tracker = SubjectTracker(settings)

    def observe(self, packet: FramePacket) -> FaceObservation:
        image = packet.image
        height, width = image.shape[:2]
        rx0, ry0, rx1, ry1 = region_pixels(self._settings.cot_region, width, height)
        detections = [_shift(d, rx0, ry0) for d in self._detector.detect(image[ry0:ry1, rx0:rx1])]
        subject = self.tracker.choose(packet.t, detections)
        if subject is None:
            reason = "subject not seen" if detections else "no face found"
            return FaceObservation(FaceStatus.NO_FACE, reason=reason)
        box = clip_box(subject.box, width, height)
        measured = quality.measure(to_gray(image), box, subject.landmarks)
        reason = quality.verdict(measured, self._settings)
        status = FaceStatus.POOR_QUALITY if reason else FaceStatus.SCORED
        return FaceObservation(status, box=box, prob=subject.prob, landmarks=subject.landmarks,
                               quality=measured, reason=reason)


def _shift(det: Detection, dx: int, dy: int) -> Detection:
    if dx == 0 and dy == 0:
        return det
    offset = np.array([dx, dy], dtype=np.float32)
    return Detection(box=det.box + np.tile(offset, 2), prob=det.prob, landmarks=det.landmarks + offset)
