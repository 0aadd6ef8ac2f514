"""The cry detector: a small head trained for the cot (issue 22) on the YAMNet port's embedding.

YAMNet's own "Baby cry" class was trained on YouTube sound; at a cot its score falls through a
real cry's pauses and through a phone's or a G.711 camera's narrow band. The head reads the same
1024-d embedding the classifier reads (one pass of the network serves both) and gives one
probability per 0.975 s window that the window holds crying, trained on real cries mixed over a
synthesised NICU bed (tools/train_cry.py, monitor/training/cry_detector.py).

The folder holds `card.json` (architecture, the backbone it was trained on, the threshold, the
data, licences and figures) and `weights.pt` (the head's state_dict, sha256 in the card); loading
refuses a head whose backbone is not the loaded YAMNet, with the same clear errors as the models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import Field
from torch import nn

from monitor.errors import MonitorError
from monitor.scoring.card import CardBase, Strict, read_json_card
from monitor.scoring.model import load_verified

DETECTOR_FIX = "restore the model folder or re-run tools/train_cry.py"


class HeadArchitecture(Strict):
    """embedding -> Linear(hidden) -> ReLU -> Linear(1) -> logistic."""

    name: Literal["embedding_mlp"]
    inputs: int = Field(ge=1)
    hidden: int = Field(ge=1)


class Backbone(Strict):
    """The embedding network the head was trained on: its model id and weights' sha256."""

    model_id: str
    weights_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class DetectorOutput(Strict):
    activation: Literal["logistic"]
    meaning: str
    threshold: float = Field(gt=0, lt=1, description="a window at or above it is cry-like")


class CryDetectorCard(CardBase):
    architecture: HeadArchitecture
    backbone: Backbone
    output: DetectorOutput
    not_tested_on: tuple[str, ...] = Field(min_length=1)
    data_licences: tuple[str, ...] = Field(min_length=1)
    training: dict[str, Any]
    evaluation: dict[str, Any] = Field(default_factory=dict)


class CryHead(nn.Module):
    """(n, inputs) embeddings -> (n,) logits of "this window holds crying"."""

    def __init__(self, inputs: int, hidden: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(inputs, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, embedding: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(embedding))).squeeze(-1)


def build_head(card: CryDetectorCard) -> CryHead:
    return CryHead(card.architecture.inputs, card.architecture.hidden)


def load_detector(model_dir: Path, backbone_sha256: str, device: torch.device
                  ) -> tuple[CryDetectorCard, CryHead]:
    """The folder's card and head on `device`, refused unless trained on this backbone."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise MonitorError(f"cry detector folder not found: {model_dir} "
                           f"(check scoring.cry_detector_dir; {DETECTOR_FIX})")
    card = read_json_card(model_dir, CryDetectorCard, DETECTOR_FIX)
    if card.backbone.weights_sha256 != backbone_sha256:
        raise MonitorError(f"cry detector {model_dir} was trained on another YAMNet "
                           f"({card.backbone.model_id}, sha256 {card.backbone.weights_sha256[:12]}"
                           f"...) than scoring.cry_model_dir holds ({backbone_sha256[:12]}...); "
                           f"{DETECTOR_FIX}")
    head = load_verified(build_head(card), model_dir, card.weights, DETECTOR_FIX)
    return card, head.to(device).eval()
