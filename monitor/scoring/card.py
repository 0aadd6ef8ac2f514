"""The model card: everything needed to run a model folder correctly, and to know its limits.

A card travels with its weights (`card.json` beside the weights file). Preprocessing, label
meaning, calibration and the weights' sha256 live here rather than in code, so that a trained
pain model (e.g. labels ["no_pain", "pain"], pain_labels ["pain"], a fitted temperature) drops
into the same schema without code changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitor.config import describe
from monitor.errors import MonitorError

CARD_FILE = "card.json"
CARD_SCHEMA_VERSION = 1

CardT = TypeVar("CardT", bound=BaseModel)


class Strict(BaseModel):
    """A card part: unknown keys are refused (a misspelt key is an error, not a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Architecture(Strict):
    """Which network to build and its sizes; classes and input channels come from the card."""

    name: Literal["mini_xception"]
    stem_channels: int = Field(ge=1)
    block_channels: tuple[int, ...] = Field(min_length=1)
    bn_epsilon: float = Field(gt=0, description="BatchNormalization epsilon (Keras: 1e-3)")


class TorchvisionArchitecture(Strict):
    """A torchvision classifier built without downloaded weights, fed the grey face on 3 channels."""

    name: Literal["resnet18", "mobilenet_v3_small"]


class Preprocessing(Strict):
    """Face box to model input, applied in this order by monitor.scoring.preprocess.face_input.

    Box corners are rounded to whole pixels first; then (optionally) clipped to the image,
    made square about its centre (side = the longer side), grown by margin_px on every side,
    cut out with fill_value where it leaves the image, resized, and scaled:
    ((pixel / divide_by) - subtract) * multiply_by.
    """

    color: Literal["grayscale"] = Field(description="OpenCV BGR->gray (ITU-R BT.601 luma)")
    clip_box_to_image: bool
    square_box: bool
    margin_px: int = Field(ge=0)
    fill_value: int = Field(ge=0, le=255)
    interpolation: Literal["nearest", "linear", "cubic", "area"] = Field(description="OpenCV resize")
    divide_by: float = Field(gt=0)
    subtract: float
    multiply_by: float


class InputSpec(Strict):
    height: int = Field(ge=8)
    width: int = Field(ge=8)
    channels: Literal[1]
    preprocessing: Preprocessing


class OutputSpec(Strict):
    """Softmax over `labels`; the pain probability is the summed probability of `pain_labels`."""

    activation: Literal["softmax"]
    labels: tuple[str, ...] = Field(min_length=2)
    pain_labels: tuple[str, ...] = Field(min_length=1)
    pain_score_name: str = Field(min_length=1, description="what the pain probability really is")

    @model_validator(mode="after")
    def _check(self) -> "OutputSpec":
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("labels must be unique")
        unknown = set(self.pain_labels) - set(self.labels)
        if unknown:
            raise ValueError(f"pain_labels not among labels: {sorted(unknown)}")
        return self

    @property
    def pain_indices(self) -> list[int]:
        return [self.labels.index(label) for label in self.pain_labels]


class Calibration(Strict):
    temperature: float = Field(gt=0, description="logits are divided by this before the softmax")
    method: str = Field(min_length=1)


class WeightsSpec(Strict):
    file: str = Field(pattern=r"^[A-Za-z0-9._-]+$", description="file name inside the model folder")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    format: Literal["torch_state_dict"]
    dtype: Literal["float32"]
    parameters: int = Field(ge=1)


class TrainingData(Strict):
    dataset: str
    population: str
    test_accuracy: float | None = Field(None, ge=0, le=1)
    notes: str = ""


class Licence(Strict):
    spdx: str
    copyright: str
    project: str
    notice_file: str = Field(pattern=r"^[A-Za-z0-9._-]+$", description="licence text in the folder")


class Source(Strict):
    url: str
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    framework: str
    converted_with: str


class TrainingRecord(Strict):
    """What `painmon train` did: data, label mapping, protocols and their metrics, settings.

    Only trained models carry it; its layout is written by monitor.training.export.
    """

    tool: str
    data: dict[str, Any]
    label_mapping: dict[str, str]
    headline_protocol: str
    protocols: dict[str, Any]
    calibration: dict[str, Any]
    settings: dict[str, Any]


class CardBase(Strict):
    """What every model card says of its model (face, cry, cry detector, face mesh): who it is,
    its weights, what it was trained on, what it is for and not for, and under which licence.
    Each card adds what its own kind of model needs to run."""

    schema_version: Literal[1] = CARD_SCHEMA_VERSION
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    version: str = Field(min_length=1)
    weights: WeightsSpec
    training_data: TrainingData
    intended_use: str
    limitations: tuple[str, ...] = Field(min_length=1)
    licence: Licence

    @property
    def model_id(self) -> str:
        """What a session stores as the model's name."""
        return f"{self.name}@{self.version}"

    def to_json(self) -> str:
        """Stable text (field order, indent, final newline) so a regenerated card diffs clean."""
        return self.model_dump_json(indent=2) + "\n"


class ModelCard(CardBase):
    architecture: Annotated[Architecture | TorchvisionArchitecture, Field(discriminator="name")]
    input: InputSpec
    output: OutputSpec
    calibration: Calibration
    source: Source
    training: TrainingRecord | None = None

    def to_json(self) -> str:
        """Stable text (field order, indent, final newline) so a regenerated card diffs clean.

        A converted model has no training record, and its card is written without the key.
        """
        exclude = {"training"} if self.training is None else None
        return self.model_dump_json(indent=2, exclude=exclude) + "\n"


def read_card(model_dir: Path) -> ModelCard:
    """The folder's card, or a MonitorError that says what is wrong and how to fix it."""
    return read_json_card(model_dir, ModelCard,
                          "restore the model folder or re-run tools/convert_emotion_model.py")


def read_json_card(model_dir: Path, schema: type[CardT], fix: str) -> CardT:
    """`card.json` validated as `schema` (also the cry model's); `fix` ends every error message."""
    path = model_dir / CARD_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MonitorError(f"model card missing: {path} ({fix})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MonitorError(f"model card {path} is not readable JSON: {exc} ({fix})") from None
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise MonitorError(f"model card {path} is invalid: {describe(exc)} ({fix})") from None
