"""The movement cue on real photos filmed like the demo clip: the camera's drift, zoom, roll,
flicker and sensor noise read still; a limb moving for seconds reads moving or vigorous; a twitch,
a brightness jump or a camera pan is not movement."""

from __future__ import annotations

import tomllib
from pathlib import Path

import cv2
import numpy as np
import pytest
from photo_clips import (
    HAPPY,
    HAPPY_CHEST,
    HAPPY_HAND,
    SAD,
    WIDTH,
    frames,
    sweep,
    swing,
    twitch,
)

from monitor.config import MovementSettings, build
from monitor.errors import MonitorError
from monitor.signal.movement import MovementCue, MovementSmoother, MovementState
from monitor.vision.movement import MovementMeter, MovementReading, MovementUnknown

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "assets" / "demo"
SETTINGS = MovementSettings()


def run(clip, region=(0.0, 0.0, 1.0, 1.0), convert=None) -> list[tuple[MovementReading, MovementCue]]:
    meter, smoother = MovementMeter(region, SETTINGS), MovementSmoother(SETTINGS)
    out = []
    for t, frame in clip:
        reading = meter.measure(t, frame if convert is None else cv2.cvtColor(frame, convert))
        smoother.add(t, reading.m, reading.unknown or "")
        out.append((reading, smoother.at(t)))
    return out


def settled(results, after_s: float = SETTINGS.window_s):
    """Cues once a whole window has passed since the start."""
    return [cue for reading, cue in results if reading.t >= after_s]


def states(cues) -> set[MovementState]:
    return {cue.state for cue in cues}


# Motions in photo pixels (about 0.5 mm each in this close-up). Frequencies are not divisors of
# the frame rates, so that samples do not lock onto one phase of the swing.
RESTLESS = swing(10.0, 0.87)  # the arm, about 2 cm/s on average
FLAILING = swing(30.0, 2.0)  # the arm, about 13 cm/s on average
HAND = swing(20.0, 1.5)  # a hand-sized part, about 7 cm/s on average
BREATHING = swing(4.0, 0.83)  # the chest, 2 mm out and back 50 times a minute


@pytest.mark.parametrize("name, seed, start_s", [(HAPPY, 1, 0.0), (HAPPY, 2, 40.0), (SAD, 3, 20.0)])
def test_drift_zoom_flicker_and_noise_read_still(name, seed, start_s):
    results = run(frames(name, seed=seed, start_s=start_s))
    assert sum(r.m is None for r, _ in results) == 1  # only the first frame: nothing to compare with
    cues = settled(results)
    assert states(cues) == {MovementState.STILL}
    assert max(c.value for c in cues) < SETTINGS.moving_from / 10


def test_restless_limb_reads_moving():
    assert states(settled(run(frames(limb=RESTLESS)))) == {MovementState.MOVING}


def test_a_moving_hand_reads_moving():
    assert states(settled(run(frames(limb=HAND, limb_box=HAPPY_HAND)))) == {MovementState.MOVING}


def test_breathing_reads_still():
    assert states(settled(run(frames(limb=BREATHING, limb_box=HAPPY_CHEST)))) == {MovementState.STILL}


def test_larger_faster_limb_reads_vigorous():
    assert states(settled(run(frames(limb=FLAILING)))) == {MovementState.VIGOROUS}


def test_a_twitch_is_seen_but_is_not_restlessness():
    results = run(frames(limb=twitch(at_s=5.0, duration_s=0.4, amplitude_px=30.0), seconds=10.0))
    during = [r.m for r, _ in results if 5.0 <= r.t <= 5.6 and r.m is not None]
    assert max(during) >= SETTINGS.vigorous_from  # the meter sees the jerk...
    assert states(settled(results)) == {MovementState.STILL}  # ...M does not call it movement


def test_movement_outside_the_cot_region_is_ignored():
    # The arm is at the bottom left; a cot region over the right part of the frame excludes it.
    results = run(frames(limb=FLAILING), region=(0.5, 0.0, 1.0, 1.0))
    assert states(settled(results)) == {MovementState.STILL}


