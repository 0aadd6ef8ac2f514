"""The evaluation tells the truth: when the person, not the expression, predicts the label,
a random image split looks excellent and the subject-disjoint split falls to chance."""

from __future__ import annotations

import json

from monitor.cli import main


def test_identity_leak_shows_in_random_split_only(leak_set, face_cache, tmp_path):
    out = tmp_path / "leaky"
    assert main(["train", "--data", str(leak_set), "--out", str(out), "--cache", str(face_cache),
                 "--epochs", "20", "--batch-size", "16", "--folds", "3", "--device", "cpu"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["data"]["used"] == 45 and report["data"]["subjects"] == 9
    random, subjects = (report["protocols"][p]["summary"] for p in ("random", "subjects"))
    # the same people in training and test: the model recognises them, and looks excellent
    assert random["roc_auc"]["mean"] >= 0.95 and random["accuracy"]["mean"] >= 0.9, random
    # new people: nothing learned transfers; chance, within the spread of three folds
    assert subjects["roc_auc"]["mean"] <= 0.75 and subjects["accuracy"]["mean"] <= 0.75, subjects
    lo, hi = subjects["roc_auc"]["ci95"]
    assert lo <= 0.5 <= hi
    assert random["roc_auc"]["mean"] - subjects["roc_auc"]["mean"] >= 0.25
    text = (out / "report.md").read_text()
    assert "| metric | subjects | random |" in text and "Random split minus subject-disjoint" in text
