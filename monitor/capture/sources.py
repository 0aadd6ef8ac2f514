"""Sources: a video file, a camera index or a network stream, behind one small interface (base.py).

Files are read with PyAV (files.py, media.py): frames and sound, each with its own presentation
time. Cameras and network streams are read with OpenCV in their own thread into a one-slot
mailbox that keeps only the newest frame; they have no sound of their own yet (`has_audio`
False). A camera plugged into this PC hears with this PC's microphone (`at_this_computer`); a
network stream does not: that microphone is at the nurses' station, not at the remote cot.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from monitor.capture.base import Source, SourceEnded, SourceFailed, SourceStatus
from monitor.capture.files import FileSource, PacedFileSource
from monitor.capture.mailbox import LatestSlot
from monitor.config import CaptureSettings
from monitor.errors import MonitorError
from monitor.packets import FramePacket

__all__ = ["FileSource", "LiveSource", "PacedFileSource", "Source", "SourceEnded", "SourceFailed",
           "SourceStatus", "open_source"]

STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")


class FrozenDetector:
    """OpenCV can keep returning the last image with success after an unplug: spot identical frames."""

    def __init__(self) -> None:
        self._signature: bytes | None = None
        self.same_since: float | None = None

    def update(self, image: np.ndarray, now: float) -> None:
        signature = np.ascontiguousarray(image[::8, ::8]).tobytes()
        if signature == self._signature:
            if self.same_since is None:
                self.same_since = now
        else:
            self.same_since = None
        self._signature = signature

    def frozen_for(self, now: float) -> float:
        return 0.0 if self.same_since is None else now - self.same_since


def _open_capture(target: str | int, settings: CaptureSettings) -> cv2.VideoCapture:
    timeout_ms = int(settings.open_timeout_s * 1000)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
    if isinstance(target, int):
        return cv2.VideoCapture(target, cv2.CAP_ANY, params)
    return cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)


class LiveSource:
    """A reader thread that keeps only the newest frame and reconnects with back-off.

    `opener` returns an opened capture-like object (`read()`, `release()`, `isOpened()`), so tests
    can stand in a fake camera shaped like cv2.VideoCapture. `clock` is the session clock; frames
    are stamped with it when they arrive. `at_this_computer`: a camera plugged into this PC, so
    this PC's microphone is at the same cot (never so for a network stream: a remote cot's).
    """

    live = True
    has_audio = False
    picture_ended_at = None  # a camera's picture does not end: it is lost

    def __init__(
        self,
        description: str,
        opener: Callable[[], cv2.VideoCapture],
        settings: CaptureSettings,
        clock: Callable[[], float],
        frozen_after_s: float,
        at_this_computer: bool = False,
    ) -> None:
        self.description = description
        self.at_this_computer = at_this_computer
        self._opener = opener
        self._settings = settings
        self._clock = clock
        self._frozen_after_s = frozen_after_s
        self._slot: LatestSlot[FramePacket] = LatestSlot()
        self._stop = threading.Event()
        self._status = SourceStatus()  # replaced whole by the thread, never changed in place
        self._frozen = FrozenDetector()
        cap = opener()
        if not cap.isOpened():
            cap.release()
            raise MonitorError(f"cannot open {description}: check that it is connected and not in use, "
                               "or choose another source with --source")
        self._thread = threading.Thread(target=self._run, args=(cap,), name="capture", daemon=True)
        self._thread.start()

    def _run(self, cap: cv2.VideoCapture) -> None:
        index = 0
        delay = self._settings.reconnect_min_s
        while not self._stop.is_set():
            ok, image = cap.read()
            now = self._clock()
            if not ok or image is None:
                self._publish(connected=False, frozen=False, detail="no frames; reconnecting")
                cap.release()
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, self._settings.reconnect_max_s)
                cap = self._opener()
                self._publish(reconnects=self._status.reconnects + 1)
                continue
            delay = self._settings.reconnect_min_s
            self._frozen.update(image, now)
            frozen = self._frozen.frozen_for(now) >= self._frozen_after_s
            self._publish(connected=True, frozen=frozen, detail="frozen image" if frozen else "")
            self._slot.put(FramePacket(t=now, index=index, image=image))
            index += 1
        cap.release()

    def _publish(self, **changes) -> None:
        """One assignment: a reader sees the status before or after a change, never half of it."""
        self._status = dataclasses.replace(self._status, **changes)

    def read(self, timeout: float) -> FramePacket | None:
        return self._slot.take(timeout)

    def status(self) -> SourceStatus:
        """A copy: the caller may keep or change it without touching what the thread writes."""
        return dataclasses.replace(self._status, dropped=self._slot.dropped)

    def close(self) -> None:
        self._stop.set()
        self._slot.close()
        self._thread.join(timeout=2.0)


def open_source(
    spec: str,
    settings: CaptureSettings,
    clock: Callable[[], float],
    frozen_after_s: float,
    realtime: bool = False,
    audio: bool = False,
) -> Source:
    """`camera:N`, an rtsp/http(s) URL, or a video file path.

    A file is read with its sound track when `audio` is True (AudioBlocks then come from `read`
    too, and `has_audio` says whether the file has one); with `realtime` it is paced against
    `clock`, the session clock: its item at file time t is released when clock() >= t.
    """
    if spec.startswith("camera:"):
        try:
            index = int(spec.split(":", 1)[1])
        except ValueError:
            raise MonitorError(f"bad camera source {spec!r}: use camera:N, e.g. camera:0") from None
        return LiveSource(f"camera {index}", lambda: _open_capture(index, settings), settings,
                          clock, frozen_after_s, at_this_computer=True)
    if "://" in spec:
        if not spec.lower().startswith(STREAM_SCHEMES):
            raise MonitorError(f"unsupported stream {spec!r}: use rtsp://, http:// or https://")
        return LiveSource(f"stream {spec.split('@')[-1]}", lambda: _open_capture(spec, settings),
                          settings, clock, frozen_after_s)
    file = FileSource(Path(spec).expanduser(), settings, audio=audio)
    return PacedFileSource(file, clock) if realtime else file
