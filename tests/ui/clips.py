"""Short clips cut from the embedded demo for the UI tests.

Clips keep every 3rd frame (5 fps): the alarm engine weighs frames by their real time gaps, so
the demo's episode plays out the same with a third of the frames to score.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from monitor.cli import DEMO_CLIP

CLIP_FPS = 5.0


def write_clip(path: Path, frames: list[np.ndarray]) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), CLIP_FPS, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def demo_frames(start_s: float, end_s: float) -> list[np.ndarray]:
    """Every 3rd frame of the demo clip between the two times."""
    cap = cv2.VideoCapture(str(DEMO_CLIP))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames, index = [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if start_s * fps <= index < end_s * fps and index % 3 == 0:
            frames.append(frame)
        index += 1
    cap.release()
    return frames
