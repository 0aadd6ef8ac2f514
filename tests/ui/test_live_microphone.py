"""The bedside window with a cot microphone (issue #16): the cry cue's state from a fake microphone
shaped like sounddevice, playing a real infant cry; a technical alarm when it disappears."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.capture import microphone, sources
from monitor.signal.records import MICROPHONE_LOST
from tests.audio_material import at_16k, decode
from tests.fake_sounddevice import FakeDevice, FakeSoundDevice
from tests.test_capture import VideoFileCamera

pytestmark = pytest.mark.slow

CRY = "3-152007-B-20.flac"  # ESC-10: an infant crying throughout its 5 s


@pytest.fixture
def cot(monkeypatch, shared_data: Path, episode_clip: Path):
    """camera:0 is a fake webcam serving a demo clip; the default microphone plays a cry in a loop."""
    samples, rate = decode(shared_data / "audio" / "esc10" / CRY)
    device = FakeDevice("cot microphone", signal=at_16k(samples, rate))
    monkeypatch.setattr(sources, "_open_capture", lambda target, settings: VideoFileCamera(
        episode_clip, fps=10.0))
    monkeypatch.setattr(microphone, "import_sounddevice", lambda: FakeSoundDevice([device]))
    return device


def test_the_window_shows_crying_from_the_microphone_and_alarms_when_it_goes(qtbot, settings, cot):
    from monitor.ui.live.options import WindowOptions
    from monitor.ui.live.window import LiveWindow

    window = LiveWindow(settings, "camera:0", realtime=True, options=WindowOptions())
    window.confirm = lambda title, text: True
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.snapshot is not None
                        and window.snapshot.cry_state == "crying", timeout=60_000)
        assert window.snapshot.c >= settings.audio.cry_on  # C itself, not only a state word
        cot.unplug("silent")
        qtbot.waitUntil(lambda: any(t.kind == MICROPHONE_LOST for t in window.alarm_bar.tiles),
                        timeout=30_000)
        tile = next(t for t in window.alarm_bar.tiles if t.kind == MICROPHONE_LOST)
        assert tile.technical
        qtbot.waitUntil(lambda: window.snapshot.cry_state == "no_microphone", timeout=10_000)
    finally:
        window.stop_for_signal("teardown")
        worker = window.control.worker
        qtbot.waitUntil(lambda: worker is None or not worker.running, timeout=30_000)
