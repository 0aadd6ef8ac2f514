"""Real sound for the audio tests: the shared ESC-10 clips decoded with PyAV (FFmpeg)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import av
import numpy as np
from scipy.signal import resample_poly


def decode(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples in -1..1 and the file's sample rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        to_mono = av.AudioResampler(format="flt", layout="mono", rate=stream.rate)
        chunks = [out.to_ndarray().reshape(-1) for frame in container.decode(stream)
                  for out in to_mono.resample(frame)]
        chunks += [out.to_ndarray().reshape(-1) for out in to_mono.resample(None)]
        return np.concatenate(chunks).astype(np.float32), stream.rate


def at_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    g = math.gcd(rate, 16000)
    return resample_poly(samples, 16000 // g, rate // g).astype(np.float32)


def esc10_clips(shared_data: Path, infant_cry: bool) -> list[Path]:
    folder = shared_data / "audio" / "esc10"
    with open(folder / "clips.csv", newline="") as fh:
        return [folder / row["filename"] for row in csv.DictReader(fh)
                if (row["is_infant_cry"] == "1") == infant_cry]
