"""Sound -> cry scores: the YAMNet model folder loaded safely, windows of sound scored in batches.

Loading follows the face model (monitor/scoring/model.py): verified sha256, labels checked against
the card, strict state_dict shapes, the same device choice. Scores stay float32 on every device:
the network is small and the front end's log of tiny mel energies wants the precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from monitor.config import ScoringSettings
from monitor.errors import MonitorError
from monitor.scoring.cry_card import CRY_FIX, CryCard, read_cry_card, read_labels
from monitor.scoring.cry_detector import CryDetectorCard, CryHead, load_detector
from monitor.scoring.device import LoadedOnDevice, choose_device, configure_cpu_threads
from monitor.scoring.model import load_verified
from monitor.scoring.scorer import ModelOutputError
from monitor.scoring.yamnet_net import CryModel

SAMPLE_RATE_HZ = 16000
WINDOW_SAMPLES = 15600  # 0.975 s
HOP_SAMPLES = 7680  # 0.48 s

# Float samples are full scale at 1.0; resampling a clipped recording overshoots a little, but
# int16 values passed as floats (up to 32767) are far beyond this.
_MAX_ABS_SAMPLE = 2.0

__all__ = ["CryModel", "CryScorer", "LoadedCryModel", "build_cry_network", "load_cry_model",
           "split_windows", "HOP_SAMPLES", "SAMPLE_RATE_HZ", "WINDOW_SAMPLES"]


@dataclass(frozen=True)
class LoadedCryModel:
    card: CryCard
    labels: tuple[str, ...]
    net: CryModel
    sha256: str
    device: torch.device
    directory: Path


def build_cry_network(card: CryCard) -> CryModel:
    """The untrained network (and empty front-end constants) the card describes."""
    fe, arch = card.front_end, card.architecture
    return CryModel(fe.frame_length, fe.frame_step, fe.fft_length, fe.mel_bands,
                    arch.stem_channels, arch.stem_stride, arch.blocks, card.output.classes)


def load_cry_model(model_dir: Path, device: torch.device) -> LoadedCryModel:
    """Read card and labels, verify the weights against the card's sha256, load onto `device`."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise MonitorError(f"cry model folder not found: {model_dir} "
                           f"(check scoring.cry_model_dir; {CRY_FIX})")
    card = read_cry_card(model_dir)
    labels = read_labels(model_dir, card)
    net = load_verified(build_cry_network(card), model_dir, card.weights, CRY_FIX)
    return LoadedCryModel(card, labels, net.to(device).eval(), card.weights.sha256, device,
                          model_dir)


def split_windows(signal: np.ndarray, window_samples: int = WINDOW_SAMPLES,
                  hop_samples: int = HOP_SAMPLES,
                  sample_rate_hz: int = SAMPLE_RATE_HZ) -> tuple[np.ndarray, np.ndarray]:
    """(starts_s (n,) float64, windows (n, window_samples) float32) of a mono signal.

    Windows start every `hop_samples` while they fit inside the signal; a tail shorter than a
    hop is left for the next block of a stream. A signal shorter than one window (but not
    empty) gives one window at 0 s padded with silence, so a short cry is still scored.
    """
    signal = np.asarray(signal)
    if signal.ndim != 1:
        raise MonitorError(f"expected a mono signal (1-D samples), got shape {signal.shape}")
    if signal.size == 0:
        return np.zeros(0), np.zeros((0, window_samples), dtype=np.float32)
    if signal.size < window_samples:
        signal = np.pad(signal, (0, window_samples - signal.size))
    count = (signal.size - window_samples) // hop_samples + 1
    starts = np.arange(count) * hop_samples
    windows = np.lib.stride_tricks.sliding_window_view(signal, window_samples)[starts]
    return starts / sample_rate_hz, windows.astype(np.float32)


