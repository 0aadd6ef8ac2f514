"""Frame sources: a video file, a camera index or a network stream, behind one small interface.

Files in analysis mode yield every frame, stamped with the file's own time, so a replay is
deterministic at any speed. Live sources (cameras, streams, and files with `realtime=True`) read
in their own thread into a one-slot mailbox that keeps only the newest frame.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import cv2
import numpy as np

from monitor.capture.mailbox import LatestSlot
from monitor.config import CaptureSettings
from monitor.errors import MonitorError
from monitor.packets import FramePacket

STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv")


class SourceEnded(Exception):
    """A finite source (a file) has no more frames."""


@dataclass
class SourceStatus:
    """What the watchdog and the status line need from capture."""

    connected: bool = True
    frozen: bool = False
    reconnects: int = 0
    dropped: int = 0
    detail: str = ""


class Source(Protocol):
    live: bool
    description: str

    def read(self, timeout: float) -> FramePacket | None:
        """The next frame, or None when none came within `timeout` (time still passes)."""

    def status(self) -> SourceStatus: ...

    def close(self) -> None: ...


def _open_capture(target: str | int, settings: CaptureSettings) -> cv2.VideoCapture:
    timeout_ms = int(settings.open_timeout_s * 1000)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
    if isinstance(target, int):
        return cv2.VideoCapture(target, cv2.CAP_ANY, params)
    return cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)


class FileSource:
    """Every frame of a video file in order, with the file's timestamps as the session clock."""

    live = False

    def __init__(self, path: Path, settings: CaptureSettings) -> None:
        if not path.exists():
            raise MonitorError(f"video file not found: {path}")
        if path.is_dir() or path.stat().st_size == 0:
            raise MonitorError(f"{path} is empty or not a video file")
        self._cap = _open_capture(str(path), settings)
        if not self._cap.isOpened():
            raise MonitorError(f"cannot decode {path}: not a video OpenCV can read, or the file is "
                               "corrupt or truncated")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 0 < fps < 1000 else 25.0
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise MonitorError(f"{path} opened but holds no decodable frame (corrupt or truncated?)")
        self._pending: np.ndarray | None = first
        self._index = 0
        self._last_t = -1.0
        self.description = f"file {path.name}"
        self.frame_count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))

    def _timestamp(self) -> float:
        """The decoder's time of the frame just read; falls back to index/fps when it is unusable."""
        t = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        if not np.isfinite(t) or t <= self._last_t:
            t = max(self._index / self.fps, self._last_t + 1e-3)
        return t

    def read(self, timeout: float = 0.0) -> FramePacket:
        if self._pending is not None:
            image, self._pending = self._pending, None
        else:
            ok, image = self._cap.read()
            if not ok or image is None:
                raise SourceEnded
        t = self._timestamp()
        packet = FramePacket(t=t, index=self._index, image=image)
        self._index += 1
        self._last_t = t
        return packet

    def status(self) -> SourceStatus:
        return SourceStatus()

    def close(self) -> None:
        self._cap.release()


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


class LiveSource:
    """A reader thread that keeps only the newest frame and reconnects with back-off.

    `opener` returns an opened capture-like object (`read()`, `release()`, `isOpened()`), so tests
    can stand in a fake camera shaped like cv2.VideoCapture. `clock` is the session clock.
    """

    live = True

    def __init__(
        self,
        description: str,
        opener: Callable[[], cv2.VideoCapture],
        settings: CaptureSettings,
        clock: Callable[[], float],
        frozen_after_s: float,
        pace_fps: float | None = None,
    ) -> None:
        self.description = description
        self._opener = opener
        self._settings = settings
        self._clock = clock
        self._frozen_after_s = frozen_after_s
        self._pace = 1.0 / pace_fps if pace_fps else None
        self._slot: LatestSlot[FramePacket] = LatestSlot()
        self._stop = threading.Event()
        self._status = SourceStatus()
        self._frozen = FrozenDetector()
        self._ended = False
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
        started = time.monotonic()
        while not self._stop.is_set():
            ok, image = cap.read()
            now = self._clock()
            if not ok or image is None:
                if self._pace is not None:  # a paced file has ended: that is an end, not a fault
                    self._ended = True
                    self._slot.close()
                    break
                self._status.connected = False
                self._status.detail = "no frames; reconnecting"
                cap.release()
                if self._stop.wait(delay):
                    break
                delay = min(delay * 2, self._settings.reconnect_max_s)
                cap = self._opener()
                self._status.reconnects += 1
                continue
            delay = self._settings.reconnect_min_s
            self._status.connected = True
            self._frozen.update(image, now)
            self._status.frozen = self._frozen.frozen_for(now) >= self._frozen_after_s
            self._status.detail = "frozen image" if self._status.frozen else ""
            if self._pace is not None:
                wait = started + index * self._pace - time.monotonic()
                if wait > 0 and self._stop.wait(wait):
                    break
                now = self._clock()
            self._slot.put(FramePacket(t=now, index=index, image=image))
            index += 1
        cap.release()

    def read(self, timeout: float) -> FramePacket | None:
        packet = self._slot.take(timeout)
        if packet is None and self._ended:
            raise SourceEnded
        return packet

    def status(self) -> SourceStatus:
        self._status.dropped = self._slot.dropped
        return self._status

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
) -> Source:
    """`camera:N`, an rtsp/http(s) URL, or a video file path (paced like a camera with realtime)."""
    if spec.startswith("camera:"):
        try:
            index = int(spec.split(":", 1)[1])
        except ValueError:
            raise MonitorError(f"bad camera source {spec!r}: use camera:N, e.g. camera:0") from None
        return LiveSource(f"camera {index}", lambda: _open_capture(index, settings), settings,
                          clock, frozen_after_s)
    if "://" in spec:
        if not spec.lower().startswith(STREAM_SCHEMES):
            raise MonitorError(f"unsupported stream {spec!r}: use rtsp://, http:// or https://")
        return LiveSource(f"stream {spec.split('@')[-1]}", lambda: _open_capture(spec, settings),
                          settings, clock, frozen_after_s)
    path = Path(spec).expanduser()
    if realtime:
        probe = FileSource(path, settings)  # validates the file with a clear message first
        fps = probe.fps
        probe.close()
        return LiveSource(f"file {path.name} (real time)", lambda: _open_capture(str(path), settings),
                          settings, clock, frozen_after_s, pace_fps=fps)
    return FileSource(path, settings)
