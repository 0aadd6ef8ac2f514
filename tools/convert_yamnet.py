"""Make models/cry-yamnet from Google's int8 YAMNet TFLite file, without TensorFlow.

    python tools/convert_yamnet.py [--tflite PATH] [--licence PATH] [--out DIR]

Walks the graph's operators, checks they are the layout monitor/scoring/yamnet_net.py builds
(STFT front end, stem conv, MobileNet-v1 separable blocks, mean, linear, logistic), dequantises
the int8 weights with their per-channel scales and the int32 biases with theirs, and keeps the
graph's own front-end constants (Hann window, mel matrix, log offset, the log-mel patch's int8
range). Writes weights.pt (a float32 state_dict), card.json, labels.txt (the graph's embedded
label list) and LICENSE. Running it again gives the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tflite
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.errors import MonitorError  # noqa: E402
from monitor.paths import DEFAULT_CRY_MODEL_DIR  # noqa: E402
from monitor.scoring.card import CARD_FILE, Licence, Source, TrainingData, WeightsSpec  # noqa: E402
from monitor.scoring.cry_card import (  # noqa: E402
    AudioInputSpec, CryCard, CryOutputSpec, CueClass, FrontEnd, YamnetArchitecture,
)

SHARED = REPO.parent / "shared" / "data" / "weights" / "yamnet"
DEFAULT_TFLITE = SHARED / "yamnet_audio_classifier_with_metadata.tflite"
DEFAULT_LICENCE = SHARED / "LICENSE"
WEIGHTS_FILE = "weights.pt"
LABELS_FILE = "labels.txt"
LICENCE_FILE = "LICENSE"

# Not in the graph: YAMNet's training rate and Google's streaming hop (research/audioset/yamnet).
SAMPLE_RATE_HZ = 16000
HOP_S = 0.48
MEL_MIN_HZ, MEL_MAX_HZ = 125.0, 7500.0
CUE = ((20, "Baby cry, infant cry"), (19, "Crying, sobbing"), (21, "Whimper"))

_OPS = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
_RELU6 = tflite.ActivationFunctionType.RELU6
_SAME = tflite.Padding.SAME


@dataclass
class Conversion:
    state_dict: OrderedDict[str, torch.Tensor]
    architecture: YamnetArchitecture
    front_end: FrontEnd
    window_samples: int
    labels: bytes


class TfliteGraph:
    """The one subgraph of a .tflite file: operators in order, tensors as NumPy arrays."""

    def __init__(self, data: bytes) -> None:
        try:
            self.model = tflite.Model.GetRootAsModel(data, 0)
            self.graph = self.model.Subgraphs(0)
            self.ops = [self.graph.Operators(i) for i in range(self.graph.OperatorsLength())]
        except Exception as exc:  # the flatbuffer parser raises whatever it trips over
            raise MonitorError(f"not a TFLite model ({type(exc).__name__}: {exc})") from None

    def kind(self, op: tflite.Operator) -> str:
        code = self.model.OperatorCodes(op.OpcodeIndex())
        return _OPS.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "?")

    def tensor(self, index: int) -> tflite.Tensor:
        return self.graph.Tensors(int(index))

    def constant(self, index: int) -> np.ndarray:
        tensor = self.tensor(index)
        raw = self.model.Buffers(tensor.Buffer()).DataAsNumpy()
        if isinstance(raw, int):
            raise MonitorError(f"tensor {tensor.Name().decode()} has no stored values")
        dtype = {tflite.TensorType.FLOAT32: "<f4", tflite.TensorType.INT32: "<i4",
                 tflite.TensorType.INT8: "i1"}[tensor.Type()]
        return np.frombuffer(raw.tobytes(), dtype=dtype).reshape(tensor.ShapeAsNumpy())

    def dequantised(self, index: int) -> np.ndarray:
        """real = scale * (q - zero_point), scales along the tensor's quantised dimension."""
        values = self.constant(index).astype(np.float64)
        quant = self.tensor(index).Quantization()
        scale, zero = quant.ScaleAsNumpy(), quant.ZeroPointAsNumpy()
        shape = [1] * values.ndim
        if scale.size > 1:
            shape[quant.QuantizedDimension()] = scale.size
        return (values - zero.reshape(shape)) * scale.reshape(shape)

    def int8_range(self, index: int) -> tuple[float, float]:
        """The real values an int8 activation tensor can hold."""
        quant = self.tensor(index).Quantization()
        scale, zero = float(quant.Scale(0)), int(quant.ZeroPoint(0))
        return (-128 - zero) * scale, (127 - zero) * scale


