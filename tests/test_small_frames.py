"""Frames and cot regions too small to hold a face (issue 18): `no_face` with a reason, never the
crash inside MTCNN (`torch.cat(): expected a non-empty list of Tensors`), and a clear refusal
where the settings or the start of a session can tell in advance."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from monitor.capture.sources import FileSource, SourceEnded
from monitor.config import CaptureSettings, VisionSettings
from monitor.packets import FaceStatus, FramePacket
from monitor.vision.detector import FaceDetector
from monitor.vision.finder import FaceFinder, smallest_face_px
from monitor.vision.geometry import cot_region_too_small


def write_video(path: Path, frames: list[np.ndarray], fps: int = 10) -> Path:
    """A lossless Matroska file (FFV1 keeps odd sizes such as 7x5, which H.264 cannot)."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "bgr0"
        for image in frames:
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def photo(shared_data: Path, width: int, height: int) -> np.ndarray:
    image = cv2.imread(str(shared_data / "images/astronaut.png"))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("size", [(7, 5), (6, 4)])
def test_a_tiny_video_is_no_face_not_a_crash(shared_data: Path, tmp_path: Path, size):
    path = write_video(tmp_path / "tiny.mkv", [photo(shared_data, *size)] * 5)
    source = FileSource(path, CaptureSettings())
    finder = FaceFinder(VisionSettings(), fast=False)
    observations = []
    with pytest.raises(SourceEnded):
        while True:
            packet = source.read()
            assert packet.image.shape == (size[1], size[0], 3)
            observations.append(finder.observe(packet))
    assert len(observations) == 5
    assert all(o.status is FaceStatus.NO_FACE and o.reason == "frame too small" for o in observations)


@pytest.mark.parametrize("size", [(7, 5), (6, 4)])
def test_the_detector_finds_no_face_in_a_tiny_image(shared_data: Path, size):
    """What crashed inside facenet-pytorch (its image pyramid is empty): now simply no face."""
    detector = FaceDetector(VisionSettings())
    assert detector.detect(photo(shared_data, *size)) == []


def test_a_cot_region_too_small_for_this_frame_is_no_face(shared_data: Path):
    """A region the settings accept (10% of each side) on a 150x150 frame leaves 15x15 px."""
    settings = VisionSettings(cot_region=(0.4, 0.3, 0.5, 0.4))
    image = photo(shared_data, 150, 150)
    observation = FaceFinder(settings).observe(FramePacket(t=0.0, index=0, image=image))
    assert observation.status is FaceStatus.NO_FACE and observation.reason == "frame too small"
    assert "15x15 px" in cot_region_too_small(settings.cot_region, 150, 150, smallest_face_px(settings))


def test_a_face_in_a_large_enough_frame_is_still_found(shared_data: Path):
    """The guard stops only what cannot hold a face: the same photo at 512x512 has one."""
    observation = FaceFinder(VisionSettings()).observe(
        FramePacket(t=0.0, index=0, image=photo(shared_data, 512, 512)))
    assert observation.status is not FaceStatus.NO_FACE


def test_the_start_check_names_the_region_and_the_fix():
    smallest = smallest_face_px(VisionSettings())
    message = cot_region_too_small((0.2, 0.45, 0.8, 0.48), 640, 480, smallest)
    assert "384x14 px of a 640x480 frame" in message and "vision.cot_region" in message
    assert cot_region_too_small((0.2, 0.4, 0.8, 0.5), 640, 480, smallest) is None  # 384x48 px


@pytest.mark.parametrize("region", [(0.2, 0.45, 0.8, 0.5), (0.45, 0.45, 0.5, 0.5)])
def test_settings_refuse_a_sliver_of_a_cot_region(region):
    with pytest.raises(ValidationError, match="cot_region must span at least 10%"):
        VisionSettings(cot_region=region)