def test_brightness_jump_is_unknown_not_movement():
    results = run(frames(gain_step_at=4.0, seconds=7.0))
    across = [r for r, _ in results if r.gap_s is not None and r.t - r.gap_s < 4.0 <= r.t]
    assert across and all(r.unknown is MovementUnknown.PICTURE_CHANGING for r in across)
    assert max(r.m for r, _ in results if r.m is not None) < SETTINGS.moving_from
    assert states(settled(results)) == {MovementState.STILL}


def test_fast_camera_pan_is_unknown_not_movement():
    # Swept 0.5 picture widths per second, 120 px either side (the photo still fills the frame).
    results = run(frames(pan=sweep(3.0, 7.0, 0.5 * WIDTH, 120.0), seconds=8.0))
    panning = [r for r, _ in results if 3.0 < r.t <= 7.0]
    unknown = [r for r in panning if r.m is None]
    assert {r.unknown for r in unknown} >= {MovementUnknown.CAMERA_MOVING}
    assert len(unknown) >= 0.8 * len(panning)  # known only while the camera turns round
    assert max((r.m for r in panning if r.m is not None), default=0.0) < SETTINGS.moving_from
    cue = next(c for r, c in results if r.t >= 7.0)
    assert cue.state is MovementState.UNKNOWN and cue.reason == MovementUnknown.CAMERA_MOVING
    assert not states(c for _, c in results) & {MovementState.MOVING, MovementState.VIGOROUS}


def test_demo_clip_calm_segment_reads_still():
    meta = tomllib.loads((DEMO / "demo.toml").read_text(encoding="utf-8"))
    calm = next(seg for seg in meta["segments"] if seg["kind"] == "calm")
    cap = cv2.VideoCapture(str(DEMO / meta["clip"]["file"]))

    def decoded():
        while True:
            ok, frame = cap.read()
            t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if not ok or t >= calm["end_s"]:
                return
            yield t, frame

    try:
        results = run(decoded())
    finally:
        cap.release()
    assert results[-1][0].t >= calm["end_s"] - 0.1  # the whole segment was read
    assert states(settled(results, calm["start_s"] + SETTINGS.window_s)) == {MovementState.STILL}


def test_same_motion_at_10_to_30_fps_gives_the_same_m():
    def mean_m(fps: float) -> float:
        cues = settled(run(frames(limb=RESTLESS, fps=fps)))
        return float(np.mean([c.value for c in cues]))

    by_rate = [mean_m(fps) for fps in (10.0, 15.0, 24.0, 30.0)]
    assert max(by_rate) <= 1.15 * min(by_rate)


def test_grey_and_bgra_frames_work_like_bgr():
    grey = run(frames(limb=RESTLESS), convert=cv2.COLOR_BGR2GRAY)
    bgra = run(frames(limb=RESTLESS), convert=cv2.COLOR_BGR2BGRA)
    assert states(settled(grey)) == states(settled(bgra)) == {MovementState.MOVING}


def run_still_frame(shape) -> tuple[MovementReading, MovementCue]:
    """The same random picture for 6 s at 15 fps."""
    frame = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    meter, smoother = MovementMeter(settings=SETTINGS), MovementSmoother(SETTINGS)
    for i in range(90):
        reading = meter.measure(i / 15.0, frame)
        smoother.add(reading.t, reading.m, reading.unknown or "")
    return reading, smoother.at(reading.t)


@pytest.mark.parametrize("shape", [(5, 7, 3), (5, 7), (31, 40, 3), (120, 8, 3)])
def test_frames_too_small_to_see_into_are_no_picture(shape):
    reading, cue = run_still_frame(shape)
    assert reading.unknown is MovementUnknown.NO_PICTURE
    assert cue.state is MovementState.UNKNOWN and cue.reason == "no picture"


