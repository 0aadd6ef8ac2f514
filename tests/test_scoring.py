"""Scoring against real material: the Keras reference outputs, real photos, damaged model folders."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from monitor.config import ScoringSettings
from monitor.errors import MonitorError
from monitor.paths import DEFAULT_MODEL_DIR
from monitor.scoring import (
    ModelOutputError, Scorer, choose_device, describe_device, face_input, load_model, read_card,
)
from monitor.scoring.card import ModelCard
from monitor.scoring.device import configure_cpu_threads
from monitor.scoring.model import build_network

CPU = torch.device("cpu")
REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def reference(shared_data: Path) -> dict[str, np.ndarray]:
    with np.load(shared_data / "weights" / "emotion_model_reference.npz") as z:
        return {key: z[key] for key in z.files}


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(ScoringSettings(device="cpu", batch_size=4))


@pytest.fixture(scope="module")
def faces(shared_data: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """image file -> (BGR image, MTCNN boxes) with facenet-pytorch's default settings on the CPU."""
    from facenet_pytorch import MTCNN

    mtcnn = MTCNN(device="cpu")
    found = {}
    for name in ("sad-baby.jpeg", "happy-baby.jpeg", "angry.jpg", "neutral.jpeg",
                 "surprised.jpeg", "group.jpeg"):
        image = cv2.imread(str(shared_data / "images" / name))
        boxes, _ = mtcnn.detect(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        assert boxes is not None, f"MTCNN found no face in {name}"
        found[name] = (image, boxes)
    return found


@pytest.fixture()
def model_copy(tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, target)
    return target


def _reseal(model_dir: Path) -> None:
    """Make the card's sha256 agree with whatever weights file is there now."""
    card_path = model_dir / "card.json"
    card = json.loads(card_path.read_text())
    card["weights"]["sha256"] = hashlib.sha256((model_dir / "weights.pt").read_bytes()).hexdigest()
    card_path.write_text(json.dumps(card))


# --- the port ------------------------------------------------------------------------------

def test_port_matches_keras_reference(reference):
    model = load_model(DEFAULT_MODEL_DIR, CPU)
    with torch.inference_mode():
        logits = model.net(torch.from_numpy(reference["inputs"]).unsqueeze(1))
    diff = np.abs(torch.softmax(logits, 1).numpy() - reference["outputs"]).max()
    assert diff <= 1e-4, f"max |diff| vs Keras {diff}"


def test_port_in_half_precision_stays_close(reference):
    net = load_model(DEFAULT_MODEL_DIR, CPU).net.half()
    with torch.inference_mode():
        logits = net(torch.from_numpy(reference["inputs"]).unsqueeze(1).half()).float()
    assert np.abs(torch.softmax(logits, 1).numpy() - reference["outputs"]).max() < 1e-2


def test_scorer_matches_reference_through_batches(scorer, reference):
    probabilities = scorer.probabilities_of_inputs(reference["inputs"])  # 9 inputs, batches of 4
    assert np.abs(probabilities - reference["outputs"]).max() <= 1e-4


def test_converter_reproduces_shipped_model(shared_data, tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "convert_emotion_model.py"),
         "--hdf5", str(shared_data / "weights" / "emotion_model.hdf5"), "--out", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    converted = torch.load(tmp_path / "weights.pt", weights_only=True)
    shipped = torch.load(DEFAULT_MODEL_DIR / "weights.pt", weights_only=True)
    assert list(converted) == list(shipped)
    assert all(torch.equal(converted[k], shipped[k]) for k in shipped), "the same weights"
    card, shipped_card = read_card(tmp_path), read_card(DEFAULT_MODEL_DIR)
    assert card.weights.sha256 == hashlib.sha256((tmp_path / "weights.pt").read_bytes()).hexdigest()
    assert card.model_dump(exclude={"weights": {"sha256"}}) == \
        shipped_card.model_dump(exclude={"weights": {"sha256"}})
    assert (tmp_path / "LICENSE").read_text() == (DEFAULT_MODEL_DIR / "LICENSE").read_text()
    assert load_model(tmp_path, CPU) is not None  # its own card seals it


def test_shipped_card_says_what_it_is():
    card = read_card(DEFAULT_MODEL_DIR)
    assert card.output.labels == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert card.output.pain_labels == ("angry", "disgust", "fear", "sad")
    assert card.calibration.temperature == 1.0
    assert any("NOT validated on infants" in line for line in card.limitations)
    assert card.licence.spdx == "MIT" and (DEFAULT_MODEL_DIR / card.licence.notice_file).is_file()


def test_card_schema_fits_a_binary_pain_model():
    data = read_card(DEFAULT_MODEL_DIR).model_dump(mode="json")
    data["output"].update(labels=["no_pain", "pain"], pain_labels=["pain"], pain_score_name="P(pain)")
    data["calibration"] = {"temperature": 1.7, "method": "temperature scaling on validation set"}
    card = ModelCard.model_validate(data)
    assert card.output.pain_indices == [1]
    assert build_network(card)(torch.zeros(1, 1, 64, 64)).shape == (1, 2)
    data["output"]["pain_labels"] = ["grimace"]
    with pytest.raises(ValueError, match="grimace"):
        ModelCard.model_validate(data)


# --- preprocessing -------------------------------------------------------------------------

def test_preprocessing_matches_reference_inputs(faces, reference):
    """MTCNN boxes + face_input vs the reference inputs (boxes may differ a little by version)."""
    card = read_card(DEFAULT_MODEL_DIR)
    for name, expected in zip(reference["names"], reference["inputs"]):
        image, boxes = faces[str(name).split("#")[0]]
        candidates = [face_input(image, tuple(box), card) for box in boxes]
        got = max(candidates, key=lambda x: np.corrcoef(x.ravel(), expected.ravel())[0, 1])
        assert got.shape == (64, 64) and got.dtype == np.float32
        assert np.corrcoef(got.ravel(), expected.ravel())[0, 1] > 0.99, name
        assert np.abs(got - expected).mean() < 0.02, name


def test_gray_and_bgra_frames_give_the_same_input(faces):
    card = read_card(DEFAULT_MODEL_DIR)
    image, boxes = faces["happy-baby.jpeg"]
    box = tuple(boxes[0])
    expected = face_input(image, box, card)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    for frame in (gray, gray[:, :, None], cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)):
        np.testing.assert_array_equal(face_input(frame, box, card), expected)


