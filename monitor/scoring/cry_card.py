"""The cry model's card: sound in, front end, network, which AudioSet classes make the cry cue.

Same rules as the face model's card (monitor/scoring/card.py, whose licence, source, weights and
JSON-reading parts it reuses): the folder is refused with a clear MonitorError when the card, the
labels or the weights are missing, damaged or do not belong together.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from monitor.errors import MonitorError
from monitor.scoring.card import CardBase, Source, Strict, read_json_card

CRY_FIX = "restore the model folder or re-run tools/convert_yamnet.py"


class YamnetArchitecture(Strict):
    """A 3x3 stem convolution, then MobileNet-v1 separable blocks, global mean, one linear layer."""

    name: Literal["yamnet_mobilenet_v1"]
    stem_channels: int = Field(ge=1)
    stem_stride: int = Field(ge=1, le=4)
    blocks: tuple[tuple[int, int], ...] = Field(min_length=1, description="(stride, channels_out)")
    activation: Literal["relu6"]
    padding: Literal["tensorflow_same"]


class AudioInputSpec(Strict):
    """What one window of sound must be before it reaches the network."""

    sample_rate_hz: int = Field(ge=8000, le=48000)
    channels: Literal[1]
    dtype: Literal["float32"]
    value_range: tuple[float, float] = Field(description="full scale, e.g. int16 / 32768")
    window_samples: int = Field(ge=400)
    hop_s: float = Field(gt=0, le=10, description="window spacing when scoring a stream")

    @property
    def window_s(self) -> float:
        return self.window_samples / self.sample_rate_hz


class FrontEnd(Strict):
    """Waveform -> log-mel patch; the window, mel matrix and offset are stored in the weights."""

    frame_length: int = Field(ge=16, description="STFT window, samples")
    frame_step: int = Field(ge=1, description="STFT hop, samples")
    fft_length: int = Field(ge=16)
    window: Literal["periodic_hann"]
    mel_bands: int = Field(ge=1)
    mel_min_hz: float = Field(ge=0)
    mel_max_hz: float = Field(gt=0)
    log_offset: float = Field(gt=0, description="log(mel + offset)")
    patch_frames: int = Field(ge=1)


class CueClass(Strict):
    index: int = Field(ge=0)
    label: str = Field(min_length=1, description="must equal the labels file's line `index`")


class CryOutputSpec(Strict):
    """Independent logistic scores, one per AudioSet class; `cue` names the cry cue's classes."""

    activation: Literal["logistic"]
    classes: int = Field(ge=1)
    labels_file: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    labels_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    cue: tuple[CueClass, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> "CryOutputSpec":
        outside = [c.index for c in self.cue if c.index >= self.classes]
        if outside:
            raise ValueError(f"cue class index {outside[0]} is not below classes={self.classes}")
        if len({c.index for c in self.cue}) != len(self.cue):
            raise ValueError("cue class indices must be unique")
        return self


class CryCard(CardBase):
    architecture: YamnetArchitecture
    input: AudioInputSpec
    front_end: FrontEnd
    output: CryOutputSpec
    source: Source

    @model_validator(mode="after")
    def _fits_together(self) -> "CryCard":
        fe = self.front_end
        frames = (self.input.window_samples - fe.frame_length) // fe.frame_step + 1
        if frames != fe.patch_frames:
            raise ValueError(f"window_samples {self.input.window_samples} gives {frames} STFT "
                             f"frames, but front_end.patch_frames is {fe.patch_frames}")
        if fe.fft_length < fe.frame_length:
            raise ValueError("front_end.fft_length must be at least frame_length")
        if not fe.mel_min_hz < fe.mel_max_hz <= self.input.sample_rate_hz / 2:
            raise ValueError("mel bands must lie between 0 and half the sample rate, min < max")
        return self


def read_cry_card(model_dir: Path) -> CryCard:
    """The folder's cry card, or a MonitorError that says what is wrong and how to fix it."""
    return read_json_card(model_dir, CryCard, CRY_FIX)


def read_labels(model_dir: Path, card: CryCard) -> tuple[str, ...]:
    """The class names, checked against the card: count, sha256 and the cue classes' names."""
    path = model_dir / card.output.labels_file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MonitorError(f"cannot read the cry model's labels {path}: {exc.strerror} "
                           f"({CRY_FIX})") from None
    if hashlib.sha256(data).hexdigest() != card.output.labels_sha256:
        raise MonitorError(f"labels {path} do not match the card's labels_sha256; the file is "
                           f"damaged or belongs to another model ({CRY_FIX})")
    labels = tuple(data.decode("utf-8").splitlines())
    if len(labels) != card.output.classes:
        raise MonitorError(f"labels {path} has {len(labels)} lines but the card says "
                           f"{card.output.classes} classes ({CRY_FIX})")
    for cue in card.output.cue:
        if labels[cue.index] != cue.label:
            raise MonitorError(f"cue class {cue.index} is {labels[cue.index]!r} in {path} but "
                               f"{cue.label!r} in the card ({CRY_FIX})")
    return labels
