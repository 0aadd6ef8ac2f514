"""Bad sources: truncated and zero-length videos, a URL that never answers (one clear line, exit 2,
no traceback, no hang past the open timeout), and a video whose resolution changes mid-run."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import cv2
import pytest

from monitor.capture.sources import FileSource, SourceEnded, SourceStatus
from monitor.cli import DEMO_CLIP, main
from monitor.config import Settings, StoreSettings
from monitor.packets import FramePacket
from monitor.pipeline.runner import OneSourcePipeline

pytestmark = pytest.mark.slow


def _one_clear_line(capsys, args: list[str], words: str) -> None:
    code = main(["run", *args])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("painmon: error:")]
    assert code == 2 and len(lines) == 1 and words in lines[0], err
    assert "Traceback" not in err


@pytest.mark.parametrize("case", ["zero-length", "truncated"])
def test_broken_video_is_one_clear_line(tmp_path: Path, capsys, case: str):
    video = tmp_path / f"{case}.mp4"
    data = DEMO_CLIP.read_bytes()
    video.write_bytes(b"" if case == "zero-length" else data[: len(data) // 50])
    words = "empty" if case == "zero-length" else str(video.name)
    _one_clear_line(capsys, ["--source", str(video), "--db", f"sqlite:///{tmp_path}/x.db"], words)


def test_a_url_that_never_answers_gives_up_at_the_open_timeout(tmp_path: Path, capsys):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, then never says a word
    port = silent.getsockname()[1]
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True).start()
    config = tmp_path / "c.toml"
    config.write_text("[capture]\nopen_timeout_s = 2.0\n")
    start = time.monotonic()
    try:
        _one_clear_line(capsys, ["--source", f"http://127.0.0.1:{port}/cam", "--config",
                                 str(config), "--db", f"sqlite:///{tmp_path}/x.db"], "cannot open")
    finally:
        silent.close()
        for conn in accepted:
            conn.close()
    took = time.monotonic() - start
    print(f"silent URL given up after {took:.1f} s (open_timeout_s 2.0)")
    assert took < 2.0 + 15.0  # the open timeout, plus loading the model


class ResizingFile:
    """The demo clip whose frames change size after `switch_at` frames (a camera's mode change)."""

    live = False

    def __init__(self, switch_at: int, frames: int) -> None:
        self._file = FileSource(DEMO_CLIP, Settings().capture)
        self._switch_at, self._frames = switch_at, frames
        self.description = "file demo.mp4 (resized)"

    def read(self, timeout: float) -> FramePacket:
        packet = self._file.read(timeout)
        if packet.index >= self._frames:
            self._file.close()
            raise SourceEnded
        if packet.index >= self._switch_at:
            packet = FramePacket(t=packet.t, index=packet.index,
                                 image=cv2.resize(packet.image, (1280, 720)))
        return packet

    def status(self) -> SourceStatus:
        return self._file.status()

    def close(self) -> None:
        self._file.close()


def test_a_resolution_change_mid_run_keeps_monitoring(tmp_path: Path, scorer):
    settings = Settings(store=StoreSettings(url=f"sqlite:///{tmp_path}/r.db"))
    shapes: list[tuple] = []
    monitor = OneSourcePipeline(settings, ResizingFile(switch_at=20, frames=40), scorer=scorer,
                                on_frame=lambda r: shapes.append((r.packet.image.shape, r.score.status)))
    summary = monitor.run()
    assert summary.end_reason == "source_ended" and summary.frames == 40
    before = [s for shape, s in shapes if shape[0] == 480]
    after = [s for shape, s in shapes if shape[0] == 720]
    assert len(before) == len(after) == 20
    assert sum(s.value == "scored" for s in after) >= 10  # the face is still found and scored
