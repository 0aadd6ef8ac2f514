"""Shared material for the fault suite: one loaded scorer, and a short clip of the demo's crying
segment, so a pain episode opens within seconds of a start."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from monitor.cli import DEMO_CLIP
from monitor.scoring.scorer import Scorer
from monitor.config import Settings

CRYING_FROM_S, CRYING_TO_S = 27.0, 45.0  # demo.toml: crying from 27 s to 47 s


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    return Scorer(Settings().scoring)


@pytest.fixture(scope="session")
def crying_clip(tmp_path_factory) -> Path:
    """The demo's crying stretch as its own file (mp4v, as the demo itself is)."""
    path = tmp_path_factory.mktemp("clips") / "crying.mp4"
    cap = cv2.VideoCapture(str(DEMO_CLIP))
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.set(cv2.CAP_PROP_POS_FRAMES, int(CRYING_FROM_S * fps))
    out = None
    for _ in range(int((CRYING_TO_S - CRYING_FROM_S) * fps)):
        ok, image = cap.read()
        if not ok:
            break
        if out is None:
            h, w = image.shape[:2]
            out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        out.write(image)
    cap.release()
    out.release()
    return path
