"""Mini-Xception (Arriaga et al. 2017) in PyTorch, laid out so that Keras weights port exactly.

The network returns logits (the global average of the last convolution); softmax and any
temperature are applied by the caller, so that a calibrated card changes no weights.
Keras details that matter for an exact port: BatchNormalization's epsilon comes from the card
(Keras uses 1e-3), and 'same' max-pooling with stride 2 pads bottom/right more than top/left.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding along one axis: (before, after), the odd pixel after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameMaxPool2d(nn.Module):
    """Max-pooling with TensorFlow 'same' padding (padded cells never win: they are -inf)."""

    def __init__(self, kernel: int, stride: int) -> None:
        super().__init__()
        self.kernel = kernel
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = _same_padding(x.shape[-2], self.kernel, self.stride)
        left, right = _same_padding(x.shape[-1], self.kernel, self.stride)
        x = F.pad(x, (left, right, top, bottom), value=float("-inf"))
        return F.max_pool2d(x, self.kernel, self.stride)


class SeparableConv2d(nn.Module):
    """Keras SeparableConv2D (depth multiplier 1, no bias): depthwise 3x3, then pointwise 1x1."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int) -> None:
        super().__init__()
        # stride 1 with an odd kernel: Keras 'same' padding is symmetric, kernel // 2 each side
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel, padding=kernel // 2,
                                   groups=in_channels, bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class ResidualBlock(nn.Module):
    """Two separable convolutions and a 3x3/2 max-pool, plus a strided 1x1 shortcut."""

    def __init__(self, in_channels: int, out_channels: int, bn_epsilon: float) -> None:
        super().__init__()
        # registration order follows the Keras layer order; keras_import relies on it
        self.sep1 = SeparableConv2d(in_channels, out_channels, 3)
        self.bn1 = nn.BatchNorm2d(out_channels, eps=bn_epsilon)
        self.sep2 = SeparableConv2d(out_channels, out_channels, 3)
        self.bn2 = nn.BatchNorm2d(out_channels, eps=bn_epsilon)
        # a 1x1 kernel with stride 2 never needs 'same' padding
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1, stride=2, bias=False)
        self.shortcut_bn = nn.BatchNorm2d(out_channels, eps=bn_epsilon)
        self.pool = SameMaxPool2d(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.sep1(x)))
        y = self.pool(self.bn2(self.sep2(y)))
        return y + self.shortcut_bn(self.shortcut(x))


class MiniXception(nn.Module):
    """Input (N, C, H, W) preprocessed face crops; output (N, num_classes) logits."""

    def __init__(self, in_channels: int, num_classes: int, stem_channels: int,
                 block_channels: Sequence[int], bn_epsilon: float) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, stem_channels, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_channels, eps=bn_epsilon)
        self.conv2 = nn.Conv2d(stem_channels, stem_channels, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(stem_channels, eps=bn_epsilon)
        widths = [stem_channels, *block_channels]
        self.blocks = nn.ModuleList(
            ResidualBlock(a, b, bn_epsilon) for a, b in zip(widths, widths[1:])
        )
        self.head = nn.Conv2d(widths[-1], num_classes, 3, padding=1)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        for block in self.blocks:
            x = block(x)
        return self.head(x).mean(dim=(2, 3))
