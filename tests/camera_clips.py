"""Clips as a network cot camera records them, built with PyAV (FFmpeg's own encoders): a
plain picture and a sound track in G.711 (pcm_mulaw / pcm_alaw at 8 kHz, in QuickTime) or AAC
(16 or 48 kHz, mono or stereo, in MP4)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from scipy.signal import resample_poly

SOUND_RATE = 16000  # what the sound handed in is sampled at

def write_camera_file(path: Path, sound_16k: np.ndarray, codec: str, rate: int, channels: int,
                      size: tuple[int, int] = (64, 48)) -> None:
    """A camera's recording: a grey picture (width, height) at 5 fps as long as the sound, and
    the sound in `codec` at `rate` with `channels` (the second one at half level; s16 samples
    are interleaved, AAC's planar)."""
    samples = resample_poly(sound_16k, rate, SOUND_RATE).astype(np.float32)
    width, height = size
    seconds = sound_16k.size / SOUND_RATE
    layout = "mono" if channels == 1 else "stereo"
    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=5)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream(codec, rate=rate, layout=layout)
        fmt = "s16" if codec.startswith("pcm") else "fltp"
        frame_n = 1024
        for i in range(int(seconds * 5)):
            picture = av.VideoFrame.from_ndarray(np.full((height, width, 3), 120, np.uint8),
                                                 format="rgb24")
            picture.pts = i
            out.mux(video.encode(picture))
        for start in range(0, samples.size, frame_n):
            chunk = samples[start:start + frame_n]
            planes = np.repeat(chunk[None, :], channels, axis=0)
            if channels == 2:
                planes[1] *= 0.5  # stereo with unequal channels, both carrying the cry
            if fmt == "s16":
                data = (np.clip(planes, -1, 1) * 32767).astype(np.int16).T.reshape(1, -1)
            else:
                data = planes.astype(np.float32)
            frame = av.AudioFrame.from_ndarray(data, format=fmt, layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            out.mux(audio.encode(frame))
        out.mux(video.encode(None))
        out.mux(audio.encode(None))