def test_box_past_the_edge_is_zero_filled(faces):
    card = read_card(DEFAULT_MODEL_DIR)
    image, boxes = faces["sad-baby.jpeg"]
    assert boxes[0][1] < 0  # the box starts above the image
    x = face_input(image, tuple(boxes[0]), card)
    assert (x[0] == -1.0).all()  # pixel 0 after (0/255 - 0.5) * 2


def test_box_wholly_outside_is_refused():
    card = read_card(DEFAULT_MODEL_DIR)
    with pytest.raises(ValueError, match="empty"):
        face_input(np.zeros((100, 100, 3), np.uint8), (150.0, 10.0, 200.0, 60.0), card)


# --- scoring real photos -------------------------------------------------------------------

def test_crying_and_laughing_infants(scorer, faces):
    sad, happy = faces["sad-baby.jpeg"], faces["happy-baby.jpeg"]
    pain = scorer.score([(sad[0], tuple(sad[1][0])), (happy[0], tuple(happy[1][0]))])
    assert pain[0] >= 0.9 and pain[1] <= 0.1, pain


def test_batched_and_single_scoring_agree(scorer, faces):
    items = [(image, tuple(box)) for image, boxes in faces.values() for box in boxes]
    assert len(items) == 9  # two full batches of 4 and one of 1
    batched = scorer.score(items)
    single = np.concatenate([scorer.score([item]) for item in items])
    np.testing.assert_allclose(batched, single, atol=1e-5)
    assert batched.shape == (9,) and ((batched >= 0) & (batched <= 1)).all()
    assert scorer.score([]).shape == (0,)