def _conv_options(graph: TfliteGraph, op: tflite.Operator) -> tuple[int, int]:
    """(stride, depth_multiplier) after checking padding SAME, ReLU6, no dilation, square stride."""
    raw = op.BuiltinOptions()
    depthwise = graph.kind(op) == "DEPTHWISE_CONV_2D"
    options = tflite.DepthwiseConv2DOptions() if depthwise else tflite.Conv2DOptions()
    options.Init(raw.Bytes, raw.Pos)
    if (options.Padding() != _SAME or options.FusedActivationFunction() != _RELU6
            or options.StrideH() != options.StrideW()
            or options.DilationHFactor() != 1 or options.DilationWFactor() != 1):
        raise MonitorError(f"operator {graph.kind(op)} is not a SAME/ReLU6/undilated convolution")
    return options.StrideH(), options.DepthMultiplier() if depthwise else 1


def _expect(graph: TfliteGraph, ops: list[tflite.Operator],
            kinds: list[str]) -> list[tflite.Operator]:
    found = [graph.kind(op) for op in ops[:len(kinds)]]
    if found != kinds:
        raise MonitorError(f"unexpected graph: operators {found}, expected {kinds}")
    return ops[len(kinds):]


def _front_end(graph: TfliteGraph,
               state: OrderedDict[str, torch.Tensor]) -> tuple[FrontEnd, int, list]:
    """The STFT/mel constants of the first operators; returns the remaining operators too."""
    ops = graph.ops
    window_samples = int(graph.tensor(ops[0].Inputs(0)).ShapeAsNumpy()[-1])
    rest = _expect(graph, ops, ["STRIDED_SLICE", "RESHAPE", "GATHER", "RESHAPE", "MUL", "PAD",
                                "RESHAPE", "RFFT2D", "RESHAPE", "COMPLEX_ABS", "FULLY_CONNECTED",
                                "LOG", "RESHAPE", "QUANTIZE", "RESHAPE", "SPLIT"])
    chunk = int(graph.tensor(ops[1].Outputs(0)).ShapeAsNumpy()[-1])  # samples per framing chunk
    gather = graph.constant(ops[2].Inputs(1))  # (frames, chunks per frame) chunk indices
    window = graph.constant(ops[4].Inputs(1))
    fft_length = int(graph.constant(ops[7].Inputs(1))[-1])
    mel_matrix = graph.constant(ops[10].Inputs(1))
    mel_offset = graph.constant(ops[10].Inputs(2))
    low, high = graph.int8_range(ops[13].Outputs(0))

    frame_length, frame_step = gather.shape[1] * chunk, int(gather[1, 0] - gather[0, 0]) * chunk
    n = np.arange(frame_length)
    if np.abs(window - (0.5 - 0.5 * np.cos(2 * np.pi * n / frame_length))).max() > 1e-5:
        raise MonitorError("the graph's STFT window is not a periodic Hann window")
    if len(set(mel_offset.tolist())) != 1:
        raise MonitorError("the graph's mel offset is not one constant")
    bins = np.nonzero(mel_matrix.any(axis=0))[0] * SAMPLE_RATE_HZ / fft_length
    if bins.min() < MEL_MIN_HZ or bins.max() > MEL_MAX_HZ:
        raise MonitorError(f"the graph's mel matrix spans {bins.min()}-{bins.max()} Hz, "
                           f"not within {MEL_MIN_HZ}-{MEL_MAX_HZ} Hz")
    state["frontend.window"] = torch.from_numpy(window.copy())
    state["frontend.mel_matrix"] = torch.from_numpy(mel_matrix.copy())
    state["frontend.mel_offset"] = torch.from_numpy(mel_offset.copy())
    state["frontend.patch_range"] = torch.tensor([low, high], dtype=torch.float32)
    front_end = FrontEnd(
        frame_length=frame_length, frame_step=frame_step, fft_length=fft_length,
        window="periodic_hann", mel_bands=mel_matrix.shape[0], mel_min_hz=MEL_MIN_HZ,
        mel_max_hz=MEL_MAX_HZ, log_offset=float(mel_offset[0]), patch_frames=gather.shape[0],
    )
    return front_end, window_samples, rest


