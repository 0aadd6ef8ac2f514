"""Landmarks -> what the face is doing: mouth opening, eye opening, brow height, and whether the
fit and the mouth can be trusted. Plain numbers in inter-ocular distances (IOD, between the eye
centres), so they hold at any face size; monitor/signal/face_state.py smooths and names them.

Two checks keep a wrong reading from passing as a calm face:
- **fit**: the mesh's own face score, its eye centres against MTCNN's eye points (an independent
  model), its eye distance against MTCNN's (scale), and the two eyes' widths (a face turned far
  aside has one eye foreshortened and its lids cannot be read).
- **covered**: the mesh always draws lips, also over a pacifier, a tube or a hand. The image
  itself is asked: among the lip region's pixels (outline grown 15 %) that are not dark (an open
  mouth, the lip line), the share whose colour is neither the face's own skin (sampled above the
  mouth: cheeks, nose bridge, forehead) nor lip-like (redder than that skin), or is washed out
  (less than half the skin's colour: white or grey plastic, tape), or brighter than any of that
  skin. A grey picture (infrared, a black-and-white photo) has no colour to ask: `covered` is
  None there, and a closed mouth cannot be told from a covered one. A cover the colour of skin
  or lips is not seen.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
import torch

from monitor.config import FaceSettings
from monitor.packets import FaceActions
from monitor.scoring.face_mesh import FaceMesh
from monitor.scoring.preprocess import Box

# MediaPipe face mesh indices
RIGHT_EYE_CORNERS, LEFT_EYE_CORNERS = (33, 133), (263, 362)
RIGHT_LIDS, LEFT_LIDS = (159, 145), (386, 374)  # upper, lower lid at the pupil
RIGHT_INNER_BROW, LEFT_INNER_BROW = 107, 336
INNER_LIP_PAIRS = ((13, 14), (82, 87), (312, 317))  # upper, lower inner lip: middle, either side
OUTER_LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39,
              40, 185)
SKIN_ABOVE_MOUTH = (50, 280, 117, 346, 6, 197, 195, 151, 9, 108, 337)
OUTLINES = (  # drawn on request (face.draw_outlines): the eyes, the outer and the inner lips
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466),
    OUTER_LIPS,
    (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191),
)

LIP_REGION_GROWTH = 1.15  # the lip outline grown about its centre, so a cover's edge shows
SKIN_PATCH_IOD = 0.06  # radius of each skin sample
GREY_CHROMA = 5.0  # skin chroma (Lab a*, b* distance from neutral) below this: a grey picture
WASHED_OUT = 0.5  # chroma below this share of the skin's, not darker than skin: white or grey stuff
CHROMA_MARGIN = 8.0  # Lab units beyond the skin's own spread that count as another material
BRIGHTER_MARGIN = 10.0  # L above the skin's 95th percentile: white plastic, tape
LIP_REDDER = (-4.0, 60.0)  # lips: a* minus skin a* within this (lipstick reaches +40)
LIP_B_SPREAD = 18.0  # ... and b* within this of the skin's


def _iod(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    right = points[list(RIGHT_EYE_CORNERS)].mean(axis=0)
    left = points[list(LEFT_EYE_CORNERS)].mean(axis=0)
    return right, left, float(np.linalg.norm(left - right))


def measure(image_bgr: np.ndarray, points: np.ndarray, face_score: float,
            points5: np.ndarray | None, *, min_face_score: float, max_eye_offset: float,
            max_scale_change: float, max_eye_asymmetry: float) -> FaceActions:
    """The face's actions from its (468, 2+) image-pixel landmarks and the frame they fit."""
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    right, left, iod = _iod(xy)
    if iod < 1.0:
        return FaceActions(None, None, None, None, face_score, "mesh collapsed")
    mouth = np.mean([np.linalg.norm(xy[a] - xy[b]) for a, b in INNER_LIP_PAIRS]) / iod
    eyes = np.mean([np.linalg.norm(xy[a] - xy[b]) for a, b in (RIGHT_LIDS, LEFT_LIDS)]) / iod
    brow = np.mean([np.linalg.norm(xy[RIGHT_INNER_BROW] - right),
                    np.linalg.norm(xy[LEFT_INNER_BROW] - left)]) / iod
    problem = _fit_problem(xy, right, left, iod, face_score, points5, min_face_score,
                           max_eye_offset, max_scale_change, max_eye_asymmetry)
    covered = covered_share(image_bgr, xy, iod)
    outlines = tuple(tuple((float(x), float(y)) for x, y in xy[list(ring)]) for ring in OUTLINES)
    return FaceActions(float(mouth), float(eyes), float(brow), covered, float(face_score), problem,
                       outlines)


