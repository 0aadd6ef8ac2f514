"""Keras 2 .hdf5 (mini-Xception) -> PyTorch state_dict, with h5py only (no TensorFlow).

The architecture is read from the file's `model_config`, checked layer by layer against the
PyTorch port (kind, filters, kernel, stride, padding, bias, epsilon), and the weights are
re-laid out from Keras HWIO to PyTorch OIHW. Needs the optional `h5py` (extra "convert").
"""

from __future__ import annotations

import io
import json
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from monitor.errors import MonitorError
from monitor.scoring.card import Architecture
from monitor.scoring.xception import MiniXception, SeparableConv2d

_WEIGHTED = ("Conv2D", "SeparableConv2D", "BatchNormalization")


@dataclass(frozen=True)
class KerasModel:
    """What the .hdf5 holds: layer configs in graph order and each layer's named arrays."""

    layers: list[dict[str, Any]]
    weights: dict[str, dict[str, np.ndarray]]
    keras_version: str


@dataclass(frozen=True)
class Conversion:
    architecture: Architecture
    input_shape: tuple[int, int, int]  # height, width, channels
    num_classes: int
    state_dict: OrderedDict[str, torch.Tensor]


def read_keras_hdf5(path: Path) -> KerasModel:
    import h5py  # optional dependency: only converting needs it

    try:
        with h5py.File(path, "r") as f:
            config = json.loads(_text(f.attrs["model_config"]))
            group = f["model_weights"]
            weights = {}
            for layer_name in map(_text, group.attrs["layer_names"]):
                layer = group[layer_name]
                weights[layer_name] = {
                    # "conv2d_1_1/kernel:0" -> "kernel"
                    name.rsplit("/", 1)[-1].removesuffix(":0"): np.asarray(layer[name])
                    for name in map(_text, layer.attrs["weight_names"])
                }
            version = _text(f.attrs.get("keras_version", "unknown"))
    except (OSError, KeyError, ValueError) as exc:
        raise MonitorError(f"{path} is not a readable Keras .hdf5 model: {exc}") from None
    return KerasModel(config["config"]["layers"], weights, version)


