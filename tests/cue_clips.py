"""Clips with sound for the multi-cue tests, built from the shared material with PyAV.

A picture (a still photo filmed with the demo's drifting, noisy camera, or any frame source) and
a sound track: a quiet room (seeded low noise) with real infant cries from ESC-10 laid in where a
test wants them, so what the clip should raise follows from how it was built.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from tests.audio_material import at_16k, decode

RATE = 16000
ROOM_DBFS = -60.0
CRY_DBFS = -20.0
# one infant, five consecutive recordings (ESC-10 / Freesound 152007, as the demo clip uses)
CRY_CLIPS = ("3-152007-A-20.flac", "3-152007-B-20.flac", "3-152007-C-20.flac",
             "3-152007-D-20.flac", "3-152007-E-20.flac")


def _rms_to(x: np.ndarray, dbfs: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) or 1.0
    return (x * (10 ** (dbfs / 20) / rms)).astype(np.float32)


def room(seconds: float, seed: int = 7) -> np.ndarray:
    return _rms_to(np.random.default_rng(seed).standard_normal(int(seconds * RATE)), ROOM_DBFS)


def cries(shared_data: Path, seconds: float) -> np.ndarray:
    """`seconds` of one infant crying, the clips joined end to end, at CRY_DBFS."""
    parts = []
    while sum(p.size for p in parts) < seconds * RATE:
        for name in CRY_CLIPS:
            samples, rate = decode(shared_data / "audio" / "esc10" / name)
            parts.append(at_16k(samples, rate))
    return _rms_to(np.concatenate(parts)[: int(seconds * RATE)], CRY_DBFS)


def sound_track(shared_data: Path, seconds: float, crying: tuple[float, float] | None) -> np.ndarray:
    track = room(seconds)
    if crying is not None:
        start, end = crying
        cry = cries(shared_data, end - start)
        track[int(start * RATE): int(start * RATE) + cry.size] += cry
    return np.clip(track, -1.0, 1.0)


def write_clip(path: Path, frames: Iterable[np.ndarray], fps: int, sound: np.ndarray | None) -> Path:
    """An mp4 with H.264 video (BGR frames in) and, if given, an AAC sound track (16 kHz mono)."""
    with av.open(str(path), "w") as out:
        video = None
        audio = out.add_stream("aac", rate=RATE, layout="mono") if sound is not None else None
        for i, image in enumerate(frames):
            if video is None:
                video = out.add_stream("libx264", rate=fps)
                video.height, video.width = image.shape[:2]
                video.pix_fmt = "yuv420p"
                video.time_base = Fraction(1, fps)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode())
        if audio is not None:
            block = 1024
            for k in range(0, sound.size, block):
                chunk = sound[k:k + block]
                frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="mono")
                frame.sample_rate = RATE
                frame.pts = k
                out.mux(audio.encode(frame))
            out.mux(audio.encode())
    return path