class CryScorer(LoadedOnDevice):
    """Loads the cry model (and the cry detector's head, unless scoring.cry_detector_dir is
    unset) once; scores (n, 15600) windows of 16 kHz sound in batches, one network pass for both."""

    def __init__(self, settings: ScoringSettings, cpu_threads: int | None = None) -> None:
        """`cpu_threads`: torch intra-op threads; None leaves a core free (device.py)."""
        configure_cpu_threads(cpu_threads)
        self._model = load_cry_model(settings.cry_model_dir, choose_device(settings.device))
        self._batch_size = settings.batch_size
        self._cue = [c.index for c in self.card.output.cue]
        self._detector: tuple[CryDetectorCard, CryHead] | None = None
        if settings.cry_detector_dir is not None:
            self._detector = load_detector(settings.cry_detector_dir, self._model.sha256,
                                           self._model.device)

    @property
    def detector_card(self) -> CryDetectorCard | None:
        """The cry detector's card, None when the scorer runs without one."""
        return None if self._detector is None else self._detector[0]

    @property
    def card(self) -> CryCard:
        return self._model.card

    @property
    def labels(self) -> tuple[str, ...]:
        """All class names in score order."""
        return self._model.labels

    @property
    def cue_labels(self) -> tuple[str, ...]:
        """The columns of `cry_scores`, in the card's cue order."""
        return tuple(c.label for c in self.card.output.cue)

    def windows(self, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`split_windows` with the card's window, hop and sample rate."""
        spec = self.card.input
        return split_windows(signal, spec.window_samples, round(spec.hop_s * spec.sample_rate_hz),
                             spec.sample_rate_hz)

    def score_windows(self, windows: np.ndarray) -> np.ndarray:
        """(n, classes) float32 logistic scores for (n, window_samples) float windows in -1..1."""
        return self._forward(windows)[0]

    def cry_scores(self, windows: np.ndarray) -> np.ndarray:
        """(n, len(cue)) float32: the cue classes' scores, columns as `cue_labels`."""
        return self.score_windows(windows)[:, self._cue]

    def score_cry(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(cue class scores (n, len(cue)), the detector's cry probability (n,) or None without
        a detector) from one pass of the network."""
        scores, detected, _ = self._forward(windows)
        return scores[:, self._cue], detected

    def embeddings(self, windows: np.ndarray) -> np.ndarray:
        """(n, 1024) float32: what the classifier and the detector's head read (training)."""
        return self._forward(windows)[2]

    def _forward(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        windows = self._checked(windows)
        net, n = self._model.net, len(windows)
        scores = np.empty((n, self.card.output.classes), dtype=np.float32)
        embedded = np.empty((n, net.classifier.in_features), dtype=np.float32)
        detected = None if self._detector is None else np.empty(n, dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, n, self._batch_size):
                batch = torch.from_numpy(windows[start:start + self._batch_size]).to(self.device)
                embedding = net.embedding(batch)
                end = start + len(batch)
                scores[start:end] = torch.sigmoid(net.classifier(embedding)).cpu().numpy()
                embedded[start:end] = embedding.cpu().numpy()
                if detected is not None:
                    detected[start:end] = torch.sigmoid(self._detector[1](embedding)).cpu().numpy()
        for out in (scores, detected):
            if out is not None and (not np.isfinite(out).all()
                                    or (out.size and (out.min() < 0 or out.max() > 1))):
                raise ModelOutputError("cry model output is not finite scores in 0..1 (faulty "
                                       "device or weights); restart the monitor, and if it "
                                       "persists use device 'cpu'")
        return scores, detected, embedded

    def _checked(self, windows: np.ndarray) -> np.ndarray:
        windows = np.asarray(windows)
        size = self.card.input.window_samples
        if windows.ndim != 2 or windows.shape[1] != size:
            raise MonitorError(f"cry model expects windows of shape (n, {size}), got "
                               f"{windows.shape}")
        if not np.issubdtype(windows.dtype, np.floating):
            raise MonitorError(f"cry model expects float samples in -1..1, got {windows.dtype} "
                               "(divide int16 samples by 32768)")
        windows = np.ascontiguousarray(windows, dtype=np.float32)
        if not np.isfinite(windows).all():
            raise MonitorError("sound samples contain NaN or infinity")
        if windows.size and np.abs(windows).max() > _MAX_ABS_SAMPLE:
            raise MonitorError(f"sound samples reach {np.abs(windows).max():.3g}, expected float "
                               "samples in -1..1 (divide int16 samples by 32768)")
        return windows