def _text(value: bytes | str) -> str:
    """h5py returns attributes as bytes or str depending on how Keras wrote them."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def convert(model: KerasModel) -> Conversion:
    """Check that the Keras graph is the mini-Xception the port implements; port its weights."""
    layers = [layer for layer in model.layers if layer["class_name"] != "InputLayer"]
    inputs = [layer for layer in model.layers if layer["class_name"] == "InputLayer"]
    _, height, width, channels = inputs[0]["config"]["batch_input_shape"]
    convs = [layer["config"] for layer in layers if layer["class_name"] == "Conv2D"]
    seps = [layer["config"] for layer in layers if layer["class_name"] == "SeparableConv2D"]
    bns = [layer["config"] for layer in layers if layer["class_name"] == "BatchNormalization"]
    architecture = Architecture(
        name="mini_xception",
        stem_channels=convs[0]["filters"],
        block_channels=tuple(cfg["filters"] for cfg in seps[::2]),
        bn_epsilon=bns[0]["epsilon"],
    )
    num_classes = convs[-1]["filters"]
    net = MiniXception(channels, num_classes, architecture.stem_channels,
                       architecture.block_channels, architecture.bn_epsilon)
    _check_plain_layers(layers, len(architecture.block_channels))

    keras_weighted = [layer for layer in layers if layer["class_name"] in _WEIGHTED]
    torch_weighted = list(_weighted_modules(net))
    if [_keras_spec(k) for k in keras_weighted] != [_torch_spec(m) for _, m in torch_weighted]:
        raise MonitorError("the Keras model is not the mini-Xception this port implements "
                           "(its layers differ in kind, size, stride, padding or epsilon)")
    state = net.state_dict()
    for layer, (prefix, module) in zip(keras_weighted, torch_weighted):
        for key, array in _port_layer(layer["class_name"], model.weights[layer["config"]["name"]]):
            state[f"{prefix}.{key}"] = torch.from_numpy(np.ascontiguousarray(array, np.float32))
    net.load_state_dict(state, strict=True)
    ported = OrderedDict((k, v.detach().clone().contiguous()) for k, v in net.state_dict().items())
    return Conversion(architecture, (height, width, channels), num_classes, ported)


def _check_plain_layers(layers: list[dict[str, Any]], blocks: int) -> None:
    """The weightless layers: ReLUs, 3x3/2 'same' pools, one Add per block, GAP then softmax."""
    kinds = [layer["class_name"] for layer in layers]
    pools = [layer["config"] for layer in layers if layer["class_name"] == "MaxPooling2D"]
    relus = [layer["config"]["activation"] for layer in layers[:-1] if layer["class_name"] == "Activation"]
    ok = (
        kinds[-2:] == ["GlobalAveragePooling2D", "Activation"]
        and layers[-1]["config"]["activation"] == "softmax"
        and kinds.count("Add") == blocks
        and all(p["pool_size"] == [3, 3] and p["strides"] == [2, 2] and p["padding"] == "same"
                for p in pools) and len(pools) == blocks
        and set(relus) == {"relu"}
        and set(kinds) <= {*_WEIGHTED, "Activation", "MaxPooling2D", "Add", "GlobalAveragePooling2D"}
    )
    if not ok:
        raise MonitorError("the Keras model's pooling/activation layers are not mini-Xception's")


def _weighted_modules(net: nn.Module):
    """Convolutions and batch norms in registration order (a separable conv counts as one)."""
    for name, module in net.named_modules():
        inside_separable = name.rsplit(".", 1)[-1] in ("depthwise", "pointwise")
        if isinstance(module, (SeparableConv2d, nn.BatchNorm2d)) or (
            isinstance(module, nn.Conv2d) and not inside_separable
        ):
            yield name, module


def _keras_spec(layer: dict[str, Any]) -> tuple:
    cfg = layer["config"]
    if layer["class_name"] == "BatchNormalization":
        ok = cfg["axis"] in (-1, 3) and cfg["center"] and cfg["scale"]
        return ("bn", round(cfg["epsilon"], 9), ok)
    kind = "sep" if layer["class_name"] == "SeparableConv2D" else "conv"
    ok = cfg.get("depth_multiplier", 1) == 1 and cfg["dilation_rate"] == [1, 1] \
        and cfg["activation"] == "linear"
    return (kind, cfg["filters"], tuple(cfg["kernel_size"]), tuple(cfg["strides"]),
            cfg["padding"], cfg["use_bias"], ok)


def _torch_spec(module: nn.Module) -> tuple:
    if isinstance(module, nn.BatchNorm2d):
        return ("bn", round(module.eps, 9), True)
    kind = "sep" if isinstance(module, SeparableConv2d) else "conv"
    conv = module.depthwise if kind == "sep" else module
    # 'same' is only ever stride 1 with kernel // 2, or a 1x1 kernel (no padding at all)
    padding = "valid" if conv.padding == (0, 0) and conv.kernel_size != (1, 1) else "same"
    out = module.pointwise.out_channels if kind == "sep" else module.out_channels
    return (kind, out, conv.kernel_size, conv.stride, padding, conv.bias is not None, True)


def _port_layer(kind: str, arrays: dict[str, np.ndarray]):
    """(torch key, array) pairs: HWIO -> OIHW; depthwise (kh,kw,in,1) -> (in,1,kh,kw)."""
    if kind == "BatchNormalization":
        yield "weight", arrays["gamma"]
        yield "bias", arrays["beta"]
        yield "running_mean", arrays["moving_mean"]
        yield "running_var", arrays["moving_variance"]
    elif kind == "SeparableConv2D":
        yield "depthwise.weight", arrays["depthwise_kernel"].transpose(2, 3, 0, 1)
        yield "pointwise.weight", arrays["pointwise_kernel"].transpose(3, 2, 0, 1)
    else:
        yield "weight", arrays["kernel"].transpose(3, 2, 0, 1)
        if "bias" in arrays:
            yield "bias", arrays["bias"]


def state_dict_bytes(state_dict: OrderedDict[str, torch.Tensor]) -> bytes:
    """torch.save into memory: the archive name is fixed, so equal weights give equal bytes."""
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    return buffer.getvalue()
