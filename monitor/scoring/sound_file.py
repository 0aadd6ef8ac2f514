"""A sound file (or a video's sound track) as `painmon run` hears it, for scoring recordings offline
(`painmon cry`, tests): 16 kHz mono blocks stamped with their presentation times on the file's own
time line (read by monitor/capture/media.py, the reader `run` uses), streamed so an hour of sound
never sits in memory."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import av
import numpy as np

from monitor.capture.base import SourceEnded
from monitor.capture.media import MediaReader
from monitor.errors import MonitorError
from monitor.packets import AudioBlock

SAMPLE_RATE_HZ = 16_000  # the cry model's rate


class NoSoundTrack(MonitorError):
    """A readable media file without a sound track: a state to report ("no microphone"), never
    silence. `duration_s` is the container's own duration (0.0 where it does not say)."""

    def __init__(self, path: Path, duration_s: float) -> None:
        super().__init__(f"{path} holds no sound track")
        self.duration_s = duration_s


class SoundFile:
    """One file's first sound track. Raises NoSoundTrack for a file without sound and MonitorError
    for a missing, unreadable or corrupt one (FFmpeg's reason in the message), at opening or, for
    damage found later, while its blocks are read."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._declared_s = _probe(self.path)
        self._reader = MediaReader(self.path, video=False)

    def blocks(self) -> Iterator[AudioBlock]:
        """The sound in presentation order; a hole in the track comes as silence (as in `run`)."""
        delivered = False
        try:
            for block in self._reader:
                delivered = True
                yield block
        except SourceEnded:
            pass
        if not delivered:
            raise MonitorError(f"{self.path}: its sound track holds no decodable sound (corrupt "
                               "or empty)")

    @property
    def duration_s(self) -> float:
        """The file's length on its time line (the container's, else where the sound ended)."""
        return max(self._declared_s, self._reader.integrity.decoded_s)

    @property
    def notes(self) -> list[str]:
        """What the user must know about the sound read so far (channels that cancel)."""
        return self._reader.notes

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> SoundFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_sound(path: Path) -> tuple[np.ndarray, float]:
    """(samples from the track's first sound, duration_s) of a short recording, all at once."""
    with SoundFile(path) as sound:
        samples = np.concatenate([block.samples for block in sound.blocks()])
        return samples, sound.duration_s


def _probe(path: Path) -> float:
    """The container's duration (0.0: it does not say), once the file proved to hold sound."""
    if not path.exists():
        raise MonitorError(f"sound file not found: {path}")
    if not path.is_file():
        raise MonitorError(f"{path} is not a file")
    if path.stat().st_size == 0:
        raise MonitorError(f"{path} is empty")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            duration = container.duration / av.time_base if container.duration else 0.0
            if not container.streams.audio:
                raise NoSoundTrack(path, float(duration))
            return float(duration)
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise MonitorError(f"cannot decode {path}: not a sound or video file FFmpeg can read, or "
                           f"the file is corrupt or truncated ({exc})") from None
