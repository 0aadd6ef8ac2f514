"""MediaPipe's face mesh as a PyTorch module: a 192x192 RGB face crop -> 468 points + a face score.

Written from the layer list of MediaPipe's face_landmark.tflite (tools/convert_face_mesh.py reads
it and checks it has this shape): a strided 3x3 stem, residual blocks of a depthwise 3x3 and a
pointwise 1x1 (strided blocks add a max-pooled, zero-channel-padded skip), PReLU after every sum,
then two heads from the 6x6 map, one for the 1404 landmark values and one for the face score.
The weights are the graph's own (stored as float16 there, exactly representable in float32).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

# One layer of the card's architecture: (kind, channels_out, stride), kind one of
# "conv" (3x3 conv + PReLU, 'SAME'), "reduce" (1x1 conv + PReLU), "residual", "output" (3x3 'VALID').
Layer = tuple[str, int, int]


def _same_pad(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TensorFlow's 'SAME' padding: with stride 2 on an even size the extra pixel goes after."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class _ConvPrelu(nn.Module):
    def __init__(self, channels_in: int, channels_out: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels_in, channels_out, kernel, stride)
        self.prelu = nn.PReLU(channels_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel, stride = self.conv.kernel_size[0], self.conv.stride[0]
        return self.prelu(self.conv(_same_pad(x, kernel, stride)))


class _Residual(nn.Module):
    """prelu(skip(x) + pointwise(depthwise(x))); a strided block max-pools the skip and pads its
    channels with zeros up to `channels_out`."""

    def __init__(self, channels_in: int, channels_out: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.extra_channels = channels_out - channels_in
        self.depthwise = nn.Conv2d(channels_in, channels_in, 3, stride, groups=channels_in)
        self.pointwise = nn.Conv2d(channels_in, channels_out, 1)
        self.prelu = nn.PReLU(channels_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = F.max_pool2d(x, self.stride) if self.stride > 1 else x
        if self.extra_channels:
            skip = F.pad(skip, (0, 0, 0, 0, 0, self.extra_channels))
        if self.stride == 1:  # 'SAME' is symmetric here: the convolution pads, no copy
            inner = F.conv2d(x, self.depthwise.weight, self.depthwise.bias, 1, 1, 1, x.shape[1])
        else:
            inner = self.depthwise(_same_pad(x, 3, self.stride))
        return self.prelu(skip + self.pointwise(inner))


def _stack(layers: Sequence[Layer], channels: int) -> tuple[nn.Sequential, int]:
    modules = []
    for kind, channels_out, stride in layers:
        if kind == "conv":
            modules.append(_ConvPrelu(channels, channels_out, 3, stride))
        elif kind == "reduce":
            modules.append(_ConvPrelu(channels, channels_out, 1, stride))
        elif kind == "residual":
            modules.append(_Residual(channels, channels_out, stride))
        elif kind == "output":
            modules.append(nn.Conv2d(channels, channels_out, 3, stride))
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
        channels = channels_out
    return nn.Sequential(*modules), channels


class FaceMeshNet(nn.Module):
    """(n, 3, 192, 192) RGB in 0..1 -> (landmarks (n, points, 3) in crop pixels, face logit (n,)).

    x and y are pixels of the 192x192 crop; z is depth in the same scale, relative to the face's
    centre. The face logit's sigmoid is the mesh's own "a face is there" score.
    """

    def __init__(self, backbone: Sequence[Layer], landmark_head: Sequence[Layer],
                 face_head: Sequence[Layer]) -> None:
        super().__init__()
        self.backbone, channels = _stack(backbone, 3)
        self.landmark_head, points3 = _stack(landmark_head, channels)
        self.face_head, _ = _stack(face_head, channels)
        self.points = points3 // 3

    def forward(self, rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.backbone(rgb)
        landmarks = self.landmark_head(features).reshape(len(rgb), self.points, 3)
        return landmarks, self.face_head(features).reshape(len(rgb))
