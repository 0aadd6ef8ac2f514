"""Faces with the mouth covered, drawn on the shared photos (the shared data has no occluded face).

Sizes follow the things they stand for, in eye distances (IOD, between MTCNN's eye points; a
newborn's is about 3.5-4 cm): a pacifier's shield about 4.5 cm across (a disc 1.2 IOD wide, light
blue plastic with the ring of its handle), an endotracheal tube taped across the lips (a band
0.45 IOD high, off-white tape with the tube's brighter line along it), both centred between
MTCNN's mouth points (an independent detector, not the mesh under test).
"""

from __future__ import annotations

import cv2
import numpy as np

PACIFIER_BGR, HANDLE_BGR = (215, 185, 150), (190, 160, 125)
TAPE_BGR, TUBE_BGR = (205, 215, 220), (235, 240, 240)


def occlude(image: np.ndarray, points5: np.ndarray, kind: str) -> np.ndarray:
    """A copy of `image` with a pacifier ("disc") or a taped tube ("band") over the mouth."""
    out = image.copy()
    five = np.asarray(points5, dtype=np.float64)
    iod = float(np.linalg.norm(five[1] - five[0]))
    mouth = (five[3] + five[4]) / 2
    if kind == "disc":
        radius = int(round(0.6 * iod))
        centre = tuple(int(v) for v in mouth.round())
        cv2.circle(out, centre, radius, PACIFIER_BGR, -1, cv2.LINE_AA)
        cv2.circle(out, centre, int(radius * 0.4), HANDLE_BGR, max(2, radius // 8), cv2.LINE_AA)
    elif kind == "band":
        along = (five[4] - five[3]) / max(float(np.linalg.norm(five[4] - five[3])), 1e-6)
        a = tuple(int(v) for v in (mouth - along * iod).round())
        b = tuple(int(v) for v in (mouth + along * 1.2 * iod).round())
        height = int(round(0.45 * iod))
        cv2.line(out, a, b, TAPE_BGR, height, cv2.LINE_AA)
        cv2.line(out, a, b, TUBE_BGR, max(2, height // 3), cv2.LINE_AA)
    else:
        raise ValueError(f"unknown occluder {kind!r}")
    return out
