"""Face augmentations, on the device, on already preprocessed inputs.

Only changes a face plausibly shows between photos: a mirror image (expressions are close to
symmetric), a small roll, zoom and shift (the detector's box jitters), brightness and contrast
(incubator lighting). No vertical flips or large rotations: faces are upright to the detector.
Random numbers come from a CPU generator so a seed gives the same run on every device.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MAX_ROLL_DEG = 10.0
ZOOM = (0.9, 1.1)
MAX_SHIFT = 0.06  # of the crop side
BRIGHTNESS = 0.1  # of the input range
CONTRAST = (0.8, 1.2)


def augment(x: torch.Tensor, generator: torch.Generator, value_range: tuple[float, float]) -> torch.Tensor:
    """A randomly changed copy of the batch x (N, C, H, W), kept inside `value_range`."""
    n = x.shape[0]

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return (lo + (hi - lo) * torch.rand(n, generator=generator)).to(x.device)

    angle = uniform(-MAX_ROLL_DEG, MAX_ROLL_DEG) * (math.pi / 180.0)
    zoom = 1.0 / uniform(*ZOOM)
    mirror = torch.where(uniform(0.0, 1.0) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) * zoom, torch.sin(angle) * zoom
    theta = torch.stack([
        torch.stack([cos * mirror, -sin, uniform(-2 * MAX_SHIFT, 2 * MAX_SHIFT)], dim=1),
        torch.stack([sin * mirror, cos, uniform(-2 * MAX_SHIFT, 2 * MAX_SHIFT)], dim=1),
    ], dim=1).to(x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
    lo, hi = value_range
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    contrast = uniform(*CONTRAST).view(n, 1, 1, 1).to(x.dtype)
    brightness = (uniform(-BRIGHTNESS, BRIGHTNESS) * (hi - lo)).view(n, 1, 1, 1).to(x.dtype)
    return ((out - mean) * contrast + mean + brightness).clamp(lo, hi)