def _put(state: OrderedDict[str, torch.Tensor], name: str, values: np.ndarray) -> None:
    state[name] = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))


def convert(data: bytes) -> Conversion:
    """The float32 state_dict and card parts of a YAMNet .tflite file, or a MonitorError."""
    graph = TfliteGraph(data)
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    front_end, window_samples, ops = _front_end(graph, state)

    stem, ops = ops[0], _expect(graph, ops, ["CONV_2D"])
    stem_stride, _ = _conv_options(graph, stem)
    _put(state, "stem.weight", graph.dequantised(stem.Inputs(1)).transpose(0, 3, 1, 2))  # OHWI
    _put(state, "stem.bias", graph.dequantised(stem.Inputs(2)))
    blocks = []
    while ops and graph.kind(ops[0]) == "DEPTHWISE_CONV_2D":
        depthwise, pointwise = ops[0], ops[1]
        ops = _expect(graph, ops, ["DEPTHWISE_CONV_2D", "CONV_2D"])
        stride, multiplier = _conv_options(graph, depthwise)
        if multiplier != 1 or _conv_options(graph, pointwise)[0] != 1:
            raise MonitorError("a separable block with a depth multiplier or a strided 1x1 conv")
        i = len(blocks)
        dw = graph.dequantised(depthwise.Inputs(1))  # (1, kh, kw, channels)
        pw = graph.dequantised(pointwise.Inputs(1))  # (out, 1, 1, in)
        _put(state, f"blocks.{i}.depthwise.weight", dw.transpose(3, 0, 1, 2))
        _put(state, f"blocks.{i}.depthwise.bias", graph.dequantised(depthwise.Inputs(2)))
        _put(state, f"blocks.{i}.pointwise.weight", pw.transpose(0, 3, 1, 2))
        _put(state, f"blocks.{i}.pointwise.bias", graph.dequantised(pointwise.Inputs(2)))
        blocks.append((stride, pw.shape[0]))
    mean, classifier = ops[0], ops[1]
    _expect(graph, ops, ["MEAN", "FULLY_CONNECTED", "LOGISTIC", "DEQUANTIZE"])
    if sorted(graph.constant(mean.Inputs(1)).tolist()) != [1, 2]:
        raise MonitorError("the graph's MEAN does not average over height and width")
    _put(state, "classifier.weight", graph.dequantised(classifier.Inputs(1)))
    _put(state, "classifier.bias", graph.dequantised(classifier.Inputs(2)))

    architecture = YamnetArchitecture(
        name="yamnet_mobilenet_v1", stem_channels=int(state["stem.weight"].shape[0]),
        stem_stride=stem_stride, blocks=tuple(blocks), activation="relu6",
        padding="tensorflow_same",
    )
    return Conversion(state, architecture, front_end, window_samples, _embedded_labels(data))


