"""Clips made in memory from the shared infant photos, filmed as the demo clip is filmed.

tools/make_demo_clip.py supplies the camera: its seeded drift, zoom, roll and jitter
(`camera_path`), its renderer (`render_photo`) and its brightness flicker; here they are
resampled to any frame rate, and a part of the photo can move on its own as a limb would.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import math
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
IMAGES = REPO.parent / "shared" / "data" / "images"
SCRIPT = REPO / "tools" / "make_demo_clip.py"


def demo_script():
    """tools/make_demo_clip.py as a module (it is a script, not part of the package)."""
    if "make_demo_clip" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_demo_clip", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["make_demo_clip"]


dc = demo_script()
HAPPY, SAD = dc.HAPPY, dc.SAD
WIDTH = dc.WIDTH

# Parts of the happy infant (prepared-photo pixels, which are the photo's own for this photo; the
# frame shows it at about 0.92 scale, some 35 cm across): the left shoulder and arm at the bottom
# left, about 6 % of the frame; a hand-sized patch of that sleeve, about 1 %; the chest, about 9 %.
HAPPY_ARM = (370, 430, 540, 560)
HAPPY_HAND = (420, 470, 480, 530)
HAPPY_CHEST = (480, 440, 820, 560)
ARM_FEATHER_PX = 8.0


@functools.cache
def prepared(name: str):
    info = dc.PHOTOS[name]
    x0, y0, x1, y1 = info["crop"]
    bx0, by0, bx1, by1 = info["face_box"]
    photo = dc.load_photo(name, IMAGES)[y0:y1, x0:x1]  # checks the photo's sha256
    return dc.prepare(photo, (bx0 - x0, by0 - y0, bx1 - x0, by1 - y0))


def swing(amplitude_px: float, hz: float) -> Callable[[float], float]:
    """A limb swinging back and forth: displacement in photo pixels at time t."""
    return lambda t: amplitude_px * math.sin(2.0 * math.pi * hz * t)


def twitch(at_s: float, duration_s: float, amplitude_px: float) -> Callable[[float], float]:
    """One brief jerk out and back, as in active sleep."""
    def offset(t: float) -> float:
        u = (t - at_s) / duration_s
        return amplitude_px * math.sin(math.pi * u) if 0.0 <= u <= 1.0 else 0.0
    return offset


def sweep(start_s: float, end_s: float, speed_px_s: float, reach_px: float) -> Callable[[float], float]:
    """A camera swept back and forth at a steady speed, `reach_px` either side, between two times."""
    def offset(t: float) -> float:
        if not start_s <= t <= end_s:
            return 0.0
        phase = (speed_px_s * (t - start_s) / reach_px + 1.0) % 4.0  # triangle wave, 0 at start
        return reach_px * (phase - 1.0 if phase < 2.0 else 3.0 - phase)
    return offset


def frames(name: str = HAPPY, *, fps: float = 15.0, seconds: float = 8.0, seed: int = 1,
           start_s: float = 0.0, limb: Callable[[float], float] | None = None,
           limb_box: tuple[int, int, int, int] = HAPPY_ARM, gain_step_at: float | None = None,
           gain_step: float = 1.5, pan: Callable[[float], float] | None = None,
           ) -> Iterator[tuple[float, np.ndarray]]:
    """(t, BGR frame) at `fps` for `seconds`: the demo's camera from `start_s` on its path.

    limb: displacement (photo pixels, along (1, 0.5)) of `limb_box` at time t, feathered into
    the rest of the photo. gain_step_at: the brightness jumps by `gain_step` from then on.
    pan: the camera's extra sideways offset (frame pixels) at time t."""
    photo = prepared(name)
    rng = np.random.default_rng(seed)
    path = dc.camera_path(rng)
    path_t = np.arange(dc.N_FRAMES) / dc.FPS
    noise = _NoisePool(np.random.default_rng([seed, 1]))
    mask = _feathered(photo.image.shape[:2], limb_box) if limb else None
    for i in range(round(seconds * fps)):
        t = i / fps
        pose = [float(np.interp(start_s + t, path_t, path[k])) for k in ("cx", "cy", "face_h", "roll")]
        if pan is not None:
            pose[0] += pan(t)
        scene = photo if mask is None else _move_limb(photo, mask, limb_box, limb(t))
        frame = dc.render_photo(scene, *pose)
        gain = float(np.interp(start_s + t, path_t, path["gain"]))
        if gain_step_at is not None and t >= gain_step_at:
            gain *= gain_step
        frame = cv2.convertScaleAbs(frame, alpha=gain)
        yield t, cv2.add(frame, noise.field(), dtype=cv2.CV_8U)


class _NoisePool:
    """Sensor noise as the demo clip makes it: random windows of a few larger Gaussian fields
    (a fresh field per frame costs more than everything else here together)."""

    FIELDS, MARGIN = dc.NOISE_POOL, 64

    def __init__(self, rng: np.random.Generator) -> None:
        shape = (self.FIELDS, dc.HEIGHT + self.MARGIN, dc.WIDTH + self.MARGIN, 3)
        self.rng = rng
        self.pool = np.rint(rng.standard_normal(shape, dtype=np.float32) * dc.NOISE_SIGMA).astype(np.int16)

    def field(self) -> np.ndarray:
        k, dy, dx = self.rng.integers(0, [self.FIELDS, self.MARGIN + 1, self.MARGIN + 1])
        return self.pool[k, dy:dy + dc.HEIGHT, dx:dx + dc.WIDTH]


def _feathered(shape: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.float32)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = 1.0
    return cv2.GaussianBlur(mask, (0, 0), ARM_FEATHER_PX)[:, :, None]


def _move_limb(photo, mask: np.ndarray, box: tuple[int, int, int, int], offset: float):
    """The photo with the part under `mask` shifted by `offset` px (x) and offset / 2 (y)."""
    shift = np.float32([[1, 0, offset], [0, 1, 0.5 * offset]])
    h, w = photo.image.shape[:2]
    margin = int(4 * ARM_FEATHER_PX + abs(offset)) + 2
    x0, y0 = max(0, box[0] - margin), max(0, box[1] - margin)
    x1, y1 = min(w, box[2] + margin), min(h, box[3] + margin)
    part = photo.image[y0:y1, x0:x1].astype(np.float32)
    moved = cv2.warpAffine(part, shift, (x1 - x0, y1 - y0), borderMode=cv2.BORDER_REPLICATE)
    weight = mask[y0:y1, x0:x1]
    image = photo.image.copy()
    image[y0:y1, x0:x1] = np.clip(part * (1 - weight) + moved * weight + 0.5, 0, 255).astype(np.uint8)
    return dataclasses.replace(photo, image=image)
