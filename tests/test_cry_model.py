"""The cry model (YAMNet port) against Google's runtime, ESC-10 cries, speech, damaged folders."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from math import gcd
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from scipy.signal import resample_poly
from sklearn.metrics import roc_auc_score

from monitor.config import ScoringSettings
from monitor.errors import MonitorError
from monitor.paths import DEFAULT_CRY_MODEL_DIR
from monitor.scoring.cry import CryScorer, build_cry_network, load_cry_model, split_windows
from monitor.scoring.cry_card import read_cry_card
from tools.convert_yamnet import TfliteGraph

REPO_ROOT = Path(__file__).resolve().parent.parent
BABY_CRY = 20
CUE_THRESHOLD = 0.5


def decode_16k_mono(path: Path) -> np.ndarray:
    """Any audio file -> float32 mono at 16 kHz, resampled as the reference figures were."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        to_float = av.AudioResampler(format="flt", layout="mono", rate=rate)
        frames = [f for packet in container.decode(stream) for f in to_float.resample(packet)]
        frames += to_float.resample(None)
    samples = np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float64)
    g = gcd(16000, rate)
    return resample_poly(samples, 16000 // g, rate // g).astype(np.float32)


@pytest.fixture(scope="module")
def scorer() -> CryScorer:
    return CryScorer(ScoringSettings(device="cpu"))


@pytest.fixture(scope="module")
def reference(shared_data):
    return np.load(shared_data / "weights" / "yamnet" / "yamnet_reference.npz")


@pytest.fixture(scope="module")
def esc10(shared_data) -> list[tuple[str, bool, np.ndarray]]:
    folder = shared_data / "audio" / "esc10"
    with open(folder / "clips.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return [(r["filename"], r["is_infant_cry"] == "1", decode_16k_mono(folder / r["filename"]))
            for r in rows]


def _logit_quantisation(shared_data) -> tuple[float, int]:
    """Scale and zero point of the int8 graph's logits (the last FULLY_CONNECTED's output)."""
    data = (shared_data / "weights" / "yamnet" /
            "yamnet_audio_classifier_with_metadata.tflite").read_bytes()
    graph = TfliteGraph(data)
    fc = [op for op in graph.ops if graph.kind(op) == "FULLY_CONNECTED"][-1]
    quant = graph.tensor(fc.Outputs(0)).Quantization()
    return float(quant.Scale(0)), int(quant.ZeroPoint(0))


def test_port_matches_the_tflite_runtime_within_its_int8_resolution(scorer, reference, shared_data):
    """The runtime rounds each logit to a step of `scale` before its sigmoid, so a score can move
    by up to (scale / 2) * max sigmoid slope (1/4), plus half its 1/256 output step; the float
    port must stay within that, and no cry decision may flip."""
    scale, _ = _logit_quantisation(shared_data)
    tolerance = scale / 2 * 0.25 + 0.5 / 256
    scores = scorer.score_windows(reference["waveforms"])
    diff = np.abs(scores - reference["scores"])
    print(f"max |diff| all classes {diff.max():.4f}, class 20 {diff[:, BABY_CRY].max():.4f}, "
          f"tolerance {tolerance:.4f}")
    assert diff.max() <= tolerance
    for threshold in (0.1, 0.3, CUE_THRESHOLD):
        port = scores[:, BABY_CRY] >= threshold
        assert (port == (reference["scores"][:, BABY_CRY] >= threshold)).all(), threshold
    assert (scores.argmax(axis=1) == reference["scores"].argmax(axis=1)).mean() >= 0.9


def test_port_with_the_runtimes_output_rounding_gives_its_scores(reference, shared_data):
    """What remains after the graph's own int8 output stage is applied to the port's logits is
    the int8 arithmetic inside the network: it must not change the infant-cry score at all."""
    scale, zero = _logit_quantisation(shared_data)
    net = load_cry_model(DEFAULT_CRY_MODEL_DIR, torch.device("cpu")).net
    with torch.inference_mode():
        logits = net.logits(torch.from_numpy(reference["waveforms"])).numpy()
    steps = np.clip(np.round(logits / scale) + zero, -128, 127) - zero
    emulated = np.minimum(np.round(256 / (1 + np.exp(-steps * scale))), 255) / 256
    diff = np.abs(emulated - reference["scores"])
    assert diff[:, BABY_CRY].max() < 1e-6
    assert (diff < 1e-6).mean() >= 0.99


def test_esc10_cries_are_told_from_other_sounds(scorer, esc10):
    """The reference runtime separates them completely (README: AUC 1.0, lowest cry 0.08,
    highest other 0.02); the port must keep an AUC of at least 0.95."""
    labels, peaks = [], []
    for _, is_cry, samples in esc10:
        _, windows = scorer.windows(samples)
        labels.append(is_cry)
        peaks.append(float(scorer.cry_scores(windows)[:, 0].max()))
    cries = [p for p, c in zip(peaks, labels) if c]
    others = [p for p, c in zip(peaks, labels) if not c]
    auc = roc_auc_score(labels, peaks)
    print(f"AUC {auc:.3f}; lowest cry {min(cries):.3f}, highest other {max(others):.3f}")
    assert (len(cries), len(others)) == (24, 36)
    assert auc >= 0.95


def test_adult_speech_scores_low_on_every_cue_class(scorer, shared_data):
    _, windows = scorer.windows(decode_16k_mono(shared_data / "audio" / "speech.wav"))
    assert len(windows) >= 5
    assert scorer.cry_scores(windows).max() < 0.1
    assert scorer.labels[int(scorer.score_windows(windows).mean(axis=0).argmax())] == "Speech"


def test_card_names_the_cue_classes_and_the_source(scorer, shared_data):
    card = scorer.card
    assert scorer.cue_labels == ("Baby cry, infant cry", "Crying, sobbing", "Whimper")
    assert [c.index for c in card.output.cue] == [20, 19, 21]
    assert card.input.window_samples / card.input.sample_rate_hz == pytest.approx(0.975)
    assert card.input.hop_s == 0.48
    tflite = shared_data / "weights" / "yamnet" / "yamnet_audio_classifier_with_metadata.tflite"
    assert card.source.sha256 == hashlib.sha256(tflite.read_bytes()).hexdigest()
    assert card.licence.spdx == "Apache-2.0"
    labels = (shared_data / "weights" / "yamnet" / "yamnet_521_labels.txt").read_text().splitlines()
    assert scorer.labels == tuple(labels)


def test_converter_rebuilds_the_shipped_folder_byte_for_byte(tmp_path):
    result = subprocess.run([sys.executable, str(REPO_ROOT / "tools" / "convert_yamnet.py"),
                             "--out", str(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    for name in ("weights.pt", "card.json", "labels.txt", "LICENSE"):
        assert (tmp_path / name).read_bytes() == (DEFAULT_CRY_MODEL_DIR / name).read_bytes(), name


def test_windows_follow_the_stream_hop():
    starts, windows = split_windows(np.zeros(5 * 16000, dtype=np.float32))
    assert windows.shape == (9, 15600)
    np.testing.assert_allclose(starts, np.arange(9) * 0.48)
    ramp = np.arange(20000, dtype=np.float32) / 20000
    _, windows = split_windows(ramp)
    assert windows[0, 0] == ramp[0] and windows[0, -1] == ramp[15599] and windows.shape[0] == 1
    starts, windows = split_windows(np.ones(8000, dtype=np.float32))  # 0.5 s: padded, not lost
    assert starts.tolist() == [0.0] and windows[0, :8000].all() and not windows[0, 8000:].any()
    assert split_windows(np.zeros(0))[1].shape == (0, 15600)
    with pytest.raises(MonitorError, match="mono"):
        split_windows(np.zeros((2, 16000)))


def test_wrong_windows_are_refused(scorer):
    with pytest.raises(MonitorError, match=r"shape \(n, 15600\)"):
        scorer.score_windows(np.zeros((2, 16000), dtype=np.float32))
    with pytest.raises(MonitorError, match="divide int16"):
        scorer.score_windows(np.zeros((1, 15600), dtype=np.int16))
    with pytest.raises(MonitorError, match="divide int16"):
        scorer.score_windows(np.full((1, 15600), 3000.0, dtype=np.float32))
    assert scorer.score_windows(np.zeros((0, 15600), dtype=np.float32)).shape == (0, 521)


# --- damaged model folders: every refusal reaches CryScorer as a MonitorError ---

@pytest.fixture
def model_copy(tmp_path) -> Path:
    return Path(shutil.copytree(DEFAULT_CRY_MODEL_DIR, tmp_path / "cry"))


def _load(folder: Path) -> CryScorer:
    return CryScorer(ScoringSettings(cry_model_dir=folder, device="cpu"))


def _reseal(folder: Path) -> None:
    """Make the card's sha256 match the (damaged) weights, so the next check is reached."""
    card = json.loads((folder / "card.json").read_text())
    card["weights"]["sha256"] = hashlib.sha256((folder / "weights.pt").read_bytes()).hexdigest()
    (folder / "card.json").write_text(json.dumps(card))


def test_flipped_byte_in_weights_is_refused(model_copy):
    data = bytearray((model_copy / "weights.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (model_copy / "weights.pt").write_bytes(bytes(data))
    with pytest.raises(MonitorError, match="do not match the card.*convert_yamnet"):
        _load(model_copy)


def test_wrong_sha_in_card_is_refused(model_copy):
    card = json.loads((model_copy / "card.json").read_text())
    card["weights"]["sha256"] = "0" * 64
    (model_copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(MonitorError, match="sha256 .* 000000000000"):
        _load(model_copy)


def test_corrupt_weights_with_matching_sha_are_refused(model_copy):
    data = (model_copy / "weights.pt").read_bytes()
    (model_copy / "weights.pt").write_bytes(data[: len(data) // 2])
    _reseal(model_copy)
    with pytest.raises(MonitorError, match="corrupt or truncated"):
        _load(model_copy)


def test_well_formed_weights_of_another_shape_are_refused(model_copy):
    card = read_cry_card(model_copy)
    narrower = card.model_copy(update={"architecture": card.architecture.model_copy(
        update={"blocks": card.architecture.blocks[:-1] + ((1, 512),)})})
    torch.save(build_cry_network(narrower).state_dict(), model_copy / "weights.pt")
    _reseal(model_copy)
    with pytest.raises(MonitorError, match="do not fit .* wrong shape"):
        _load(model_copy)


def test_labels_that_do_not_belong_are_refused(model_copy):
    labels = (model_copy / "labels.txt").read_text().splitlines()
    labels[20], labels[21] = labels[21], labels[20]
    (model_copy / "labels.txt").write_text("\n".join(labels) + "\n")
    with pytest.raises(MonitorError, match="labels .* do not match"):
        _load(model_copy)
    card = json.loads((model_copy / "card.json").read_text())
    labels_sha256 = hashlib.sha256((model_copy / "labels.txt").read_bytes()).hexdigest()
    card["output"]["labels_sha256"] = labels_sha256
    (model_copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(MonitorError, match="cue class 20 is 'Whimper'"):
        _load(model_copy)


def test_missing_or_inconsistent_card_is_explained(tmp_path, model_copy):
    with pytest.raises(MonitorError, match="cry model folder not found"):
        _load(tmp_path / "nowhere")
    card = json.loads((model_copy / "card.json").read_text())
    card["front_end"]["patch_frames"] = 97
    (model_copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(MonitorError, match="card .* is invalid: .*96 STFT frames"):
        _load(model_copy)
    (model_copy / "card.json").unlink()
    with pytest.raises(MonitorError, match="model card missing.*convert_yamnet"):
        _load(model_copy)