def _fit_problem(xy: np.ndarray, right: np.ndarray, left: np.ndarray, iod: float,
                 face_score: float, points5: np.ndarray | None, min_face_score: float,
                 max_eye_offset: float, max_scale_change: float, max_eye_asymmetry: float) -> str:
    if face_score < min_face_score:
        return f"mesh face score {face_score:.2f}"
    widths = [np.linalg.norm(xy[a] - xy[b]) for a, b in (RIGHT_EYE_CORNERS, LEFT_EYE_CORNERS)]
    if max(widths) > max_eye_asymmetry * max(min(widths), 1e-6):
        return "face turned aside (eye widths differ)"
    if points5 is None:
        return ""
    five = np.asarray(points5, dtype=np.float64)
    offset = max(np.linalg.norm(right - five[0]), np.linalg.norm(left - five[1])) / iod
    if offset > max_eye_offset:
        return f"mesh eyes {offset:.2f} eye distances from the tracked face's"
    scale = iod / max(float(np.linalg.norm(five[1] - five[0])), 1e-6)
    if not 1 / max_scale_change <= scale <= max_scale_change:
        return f"mesh scale {scale:.2f} of the tracked face's"
    return ""


def covered_share(image_bgr: np.ndarray, xy: np.ndarray, iod: float) -> float | None:
    """Share of the lip region's non-dark pixels that are not skin or lip; None in a grey picture."""
    if image_bgr.ndim != 3 or image_bgr.shape[2] < 3:
        return None
    height, width = image_bgr.shape[:2]
    lips = xy[list(OUTER_LIPS)]
    centre = lips.mean(axis=0)
    region = ((lips - centre) * LIP_REGION_GROWTH + centre).round().astype(np.int32)
    skin = [xy[i] for i in SKIN_ABOVE_MOUTH]
    # work on the face's bounding square only: converting a whole 4K frame costs more
    x0, y0 = np.floor(np.minimum(region.min(0), np.min(skin, 0)) - iod * 0.1).astype(int)
    x1, y1 = np.ceil(np.maximum(region.max(0), np.max(skin, 0)) + iod * 0.1).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    lab = cv2.cvtColor(np.ascontiguousarray(image_bgr[y0:y1, x0:x1, :3]),
                       cv2.COLOR_BGR2LAB).astype(np.float32)
    lab[..., 1:] -= 128.0
    offset = np.array([x0, y0])
    mouth_mask = np.zeros(lab.shape[:2], np.uint8)
    cv2.fillPoly(mouth_mask, [region - offset], 1)
    skin_mask = np.zeros(lab.shape[:2], np.uint8)
    radius = max(2, int(round(SKIN_PATCH_IOD * iod)))
    for point in skin:
        cv2.circle(skin_mask, tuple(int(v) for v in np.round(point - offset)), radius, 1, -1)
    skin_px, mouth_px = lab[skin_mask > 0], lab[mouth_mask > 0]
    if len(skin_px) < 10 or len(mouth_px) < 10:
        return None
    chroma = np.median(skin_px[:, 1:], axis=0)
    spread = float(np.median(np.linalg.norm(skin_px[:, 1:] - chroma, axis=1)))
    saturation = float(np.linalg.norm(chroma))
    if saturation < GREY_CHROMA:
        return None
    da, db = mouth_px[:, 1] - chroma[0], mouth_px[:, 2] - chroma[1]
    dark = mouth_px[:, 0] < np.percentile(skin_px[:, 0], 5)
    lip_like = (da > LIP_REDDER[0]) & (da < LIP_REDDER[1]) & (np.abs(db) < LIP_B_SPREAD)
    other = (np.hypot(da, db) > 3 * spread + CHROMA_MARGIN) & ~lip_like & ~dark
    washed = (np.hypot(mouth_px[:, 1], mouth_px[:, 2]) < WASHED_OUT * saturation) & ~dark
    brighter = mouth_px[:, 0] > np.percentile(skin_px[:, 0], 95) + BRIGHTER_MARGIN
    seen = ~dark
    return float((other | washed | brighter)[seen].mean()) if seen.sum() >= 10 else 0.0


class FaceActionReader:
    """The face mesh and the measurements together: (frame, box, five points) -> FaceActions."""

    def __init__(self, settings: FaceSettings, device: torch.device | str = "cpu",
                 batch_size: int = 32) -> None:
        self.settings = settings
        self.mesh = FaceMesh(settings.mesh_dir, device, batch_size)

    def read(self, items: Sequence[tuple[np.ndarray, Box, np.ndarray]]) -> list[FaceActions]:
        """One batched two-pass fit for all faces, then each face's actions."""
        s = self.settings
        return [measure(image, fit.points, fit.face_score, points5,
                        min_face_score=s.min_face_score, max_eye_offset=s.max_eye_offset,
                        max_scale_change=s.max_scale_change, max_eye_asymmetry=s.max_eye_asymmetry)
                for (image, _, points5), fit in zip(items, self.mesh.fit(items))]
