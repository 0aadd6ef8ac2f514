"""Movement in the cot region, per frame: m, the infant's own motion with the camera's removed.

A drifting, zooming or shaking camera moves the whole picture; a limb moves a part of it. Dense
optical flow (DIS) over the cot region, scaled down to a fixed analysis size, gives the motion of
every pixel; one camera motion (translation, zoom, roll: a similarity fitted with RANSAC on a grid
of flow vectors) explains the whole picture, and what it leaves over is the infant's. A residual
counts only where it is faster than the noise floor and where the picture really changed once the
camera's motion is undone, since flow over plain walls and sheets is guesswork.

Unit of m: the cot region's mean residual speed, counting only moving pixels, in cot-region widths
per second. A limb covering 5 % of the region and moving at 0.2 region widths per second gives
m = 0.01 in principle; flow at this resolution smooths a moving part into its surroundings, so m
reads about 0.6 of that for an arm-sized part and 0.25 for a hand-sized one (clips of the shared
photos with a known motion). Flow is measured against the frame about REF_GAP_S earlier and divided
by the real time between the two frames, so 10, 15 or 30 fps give the same m. When m cannot be
measured the reading is unknown with a reason, never 0.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np

from monitor.config import MovementSettings
from monitor.errors import MonitorError
from monitor.vision.geometry import region_pixels

FLOW_WIDTH = 160  # analysis width of the cot region: flow at 160x120 costs well under a millisecond
MAX_FLOW_HEIGHT = 160  # a tall region is scaled down to this height instead
MIN_REGION_PX = 32  # a cot region smaller than this in the frame shows no limb: no picture
REF_GAP_S = 0.1  # compare with the frame closest to this age: the same noise at any frame rate
MAX_GAP_S = 1.0  # an older reference shows another scene: start again
MIN_CONTRAST = 2.0  # grey std below this: lens covered or black picture, nothing to measure
NORM_STD = 40.0  # contrast after normalisation: gain and offset changes do not reach the flow
GRID_STEP = 6  # analysis pixels between the flow vectors the camera motion is fitted on
BORDER = 4  # analysis pixels at the edge left out: picture enters and leaves there as the camera drifts
RANSAC_PX = 0.5  # a flow vector within this of the camera motion agrees with it (analysis pixels)
# Flow is fitted only where the picture has texture in two directions: on a plain wall or sheet it
# is guesswork. Smallest eigenvalue of the gradient covariance (cv2.cornerMinEigenVal, 5 px block)
# of the normalised picture: the demo clip's sensor noise gives about 3e-6, skin and fabric 5e-5
# and more.
MIN_TEXTURE = 2e-5
MIN_FIT_POINTS = 12  # fewer textured grid points: nothing to measure on (a blank wall, a cover)
CHANGE_SIGMAS = 4.0  # a pixel changed when its difference exceeds this many noise sigmas...
MIN_CHANGE_GREY = 14.0  # ...and this many grey levels (a third of NORM_STD): sharp edges a
# fraction of a pixel off after the camera's motion is undone stay below it, moved texture does not
CHANGE_REACH = 7  # analysis pixels around a change where flow counts (flow fills a limb's inside)


class MovementUnknown(StrEnum):
    """Why m could not be measured on a frame."""

    STARTING = "starting"  # no earlier frame to compare with yet
    NO_PICTURE = "no picture"  # no frame, a blank one, or a cot region too small to see into
    CAMERA_MOVING = "camera moving"
    PICTURE_CHANGING = "picture changing as a whole"  # brightness jump, scene change, cut


@dataclass(frozen=True)
class MovementReading:
    """One frame's movement: m (None when unknown, then `unknown` says why) and what it rests on."""

    t: float
    m: float | None
    unknown: MovementUnknown | None = None
    moving_share: float | None = None  # share of the cot region counted as moving
    camera_speed: float | None = None  # fitted camera motion, region widths per second
    gap_s: float | None = None  # time to the frame compared with


@dataclass
class _Picture:
    t: float
    grey: np.ndarray  # normalised, uint8, analysis size
    mean: float  # mean grey before normalisation
    textured: np.ndarray  # bool per grid point


