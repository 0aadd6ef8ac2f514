"""Whose face: the subject inside the cot region who continues the established track.

A bigger face that appears (a parent leaning in) does not take over: while a track is fresh, only
a detection that overlaps it or sits near it continues it. A track unseen for `track_lost_after_s`
is dropped. A face that returns near the subject's last place, at about its size, within
`reacquire_within_s` of its last sighting is the subject again (an infant briefly hidden). Faces
seen while the subject was missing are other people's: within that time they are not taken, the
subject is waited for. Otherwise (the time is over, or no other face was in view: a camera cut, the
subject moved away) the largest face is taken, and that choice is marked as a subject change, so
that the signal is not carried on across two people without a trace. The session's first face is
no change.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.config import VisionSettings
from monitor.vision.detector import Detection
from monitor.vision.geometry import Box, area, centre, iou, side

NEAR = 0.5  # a detection whose centre is within half a face of the track's centre continues it
RETURN_NEAR = 1.5  # a lost subject returns within this many face sides of its last centre
SIZE_CHANGE = 1.5  # ... at no more than this ratio of face sides (bigger or smaller)


@dataclass
class Track:
    box: Box
    last_seen: float


class SubjectTracker:
    def __init__(self, settings: VisionSettings) -> None:
        self._settings = settings
        self.track: Track | None = None  # the subject while it may be continued
        self.last: Track | None = None  # the subject's last sighting, kept after the track is lost
        self.change = ""  # why the latest choice is a different subject; "" when it is not
        self._others_seen = False  # faces seen while the subject was missing

    def rescale(self, sx: float, sy: float) -> None:
        """The picture changed size (a camera's mode change): the scene, and so the subject's
        place in it, did not; its boxes follow the new pixel grid."""
        def scaled(track: Track | None) -> Track | None:
            if track is None:
                return None
            x0, y0, x1, y1 = track.box
            return Track((x0 * sx, y0 * sy, x1 * sx, y1 * sy), track.last_seen)

        same = self.last is self.track
        self.track = scaled(self.track)
        self.last = self.track if same else scaled(self.last)

    def fresh(self, t: float) -> bool:
        """A track seen recently enough to be continued (and searched for around its box)."""
        return self.track is not None and t - self.track.last_seen <= self._settings.track_lost_after_s

    def awaiting_return(self, t: float) -> bool:
        """The subject is lost but may still come back as itself (within `reacquire_within_s`)."""
        return (self.last is not None and not self.fresh(t)
                and t - self.last.last_seen <= self._settings.reacquire_within_s)

    def holding_out(self, t: float) -> bool:
        """Other faces were seen while the subject is missing, and it may still return: none of
        them will be taken before `reacquire_within_s` has passed."""
        return self._others_seen and self.awaiting_return(t)

    def choose(self, t: float, detections: list[Detection]) -> Detection | None:
        """The subject's detection in this frame, or None when the subject is not seen."""
        self.change = ""
        if not self.fresh(t):
            self.track = None
        if self.track is not None:
            chosen = self._continuation(detections)
        else:
            chosen, self.change = self._acquire(t, detections)
        if chosen is not None:
            self.track = Track(box=tuple(float(v) for v in chosen.box), last_seen=t)
            self.last = self.track
        self._others_seen = chosen is None and (self._others_seen or bool(detections))
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

    def _acquire(self, t: float, detections: list[Detection]) -> tuple[Detection | None, str]:
        """A face for a new track, and why it is a different subject ('' when it is not)."""
        last = self.last
        if last is None:  # the session's first subject
            return max(detections, key=lambda d: area(d.box), default=None), ""
        unseen = t - last.last_seen
        if self.awaiting_return(t):
            returning = [d for d in detections if _returns(d, last.box)]
            if returning or self._others_seen:
                return min(returning, key=lambda d: _distance(d.box, last.box), default=None), ""
        chosen = max(detections, key=lambda d: area(d.box), default=None)
        return chosen, "" if chosen is None else _describe(chosen.box, last.box, unseen)


def _distance(a: Box, b: Box) -> float:
    (ax, ay), (bx, by) = centre(a), centre(b)
    return ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5


def _size_ratio(a: Box, b: Box) -> float:
    """How many times bigger the larger face is, by its shorter side (1.0: the same size)."""
    sa, sb = max(side(a), 1.0), max(side(b), 1.0)
    return max(sa, sb) / min(sa, sb)


def _returns(det: Detection, last: Box) -> bool:
    """Near the lost subject's last place and about its size: the subject come back."""
    return (_distance(det.box, last) <= RETURN_NEAR * side(last)
            and _size_ratio(det.box, last) <= SIZE_CHANGE)


def _describe(new: Box, last: Box, unseen: float) -> str:
    x, y = centre(new)
    text = (f"new face at ({x:.0f}, {y:.0f}), {_distance(new, last):.0f} px from the last subject, "
            f"{unseen:.1f} s after it was last seen")
    ratio = _size_ratio(new, last)
    if ratio > SIZE_CHANGE:
        text += f", {ratio:.1f}x {'larger' if side(new) > side(last) else 'smaller'}"
    return text
