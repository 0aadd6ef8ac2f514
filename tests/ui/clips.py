"""Short clips cut from the embedded demo for the UI tests, with the demo's own sound where wanted.

Clips keep every 3rd frame (5 fps): the alarm engine weighs frames by their real time gaps, so
the demo's episode plays out the same with a third of the frames to score. The sound is the
demo's track over the same stretch, whole (the cry cue needs every window), so the episode is
carried by face + cry as in the demo itself.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from monitor.cli import DEMO_CLIP
from tests.audio_material import decode

CLIP_FPS = 5


def write_clip(path: Path, frames: list[np.ndarray], sound: tuple[np.ndarray, int] | None = None) -> Path:
    """An mp4 (H.264) of BGR frames at CLIP_FPS; with `sound` (mono float samples, rate) an AAC
    track beside it; without, no track at all (a source with no microphone)."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=CLIP_FPS)
        video.height, video.width = frames[0].shape[:2]
        video.pix_fmt = "yuv420p"
        video.time_base = Fraction(1, CLIP_FPS)
        audio = None
        if sound is not None:
            audio = out.add_stream("aac", rate=sound[1], layout="mono")
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode())
        if audio is not None:
            samples, rate = sound
            for k in range(0, samples.size, 1024):
                block = av.AudioFrame.from_ndarray(samples[k:k + 1024].reshape(1, -1), format="flt",
                                                   layout="mono")
                block.sample_rate, block.pts = rate, k
                out.mux(audio.encode(block))
            out.mux(audio.encode())
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


def demo_sound(start_s: float, end_s: float) -> tuple[np.ndarray, int]:
    """The demo's sound track between the two times: mono float samples and their rate."""
    samples, rate = decode(DEMO_CLIP)
    return np.ascontiguousarray(samples[int(start_s * rate):int(end_s * rate)]), rate