class MovementMeter:
    """m per frame for one source. Not thread-safe: one meter per source, frames in time order."""

    def __init__(self, cot_region: Sequence[float] = (0.0, 0.0, 1.0, 1.0),
                 settings: MovementSettings | None = None) -> None:
        x0, y0, x1, y1 = (float(v) for v in cot_region)
        if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
            raise MonitorError(f"movement: cot region {tuple(cot_region)} must be x0 < x1 and y0 < y1, "
                               "as fractions of the frame within 0..1")
        self.cot_region = (x0, y0, x1, y1)
        self.settings = settings or MovementSettings()
        self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self._flow.setFinestScale(1)  # flow on an 80 px grid: the fast preset's 40 px missed a hand
        self._history: deque[_Picture] = deque()
        self._shape: tuple[int, int] | None = None
        self._grid: np.ndarray | None = None
        self._grid_index: tuple[np.ndarray, np.ndarray] | None = None
        self._coords: tuple[np.ndarray, np.ndarray] | None = None

    def reset(self) -> None:
        """Forget earlier frames (a new source, a seek): the next frame only starts again."""
        self._history.clear()

    def measure(self, t: float, frame: np.ndarray | None) -> MovementReading:
        """m for the frame shown at `t` seconds (session clock), BGR, BGRA or grey, uint8."""
        picture = self._picture(t, frame)
        if isinstance(picture, MovementUnknown):
            return MovementReading(t, None, picture)
        ref = self._reference(picture)
        if ref is None:
            return MovementReading(t, None, MovementUnknown.STARTING)
        gap = picture.t - ref.t
        if abs(np.log(max(picture.mean, 1.0) / max(ref.mean, 1.0))) > self.settings.max_brightness_step:
            return MovementReading(t, None, MovementUnknown.PICTURE_CHANGING, gap_s=gap)
        return self._compare(ref, picture, gap)

    def _picture(self, t: float, frame: np.ndarray | None) -> _Picture | MovementUnknown:
        if frame is None or frame.size == 0:
            return MovementUnknown.NO_PICTURE
        if frame.dtype != np.uint8 or frame.ndim not in (2, 3):
            raise MonitorError(f"movement: frames must be 8-bit images (height x width [x channels]), "
                               f"got {frame.dtype} with shape {frame.shape}")
        height, width = frame.shape[:2]
        x0, y0, x1, y1 = region_pixels(self.cot_region, width, height)
        if x1 - x0 < MIN_REGION_PX or y1 - y0 < MIN_REGION_PX:
            return MovementUnknown.NO_PICTURE
        grey = _analysis_size(_grey(frame[y0:y1, x0:x1]))
        mean, std = cv2.meanStdDev(grey)
        mean, std = float(mean[0, 0]), float(std[0, 0])
        if std < MIN_CONTRAST:
            return MovementUnknown.NO_PICTURE
        alpha = NORM_STD / std
        norm = cv2.convertScaleAbs(grey, alpha=alpha, beta=128.0 - alpha * mean)
        if self._shape != norm.shape:
            self._new_shape(norm.shape)
        elif self._history and t < self._history[-1].t:
            self._history.clear()  # the clock went back (a new file, a seek): start again
        gx, gy = self._grid_index
        textured = cv2.cornerMinEigenVal(norm, 5, 3)[gy, gx] >= MIN_TEXTURE
        picture = _Picture(t, norm, mean, textured)
        self._history.append(picture)
        while self._history and t - self._history[0].t > MAX_GAP_S:
            self._history.popleft()
        return picture

    def _new_shape(self, shape: tuple[int, int]) -> None:
        self._history.clear()
        self._shape = shape
        h, w = shape
        ys, xs = np.mgrid[BORDER:max(BORDER + 1, h - BORDER):GRID_STEP,
                          BORDER:max(BORDER + 1, w - BORDER):GRID_STEP]
        self._grid = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
        self._grid_index = (xs.ravel(), ys.ravel())
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        self._coords = (xx, yy)

    def _reference(self, picture: _Picture) -> _Picture | None:
        """The earlier frame closest to REF_GAP_S before this one (the older one on a tie)."""
        best, best_err = None, np.inf
        for earlier in self._history:
            age = picture.t - earlier.t
            if age <= 0.0:
                continue
            err = round(abs(age - REF_GAP_S), 6)
            if err < best_err:
                best, best_err = earlier, err
        return best

    def _compare(self, ref: _Picture, cur: _Picture, gap: float) -> MovementReading:
        s = self.settings
        if np.count_nonzero(ref.textured) < MIN_FIT_POINTS:
            return MovementReading(cur.t, None, MovementUnknown.NO_PICTURE, gap_s=gap)
        flow = self._flow.calc(ref.grey, cur.grey, None)
        h, w = cur.grey.shape
        gx, gy = self._grid_index
        gx, gy = gx[ref.textured], gy[ref.textured]
        grid = self._grid[ref.textured]
        moved_to = grid + flow[gy, gx]
        camera, inliers = cv2.estimateAffinePartial2D(
            grid, moved_to, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX, maxIters=200,
            refineIters=0)
        if camera is None or inliers is None or float(inliers.mean()) < s.min_camera_fit:
            return MovementReading(cur.t, None, MovementUnknown.PICTURE_CHANGING, gap_s=gap)
        camera = _similarity(grid[inliers[:, 0] == 1], moved_to[inliers[:, 0] == 1])
        per_second = 1.0 / (gap * w)  # analysis pixels over the gap -> region widths per second
        corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], dtype=np.float64)
        moved = corners @ camera.T - corners[:, :2]
        camera_speed = float(np.hypot(moved[:, 0], moved[:, 1]).max() * per_second)
        if camera_speed > s.max_camera_speed:
            return MovementReading(cur.t, None, MovementUnknown.CAMERA_MOVING,
                                   camera_speed=camera_speed, gap_s=gap)
        xx, yy = self._coords
        a = camera.astype(np.float32)
        rx = flow[..., 0] - (a[0, 0] * xx + a[0, 1] * yy + a[0, 2] - xx)
        ry = flow[..., 1] - (a[1, 0] * xx + a[1, 1] * yy + a[1, 2] - yy)
        speed = cv2.magnitude(rx, ry) * np.float32(per_second)
        changed = self._changed(ref.grey, cur.grey, camera)
        inner = (slice(BORDER, max(BORDER + 1, h - BORDER)), slice(BORDER, max(BORDER + 1, w - BORDER)))
        speed, changed = speed[inner], changed[inner]
        moving = (speed >= s.noise_floor) & changed
        m = float(speed[moving].sum() / speed.size)
        return MovementReading(cur.t, m, None, moving_share=float(moving.mean()),
                               camera_speed=camera_speed, gap_s=gap)

    @staticmethod
    def _changed(ref: np.ndarray, cur: np.ndarray, camera: np.ndarray) -> np.ndarray:
        """Pixels near a real change of the picture once the camera's motion is undone."""
        h, w = cur.shape
        warped = cv2.warpAffine(ref, camera, (w, h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
        diff = cv2.absdiff(cur, warped)
        counts = np.cumsum(cv2.calcHist([diff], [0], None, [256], [0, 256]).ravel())
        median = float(np.searchsorted(counts, counts[-1] / 2.0))  # cheaper than np.median
        sigma = 1.4826 * median / np.sqrt(2.0)  # each frame's noise, robustly
        level = max(MIN_CHANGE_GREY, CHANGE_SIGMAS * sigma)
        mask = (diff > level).astype(np.uint8)
        return cv2.dilate(mask, np.ones((CHANGE_REACH, CHANGE_REACH), np.uint8)).astype(bool)


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares zoom, roll and shift on RANSAC's inliers: steadier than its two-point sample,
    and a tenth of the cost of OpenCV's iterative refinement."""
    x, y = src[:, 0].astype(np.float64), src[:, 1].astype(np.float64)
    one, zero = np.ones_like(x), np.zeros_like(x)
    a = np.concatenate([np.stack([x, -y, one, zero], axis=1), np.stack([y, x, zero, one], axis=1)])
    b = np.concatenate([dst[:, 0], dst[:, 1]]).astype(np.float64)
    (c, s, tx, ty), *_ = np.linalg.lstsq(a, b, rcond=None)
    return np.array([[c, -s, tx], [s, c, ty]])


def _analysis_size(grey: np.ndarray) -> np.ndarray:
    """Scale down to FLOW_WIDTH (or MAX_FLOW_HEIGHT): Gaussian halvings, then one short linear step.

    Cheaper than one INTER_AREA resize by a factor that is not a whole number (1 ms at 640x480),
    and the halvings filter sensor noise as well as the area filter does."""
    while min(FLOW_WIDTH / grey.shape[1], MAX_FLOW_HEIGHT / grey.shape[0]) <= 0.5:
        grey = cv2.pyrDown(grey)
    h, w = grey.shape
    scale = min(FLOW_WIDTH / w, MAX_FLOW_HEIGHT / h)
    if scale < 1.0:
        grey = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))),
                          interpolation=cv2.INTER_LINEAR)
    return grey


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    channels = image.shape[2]
    if channels == 1:
        return image[:, :, 0]
    if channels == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if channels == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise MonitorError(f"movement: frames must be grey, BGR or BGRA, got {channels} channels")
