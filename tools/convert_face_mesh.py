"""Make models/face-mesh from MediaPipe's face_landmark.tflite, without TensorFlow or MediaPipe.

    pip download --no-deps mediapipe==0.10.21 -d /tmp/mp
    unzip -j /tmp/mp/mediapipe-0.10.21-*.whl mediapipe/modules/face_landmark/face_landmark.tflite \
        'mediapipe-0.10.21.dist-info/LICENSE' -d /tmp/mp
    python tools/convert_face_mesh.py --tflite /tmp/mp/face_landmark.tflite --licence /tmp/mp/LICENSE

Walks the graph back from each of its two outputs (landmarks, face flag), recognising the layers
monitor/scoring/face_mesh_net.py builds (3x3 conv + PReLU, 1x1 conv + PReLU, residual
depthwise/pointwise blocks with a max-pooled, channel-padded skip, the final 'VALID' conv), and
refuses any other shape. The float16 weights become float32 exactly. Writes weights.pt,
card.json and LICENSE; running it again gives the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tflite
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.errors import MonitorError  # noqa: E402
from monitor.paths import DEFAULT_FACE_MESH_DIR  # noqa: E402
from monitor.scoring.card import CARD_FILE, Licence, Source, TrainingData, WeightsSpec  # noqa: E402
from monitor.scoring.face_mesh_card import (  # noqa: E402
    FaceMeshArchitecture, FaceMeshCard, MeshInputSpec, MeshOutputSpec,
)
from tools.convert_yamnet import state_dict_bytes  # noqa: E402

WEIGHTS_FILE = "weights.pt"
LICENCE_FILE = "LICENSE"
MEDIAPIPE_VERSION = "0.10.21"
WHEEL_PATH = "mediapipe/modules/face_landmark/face_landmark.tflite"

_OPS = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
_SAME, _VALID = tflite.Padding.SAME, tflite.Padding.VALID
_NONE = tflite.ActivationFunctionType.NONE


@dataclass
class Layer:
    kind: str  # conv | reduce | residual | output
    channels_out: int
    stride: int
    params: dict[str, np.ndarray]  # torch parameter name inside the layer -> values


class MeshGraph:
    """Operators by the tensor they produce; constants read through their DEQUANTIZE ops."""

    def __init__(self, data: bytes) -> None:
        try:
            self.model = tflite.Model.GetRootAsModel(data, 0)
            self.graph = self.model.Subgraphs(0)
            ops = [self.graph.Operators(i) for i in range(self.graph.OperatorsLength())]
        except Exception as exc:  # the flatbuffer parser raises whatever it trips over
            raise MonitorError(f"not a TFLite model ({type(exc).__name__}: {exc})") from None
        self.producer = {int(op.Outputs(0)): op for op in ops}
        self.input = int(self.graph.Inputs(0))

    def kind(self, op: tflite.Operator) -> str:
        code = self.model.OperatorCodes(op.OpcodeIndex())
        return _OPS.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "?")

    def shape(self, tensor: int) -> tuple[int, ...]:
        return tuple(int(v) for v in self.graph.Tensors(tensor).ShapeAsNumpy())

    def made_by(self, tensor: int, kind: str) -> tflite.Operator:
        op = self.producer.get(int(tensor))
        if op is None or self.kind(op) != kind:
            found = "the input" if op is None else self.kind(op)
            name = self.graph.Tensors(int(tensor)).Name().decode()
            raise MonitorError(f"unexpected graph: {name} comes from {found}, expected {kind}")
        return op

    def constant(self, tensor: int) -> np.ndarray:
        op = self.producer.get(int(tensor))
        if op is not None and self.kind(op) == "DEQUANTIZE":
            tensor = op.Inputs(0)
        t = self.graph.Tensors(int(tensor))
        dtype = {tflite.TensorType.FLOAT16: "<f2", tflite.TensorType.FLOAT32: "<f4",
                 tflite.TensorType.INT32: "<i4"}.get(t.Type())
        raw = self.model.Buffers(t.Buffer()).DataAsNumpy()
        if dtype is None or isinstance(raw, int):
            raise MonitorError(f"tensor {t.Name().decode()} is not a stored float constant")
        return np.frombuffer(raw.tobytes(), dtype=dtype).reshape(self.shape(tensor)).astype(np.float32)

    def conv(self, op: tflite.Operator, padding: int) -> tuple[np.ndarray, np.ndarray, int]:
        """(torch-layout kernel, bias, stride) of a CONV_2D or DEPTHWISE_CONV_2D, checked."""
        depthwise = self.kind(op) == "DEPTHWISE_CONV_2D"
        raw = op.BuiltinOptions()
        options = tflite.DepthwiseConv2DOptions() if depthwise else tflite.Conv2DOptions()
        options.Init(raw.Bytes, raw.Pos)
        kernel = self.constant(op.Inputs(1))  # conv: (out, kh, kw, in); depthwise: (1, kh, kw, c)
        pointwise = kernel.shape[1:3] == (1, 1)  # padding cannot matter
        if ((options.Padding() != padding and not pointwise)
                or options.FusedActivationFunction() != _NONE
                or options.StrideH() != options.StrideW()
                or options.DilationHFactor() != 1 or options.DilationWFactor() != 1
                or (depthwise and options.DepthMultiplier() != 1)):
            raise MonitorError(f"operator {self.kind(op)} has options the port does not build")
        kernel = kernel.transpose(3, 0, 1, 2) if depthwise else kernel.transpose(0, 3, 1, 2)
        return kernel, self.constant(op.Inputs(2)), options.StrideH()


def _skip_source(graph: MeshGraph, tensor: int, stride: int, channels_out: int) -> int:
    """The block input behind a residual's skip branch (x, maxpool(x) or pad(maxpool(x)))."""
    op = graph.producer.get(int(tensor))
    if op is not None and graph.kind(op) == "PAD":
        pads = graph.constant(op.Inputs(1)).astype(int).tolist()
        if pads[:3] != [[0, 0]] * 3 or pads[3][0] != 0:
            raise MonitorError("a residual skip is padded other than by channels at the end")
        tensor, op = op.Inputs(0), graph.producer.get(int(op.Inputs(0)))
    if op is not None and graph.kind(op) == "MAX_POOL_2D":
        raw = op.BuiltinOptions()
        options = tflite.Pool2DOptions()
        options.Init(raw.Bytes, raw.Pos)
        if (options.FilterHeight(), options.FilterWidth(), options.StrideH(), options.StrideW(),
                options.Padding()) != (stride, stride, stride, stride, _VALID):
            raise MonitorError("a residual skip is pooled other than by its block's stride")
        return int(op.Inputs(0))
    if stride != 1:
        raise MonitorError("a strided residual block without a pooled skip")
    return int(tensor)


