"""Torchvision architectures: trained through the CLI, initialised from local files only,
and loaded by the monitor from their card."""

from __future__ import annotations

import json

import pytest
import torch
from torchvision import models

from monitor.cli import main
from monitor.config import ScoringSettings
from monitor.paths import DEFAULT_MODEL_DIR
from monitor.errors import MonitorError
from monitor.scoring import Scorer, load_model, read_card
from monitor.scoring.card import ModelCard
from monitor.training.networks import build


def test_resnet18_from_scratch_trains_and_loads(easy_set, face_cache, tmp_path):
    out = tmp_path / "resnet"
    assert main(["train", "--data", str(easy_set), "--out", str(out), "--cache", str(face_cache),
                 "--arch", "resnet18", "--init", "scratch", "--epochs", "2", "--folds", "2",
                 "--batch-size", "16", "--device", "cpu"]) == 0
    card = read_card(out)
    assert card.architecture.name == "resnet18"
    assert card.training.settings["init"] == "scratch"
    report = json.loads((out / "report.json").read_text())
    assert report["final_model"]["init"] == "scratch (random initialisation)"
    assert set(report["protocols"]) == {"subjects", "random"}
    scorer = Scorer(ScoringSettings(model_dir=out, device="cpu"), cpu_threads=1)
    assert scorer.probabilities_of_inputs(torch.zeros(3, 64, 64).numpy()).shape == (3, 2)


def test_local_imagenet_shaped_weights_initialise_all_but_the_classifier(tmp_path):
    torch.manual_seed(0)
    imagenet_like = models.resnet18(weights=None)  # 1000 classes, as a downloaded file would be
    path = tmp_path / "resnet18-local.pth"
    torch.save(imagenet_like.state_dict(), path)
    net, spec, how = build("resnet18", str(path))
    assert spec.name == "resnet18" and "120 of 122 tensors" in how  # fc.weight, fc.bias differ
    assert torch.equal(net.net.conv1.weight, imagenet_like.conv1.weight)
    with pytest.raises(MonitorError, match="belongs to another network"):
        build("mobilenet_v3_small", str(path))
    (tmp_path / "junk.pth").write_bytes(b"not a state dict")
    with pytest.raises(MonitorError, match="must be a PyTorch state_dict"):
        build("resnet18", str(tmp_path / "junk.pth"))
    with pytest.raises(MonitorError, match="not found"):
        build("resnet18", str(tmp_path / "missing.pth"))


def test_expression_init_starts_from_the_distress_mass(tmp_path):
    """The two-class head begins as the expression head's distress vs other rows."""
    net, spec, how = build("mini_xception", "expression")
    expression = load_model(DEFAULT_MODEL_DIR, torch.device("cpu")).net
    assert torch.equal(net.conv1.weight, expression.conv1.weight)
    pain = read_card(DEFAULT_MODEL_DIR).output.pain_indices
    assert torch.allclose(net.head.weight[1], expression.head.weight[pain].mean(dim=0))


def test_card_with_a_torchvision_architecture_round_trips(tmp_path):
    data = read_card(DEFAULT_MODEL_DIR).model_dump(mode="json")
    data["architecture"] = {"name": "mobilenet_v3_small"}
    data["output"].update(labels=["no_pain", "pain"], pain_labels=["pain"])
    card = ModelCard.model_validate(data)
    assert ModelCard.model_validate_json(card.to_json()) == card
    assert '"training"' not in card.to_json()  # converted cards keep their exact text
    data["architecture"] = {"name": "vgg11"}
    with pytest.raises(ValueError):
        ModelCard.model_validate(data)
