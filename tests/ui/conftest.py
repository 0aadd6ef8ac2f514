"""UI test fixtures: short clips cut from the embedded demo, a paced file source, the live window."""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from monitor.capture import sources  # noqa: E402
from monitor.config import Settings, StoreSettings  # noqa: E402
from tests.ui.clips import CLIP_FPS, demo_frames, demo_sound, write_clip  # noqa: E402

SPEED = 4.0  # clips play at 4x real time: fast, yet slow enough to act during an alarm


@pytest.fixture(scope="session")
def episode_clip(tmp_path_factory) -> Path:
    """Demo 20-75 s at 5 fps with its sound: calm, then the crying episode carried by face + cry
    (start ~8.6 s, alarm ~18.6 s, end ~30.9 s, clears ~46 s in clip time), then calm to 55 s."""
    return write_clip(tmp_path_factory.mktemp("clips") / "episode.mp4", demo_frames(20.0, 75.0),
                      demo_sound(20.0, 75.0))


@pytest.fixture(scope="session")
def no_face_clip(tmp_path_factory) -> Path:
    """3 s of the calm infant, then 16 s of an empty dark cot; no sound track (no microphone)."""
    face = demo_frames(0.0, 3.0)
    empty = np.full_like(face[0], 30)
    return write_clip(tmp_path_factory.mktemp("clips") / "no_face.mp4",
                      face + [empty] * int(16 * CLIP_FPS))


@pytest.fixture
def paced(monkeypatch):
    """File frames are released no faster than SPEED x their own time (never slows a slow machine)."""
    read = sources.FileSource.read

    def paced_read(self, timeout: float = 0.0):
        packet = read(self)
        started = getattr(self, "_test_started", None)
        if started is None:
            started = self._test_started = time.monotonic()
        wait = started + packet.t / SPEED - time.monotonic()
        if wait > 0:
            time.sleep(wait)  # the source's own pace, like a camera; tests never sleep
        return packet

    monkeypatch.setattr(sources.FileSource, "read", paced_read)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(store=StoreSettings(url=f"sqlite:///{tmp_path / 'live.db'}"))


@pytest.fixture
def open_window(qtbot, settings):
    """Factory for a LiveWindow on a file (analysed, not paced like a camera); closed afterwards."""
    from monitor.ui.live.options import WindowOptions
    from monitor.ui.live.window import LiveWindow

    windows = []

    def make(clip: Path, settings: Settings = settings, **options) -> LiveWindow:
        window = LiveWindow(settings, str(clip), realtime=False, options=WindowOptions(**options))
        window.confirm = lambda title, text: True
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        worker = window.control.worker
        if worker is not None and worker.running:
            window.stop_for_signal("teardown")
            qtbot.waitUntil(lambda worker=worker: not worker.running, timeout=15000)