def _layer_ending_at(graph: MeshGraph, tensor: int) -> tuple[Layer, int]:
    """The port's layer that produces `tensor`, and that layer's input tensor."""
    op = graph.producer.get(int(tensor))
    kind = graph.kind(op) if op is not None else "the input"
    if kind == "CONV_2D":  # a head's last layer: no activation, 'VALID'
        kernel, bias, stride = graph.conv(op, _VALID)
        return Layer("output", kernel.shape[0], stride, {"weight": kernel, "bias": bias}), int(op.Inputs(0))
    if kind != "PRELU":
        raise MonitorError(f"unexpected graph: a layer ends in {kind}")
    alpha = graph.constant(op.Inputs(1)).reshape(-1)
    inner = graph.producer.get(int(op.Inputs(0)))
    if inner is not None and graph.kind(inner) == "CONV_2D":
        kernel, bias, stride = graph.conv(inner, _SAME)
        name = "reduce" if kernel.shape[-1] == 1 else "conv"
        return Layer(name, kernel.shape[0], stride, {"conv.weight": kernel, "conv.bias": bias,
                                                     "prelu.weight": alpha}), int(inner.Inputs(0))
    add = graph.made_by(op.Inputs(0), "ADD")
    a, b = int(add.Inputs(0)), int(add.Inputs(1))
    if graph.kind(graph.producer[a]) == "CONV_2D" and graph.shape(a)[-1] == graph.shape(b)[-1]:
        a, b = b, a  # the skip branch first
    pointwise = graph.made_by(b, "CONV_2D")
    depthwise = graph.made_by(pointwise.Inputs(0), "DEPTHWISE_CONV_2D")
    pw, pw_bias, pw_stride = graph.conv(pointwise, _SAME)
    dw, dw_bias, stride = graph.conv(depthwise, _SAME)
    if pw.shape[-1] != 1 or pw_stride != 1 or dw.shape[-1] != 3:
        raise MonitorError("a residual block is not a 3x3 depthwise and an unstrided 1x1 conv")
    source = int(depthwise.Inputs(0))
    if _skip_source(graph, a, stride, pw.shape[0]) != source:
        raise MonitorError("a residual block's skip does not start at its own input")
    return Layer("residual", pw.shape[0], stride, {
        "depthwise.weight": dw, "depthwise.bias": dw_bias, "pointwise.weight": pw,
        "pointwise.bias": pw_bias, "prelu.weight": alpha}), source


def _chain(graph: MeshGraph, output: int) -> list[tuple[int, Layer]]:
    """(output tensor, layer) from the graph's input to `output`, in order."""
    layers, tensor = [], output
    while tensor != graph.input:
        layer, source = _layer_ending_at(graph, tensor)
        layers.append((tensor, layer))
        tensor = source
    return layers[::-1]


