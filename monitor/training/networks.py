"""The network to train and where its weights start: expression transfer, scratch or a file.

`--init expression` starts the mini-Xception from the shipped facial-expression model: every
layer is copied, and the new two-class head starts as the mean of the expression head's
distress rows (pain) and of its other rows (no pain), so training begins from the stand-in
score rather than from noise. Nothing is ever downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import torch
from torch import nn

from monitor.config import TrainingSettings
from monitor.paths import DEFAULT_MODEL_DIR
from monitor.errors import MonitorError
from monitor.scoring.card import Architecture, TorchvisionArchitecture, read_card
from monitor.scoring.model import load_model
from monitor.scoring.torchvision_net import GrayTorchvision
from monitor.scoring.xception import MiniXception

ARCHS = get_args(TrainingSettings.model_fields["arch"].annotation)
# A weights file must fill at least this share of the network's tensors, else it is another model.
MIN_SHARE_LOADED = 0.5


def check_choice(arch: str, init: str) -> None:
    """Refuse an impossible architecture / initialisation pair before any slow work starts."""
    if arch not in ARCHS:
        raise MonitorError(f"unknown architecture {arch!r}: use one of {', '.join(ARCHS)}")
    if init == "expression" and arch != "mini_xception":
        raise MonitorError(f"--init expression needs --arch mini_xception (got {arch}); "
                           "use --init scratch or a local weights file")
    if init not in ("expression", "scratch") and not Path(init).exists():
        raise MonitorError(f"--init must be expression, scratch or a local weights file; "
                           f"not found: {init}")


def build(arch: str, init: str,
          num_classes: int = 2) -> tuple[nn.Module, Architecture | TorchvisionArchitecture, str]:
    """(network, card architecture, how it was initialised in words)."""
    check_choice(arch, init)
    if arch == "mini_xception":
        spec = read_card(DEFAULT_MODEL_DIR).architecture
        net: nn.Module = MiniXception(1, num_classes, spec.stem_channels, spec.block_channels,
                                      spec.bn_epsilon)
    else:
        spec = TorchvisionArchitecture(name=arch)
        net = GrayTorchvision(arch, num_classes)
    if init == "scratch":
        return net, spec, "scratch (random initialisation)"
    if init == "expression":
        _from_expression(net)
        return net, spec, f"expression weights of {read_card(DEFAULT_MODEL_DIR).model_id}"
    loaded, total = _from_file(net, Path(init))
    return net, spec, f"weights file {Path(init).name} ({loaded} of {total} tensors)"


def _from_expression(net: MiniXception) -> None:
    expression = load_model(DEFAULT_MODEL_DIR, torch.device("cpu"))
    state = {k: v for k, v in expression.net.state_dict().items() if not k.startswith("head.")}
    pain = expression.card.output.pain_indices
    other = [i for i in range(len(expression.card.output.labels)) if i not in pain]
    head = expression.net.head
    with torch.no_grad():
        net.load_state_dict(state, strict=False)
        for cls, rows in enumerate((other, pain)):
            net.head.weight[cls] = head.weight[rows].mean(dim=0)
            net.head.bias[cls] = head.bias[rows].mean()


def _from_file(net: nn.Module, path: Path) -> tuple[int, int]:
    """Copy every tensor whose name and shape fit (a new classifier never does); count them."""
    if path.is_dir():
        path = path / read_card(path).weights.file
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unpickling failure means this is not a state_dict file
        raise MonitorError(f"cannot read weights file {path} ({type(exc).__name__}); "
                           "it must be a PyTorch state_dict") from None
    if not isinstance(state, dict):
        raise MonitorError(f"weights file {path} is not a PyTorch state_dict")
    own = net.state_dict()
    wrapped = isinstance(net, GrayTorchvision)
    fits = {}
    for key, value in state.items():
        name = f"net.{key}" if wrapped and not key.startswith("net.") else key
        if name in own and isinstance(value, torch.Tensor) and value.shape == own[name].shape:
            fits[name] = value
    if len(fits) < MIN_SHARE_LOADED * len(own):
        raise MonitorError(f"weights file {path} fits only {len(fits)} of {len(own)} tensors of "
                           "this architecture: it belongs to another network")
    net.load_state_dict(fits, strict=False)
    return len(fits), len(own)
