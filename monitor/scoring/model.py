"""Load a model folder (card + weights) safely: verified hash, strict shapes, eval mode.

Every refusal is a MonitorError naming the file, what is wrong and what to do, because a
monitor that silently runs the wrong or a damaged model is worse than one that will not start.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from monitor.errors import MonitorError
from monitor.scoring.card import CARD_FILE, Architecture, ModelCard, WeightsSpec, read_card
from monitor.scoring.torchvision_net import GrayTorchvision
from monitor.scoring.xception import MiniXception

_FIX = "restore the model folder or re-run tools/convert_emotion_model.py"


@dataclass(frozen=True)
class LoadedModel:
    card: ModelCard
    net: nn.Module
    sha256: str
    device: torch.device
    directory: Path


def build_network(card: ModelCard) -> nn.Module:
    """The untrained network the card's architecture describes."""
    arch = card.architecture
    if not isinstance(arch, Architecture):
        return GrayTorchvision(arch.name, len(card.output.labels))
    return MiniXception(card.input.channels, len(card.output.labels), arch.stem_channels,
                        arch.block_channels, arch.bn_epsilon)


def load_model(model_dir: Path, device: torch.device) -> LoadedModel:
    """Read the card, verify the weights file against its sha256, load strictly onto `device`."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise MonitorError(f"model folder not found: {model_dir} (check scoring.model_dir; {_FIX})")
    card = read_card(model_dir)
    net = load_verified(build_network(card), model_dir, card.weights, _FIX)
    return LoadedModel(card, net.to(device).eval(), card.weights.sha256, device, model_dir)


def load_verified(net: nn.Module, model_dir: Path, weights: WeightsSpec, fix: str) -> nn.Module:
    """`net` with the folder's weights: the file checked against the card's sha256, loaded strictly
    (every model folder: face, cry, cry detector, face mesh)."""
    path = model_dir / weights.file
    data = read_verified_weights(path, weights.sha256, fix)
    net.load_state_dict(read_state_dict(data, path, net, fix), strict=True)
    return net


def read_verified_weights(path: Path, sha256: str, fix: str) -> bytes:
    """The weights file's bytes if they hash to the card's `sha256` (also the cry model's)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MonitorError(f"cannot read model weights {path}: {exc.strerror} ({fix})") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise MonitorError(
            f"model weights {path} do not match the card: sha256 {actual[:12]}... but "
            f"{CARD_FILE} says {sha256[:12]}...; the file is damaged or belongs "
            f"to another model ({fix})"
        )
    return data


def read_state_dict(data: bytes, path: Path, net: nn.Module, fix: str) -> dict[str, torch.Tensor]:
    """`data` as a state_dict that fits `net` exactly, with finite values, or a MonitorError."""
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # any failure to unpickle/unzip means a corrupt or truncated file
        raise MonitorError(f"model weights {path} are corrupt or truncated "
                           f"({type(exc).__name__}); {fix}") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise MonitorError(f"model weights {path} are not a PyTorch state_dict; {fix}")
    _check_fits(state, net.state_dict(), path, fix)
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise MonitorError(f"model weights {path} contain NaN or infinite values "
                           f"(e.g. {bad[0]}); {fix}")
    return state


def _check_fits(state: dict[str, torch.Tensor], expected: dict[str, torch.Tensor], path: Path,
                fix: str) -> None:
    """Name what differs, so weights of another architecture are refused with a reason."""
    missing = sorted(expected.keys() - state.keys())
    unexpected = sorted(state.keys() - expected.keys())
    wrong = [f"{k} {tuple(state[k].shape)} != {tuple(expected[k].shape)}"
             for k in expected.keys() & state.keys() if state[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        parts = [f"{len(missing)} missing (e.g. {missing[0]})" if missing else "",
                 f"{len(unexpected)} unexpected (e.g. {unexpected[0]})" if unexpected else "",
                 f"{len(wrong)} wrong shape (e.g. {sorted(wrong)[0]})" if wrong else ""]
        raise MonitorError(
            f"model weights {path} do not fit the card's architecture: "
            f"{', '.join(p for p in parts if p)}; they are from another model ({fix})"
        )
