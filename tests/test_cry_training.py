"""The cry detector's training and evaluation commands (issue 22), on small subsets: the split by
installation, seeded reproducible training, the shipped card, and `painmon evaluate-cry`."""

from __future__ import annotations

import csv
import dataclasses
import json

import pytest

from monitor.cli import main
from monitor.config import ScoringSettings
from monitor.paths import ASSETS_DIR, DEFAULT_CRY_DETECTOR_DIR
from monitor.scoring.card import read_json_card
from monitor.scoring.cry import CryScorer
from monitor.scoring.cry_detector import DETECTOR_FIX, CryDetectorCard
from monitor.training import cry_detector as data


@pytest.fixture(scope="module")
def material(shared_data):
    return data.training_material(shared_data, ASSETS_DIR)


def test_validation_installations_are_never_trained_on(shared_data, material):
    with open(shared_data / "audio" / "donateacry" / "clips.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    installations = {r["instance"] for r in rows}
    held_out = {c.group for c in material.validation}
    trained = {c.group for c in material.cries if c.source == "donateacry"}
    assert held_out and trained and not held_out & trained
    assert held_out | trained == installations
    assert 0.1 < len(held_out) / len(installations) < 0.3
    card = read_json_card(DEFAULT_CRY_DETECTOR_DIR, CryDetectorCard, DETECTOR_FIX)
    assert sorted(held_out) == card.training["split"]["validation"]  # the shipped model's split
    esc_trained = {c.name.split("-")[0] for c in material.cries if c.source == "esc10"}
    assert esc_trained == {str(f) for f in data.TRAIN_ESC10_CRY_FOLDS}


def test_training_is_seeded_and_its_embeddings_are_cached(material, tmp_path):
    small = dataclasses.replace(material, cries=material.cries[:3])
    scorer = CryScorer(ScoringSettings(device="cpu", cry_detector_dir=None), cpu_threads=1)
    x1, y1, counts = data.training_embeddings(small, scorer, seed=5, passes=1, cache=tmp_path)
    assert len(list(tmp_path.glob("cry-embeddings-*.npz"))) == 1
    x2, y2, _ = data.training_embeddings(small, scorer, seed=5, passes=1, cache=tmp_path)
    assert (x1 == x2).all() and (y1 == y2).all()
    assert counts["crying_windows"] > 0 and counts["other_foreground_windows"] > 0
    heads = [data.state_bytes(data.fit_head(x1, y1, seed=5, epochs=20)) for _ in range(2)]
    assert heads[0] == heads[1]


def test_evaluate_cry_on_a_small_subset(tmp_path, capsys):
    out = tmp_path / "report.json"
    assert main(["evaluate-cry", "--bands", "mulaw", "--snr", "10", "--track-s", "40",
                 "--clips", "1", "--hours", "0.02", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == report
    (condition,) = report["conditions"]
    new = condition["detector_span"]
    assert new["segments_crying"] >= 1 and new["segment_sensitivity"] >= 0.9
    assert new["window_auc"] > condition["yamnet_ema"]["window_auc"] - 0.05
    assert new["time_to_crying"]["raised"] == 1
    (false,) = report["false_crying"]
    assert false["detector_span"]["crying_alarms"] == 0
    assert report["esc10_all"]["detector_span"] >= 0.99


@pytest.mark.parametrize("args,problem", [
    (["--bands", "fm"], "unknown band fm"),
    (["--snr", "loud"], "--snr must be numbers"),
    (["--track-s", "5"], "--track-s must be at least 10 s"),
])
def test_evaluate_cry_refuses_bad_input(args, problem, capsys):
    assert main(["evaluate-cry", *args]) == 2
    assert problem in capsys.readouterr().err
