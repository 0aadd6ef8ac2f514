"""Faces -> pain probabilities, batched across faces and sources, on whatever device was chosen.

The CUDA extras (half precision, pinned host memory) are switches on one code path, so the
CPU tests exercise the same batching, validation and softmax as a GPU bedside machine.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from monitor.config import ScoringSettings
from monitor.errors import RuntimeFault
from monitor.scoring.card import ModelCard
from monitor.scoring.device import LoadedOnDevice, choose_device, configure_cpu_threads
from monitor.scoring.model import load_model
from monitor.scoring.preprocess import Box, face_input

# Softmax rows sum to 1 up to float rounding; a larger gap means the device computed garbage.
SUM_TOLERANCE = 1e-3


class ModelOutputError(RuntimeFault):
    """The network produced non-finite or impossible probabilities (faulty device or weights): a
    fault at run time, not bad input."""


class Scorer(LoadedOnDevice):
    """Loads the model once; `score` turns (frame, face box) pairs into pain probabilities."""

    def __init__(self, settings: ScoringSettings, cpu_threads: int | None = None) -> None:
        """`cpu_threads`: torch intra-op threads; None leaves a core free (device.py)."""
        configure_cpu_threads(cpu_threads)
        device = choose_device(settings.device)
        self._model = load_model(settings.model_dir, device)
        self._batch_size = settings.batch_size
        on_cuda = device.type == "cuda"
        self._dtype = torch.float16 if on_cuda else torch.float32
        self._pin = on_cuda
        self._model.net.to(self._dtype)
        self._pain = self.card.output.pain_indices

    @property
    def card(self) -> ModelCard:
        return self._model.card

    def score(self, items: Sequence[tuple[np.ndarray, Box]]) -> np.ndarray:
        """(N,) float32 pain probability per (image, box): the summed pain_labels probability."""
        return self.pain_from_probabilities(self.probabilities(items))

    def probabilities(self, items: Sequence[tuple[np.ndarray, Box]]) -> np.ndarray:
        """(N, labels) float32 softmax per (image, box), in the card's label order."""
        spec = self.card.input
        inputs = np.empty((len(items), spec.height, spec.width), dtype=np.float32)
        for i, (image, box) in enumerate(items):
            inputs[i] = face_input(image, box, self.card)
        return self.probabilities_of_inputs(inputs)

    def probabilities_of_inputs(self, inputs: np.ndarray) -> np.ndarray:
        """Softmax for already preprocessed (N, height, width) inputs, batch_size at a time."""
        out = np.empty((len(inputs), len(self.card.output.labels)), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(inputs), self._batch_size):
                batch = inputs[start:start + self._batch_size]
                out[start:start + len(batch)] = self._forward(batch)
        _check(out)
        return out

    def pain_from_probabilities(self, probabilities: np.ndarray) -> np.ndarray:
        """(N,) pain probability from `probabilities` output, without a second forward pass."""
        pain = probabilities[:, self._pain].sum(axis=1)
        return np.clip(pain, 0.0, 1.0).astype(np.float32)

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(batch)).unsqueeze(1)
        if self._pin:
            x = x.pin_memory()
        x = x.to(self.device, dtype=self._dtype, non_blocking=self._pin)
        logits = self._model.net(x).float() / self.card.calibration.temperature
        return torch.softmax(logits, dim=1).cpu().numpy()


def _check(probabilities: np.ndarray) -> None:
    if not np.isfinite(probabilities).all():
        raise ModelOutputError("model output contains NaN or infinity (faulty device or weights); "
                               "restart the monitor, and if it persists use device 'cpu'")
    if probabilities.size and (probabilities.min() < 0 or probabilities.max() > 1
                               or np.abs(probabilities.sum(axis=1) - 1).max() > SUM_TOLERANCE):
        raise ModelOutputError("model output is not a probability distribution (faulty device "
                               "or weights); restart the monitor, and if it persists use device 'cpu'")
