"""Train on the generated COPE set through the command line; the model card drives the monitor."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from monitor.cli import main
from monitor.config import ScoringSettings, VisionSettings, load
from monitor.packets import FaceStatus, FramePacket
from monitor.scoring import Scorer, face_input, load_model, read_card
from monitor.training.crossval import train_once
from monitor.training.metrics import METRICS
from monitor.training.pipeline import prepare
from monitor.vision.finder import FaceFinder

PROTOCOLS = ("subjects", "random")


@pytest.fixture(scope="module")
def report(easy_model: Path) -> dict:
    return json.loads((easy_model / "report.json").read_text())


def test_pain_is_separated_on_unseen_subjects(report):
    subjects = report["protocols"]["subjects"]
    assert subjects["summary"]["roc_auc"]["mean"] > 0.9, subjects["summary"]["roc_auc"]
    assert subjects["summary"]["accuracy"]["mean"] > 0.8
    fold_of: dict[str, set[int]] = {}
    for p in subjects["predictions"]:
        fold_of.setdefault(p["subject"], set()).add(p["fold"])
    assert len(fold_of) == 8 and all(len(f) == 1 for f in fold_of.values()), "a subject in two folds"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_report_holds_every_metric(report, protocol):
    result = report["protocols"][protocol]
    assert result["folds"] == 3 and len(result["fold_results"]) == 3
    for metric in (*METRICS, "brier_uncalibrated", "ece_uncalibrated"):
        stat = result["summary"][metric]
        assert len(stat["values"]) == 3 and stat["sd"] is not None, metric
        lo, hi = stat["ci95"]
        assert 0.0 <= lo <= stat["mean"] <= hi <= 1.0, (metric, stat)
    assert np.sum(result["confusion_total"]) == report["data"]["used"] == 48
    assert len(result["predictions"]) == 48
    for fold in result["fold_results"]:
        assert fold["temperature"] > 0 and fold["n_val"] > 0 and fold["n_train"] > fold["n_val"]
        assert set(fold["metrics"]) >= set(METRICS) and set(fold["uncalibrated"]) >= set(METRICS)


def test_report_lists_what_was_left_out_and_read_differently(easy_model, report):
    left_out = {f["file"]: f["reason"] for f in report["data"]["left_out"]}
    assert set(left_out) == {"IMG_0001.jpg", "S03_M_hiccup_1.jpg", "notes.txt"}
    assert "unknown stimulus 'hiccup'" in left_out["S03_M_hiccup_1.jpg"]
    corrections = "\n".join(report["data"]["corrections"])
    for variant in ("'friciton' read as 'friction'", "'succrose' read as 'sucrose'",
                    "'pain2' read as 'pain_2'", "S01_M_pain _3.jpg: spaces removed"):
        assert variant in corrections
    assert report["label_mapping"] == {"air": "no_pain", "friction": "no_pain", "pain": "pain",
                                       "rest": "no_pain", "sucrose": "no_pain"}
    text = (easy_model / "report.md").read_text()
    assert "| metric | subjects | random |" in text
    for needle in ("ROC AUC", "ECE before calibration", "Brier before calibration", "S03_M_hiccup_1.jpg",
                   "Random split minus subject-disjoint", "predicted pain", "(headline)"):
        assert needle in text
    for png in ("roc.png", "reliability.png"):
        assert (easy_model / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _face(shared_data: Path, name: str) -> tuple[np.ndarray, tuple]:
    image = cv2.imread(str(shared_data / "images" / name))
    seen = FaceFinder(VisionSettings()).observe(FramePacket(0.0, 0, image))
    assert seen.status == FaceStatus.SCORED, seen.reason
    return image, seen.box


def test_card_round_trips_into_the_monitor(easy_model, report, shared_data):
    card = read_card(easy_model)
    assert card.output.labels == ("no_pain", "pain") and card.output.pain_labels == ("pain",)
    assert card.calibration.temperature == pytest.approx(report["final_model"]["temperature"])
    assert card.weights.sha256 == hashlib.sha256((easy_model / "weights.pt").read_bytes()).hexdigest()
    assert card.training.label_mapping == report["label_mapping"]
    assert card.training.headline_protocol == "subjects"
    assert set(card.training.protocols) == set(PROTOCOLS)
    assert card.training.settings["pain_classes"] == ["pain", "pain_post_sucrose"]
    assert card.source.sha256 == report["data"]["manifest_sha256"]
    scorer = Scorer(ScoringSettings(model_dir=easy_model, device="cpu", batch_size=2), cpu_threads=1)
    crying, calm = _face(shared_data, "sad-baby.jpeg"), _face(shared_data, "happy-baby.jpeg")
    p_crying, p_calm = scorer.score([crying, calm])
    assert p_crying > 0.5 > p_calm, (p_crying, p_calm)
    # the Scorer applies the card's temperature to the logits
    net = load_model(easy_model, torch.device("cpu")).net
    x = torch.from_numpy(np.stack([face_input(*crying, card), face_input(*calm, card)])).unsqueeze(1)
    with torch.inference_mode():
        expected = torch.softmax(net(x) / card.calibration.temperature, dim=1).numpy()
    assert np.allclose(scorer.probabilities([crying, calm]), expected, atol=1e-5)


def test_evaluate_scores_a_set_and_writes_the_same_report(easy_model, easy_set, face_cache, tmp_path):
    out = tmp_path / "evaluation"
    assert main(["evaluate", "--model", str(easy_model), "--data", str(easy_set), "--out", str(out),
                 "--cache", str(face_cache), "--device", "cpu"]) == 0
    result = json.loads((out / "report.json").read_text())
    held_out = result["protocols"]["held_out"]
    assert held_out["summary"]["roc_auc"]["mean"] > 0.9
    assert result["settings"]["pain_classes"] == ["pain", "pain_post_sucrose"]  # from the card
    assert held_out["fold_results"][0]["temperature"] == read_card(easy_model).calibration.temperature
    assert "| metric | held_out |" in (out / "report.md").read_text()
    assert (out / "reliability.png").is_file() and (out / "roc.png").is_file()


def test_the_shipped_expression_model_can_be_evaluated_as_a_baseline(easy_set, face_cache, tmp_path):
    out = tmp_path / "baseline"
    assert main(["evaluate", "--model", "models/emotion-mini-xception", "--data", str(easy_set),
                 "--out", str(out), "--cache", str(face_cache), "--device", "cpu"]) == 0
    result = json.loads((out / "report.json").read_text())
    assert result["protocols"]["held_out"]["summary"]["roc_auc"]["mean"] > 0.8  # distress mass


def test_a_seed_gives_the_same_model(easy_set, face_cache):
    settings = load(None, {"training.epochs": 2, "training.batch_size": 16,
                           "training.cache_dir": str(face_cache), "scoring.device": "cpu"}, environ={})
    spec = read_card(Path("models/emotion-mini-xception")).input
    data, _, _ = prepare(settings, easy_set, "cope", spec, torch.device("cpu"), ("pain",), ())
    index = np.arange(len(data.y))
    runs = [train_once(data, index, "subjects", settings.training, torch.device("cpu"), 3, "t")
            for _ in range(2)]
    for a, b in zip(runs[0].net.state_dict().values(), runs[1].net.state_dict().values()):
        assert torch.equal(a, b)
    assert runs[0].temperature == runs[1].temperature


def test_bad_input_is_one_clear_line(tmp_path, easy_set, face_cache, capsys):
    def error(*args: str) -> str:
        assert main(["train", "--cache", str(face_cache), *args]) == 2
        return capsys.readouterr().err

    assert "data not found" in error("--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m"))
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "card.json").write_text("{}")
    assert "is not empty" in error("--data", str(easy_set), "--out", str(tmp_path / "used"))
    assert "needs --arch mini_xception" in error("--data", str(easy_set), "--out", str(tmp_path / "r"),
                                                 "--arch", "resnet18", "--init", "expression")
    assert "pain class(es) ['pian']" in error("--data", str(easy_set), "--out", str(tmp_path / "p"),
                                             "--pain-classes", "pian")
    assert "needs at least 9 subjects, found 8" in error("--data", str(easy_set), "--out",
                                                          str(tmp_path / "k"), "--folds", "9")
    flat = tmp_path / "flat"
    for cls in ("pain", "calm"):
        (flat / cls).mkdir(parents=True)
        for f in sorted(easy_set.glob("*rest_1.jpg" if cls == "calm" else "*pain_1.jpg")):
            (flat / cls / f.name).write_bytes(f.read_bytes())
    assert "needs subject ids" in error("--data", str(flat), "--layout", "folders", "--out",
                                        str(tmp_path / "f"))
