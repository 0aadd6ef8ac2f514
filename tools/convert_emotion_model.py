"""Make models/emotion-mini-xception from the Keras face_classification model (no TensorFlow).

    python tools/convert_emotion_model.py [--hdf5 PATH] [--out DIR]

Writes weights.pt (a plain float32 state_dict), card.json and LICENSE. Running it again gives
the same bytes, so the sha256 in the card proves which source made the shipped weights.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.paths import DEFAULT_MODEL_DIR  # noqa: E402
from monitor.errors import MonitorError  # noqa: E402
from monitor.scoring.card import (  # noqa: E402
    CARD_FILE, Calibration, InputSpec, Licence, ModelCard, OutputSpec, Preprocessing, Source,
    TrainingData, WeightsSpec,
)
from monitor.scoring.keras_import import Conversion, convert, read_keras_hdf5, state_dict_bytes  # noqa: E402

DEFAULT_HDF5 = REPO.parent / "shared" / "data" / "weights" / "emotion_model.hdf5"
WEIGHTS_FILE = "weights.pt"
LICENCE_FILE = "LICENSE"

# FER2013 label order, as the network was trained
LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
DISTRESS_LABELS = ("angry", "disgust", "fear", "sad")

LICENCE_TEXT = """\
MIT License

Copyright (c) 2017 Octavio Arriaga

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.

Weights converted to PyTorch from fer2013_mini_XCEPTION.102-0.66.hdf5
(https://github.com/oarriaga/face_classification) by tools/convert_emotion_model.py.
"""


def build_card(conversion: Conversion, weights_sha256: str, hdf5_sha256: str,
               keras_version: str) -> ModelCard:
    height, width, channels = conversion.input_shape
    return ModelCard(
        name="emotion-mini-xception",
        version="1.0.0",
        architecture=conversion.architecture,
        input=InputSpec(
            height=height, width=width, channels=channels,
            # what face_classification did in training and what the reference file used
            preprocessing=Preprocessing(
                color="grayscale", clip_box_to_image=True, square_box=True, margin_px=10,
                fill_value=0, interpolation="linear", divide_by=255.0, subtract=0.5,
                multiply_by=2.0,
            ),
        ),
        output=OutputSpec(
            activation="softmax", labels=LABELS, pain_labels=DISTRESS_LABELS,
            pain_score_name="distress mass: P(angry)+P(disgust)+P(fear)+P(sad)",
        ),
        calibration=Calibration(temperature=1.0, method="none: uncalibrated for pain"),
        weights=WeightsSpec(
            file=WEIGHTS_FILE, sha256=weights_sha256, format="torch_state_dict", dtype="float32",
            parameters=sum(t.numel() for t in conversion.state_dict.values() if t.is_floating_point()),
        ),
        training_data=TrainingData(
            dataset="FER2013", population="adult faces (48x48 grayscale web images)",
            test_accuracy=0.66, notes="7-class facial expression, no infants, no pain labels",
        ),
        intended_use=(
            "Stand-in pain-expression score for demonstrating and testing the monitor until a "
            "pain model is trained on local infant data; not for clinical decisions."
        ),
        limitations=(
            "An adult facial-expression proxy: the pain probability is the distress mass of an "
            "emotion classifier, not a measured pain probability.",
            "NOT validated on infants or for pain; crying, grimacing and other distress look alike.",
            "Uncalibrated (temperature 1.0); thresholds tuned on it do not transfer to other models.",
            "Trained on low-resolution adult web images; accuracy across ages, skin tones and "
            "lighting was never measured.",
            "Run `painmon train` to fit and calibrate a real pain model on annotated local data.",
        ),
        licence=Licence(
            spdx="MIT", copyright="(c) 2017 Octavio Arriaga", project="face_classification",
            notice_file=LICENCE_FILE,
        ),
        source=Source(
            url="https://github.com/oarriaga/face_classification",
            file="fer2013_mini_XCEPTION.102-0.66.hdf5", sha256=hdf5_sha256,
            framework=f"Keras {keras_version}", converted_with="tools/convert_emotion_model.py",
        ),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hdf5", type=Path, default=DEFAULT_HDF5, help="Keras model file")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR, help="model folder to write")
    args = parser.parse_args(argv)
    try:
        model = read_keras_hdf5(args.hdf5)
        conversion = convert(model)
    except MonitorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    weights = state_dict_bytes(conversion.state_dict)
    card = build_card(
        conversion,
        weights_sha256=hashlib.sha256(weights).hexdigest(),
        hdf5_sha256=hashlib.sha256(args.hdf5.read_bytes()).hexdigest(),
        keras_version=model.keras_version,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / WEIGHTS_FILE).write_bytes(weights)
    (args.out / CARD_FILE).write_text(card.to_json(), encoding="utf-8")
    (args.out / LICENCE_FILE).write_text(LICENCE_TEXT, encoding="utf-8")
    print(f"wrote {args.out}: {WEIGHTS_FILE} sha256 {card.weights.sha256}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
