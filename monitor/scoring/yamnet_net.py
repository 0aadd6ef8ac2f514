"""YAMNet as a PyTorch module: 0.975 s of 16 kHz sound -> 521 AudioSet scores, front end included.

Written from Google's description of the model (tensorflow/models research/audioset/yamnet) and
the layer list of the shipped TFLite graph; the weights, the Hann window, the mel matrix and the
log-mel patch's range are that graph's own constants (tools/convert_yamnet.py). The front end is
in torch too, so a GPU scores whole batches of raw windows without a trip through NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'SAME' padding for one axis: the odd pixel goes after, not before."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class _SameConv(nn.Conv2d):
    """A 3x3 convolution padded like TensorFlow's 'SAME' (asymmetric when the stride is 2)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = _same_padding(x.shape[-2], self.kernel_size[0], self.stride[0])
        left, right = _same_padding(x.shape[-1], self.kernel_size[1], self.stride[1])
        return super().forward(F.pad(x, (left, right, top, bottom)))


class _Separable(nn.Module):
    """MobileNet-v1 block: depthwise 3x3 (batch norm folded in) + ReLU6, pointwise 1x1 + ReLU6."""

    def __init__(self, channels_in: int, channels_out: int, stride: int) -> None:
        super().__init__()
        self.depthwise = _SameConv(channels_in, channels_in, 3, stride, groups=channels_in)
        self.pointwise = nn.Conv2d(channels_in, channels_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(self.pointwise(F.relu6(self.depthwise(x))))


class LogMelFrontEnd(nn.Module):
    """Waveform (n, samples) -> log-mel patch (n, 1, frames, bands), as the TFLite graph does it.

    Frames of `frame_length` every `frame_step` samples, times the stored window, zero-padded to
    `fft_length`, magnitude spectrum, the stored mel matrix plus its offset (0.001), natural log,
    clamped to the range the int8 graph can represent (its QUANTIZE op saturates there).
    """

    def __init__(self, frame_length: int, frame_step: int, fft_length: int, mel_bands: int) -> None:
        super().__init__()
        self.frame_step = frame_step
        self.fft_length = fft_length
        self.register_buffer("window", torch.zeros(frame_length))
        self.register_buffer("mel_matrix", torch.zeros(mel_bands, fft_length // 2 + 1))
        self.register_buffer("mel_offset", torch.zeros(mel_bands))
        self.register_buffer("patch_range", torch.zeros(2))

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        frames = waveform.unfold(-1, self.window.numel(), self.frame_step) * self.window
        magnitude = torch.fft.rfft(frames, n=self.fft_length).abs()
        mel = magnitude @ self.mel_matrix.T + self.mel_offset
        patch = torch.log(mel).clamp(self.patch_range[0], self.patch_range[1])
        return patch.unsqueeze(1)


class CryModel(nn.Module):
    """YAMNet: (n, 15600) float waveforms in -1..1 at 16 kHz -> (n, 521) logistic scores.

    `blocks` is the card's list of (stride, channels_out) separable blocks after the stem.
    """

    def __init__(self, frame_length: int, frame_step: int, fft_length: int, mel_bands: int,
                 stem_channels: int, stem_stride: int, blocks: Sequence[tuple[int, int]],
                 classes: int) -> None:
        super().__init__()
        self.frontend = LogMelFrontEnd(frame_length, frame_step, fft_length, mel_bands)
        self.stem = _SameConv(1, stem_channels, 3, stem_stride)
        layers, channels = [], stem_channels
        for stride, channels_out in blocks:
            layers.append(_Separable(channels, channels_out, stride))
            channels = channels_out
        self.blocks = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, classes)

    def embedding(self, waveform: torch.Tensor) -> torch.Tensor:
        """(n, 1024): the mean of the last block's activations, what the classifier reads (and
        the cry detector's head, monitor/scoring/cry_detector.py)."""
        x = F.relu6(self.stem(self.frontend(waveform)))
        return self.blocks(x).mean(dim=(2, 3))

    def logits(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embedding(waveform))

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(waveform))
