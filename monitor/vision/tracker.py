"""Whose face: the subject inside the cot region who continues the established track.

A bigger face that appears (a parent leaning in) does not take over: while a track is fresh, only
a detection that overlaps it or sits near it continues it. A track unseen for `track_lost_after_s`
is dropped, and the next acquisition takes the largest face in the region.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.config import VisionSettings
from monitor.vision.detector import Detection
from monitor.vision.geometry import Box, area, centre, iou, side

NEAR = 0.5  # a detection whose centre is within half a face of the track's centre continues it


@dataclass
class Track:
    box: Box
    last_seen: float


class SubjectTracker:
    def __init__(self, settings: VisionSettings) -> None:
        self._settings = settings
        self.track: Track | None = None

    def fresh(self, t: float) -> bool:
        """A track seen recently enough to be continued (and searched for around its box)."""
        return self.track is not None and t - self.track.last_seen <= self._settings.track_lost_after_s

    def choose(self, t: float, detections: list[Detection]) -> Detection | None:
        """The subject's detection in this frame, or None when the subject is not seen."""
        if not self.fresh(t):
            self.track = None
        if self.track is None:
            chosen = max(detections, key=lambda d: area(d.box), default=None)
        else:
            chosen = self._continuation(detections)
        if chosen is not None:
            self.track = Track(box=tuple(float(v) for v in chosen.box), last_seen=t)
        return chosen

    def _continuation(self, detections: list[Detection]) -> Detection | None:
        assert self.track is not None
        best, best_score = None, 0.0
        tx, ty = centre(self.track.box)
        reach = NEAR * side(self.track.box)
        for det in detections:
            overlap = iou(det.box, self.track.box)
            cx, cy = centre(det.box)
            near = ((cx - tx) ** 2 + (cy - ty) ** 2) ** 0.5 <= reach
            if overlap >= self._settings.track_min_iou or near:
                score = overlap + (1.0 if near else 0.0)
                if score > best_score:
                    best, best_score = det, score
        return best