def test_scorer_reports_what_it_runs(scorer):
    assert scorer.name == "emotion-mini-xception@1.0.0"
    assert scorer.sha256 == read_card(DEFAULT_MODEL_DIR).weights.sha256
    assert scorer.device == CPU
    assert scorer.device_description.startswith("CPU (")


def test_invalid_output_is_refused(scorer):
    with pytest.raises(ModelOutputError, match="NaN"):
        scorer.probabilities_of_inputs(np.full((2, 64, 64), np.nan, np.float32))


# --- refusing damaged or foreign model folders ---------------------------------------------

def test_flipped_bytes_fail_the_hash(model_copy):
    weights = model_copy / "weights.pt"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(MonitorError, match="do not match the card"):
        load_model(model_copy, CPU)


def test_truncated_weights_fail_the_hash(model_copy):
    weights = model_copy / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(MonitorError, match="do not match the card"):
        load_model(model_copy, CPU)


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_weights_with_matching_hash_are_refused(model_copy, damage):
    weights = model_copy / "weights.pt"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"not a model" * 50)
    _reseal(model_copy)
    with pytest.raises(MonitorError, match="corrupt or truncated"):
        load_model(model_copy, CPU)


def test_wrong_sha_in_card_is_refused(model_copy):
    card_path = model_copy / "card.json"
    card = json.loads(card_path.read_text())
    card["weights"]["sha256"] = "0" * 64
    card_path.write_text(json.dumps(card))
    with pytest.raises(MonitorError, match="sha256 .* 000000000000"):
        load_model(model_copy, CPU)


def test_weights_of_another_architecture_are_refused(model_copy):
    card = read_card(model_copy)
    other = build_network(card.model_copy(update={
        "architecture": card.architecture.model_copy(update={"block_channels": (16, 32, 64, 96)})
    }))
    torch.save(other.state_dict(), model_copy / "weights.pt")
    _reseal(model_copy)
    with pytest.raises(MonitorError, match="do not fit .* wrong shape"):
        load_model(model_copy, CPU)


def test_missing_folder_and_card_are_explained(tmp_path, model_copy):
    with pytest.raises(MonitorError, match="model folder not found"):
        load_model(tmp_path / "nowhere", CPU)
    (model_copy / "card.json").write_text("{not json")
    with pytest.raises(MonitorError, match="not readable JSON"):
        load_model(model_copy, CPU)
    (model_copy / "card.json").write_text(json.dumps({"name": "x"}))
    with pytest.raises(MonitorError, match="card .* is invalid"):
        load_model(model_copy, CPU)
    (model_copy / "card.json").unlink()
    with pytest.raises(MonitorError, match="model card missing"):
        load_model(model_copy, CPU)


# --- devices -------------------------------------------------------------------------------

def test_cpu_device_is_described_with_the_threads_it_runs():
    before = torch.get_num_threads()
    try:
        assert configure_cpu_threads(2) == 2
        assert describe_device(choose_device("cpu")) == "CPU (2 threads)"
    finally:
        torch.set_num_threads(before)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_forcing_absent_cuda_is_a_clear_error():
    with pytest.raises(MonitorError, match="'cuda' was asked for"):
        choose_device("cuda")
    with pytest.raises(MonitorError, match="'cuda' was asked for"):
        Scorer(ScoringSettings(device="cuda"))


@pytest.mark.parametrize("cuda, mps, expected", [
    (True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda: bool, mps: bool, expected: str):
    """The machines this runs on lack most of these devices: torch's own answers are faked."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert choose_device("auto").type == expected
    assert choose_device("cpu").type == "cpu", "a forced device is taken as asked"


def test_auto_picks_a_device_this_machine_has():
    device = choose_device("auto")
    assert torch.zeros(1, device=device).device.type == device.type
