"""FaceFinder: frame in, the tracked subject's face (or why there is none) out.

The fast path: while a subject is tracked, MTCNN looks only in a region around its last box,
scaled so the face is about `roi_face_px` wide, which skips most of the image pyramid. When the
subject is not there, the whole cot region is searched on every frame until the track expires;
then every `redetect_every_s` (frames between searches are reported `no_face` without running the
detector), first around the lost subject's last place while it may still return
(`reacquire_within_s`), so it is found within that cadence of its return. For live sources the region
search runs in the background (`background=True`), so no frame waits for it. Which face is the
subject, and when a new one is a different person (`subject_changed`), is the tracker's choice.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import cv2
import numpy as np
import torch

from monitor.config import VisionSettings
from monitor.packets import FaceObservation, FaceStatus, FramePacket
from monitor.vision import quality
from monitor.vision.detector import Detection, FaceDetector
from monitor.vision.geometry import Box, centre, clip_box, cot_region_too_small, region_pixels
from monitor.vision.tracker import SubjectTracker


FRAME_TOO_SMALL = "frame too small"  # the cot region of this frame cannot hold the smallest face


def smallest_face_px(settings: VisionSettings) -> int:
    """The smallest face that can be both found (MTCNN) and scored (the quality gate), pixels."""
    return max(settings.min_face_size, settings.min_face_px)


def to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code)


class FaceFinder:
    """Detects inside the cot region only, so faces outside it are never candidates.

    `fast=False` runs full-region detection on every frame (the reference the fast path is
    checked against).
    """

    def __init__(self, settings: VisionSettings, device: torch.device | str = "cpu",
                 detector: FaceDetector | None = None, fast: bool = True,
                 background: bool = False) -> None:
        self._settings = settings
        self._detector = detector or FaceDetector(settings, device)
        self._fast = fast
        self._background = BackgroundSearch(FaceDetector(settings, device)) if background else None
        self.tracker = SubjectTracker(settings)
        self._size: tuple[int, int] | None = None  # the last frame's width and height
        self._last_search: float | None = None
        self.full_searches = 0
        self.roi_searches = 0
        self.follows = 0

    def observe(self, packet: FramePacket) -> FaceObservation:
        image = packet.image
        height, width = image.shape[:2]
        if self._size is not None and self._size != (width, height):
            self.tracker.rescale(width / self._size[0], height / self._size[1])
        self._size = (width, height)
        smallest = smallest_face_px(self._settings)
        if cot_region_too_small(self._settings.cot_region, width, height, smallest):
            return FaceObservation(FaceStatus.NO_FACE, reason=FRAME_TOO_SMALL)
        region = region_pixels(self._settings.cot_region, width, height)
        subject, seen_any = None, False
        if self._fast and self.tracker.fresh(packet.t):
            followed = self._follow(image, self.tracker.track.box, region)
            detections = [followed] if followed else self._search_around(image, self.tracker.track.box, region)
            seen_any = bool(detections)
            subject = self.tracker.choose(packet.t, detections)
        if subject is None and self._search_due(packet.t):
            if self._fast and self.tracker.awaiting_return(packet.t):
                # a lost subject comes back where it was: look there first (cheap)
                nearby = self._search_around(image, self.tracker.last.box, region)
                seen_any = seen_any or bool(nearby)
                subject = self.tracker.choose(packet.t, nearby)
            if subject is None and not self.tracker.holding_out(packet.t):  # else: nobody to take
                detections = self._search_region(packet.t, image, region)
                seen_any = seen_any or bool(detections)
                subject = self.tracker.choose(packet.t, detections)
        if subject is None:
            reason = "subject not seen" if seen_any else "no face found"
            return FaceObservation(FaceStatus.NO_FACE, reason=reason, faces_seen=seen_any)
        box = clip_box(subject.box, width, height)
        measured = quality.measure(to_gray(image), box, subject.landmarks)
        reason = quality.verdict(measured, self._settings)
        status = FaceStatus.POOR_QUALITY if reason else FaceStatus.SCORED
        change = self.tracker.change
        return FaceObservation(status, box=box, prob=subject.prob, landmarks=subject.landmarks,
                               quality=measured, reason=reason, faces_seen=True,
                               subject_changed=bool(change), subject_detail=change)

    def _search_due(self, t: float) -> bool:
        """Always while a track exists but its face was not followed, or when a background search
        may have finished; at the cadence otherwise (a lost subject that returns to its place is
        looked for there first, so it is found within `redetect_every_s`)."""
        if not self._fast or self.tracker.track is not None or self._last_search is None:
            return True
        if self._background and self._background.busy:
            return True
        return t - self._last_search >= self._settings.redetect_every_s - 1e-6

    def _follow(self, image: np.ndarray, box: Box, region: tuple[int, int, int, int]) -> Detection | None:
        """ONet on the last box: the cheap per-frame step while the subject stays in view."""
        self.follows += 1
        found = self._detector.refine(image, box)
        if found is None:
            return None
        cx, cy = centre(found.box)
        inside = region[0] <= cx <= region[2] and region[1] <= cy <= region[3]
        return found if inside else None

    def _search_region(self, t: float, image: np.ndarray,
                       region: tuple[int, int, int, int]) -> list[Detection]:
        if self._background is None:
            self._last_search = t
            self.full_searches += 1
            return search_region(self._detector, image, region)
        found = self._background.collect()
        if found is None and not self._background.busy:
            self._last_search = t
            self.full_searches += 1
            self._background.start(image, region)
        # a finished search saw an earlier frame: ONet places each face on this one (or drops it)
        return [d for d in (self._detector.refine(image, f.box) for f in found or []) if d is not None]

    def close(self) -> None:
        if self._background:
            self._background.close()

    def _search_around(self, image: np.ndarray, box: Box,
                       region: tuple[int, int, int, int]) -> list[Detection]:
        """MTCNN on a square around the last box, always resampled to the same size: torch
        prepares kernels per input shape, so a crop whose size changed every frame would be slow."""
        size = round(self._settings.roi_face_px * (1 + 2 * self._settings.roi_margin))
        face = max(box[2] - box[0], box[3] - box[1], 1.0)
        half = face * (0.5 + self._settings.roi_margin)
        cx, cy = centre(box)
        x0, y0 = int(round(cx - half)), int(round(cy - half))
        span = int(round(2 * half))
        crop = np.zeros((span, span) + image.shape[2:], dtype=image.dtype)  # outside: black
        sx0, sy0 = max(x0, region[0]), max(y0, region[1])
        sx1, sy1 = min(x0 + span, region[2]), min(y0 + span, region[3])
        if sx1 - sx0 < 2 or sy1 - sy0 < 2:
            return []
        crop[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[sy0:sy1, sx0:sx1]
        scale = size / span
        crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        self.roi_searches += 1
        smallest = 0.5 * self._settings.roi_face_px  # the face may shrink to half between frames
        return [_mapped(d, x0, y0, scale) for d in self._detector.detect(crop, min_face_size=smallest)]


def search_region(detector: FaceDetector, image: np.ndarray,
                  region: tuple[int, int, int, int]) -> list[Detection]:
    x0, y0, x1, y1 = region
    return [_mapped(d, x0, y0, 1.0) for d in detector.detect(image[y0:y1, x0:x1])]


class BackgroundSearch:
    """Full-region searches on a worker thread with its own detector, so a live frame never waits
    the ~50-100 ms a search takes on a CPU: frames meanwhile are followed or reported `no_face`."""

    def __init__(self, detector: FaceDetector) -> None:
        self._detector = detector
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="face-search")
        self._pending: Future | None = None

    @property
    def busy(self) -> bool:
        return self._pending is not None

    def start(self, image: np.ndarray, region: tuple[int, int, int, int]) -> None:
        self._pending = self._executor.submit(search_region, self._detector, image, region)

    def collect(self) -> list[Detection] | None:
        """The detections of a finished search (once), else None."""
        if self._pending is None or not self._pending.done():
            return None
        pending, self._pending = self._pending, None
        return pending.result()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _mapped(det: Detection, dx: int, dy: int, scale: float) -> Detection:
    """A detection in a (scaled) crop, in full-image pixels."""
    offset = np.array([dx, dy], dtype=np.float32)
    return Detection(box=det.box / scale + np.tile(offset, 2), prob=det.prob,
                     landmarks=det.landmarks / scale + offset)
