"""Torchvision classifiers on the monitor's one-channel face input, never with downloaded weights.

The grey face is repeated onto the three channels these networks expect, so the card's
preprocessing (and the bedside code that applies it) stays the same for every architecture,
and ImageNet-shaped weights from a local file still fit the first convolution.
"""

from __future__ import annotations

import torch
from torch import nn


class GrayTorchvision(nn.Module):
    """Input (N, 1, H, W) preprocessed face crops; output (N, num_classes) logits."""

    def __init__(self, name: str, num_classes: int) -> None:
        super().__init__()
        from torchvision import models  # slow import: only when such a card is loaded

        self.net = models.get_model(name, weights=None, num_classes=num_classes)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.expand(-1, 3, -1, -1))