def _embedded_labels(data: bytes) -> bytes:
    """The label list the TFLite metadata carries (a zip archive appended to the flatbuffer)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if n.endswith(".txt")]
            if len(names) != 1:
                raise MonitorError(f"expected one label file in the metadata, found {names}")
            return archive.read(names[0])
    except zipfile.BadZipFile:
        raise MonitorError("the model file carries no label list in its metadata") from None


def state_dict_bytes(state_dict: OrderedDict[str, torch.Tensor]) -> bytes:
    """torch.save into memory: fixed archive name and record order: equal weights, equal bytes."""
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    return buffer.getvalue()


def build_card(conversion: Conversion, weights: bytes, tflite_sha256: str) -> CryCard:
    labels = conversion.labels.decode("utf-8").splitlines()
    return CryCard(
        name="cry-yamnet",
        version="1.0.0",
        architecture=conversion.architecture,
        input=AudioInputSpec(
            sample_rate_hz=SAMPLE_RATE_HZ, channels=1, dtype="float32", value_range=(-1.0, 1.0),
            window_samples=conversion.window_samples, hop_s=HOP_S,
        ),
        front_end=conversion.front_end,
        output=CryOutputSpec(
            activation="logistic", classes=int(conversion.state_dict["classifier.bias"].numel()),
            labels_file=LABELS_FILE, labels_sha256=hashlib.sha256(conversion.labels).hexdigest(),
            cue=tuple(CueClass(index=i, label=labels[i]) for i, _ in CUE),
        ),
        weights=WeightsSpec(
            file=WEIGHTS_FILE, sha256=hashlib.sha256(weights).hexdigest(),
            format="torch_state_dict", dtype="float32",
            parameters=sum(t.numel() for k, t in conversion.state_dict.items()
                           if not k.startswith("frontend.")),
        ),
        training_data=TrainingData(
            dataset="AudioSet", population="YouTube sound clips labelled with 521 sound classes",
            notes="not trained or validated on NICU or cot-side recordings",
        ),
        intended_use=(
            "Cry cue for the bedside monitor: scores of 'Baby cry, infant cry', 'Crying, sobbing' "
            "and 'Whimper' per 0.975 s window of the cot microphone or a recording's sound track."
        ),
        limitations=(
            "A general sound classifier: its scores are not probabilities that an infant in a NICU "
            "cries; calibrate and validate on local recordings before trusting them.",
            "A float32 port of an int8 model: scores differ slightly from Google's TFLite runtime "
            "(the shipped tests bound the difference against the runtime's reference outputs).",
            "Trained on YouTube audio, not cot-side microphones; a neighbouring cot's cry, a TV or "
            "a recording played in the room score like a cry.",
        ),
        licence=Licence(
            spdx="Apache-2.0", copyright="Copyright 2020 The TensorFlow Authors",
            project="YAMNet (tensorflow/models research/audioset/yamnet)", notice_file=LICENCE_FILE,
        ),
        source=Source(
            url="https://github.com/tensorflow/tflite-support/tree/master/"
                "tensorflow_lite_support/cc/test/testdata/task/audio",
            file="yamnet_audio_classifier_with_metadata.tflite", sha256=tflite_sha256,
            framework="TensorFlow Lite (int8 weights and activations, with metadata)",
            converted_with="tools/convert_yamnet.py",
        ),
    )


LICENCE_NOTE = """
------------------------------------------------------------------------------
Weights converted to PyTorch from yamnet_audio_classifier_with_metadata.tflite
(tensorflow/tflite-support, tensorflow_lite_support/cc/test/testdata/task/audio/) by
tools/convert_yamnet.py: the int8 weights were dequantised to float32; labels.txt is the
label list embedded in that file. No other change.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tflite", type=Path, default=DEFAULT_TFLITE, help="YAMNet .tflite file")
    parser.add_argument("--licence", type=Path, default=DEFAULT_LICENCE, help="its Apache-2.0 text")
    parser.add_argument("--out", type=Path, default=DEFAULT_CRY_MODEL_DIR, help="folder to write")
    args = parser.parse_args(argv)
    try:
        data = args.tflite.read_bytes()
        licence = args.licence.read_text(encoding="utf-8")
        conversion = convert(data)
    except (OSError, MonitorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    weights = state_dict_bytes(conversion.state_dict)
    card = build_card(conversion, weights, hashlib.sha256(data).hexdigest())
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / WEIGHTS_FILE).write_bytes(weights)
    (args.out / LABELS_FILE).write_bytes(conversion.labels)
    (args.out / CARD_FILE).write_text(card.to_json(), encoding="utf-8")
    (args.out / LICENCE_FILE).write_text(licence + LICENCE_NOTE, encoding="utf-8")
    print(f"wrote {args.out}: {WEIGHTS_FILE} sha256 {card.weights.sha256}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
