"""Video files as sources: every frame and sound block in analysis mode, or paced like a camera.

Analysis mode (`FileSource`) delivers everything, stamped with the file's own times, so a replay
is deterministic at any speed. Real time (`PacedFileSource`) releases each item when the session
clock reaches its time: frames through a one-slot mailbox (a slow consumer gets the newest, like
from a camera), sound through a queue (never dropped).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from monitor.capture.base import SourceEnded, SourceStatus
from monitor.capture.mailbox import FrameAndSound
from monitor.capture.media import MediaReader
from monitor.config import CaptureSettings
from monitor.errors import MonitorError
from monitor.packets import AudioBlock, FramePacket


class FileSource:
    """Every frame (and, with `audio=True`, every sound block) of a file, in presentation order.

    `read` raises SourceEnded at the end, or SourceFailed when the file turned out truncated or
    damaged (after delivering what could be decoded). `has_audio` is False without a sound track
    or with `audio=False`.
    """

    live = False

    def __init__(self, path: Path, settings: CaptureSettings, audio: bool = False) -> None:
        self._reader = MediaReader(path, video=True, audio=audio, open_timeout_s=settings.open_timeout_s)
        self.has_audio = self._reader.has_audio
        self.audio_rate = self._reader.audio_rate
        self.fps = self._reader.fps  # the average rate; each frame carries its own time
        self.description = f"file {path.name}"
        self._peeked: list[FramePacket | AudioBlock] = []
        try:
            while not self._peeked or not isinstance(self._peeked[-1], FramePacket):
                self._peeked.append(next(self._reader))
        except (SourceEnded, MonitorError):
            self._reader.close()
            raise MonitorError(f"{path} opened but holds no decodable frame (corrupt or "
                               "truncated?)") from None
        first = self._peeked[-1]
        self.frame_size = (first.image.shape[1], first.image.shape[0])  # width, height

    @property
    def picture_ended_at(self) -> float | None:
        """Where the picture ends, once reading has found that the sound goes on after it."""
        return self._reader.picture_ended_at

    def read(self, timeout: float = 0.0) -> FramePacket | AudioBlock:
        """Never waits: a file always has its next item (`timeout` is for the interface)."""
        if self._peeked:
            return self._peeked.pop(0)
        return next(self._reader)

    def status(self) -> SourceStatus:
        return SourceStatus()

    def close(self) -> None:
        self._reader.close()


class PacedFileSource:
    """A file played against the session clock: an item with time t is released once
    `clock() >= t`, so the file's second 5 is the session's second 5, whenever reading started.
    Items already due (a consumer that started late) are released at once: frames then replace
    each other (counted in `status().dropped`), sound blocks all wait in order."""

    live = True

    def __init__(self, file: FileSource, clock: Callable[[], float]) -> None:
        self._file = file
        self._clock = clock
        self.has_audio = file.has_audio
        self.audio_rate = file.audio_rate
        self.description = f"{file.description} (real time)"
        self.frame_size = file.frame_size
        self._box = FrameAndSound()
        self._stop = threading.Event()
        self._end: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                item = self._file.read()
                wait = item.t - self._clock()
                if wait > 0 and self._stop.wait(wait):
                    break
                if isinstance(item, AudioBlock):
                    self._box.put_sound(item)
                else:
                    self._box.put_frame(item)
        except Exception as exc:  # SourceEnded, SourceFailed, or a fault: the reader raises it
            self._end = exc
        finally:
            self._box.close()

    @property
    def picture_ended_at(self) -> float | None:
        return self._file.picture_ended_at

    def read(self, timeout: float) -> FramePacket | AudioBlock | None:
        item = self._box.take(timeout)
        if item is None and self._end is not None:
            raise self._end
        return item

    def status(self) -> SourceStatus:
        return SourceStatus(dropped=self._box.dropped)

    def close(self) -> None:
        self._stop.set()
        self._box.close()
        self._thread.join(timeout=2.0)
        if not self._thread.is_alive():  # never close the container under a decoding thread
            self._file.close()

