"""Faces for training, found and cropped by the bedside code itself, with the boxes cached.

Each image is a new "session" for a FaceFinder (detector, subject choice, quality gate) and
its box goes through the same preprocessing as the Scorer (monitor.scoring.preprocess), so a
model never trains on crops the monitor would not produce. MTCNN is the slow part: its verdict
per image is cached by file content and vision settings.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from monitor.config import VisionSettings
from monitor.paths import cache_dir
from monitor.packets import FaceStatus, FramePacket
from monitor.scoring.card import InputSpec
from monitor.scoring.preprocess import spec_input
from monitor.training.samples import Sample, Skipped


@dataclass(frozen=True)
class Faces:
    inputs: np.ndarray  # (N, height, width) float32 model inputs of the kept samples
    kept: list[int]  # indices of the samples that gave a face
    dropped: list[Skipped]  # unreadable, no face, or failed the quality gate, with the reason
    file_sha256: list[str]  # per sample (kept or not), for the data manifest


def default_cache_dir() -> Path:
    return cache_dir() / "faces"


class BoxCache:
    """file sha256 -> {status, box, reason} for one set of vision settings, in one JSON file."""

    def __init__(self, cache_dir: Path, vision: VisionSettings) -> None:
        key = vision.model_dump_json() + importlib.metadata.version("facenet-pytorch")
        self.path = Path(cache_dir) / f"boxes-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
        try:
            self.entries: dict[str, dict] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.entries = {}

    def save(self) -> None:
        """Write atomically: a crash never leaves a half-written cache behind."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.entries), encoding="utf-8")
        tmp.replace(self.path)


def crop_faces(samples: list[Sample], spec: InputSpec, vision: VisionSettings,
               device: torch.device, cache_dir: Path | None = None,
               keep_poor_quality: bool = False) -> Faces:
    """Model inputs for every sample whose image holds a face the monitor would score."""
    from monitor.vision.detector import FaceDetector
    from monitor.vision.finder import FaceFinder

    cache = BoxCache(cache_dir or default_cache_dir(), vision)
    detector = None
    inputs, kept, dropped, hashes = [], [], [], []
    try:
        for i, sample in enumerate(tqdm(samples, desc="faces", unit="img", disable=None)):
            try:
                data = sample.path.read_bytes()
            except OSError as exc:
                hashes.append("")
                dropped.append(Skipped(sample.path, f"cannot read: {exc.strerror}"))
                continue
            sha = hashlib.sha256(data).hexdigest()
            hashes.append(sha)
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                dropped.append(Skipped(sample.path, "not a readable image"))
                continue
            if sha not in cache.entries:
                detector = detector or FaceDetector(vision, device)
                seen = FaceFinder(vision, device, detector=detector).observe(FramePacket(0.0, i, image))
                cache.entries[sha] = {"status": seen.status.value, "box": seen.box,
                                      "reason": seen.reason}
            entry = cache.entries[sha]
            usable = entry["status"] == FaceStatus.SCORED.value or (
                keep_poor_quality and entry["status"] == FaceStatus.POOR_QUALITY.value)
            if not usable:
                dropped.append(Skipped(sample.path, f"{entry['status']}: {entry['reason']}"))
                continue
            inputs.append(spec_input(image, tuple(entry["box"]), spec))
            kept.append(i)
    finally:
        cache.save()
    empty = np.empty((0, spec.height, spec.width), np.float32)
    return Faces(np.stack(inputs) if inputs else empty, kept, dropped, hashes)
