"""Frame + face box -> model input, exactly as the card's preprocessing (as in training).

For the shipped model this reproduces the inputs of emotion_model_reference.npz bit for bit
when given the same MTCNN boxes; any drift here silently shifts every score.
"""

from __future__ import annotations

import cv2
import numpy as np

from monitor.scoring.card import InputSpec, ModelCard, Preprocessing

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in image pixels; may run past the edges

_INTERPOLATION = {
    "nearest": cv2.INTER_NEAREST,
    "linear": cv2.INTER_LINEAR,
    "cubic": cv2.INTER_CUBIC,
    "area": cv2.INTER_AREA,
}
_TO_GRAY = {3: cv2.COLOR_BGR2GRAY, 4: cv2.COLOR_BGRA2GRAY}


def face_input(image_bgr: np.ndarray, box: Box, card: ModelCard) -> np.ndarray:
    """The (height, width) float32 model input for one face. Accepts BGR, BGRA or gray uint8."""
    return spec_input(image_bgr, box, card.input)


def spec_input(image_bgr: np.ndarray, box: Box, spec: InputSpec) -> np.ndarray:
    """face_input for an input spec alone: training crops faces before its card exists."""
    crop = face_crop(to_gray(image_bgr), box, spec.preprocessing)
    resized = cv2.resize(crop, (spec.width, spec.height),
                         interpolation=_INTERPOLATION[spec.preprocessing.interpolation])
    pre = spec.preprocessing
    x = resized.astype(np.float32) / np.float32(pre.divide_by)
    return (x - np.float32(pre.subtract)) * np.float32(pre.multiply_by)


def to_gray(image: np.ndarray) -> np.ndarray:
    """HxW uint8 from HxW, HxWx1, BGR or BGRA uint8 frames."""
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] in _TO_GRAY:
        return cv2.cvtColor(image, _TO_GRAY[image.shape[2]])
    raise ValueError(f"expected a gray, BGR or BGRA image, got shape {image.shape}")


def face_crop(gray: np.ndarray, box: Box, pre: Preprocessing) -> np.ndarray:
    """The region the model looks at, in image pixels; outside the image it is fill_value."""
    height, width = gray.shape
    x0, y0, x1, y1 = (round(v) for v in box)
    if pre.clip_box_to_image:
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"face box {box} is empty inside a {width}x{height} image")
    w, h = x1 - x0, y1 - y0
    if pre.square_box:
        w = h = max(w, h)
    m = pre.margin_px
    left, top = round((x0 + x1 - w) / 2) - m, round((y0 + y1 - h) / 2) - m
    w, h = w + 2 * m, h + 2 * m
    crop = np.full((h, w), pre.fill_value, dtype=np.uint8)
    ix0, iy0 = max(left, 0), max(top, 0)
    ix1, iy1 = min(left + w, width), min(top + h, height)
    if ix1 > ix0 and iy1 > iy0:
        crop[iy0 - top:iy1 - top, ix0 - left:ix1 - left] = gray[iy0:iy1, ix0:ix1]
    return crop
