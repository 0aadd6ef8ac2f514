"""A phone video filmed sideways: its frames are stored rotated and a display matrix says how to
turn them (issue #24 item 12: such files were analysed sideways, 2 of 96 faces found against 72
upright). The clip is the shared crying-infant photo stored turned 90 degrees clockwise, with
the display matrix (written by ffmpeg's `rotate` tag) that turns it back; ffmpeg's own player
rotation is the reference for which way is up."""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from monitor.capture.base import SourceEnded
from monitor.capture.media import MediaReader
from monitor.config import VisionSettings
from monitor.packets import FramePacket, FaceStatus
from monitor.vision.finder import FaceFinder

FRAMES = 6
pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None,
                                reason="needs ffmpeg (tools/install-system-deps.sh)")


@pytest.fixture(scope="module")
def upright(shared_data: Path) -> np.ndarray:
    photo = cv2.imread(str(shared_data / "images" / "sad-baby.jpeg"))
    return cv2.resize(photo, (640, 426), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def clips(upright: np.ndarray, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("rotation")
    stored = cv2.rotate(upright, cv2.ROTATE_90_CLOCKWISE)  # as the sensor wrote it
    plain = folder / "stored.mp4"
    with av.open(str(plain), "w") as out:
        video = out.add_stream("libx264", rate=5)
        video.height, video.width = stored.shape[:2]
        video.pix_fmt, video.time_base = "yuv420p", Fraction(1, 5)
        for i in range(FRAMES):
            frame = av.VideoFrame.from_ndarray(stored, format="bgr24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode())
    phone = folder / "phone.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(plain), "-c", "copy",
                    "-metadata:s:v", "rotate=90", str(phone)], check=True)
    shown = folder / "shown.png"  # how ffmpeg itself displays the phone's first frame
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(phone), "-frames:v", "1", str(shown)],
                   check=True)
    return {"phone": phone, "shown": shown}


def frames(path: Path) -> list[np.ndarray]:
    reader = MediaReader(path, audio=False)
    images = []
    try:
        for packet in reader:
            images.append(packet.image)
    except SourceEnded:
        pass
    finally:
        reader.close()
    return images


def test_the_premise_ffmpeg_shows_the_phone_clip_upright(clips, upright):
    shown = cv2.imread(str(clips["shown"]))
    assert shown.shape == upright.shape
    assert np.abs(shown.astype(float) - upright).mean() < 10


def test_frames_of_a_rotated_phone_video_are_delivered_upright(clips, upright):
    images = frames(clips["phone"])
    assert len(images) == FRAMES
    for image in images:
        assert image.shape == upright.shape  # 640 wide, 426 high, as shown
        assert np.abs(image.astype(float) - upright).mean() < 10


def test_faces_are_found_in_a_rotated_phone_video(clips):
    finder = FaceFinder(VisionSettings())
    found = [finder.observe(FramePacket(t=i / 5, index=i, image=image)).status
             for i, image in enumerate(frames(clips["phone"]))]
    assert found.count(FaceStatus.SCORED) == FRAMES, found
