"""One fit: class-balanced loss, augmentation, early stopping on a validation split, AMP on CUDA.

The same code runs on CPU and CUDA; on CUDA the forward pass runs in float16 autocast with a
gradient scaler. The weights of the epoch with the lowest validation loss are kept.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from monitor.config import TrainingSettings
from monitor.training.augment import augment

PREDICT_BATCH = 256


@dataclass
class FitResult:
    net: nn.Module  # best weights, eval mode
    epochs_run: int
    best_epoch: int
    best_val_loss: float


def class_weights(y: np.ndarray, num_classes: int = 2) -> torch.Tensor:
    """Inverse class frequency, so the rarer class weighs as much in the loss as the common one."""
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    return torch.tensor(len(y) / (num_classes * np.maximum(counts, 1.0)), dtype=torch.float32)


def fit(net: nn.Module, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray,
        y_val: np.ndarray, settings: TrainingSettings, device: torch.device, seed: int,
        value_range: tuple[float, float], desc: str = "epochs") -> FitResult:
    """Train `net` on (x_train, y_train) (inputs (N, H, W)), stopping on the validation loss."""
    generator = torch.Generator().manual_seed(seed)
    cuda = device.type == "cuda"
    net = net.to(device)
    xt, yt = _tensor(x_train, device), torch.from_numpy(y_train).to(device)
    xv, yv = _tensor(x_val, device), torch.from_numpy(y_val).to(device)
    weights = class_weights(y_train).to(device)
    optimiser = torch.optim.AdamW(net.parameters(), lr=settings.learning_rate,
                                  weight_decay=settings.weight_decay)
    scaler = torch.amp.GradScaler("cuda", enabled=cuda)
    best = FitResult(net, 0, 0, float("inf"))
    best_state = copy.deepcopy(net.state_dict())
    bar = tqdm(range(1, settings.epochs + 1), desc=desc, unit="epoch", leave=False, disable=None)
    for epoch in bar:
        net.train()
        for batch in _batches(len(xt), settings.batch_size, generator):
            x = augment(xt[batch], generator, value_range)
            with torch.autocast(device.type, dtype=torch.float16, enabled=cuda):
                loss = F.cross_entropy(net(x).float(), yt[batch], weight=weights)
            optimiser.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimiser)
            scaler.update()
        val_loss = F.cross_entropy(_logits(net, xv, cuda), yv, weight=weights).item()
        bar.set_postfix(val_loss=f"{val_loss:.3f}")
        best.epochs_run = epoch
        if val_loss < best.best_val_loss - 1e-6:
            best.best_epoch, best.best_val_loss = epoch, val_loss
            best_state = copy.deepcopy(net.state_dict())
        elif epoch - best.best_epoch >= settings.patience:
            break
    net.load_state_dict(best_state)
    best.net = net.eval()
    return best


def predict_logits(net: nn.Module, inputs: np.ndarray, device: torch.device) -> np.ndarray:
    """(N, classes) float32 logits for preprocessed inputs (N, H, W)."""
    return _logits(net.to(device), _tensor(inputs, device), device.type == "cuda").cpu().numpy()


def _tensor(inputs: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(inputs, np.float32)).unsqueeze(1).to(device)


def _logits(net: nn.Module, x: torch.Tensor, cuda: bool) -> torch.Tensor:
    net.eval()
    out = []
    with torch.inference_mode(), torch.autocast(x.device.type, dtype=torch.float16, enabled=cuda):
        for start in range(0, len(x), PREDICT_BATCH):
            out.append(net(x[start:start + PREDICT_BATCH]).float())
    return torch.cat(out) if out else torch.empty(0, 2, device=x.device)


def _batches(n: int, size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """Shuffled index batches; a last batch of one is dropped (batch norm cannot train on it)."""
    order = torch.randperm(n, generator=generator)
    return [b for b in order.split(size) if len(b) > 1]
