"""Scoring: model cards and loading, device choice, preprocessing, batched pain probabilities.

`keras_import` (needs h5py) is only for tools/convert_emotion_model.py and is not imported here.
"""

from monitor.scoring.card import ModelCard, read_card
from monitor.scoring.device import choose_device, configure_cpu_threads, describe_device
from monitor.scoring.model import LoadedModel, load_model
from monitor.scoring.preprocess import Box, face_input
from monitor.scoring.scorer import ModelOutputError, Scorer

__all__ = [
    "Box", "LoadedModel", "ModelCard", "ModelOutputError", "Scorer", "choose_device",
    "configure_cpu_threads", "describe_device", "face_input", "load_model", "read_card",
]
