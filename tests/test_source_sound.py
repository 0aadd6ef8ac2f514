"""Where a source's sound comes from (issue #24 item 7): the PC's microphone is the cot's only for
a camera plugged into this PC; a network stream (a remote cot's camera) never takes it, or the cry
cue of that cot would come from the nurses' station.

The stream is real: a clip built from the shared material (the crying infant photo, a quiet room's
sound) served over HTTP by a loopback server in this test and opened by URL as a monitor opens a
network camera. The "nurses' station" microphone is tests/fake_sounddevice.py (this machine has
none) playing a real ESC-10 infant cry, so a channel that took it would hear crying.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from monitor.capture import microphone, sources
from monitor.config import Settings
from monitor.pipeline.assembly import Pipeline
from tests import photo_clips
from tests.audio_material import at_16k, decode
from tests.cue_clips import sound_track, write_clip
from tests.fake_sounddevice import FakeDevice, FakeSoundDevice
from tests.test_capture import VideoFileCamera

CRY = "3-152007-B-20.flac"  # ESC-10: an infant crying throughout its 5 s


@pytest.fixture
def station_microphone(monkeypatch, shared_data: Path) -> FakeDevice:
    """The PC's default microphone, playing a real infant cry."""
    samples, rate = decode(shared_data / "audio" / "esc10" / CRY)
    device = FakeDevice("nurses' station microphone", signal=at_16k(samples, rate))
    monkeypatch.setattr(microphone, "import_sounddevice", lambda: FakeSoundDevice([device]))
    return device


@pytest.fixture
def served_clip(shared_data: Path, tmp_path: Path):
    """A 4 s clip with its own (quiet room) sound track, as MPEG-TS (streamable over plain HTTP),
    served on a loopback port; yields its URL."""
    frames = [f for _, f in photo_clips.frames(photo_clips.SAD, fps=10, seconds=4.0)]
    write_clip(tmp_path / "cot.ts", frames, 10, sound_track(shared_data, 4.0, None))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cot.ts"
    finally:
        server.shutdown()
        thread.join(10)


def _settings(tmp_path: Path) -> Settings:
    return Settings(store={"url": f"sqlite:///{tmp_path / 'ward.db'}"})


def test_a_network_stream_does_not_take_this_computers_microphone(station_microphone, served_clip,
                                                                   tmp_path: Path):
    pipeline = Pipeline(_settings(tmp_path))
    try:
        channel = pipeline.add(served_clip, realtime=True)
        assert channel.source.description.startswith("stream "), "opened as a network stream"
        assert channel.source.read(10.0) is not None, "the stream's picture comes"
        assert channel.microphone is None
        assert channel.summary.audio is None, "the cry cue is unknown, not the station's sound"
    finally:
        pipeline.close()


def test_a_camera_on_this_computer_hears_with_its_microphone(station_microphone, monkeypatch,
                                                            shared_data: Path, tmp_path: Path):
    """The other side of the rule: a webcam plugged into this PC (a fake shaped like
    cv2.VideoCapture serving a real video) is paired with the PC's microphone."""
    monkeypatch.setattr(sources, "_open_capture", lambda target, settings: VideoFileCamera(
        shared_data / "video/tears_of_steel.mp4", fps=10.0))
    pipeline = Pipeline(_settings(tmp_path))
    try:
        channel = pipeline.add("camera:0", realtime=True)
        assert channel.microphone is not None
        assert channel.summary.audio == channel.microphone.description
        assert "nurses' station microphone" in channel.summary.audio
    finally:
        pipeline.close()
