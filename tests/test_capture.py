"""Sources on real video: every frame with its file time; live reading keeps the newest frame."""

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from monitor.capture.mailbox import LatestSlot
from monitor.capture.sources import FileSource, LiveSource, SourceEnded, open_source
from monitor.config import CaptureSettings
from monitor.errors import MonitorError

SETTINGS = CaptureSettings(reconnect_min_s=0.1, reconnect_max_s=1.0)


def clock_from(start: float):
    return lambda: time.monotonic() - start


def wait_until(condition, timeout_s: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout_s` (never a fixed sleep)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting for {what}"
        time.sleep(0.01)


def test_file_yields_every_frame_with_its_timestamp(shared_data: Path):
    src = open_source(str(shared_data / "video/tears_of_steel.mp4"), SETTINGS, clock_from(0), 3.0)
    ts = []
    with pytest.raises(SourceEnded):
        while True:
            packet = src.read(0.1)
            assert packet.image.shape == (360, 640, 3)
            ts.append(packet.t)
    src.close()
    assert len(ts) == 240
    assert ts[0] == 0.0
    assert np.allclose(np.diff(ts), 1 / 24, atol=1e-3)


def _corrupt_files(tmp_path: Path, shared_data: Path) -> dict[str, Path]:
    data = (shared_data / "video/tears_of_steel.mp4").read_bytes()
    files = {"empty": b"", "garbage": b"not a video" * 200, "truncated": data[: len(data) // 3]}
    out = {}
    for name, content in files.items():
        out[name] = tmp_path / f"{name}.mp4"
        out[name].write_bytes(content)
    out["missing"] = tmp_path / "missing.mp4"
    return out


@pytest.mark.parametrize("case", ["empty", "garbage", "truncated", "missing"])
def test_bad_video_files_are_refused_clearly(tmp_path: Path, shared_data: Path, case: str):
    path = _corrupt_files(tmp_path, shared_data)[case]
    with pytest.raises(MonitorError, match=r"not found|empty|cannot decode|corrupt"):
        FileSource(path, SETTINGS)


@pytest.mark.parametrize("spec, words", [
    ("camera:x", "use camera:N"),
    ("camera:9", "cannot open camera 9"),
    ("ftp://example.invalid/x", "unsupported stream"),
])
def test_bad_source_specs(spec: str, words: str):
    with pytest.raises(MonitorError, match=words):
        open_source(spec, SETTINGS, clock_from(0), 3.0)


class VideoFileCamera:
    """Stands in for a webcam (this machine has none): shaped like cv2.VideoCapture, it serves a
    real video in a loop at `fps`, and can be unplugged or frozen like a real device."""

    def __init__(self, path: Path, fps: float = 50.0, unplugged=lambda: False, frozen=lambda: False):
        self._cap = cv2.VideoCapture(str(path))
        self.period = 1.0 / fps
        self._unplugged, self._frozen = unplugged, frozen
        self._last = None
        self.released = False

    def isOpened(self) -> bool:
        return not self._unplugged()

    def read(self):
        time.sleep(self.period)  # the camera's frame rate (this stands in for the device)
        if self._unplugged():
            return False, None
        if self._frozen() and self._last is not None:
            return True, self._last
        ok, image = self._cap.read()
        if not ok:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = self._cap.read()
        self._last = image
        return ok, image

    def release(self) -> None:
        self.released = True
        self._cap.release()


def test_live_source_keeps_only_the_newest_frame(shared_data: Path):
    start = time.monotonic()
    camera = VideoFileCamera(shared_data / "video/tears_of_steel.mp4")
    src = LiveSource("fake camera", lambda: camera, SETTINGS, clock_from(start), 3.0)
    try:
        first = src.read(2.0)
        # a slow consumer: it comes back only once the camera has replaced 10 unread frames
        wait_until(lambda: src.status().dropped >= 10, 10.0, "10 frames replaced in the slot")
        newest = src.read(2.0)
        skipped = newest.index - first.index
        assert skipped > 10, "the newest frame, not the next one"
        assert src.status().dropped >= skipped - 2  # all but the first and the newest
        assert newest.t >= first.t + skipped * camera.period - 1e-3  # stamped when it arrived
    finally:
        src.close()


def test_unplugged_camera_reconnects_when_it_returns(shared_data: Path):
    state = {"unplugged": False}
    opens = []

    def opener():
        opens.append(time.monotonic())
        return VideoFileCamera(shared_data / "video/tears_of_steel.mp4",
                               unplugged=lambda: state["unplugged"])

    src = LiveSource("fake camera", opener, SETTINGS, clock_from(time.monotonic()), 3.0)
    try:
        assert src.read(2.0) is not None
        state["unplugged"] = True
        deadline = time.monotonic() + 3
        while src.status().connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not src.status().connected
        deadline = time.monotonic() + 5
        while src.status().reconnects < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert src.status().reconnects >= 3  # kept trying, with growing delays
        gaps = np.diff(opens[1:])
        assert all(b >= a - 0.05 for a, b in zip(gaps, gaps[1:]))
        state["unplugged"] = False
        deadline = time.monotonic() + 3
        packet = None
        while packet is None and time.monotonic() < deadline:
            packet = src.read(0.5)
        assert packet is not None and src.status().connected
    finally:
        src.close()


def test_status_is_a_copy_the_capture_thread_never_changes(shared_data: Path):
    state = {"unplugged": False}
    src = LiveSource("fake camera",
                     lambda: VideoFileCamera(shared_data / "video/tears_of_steel.mp4",
                                             unplugged=lambda: state["unplugged"]),
                     SETTINGS, clock_from(time.monotonic()), 3.0)
    try:
        assert not src.has_audio  # cameras have no sound yet
        src.read(2.0)
        mine = src.status()
        assert mine.connected and mine.detail == ""
        mine.connected, mine.detail, mine.reconnects = False, "changed by a reader", 99
        state["unplugged"] = True  # the thread now writes its own changes
        deadline = time.monotonic() + 3
        while src.status().connected and time.monotonic() < deadline:
            time.sleep(0.05)
        theirs = src.status()
        assert theirs is not src.status()
        assert theirs.detail == "no frames; reconnecting" and theirs.reconnects < 99
        assert (mine.connected, mine.detail, mine.reconnects) == (False, "changed by a reader", 99)
        for _ in range(50):  # every copy is whole: never "connected" with a reconnecting detail
            status = src.status()
            assert status.connected == (status.detail == "") or status.frozen
            time.sleep(0.01)
    finally:
        src.close()


def test_frozen_camera_is_reported(shared_data: Path):
    state = {"frozen": False}
    src = LiveSource("fake camera",
                     lambda: VideoFileCamera(shared_data / "video/tears_of_steel.mp4",
                                             frozen=lambda: state["frozen"]),
                     SETTINGS, clock_from(time.monotonic()), frozen_after_s=0.5)
    try:
        src.read(2.0)
        state["frozen"] = True
        deadline = time.monotonic() + 3
        while not src.status().frozen and time.monotonic() < deadline:
            src.read(0.1)
        assert src.status().frozen and "frozen" in src.status().detail
        state["frozen"] = False
        deadline = time.monotonic() + 3
        while src.status().frozen and time.monotonic() < deadline:
            src.read(0.1)
        assert not src.status().frozen
    finally:
        src.close()


def test_realtime_file_is_paced_and_ends(shared_data: Path):
    start = time.monotonic()
    src = open_source(str(shared_data / "video/tears_of_steel.mp4"), SETTINGS, clock_from(start), 3.0,
                      realtime=True)
    frames = []
    try:
        with pytest.raises(SourceEnded):
            while True:
                packet = src.read(1.0)
                if packet is not None:
                    frames.append(packet)
    finally:
        src.close()
    assert time.monotonic() - start >= 9.0  # 240 frames at 24 fps take 10 s of real time
    assert 0 < len(frames) <= 240
    assert frames[-1].t >= 9.0


def test_mailbox_replaces_and_counts():
    slot = LatestSlot()
    for i in range(5):
        slot.put(i)
    assert slot.take(0.01) == 4 and slot.dropped == 4
    assert slot.take(0.01) is None
