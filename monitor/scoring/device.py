"""Where the network runs: CUDA > Apple MPS > CPU for "auto"; a forced device must exist."""

from __future__ import annotations

import os

import torch

from monitor.errors import MonitorError

# A 2-core bedside box also decodes video and paints the UI: leave one core for them. Bigger
# machines gain little beyond a few threads on a network this small.
MAX_DEFAULT_CPU_THREADS = 4


def choose_device(preference: str) -> torch.device:
    """The device for `preference` (auto|cpu|cuda|mps); a forced absent device is a MonitorError."""
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if preference == "auto":
        preference = "cuda" if cuda else "mps" if mps else "cpu"
    if preference == "cuda":
        if not cuda:
            build = "this PyTorch has no CUDA support" if torch.version.cuda is None \
                else "no CUDA GPU is visible"
            raise MonitorError(f"device 'cuda' was asked for but {build}; "
                               "set scoring.device to 'auto' or 'cpu'")
        return torch.device("cuda", torch.cuda.current_device())
    if preference == "mps":
        if not mps:
            raise MonitorError("device 'mps' was asked for but Apple MPS is not available; "
                               "set scoring.device to 'auto' or 'cpu'")
        return torch.device("mps")
    if preference == "cpu":
        return torch.device("cpu")
    raise MonitorError(f"unknown device {preference!r}: use auto, cpu, cuda or mps")


def describe_device(device: torch.device) -> str:
    """One line for the screen, the log and the session record."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"CUDA {index}: {torch.cuda.get_device_name(index)}"
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU ({torch.get_num_threads()} threads)"


def configure_cpu_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads (process-wide): `threads`, or all usable cores but one, capped."""
    if threads is None:
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        threads = min(max(usable - 1, 1), MAX_DEFAULT_CPU_THREADS)
    if threads < 1:
        raise MonitorError(f"cpu threads must be at least 1 (got {threads})")
    torch.set_num_threads(threads)
    return threads


class LoadedOnDevice:
    """What a session records of a scorer's model (its id, file hash and device); the scorer
    keeps the loaded model as `_model` with `card.model_id`, `sha256` and `device`."""

    _model: object

    @property
    def sha256(self) -> str:
        return self._model.sha256

    @property
    def name(self) -> str:
        return self._model.card.model_id

    @property
    def device(self) -> torch.device:
        return self._model.device

    @property
    def device_description(self) -> str:
        return describe_device(self.device)
