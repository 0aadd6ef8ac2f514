"""A whole sound file (or a video's sound track) decoded to what the cry model takes: mono float32
at 16 kHz. For scoring recordings offline (`painmon cry`, tests); live sources go through
monitor/capture, which keeps sound on the session clock block by block."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from monitor.errors import MonitorError

SAMPLE_RATE_HZ = 16_000  # the cry model's rate


class NoSoundTrack(MonitorError):
    """A readable media file without a sound track: a state to report ("no microphone"), never
    silence. `duration_s` is the container's own duration (0.0 where it does not say)."""

    def __init__(self, path: Path, duration_s: float) -> None:
        super().__init__(f"{path} holds no sound track")
        self.duration_s = duration_s


def read_sound(path: Path) -> tuple[np.ndarray, float]:
    """(samples, duration_s): the first sound track mixed to mono, float32 in -1..1 at 16 kHz, and
    its decoded length in seconds. Raises NoSoundTrack for a file without sound and MonitorError
    for a missing, unreadable or corrupt file (FFmpeg's reason in the message)."""
    path = Path(path)
    if not path.exists():
        raise MonitorError(f"sound file not found: {path}")
    if not path.is_file():
        raise MonitorError(f"{path} is not a file")
    if path.stat().st_size == 0:
        raise MonitorError(f"{path} is empty")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                duration = container.duration / av.time_base if container.duration else 0.0
                raise NoSoundTrack(path, float(duration))
            samples = _decode(container, container.streams.audio[0])
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise MonitorError(f"cannot decode {path}: not a sound or video file FFmpeg can read, or "
                           f"the file is corrupt or truncated ({exc})") from None
    if samples.size == 0:
        raise MonitorError(f"{path}: its sound track holds no decodable sound (corrupt or empty)")
    if not np.isfinite(samples).all():
        raise MonitorError(f"{path}: its sound track decodes to NaN or infinite samples (corrupt)")
    return samples, samples.size / SAMPLE_RATE_HZ


def _decode(container: av.container.InputContainer, stream: av.audio.stream.AudioStream
            ) -> np.ndarray:
    """Every frame of `stream` through one resampler (FFmpeg's swresample), flushed at the end."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE_HZ)
    chunks = [out.to_ndarray().reshape(-1) for frame in container.decode(stream)
              for out in resampler.resample(frame)]
    chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32, copy=False)
