"""Box arithmetic shared by tracking and the quality gate."""

from __future__ import annotations

from typing import Sequence

Box = tuple[float, float, float, float]


def clip_box(box: Sequence[float], width: int, height: int) -> Box:
    x0, y0, x1, y1 = (float(v) for v in box)
    return (min(max(x0, 0.0), width), min(max(y0, 0.0), height),
            min(max(x1, 0.0), width), min(max(y1, 0.0), height))


def area(box: Sequence[float]) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    inter = area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def centre(box: Sequence[float]) -> tuple[float, float]:
    return (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0


def side(box: Sequence[float]) -> float:
    """The shorter side: what decides whether a face has enough pixels."""
    return min(box[2] - box[0], box[3] - box[1])


def region_pixels(region: Sequence[float], width: int, height: int) -> tuple[int, int, int, int]:
    """A cot region given as fractions of the frame, in whole pixels."""
    x0, y0, x1, y1 = region
    return int(round(x0 * width)), int(round(y0 * height)), int(round(x1 * width)), int(round(y1 * height))


def cot_region_too_small(region: Sequence[float], frame_w: int, frame_h: int,
                         min_face_px: int) -> str | None:
    """Why no face can be found in this cot region of this frame size, or None when one can.

    `min_face_px`: the smallest face that can be found and scored (finder.smallest_face_px). For
    the start of a session (a clear error) and for the finder (such frames are `no_face`)."""
    x0, y0, x1, y1 = region_pixels(region, frame_w, frame_h)
    width, height = x1 - x0, y1 - y0
    if min(width, height) >= min_face_px:
        return None
    return (f"the cot region is {width}x{height} px of a {frame_w}x{frame_h} frame, too small to "
            f"hold a face of {min_face_px} px (vision.min_face_size, min_face_px): choose a larger "
            "vision.cot_region or a camera mode with more pixels")