@pytest.mark.parametrize("shape", [(32, 32, 3), (33, 47), (48, 64, 3), (1080, 1920, 3)])
def test_small_and_large_frames_work(shape):
    reading, cue = run_still_frame(shape)
    assert reading.m == 0.0 and cue.state is MovementState.STILL


def test_missing_and_blank_frames_are_no_picture():
    meter = MovementMeter()
    assert meter.measure(0.0, None).unknown is MovementUnknown.NO_PICTURE
    black = np.zeros((480, 640, 3), np.uint8)
    assert meter.measure(0.1, black).unknown is MovementUnknown.NO_PICTURE


def test_clock_going_back_starts_again():
    clip = list(frames(seconds=1.0))
    meter = MovementMeter()
    for t, frame in clip:
        meter.measure(t, frame)
    assert meter.measure(0.0, clip[0][1]).unknown is MovementUnknown.STARTING


def test_reset_forgets_earlier_frames():
    meter = MovementMeter()
    (t0, first), (t1, second) = list(frames(seconds=0.2))[:2]
    meter.measure(t0, first)
    meter.reset()
    assert meter.measure(t1, second).unknown is MovementUnknown.STARTING


@pytest.mark.parametrize("frame", [np.zeros((480, 640, 3), np.float32), np.zeros(640, np.uint8)])
def test_wrong_pixel_type_is_a_clear_error(frame):
    with pytest.raises(MonitorError, match="8-bit images"):
        MovementMeter().measure(0.0, frame)


@pytest.mark.parametrize("region", [(0.5, 0.0, 0.5, 1.0), (0.0, 0.0, 1.2, 1.0), (0.2, 0.8, 0.9, 0.1)])
def test_bad_cot_region_is_a_clear_error(region):
    with pytest.raises(MonitorError, match="cot region"):
        MovementMeter(region)


# The smoother on its own: the rules of M on the session clock, from plain numbers.

def feed(smoother: MovementSmoother, fps: float, seconds: float, m_at) -> list[MovementCue]:
    cues = []
    for i in range(round(seconds * fps)):
        t = i / fps
        smoother.add(t, m_at(t), "camera moving")
        cues.append(smoother.at(t))
    return cues


def test_m_is_sustained_level_independent_of_frame_rate():
    level = 3 * SETTINGS.moving_from
    # Moving during 60 % of every 4 s window at 10 and at 30 fps: M is that level at both rates.
    m_at = lambda t: level if (t % 2.0) < 1.2 else 0.0
    for fps in (10.0, 30.0):
        cues = feed(MovementSmoother(SETTINGS), fps, 12.0, m_at)
        assert {c.value for c in cues if c.t >= 4.0} == {level}


def test_unknown_readings_are_neither_movement_nor_stillness():
    smoother = MovementSmoother(SETTINGS)
    cues = feed(smoother, 15.0, 10.0, lambda t: None if t >= 5.0 else 0.0)
    at_5 = [c for c in cues if 5.0 <= c.t < 7.0 - 1e-9]
    assert {c.state for c in at_5} == {MovementState.STILL}  # still known for half the window
    late = [c for c in cues if c.t >= 7.1]
    assert {(c.state, c.reason) for c in late} == {(MovementState.UNKNOWN, "camera moving")}
    assert all(c.value is None for c in late)


def test_frames_stopping_make_m_unknown():
    smoother = MovementSmoother(SETTINGS)
    feed(smoother, 15.0, 5.0, lambda t: 0.0)
    assert smoother.at(5.0).state is MovementState.STILL
    cue = smoother.at(5.0 + SETTINGS.window_s)
    assert cue.state is MovementState.UNKNOWN and cue.reason == "no picture"
    assert MovementSmoother(SETTINGS).at(0.0).reason == "starting"


def test_thresholds_must_be_ordered():
    with pytest.raises(MonitorError, match="moving_from must be below vigorous_from"):
        build([("test", {"movement": {"moving_from": 0.01, "vigorous_from": 0.005}})])