@dataclass
class Conversion:
    state_dict: OrderedDict[str, torch.Tensor]
    architecture: FaceMeshArchitecture
    input_size: int
    points: int


def convert(data: bytes) -> Conversion:
    """The float32 state_dict and architecture of MediaPipe's face_landmark.tflite."""
    graph = MeshGraph(data)
    size = graph.shape(graph.input)
    if len(size) != 4 or size[1] != size[2] or size[3] != 3:
        raise MonitorError(f"expected a square RGB input, got {size}")
    outputs = [int(graph.graph.Outputs(i)) for i in range(graph.graph.OutputsLength())]
    chains = {graph.shape(o)[-1]: _chain(graph, o) for o in outputs}
    if len(chains) != 2 or 1 not in chains:
        raise MonitorError(f"expected a landmark output and a one-value face flag, got {sorted(chains)}")
    (points3, landmarks), face = [(k, v) for k, v in chains.items() if k != 1][0], chains[1]
    if points3 % 3:
        raise MonitorError(f"landmark output of {points3} values is not (x, y, z) triples")
    shared = 0
    while landmarks[shared][0] == face[shared][0]:  # the same tensor: the shared backbone
        shared += 1
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    specs = {}
    for part, layers in (("backbone", landmarks[:shared]), ("landmark_head", landmarks[shared:]),
                         ("face_head", face[shared:])):
        for i, (_, layer) in enumerate(layers):
            for name, values in layer.params.items():
                state[f"{part}.{i}.{name}"] = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))
        specs[part] = tuple((layer.kind, layer.channels_out, layer.stride) for _, layer in layers)
    architecture = FaceMeshArchitecture(name="mediapipe_face_mesh", **specs)
    return Conversion(state, architecture, size[1], points3 // 3)


def build_card(conversion: Conversion, weights: bytes, tflite_sha256: str) -> FaceMeshCard:
    return FaceMeshCard(
        name="face-mesh",
        version="1.0.0",
        architecture=conversion.architecture,
        input=MeshInputSpec(size=conversion.input_size, color="rgb", value_range=(0.0, 1.0),
                            crop_scale=1.5),
        output=MeshOutputSpec(points=conversion.points, coordinates="crop_pixels_xyz",
                              face_flag="logit"),
        weights=WeightsSpec(file=WEIGHTS_FILE, sha256=hashlib.sha256(weights).hexdigest(),
                            format="torch_state_dict", dtype="float32",
                            parameters=sum(t.numel() for t in conversion.state_dict.values())),
        training_data=TrainingData(
            dataset="Google's face mesh training set (see the MediaPipe Face Mesh model card)",
            population="adult faces in the wild, phone cameras",
            notes="not trained or validated on infants, NICU lighting or occluded (CPAP, tube) faces",
        ),
        intended_use=("Facial geometry for the bedside monitor: mouth opening, eye opening and "
                      "brow position of the tracked face, as cues beside the expression model."),
        limitations=(
            "Trained on adults: infants' proportions differ (rounder face, eyes lower); points "
            "are checked against MTCNN's five points and the fit is judged per frame.",
            "It always draws a whole face: a covered mouth gets plausible but invented lips, so "
            "the monitor tests the lip region itself before reading the mouth as closed.",
            "Its face score says whether a face fills the crop, not whether the fit is good.",
        ),
        licence=Licence(spdx="Apache-2.0", copyright="Copyright 2019-2025 The MediaPipe Authors",
                        project="MediaPipe (google-ai-edge/mediapipe)", notice_file=LICENCE_FILE),
        source=Source(
            url=f"https://pypi.org/project/mediapipe/{MEDIAPIPE_VERSION}/",
            file=f"{WHEEL_PATH} (mediapipe=={MEDIAPIPE_VERSION} wheel)", sha256=tflite_sha256,
            framework="TensorFlow Lite (float16 weights, float32 compute)",
            converted_with="tools/convert_face_mesh.py",
        ),
    )


LICENCE_NOTE = f"""
------------------------------------------------------------------------------
Weights converted to PyTorch from {WHEEL_PATH}
(mediapipe=={MEDIAPIPE_VERSION} wheel on PyPI) by tools/convert_face_mesh.py: the float16
weights were widened to float32 and laid out for torch. No other change.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tflite", type=Path, required=True, help="face_landmark.tflite")
    parser.add_argument("--licence", type=Path, required=True, help="MediaPipe's Apache-2.0 text")
    parser.add_argument("--out", type=Path, default=DEFAULT_FACE_MESH_DIR, help="folder to write")
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
    (args.out / CARD_FILE).write_text(card.to_json(), encoding="utf-8")
    (args.out / LICENCE_FILE).write_text(licence + LICENCE_NOTE, encoding="utf-8")
    print(f"wrote {args.out}: {WEIGHTS_FILE} sha256 {card.weights.sha256}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
