"""Assemble a parsed deploy prototxt and caffemodel blobs into a frozen `CaffeNet` DreamModel.

Layers are built in prototxt order, inferring each blob's shape, with their weights on torch's
meta device (no memory) until the caffemodel's blobs are checked against the shapes the prototxt
implies; then they are materialised on the CPU. `forward_blobs` runs layers only up to the last
one that writes a wanted blob, so dreaming on an early layer never pays for the rest of the net.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from livedream.errors import ModelFormatError, UnknownNameError
from livedream.files import read_text
from livedream.models.base import DreamModel, Preprocess
from livedream.models.caffe.caffemodel import read_caffemodel
from livedream.models.caffe.layers import (
    INT32_MAX,
    LAYER_TYPES,
    V1_TYPES,
    CaffeLayer,
    LayerSpec,
    Shape,
    blob_shapes_match,
)
from livedream.models.caffe.prototxt import parse_prototxt

#: a prototxt may not ask for more weights than this without a caffemodel (random init)
MAX_RANDOM_PARAMETERS = 1 << 28
INPUT_TYPES = ("Input",)


class CaffeNet(DreamModel):
    """A Caffe network as a DreamModel: every top blob is a dreamable layer name."""

    def __init__(self, name: str, input_name: str, input_shape: Shape, layers: list[CaffeLayer],
                 mean_bgr: tuple[float, float, float]) -> None:
        super().__init__(name, Preprocess.caffe(mean_bgr))
        self.input_name = input_name
        self.input_shape = input_shape
        self.layers = nn.ModuleList(layers)
        self._names: list[str] = []
        self._final_step: dict[str, int] = {}  # blob -> index of the last layer writing it
        self._last_read: dict[str, int] = {}  # blob -> index of the last layer reading it
        for index, layer in enumerate(layers):
            for bottom in layer.spec.bottoms:
                self._last_read[bottom] = index
            for top in layer.spec.tops:
                if top != input_name and top not in self._final_step:
                    self._names.append(top)
                self._final_step[top] = index

    def layer_names(self) -> list[str]:
        """Every top blob in forward order (an in-place top once), without the input blob."""
        return list(self._names)

    def layer_types(self) -> dict[str, str]:
        """Caffe layer name -> type, in forward order (handy for listings)."""
        return {layer.spec.name: layer.spec.kind for layer in self.layers}

    def forward_blobs(self, x: Tensor, wanted: Collection[str]) -> dict[str, Tensor]:
        """Blobs `wanted` for preprocessed input x [B,C,H,W], running only the layers needed.

        A blob modified in place (e.g. by ReLU) is returned after its last in-place layer.
        """
        wanted = set(wanted)
        for blob in wanted:
            if blob != self.input_name and blob not in self._final_step:
                raise UnknownNameError(f"blob of model {self.name!r}", blob, self._names)
        stop = max((self._final_step.get(blob, -1) for blob in wanted), default=-1)
        blobs: dict[str, Tensor] = {self.input_name: x}
        for index in range(stop + 1):
            layer = self.layers[index]
            spec = layer.spec
            outputs = layer(*(blobs[bottom] for bottom in spec.bottoms))
            if isinstance(outputs, Tensor):
                outputs = [outputs]
            for top, value in zip(spec.tops, outputs, strict=True):
                blobs[top] = value
            for bottom in spec.bottoms:  # free what no later layer (and no caller) reads
                if self._last_read.get(bottom) == index and bottom not in wanted \
                        and bottom not in spec.tops:
                    blobs.pop(bottom, None)
        return {blob: blobs[blob] for blob in wanted}


def load_caffe(
    prototxt: str | Path,
    caffemodel: str | Path | None,
    *,
    name: str | None = None,
    mean_bgr: tuple[float, float, float] = (104.0, 117.0, 123.0),
) -> CaffeNet:
    """Load a Caffe deploy prototxt (+ caffemodel weights, or random ones if None) as a CaffeNet.

    The net takes RGB [0,1] frames through `features` (Caffe BGR 0..255 minus `mean_bgr`).
    Raises ModelFormatError for unreadable, malformed or mismatched files.
    """
    prototxt = Path(prototxt)
    net_param = parse_prototxt(read_text(prototxt, "prototxt", ModelFormatError), str(prototxt))
    weights = read_caffemodel(caffemodel) if caffemodel is not None else None
    default_name = net_param.get("name") if isinstance(net_param.get("name"), str) else None
    return build_net(net_param, weights, name=name or default_name or prototxt.stem,
                     mean_bgr=mean_bgr, source=str(prototxt),
                     weights_source=str(caffemodel) if caffemodel is not None else None)


def build_net(
    net_param: dict[str, Any],
    weights: dict[str, list[np.ndarray]] | None,
    *,
    name: str,
    mean_bgr: tuple[float, float, float] = (104.0, 117.0, 123.0),
    source: str = "<prototxt>",
    weights_source: str | None = None,
) -> CaffeNet:
    """Build a frozen CaffeNet from a parsed prototxt and `read_caffemodel` blobs (or None)."""
    try:
        input_name, input_shape, specs = _layer_specs(net_param)
        layers = _build_layers(input_name, input_shape, specs)
    except ModelFormatError as exc:
        raise ModelFormatError(f"{source}: {exc}") from None
    if len(input_shape) != 4 or input_shape[1] != 3:
        raise ModelFormatError(f"{source}: input {input_name!r} has shape {input_shape}; "
                               "a dream model needs a 3-channel image input [N,3,H,W]")
    if weights is None:
        total = sum(math.prod(shape) for layer in layers for shape in layer.blob_shapes())
        if total > MAX_RANDOM_PARAMETERS:
            raise ModelFormatError(f"{source}: the net declares {total} weights, too many")
        generator = torch.Generator().manual_seed(0)
        for layer in layers:
            layer.to_empty(device="cpu")
            layer.init_random(generator)
    else:
        checked = [_check_blobs(layer, weights, weights_source or "caffemodel")
                   for layer in layers]
        for layer, blobs in zip(layers, checked, strict=True):
            layer.to_empty(device="cpu")
            layer.load_blobs(blobs)
    net = CaffeNet(name, input_name, input_shape, layers, mean_bgr)
    return net.freeze()  # type: ignore[return-value]


def _check_blobs(layer: CaffeLayer, weights: dict[str, list[np.ndarray]],
                 source: str) -> list[np.ndarray]:
    """The caffemodel blobs for `layer`, checked in number and shape against the prototxt."""
    expected = layer.blob_shapes()
    spec = layer.spec
    if not expected:
        return []
    if spec.name not in weights:
        raise ModelFormatError(f"{source}: no weights for layer {spec.name!r} ({spec.kind}); "
                               "is this the caffemodel that goes with the prototxt?")
    blobs = weights[spec.name]
    if len(blobs) != len(expected):
        raise ModelFormatError(f"{source}: layer {spec.name!r} ({spec.kind}) has {len(blobs)} "
                               f"blobs, the prototxt implies {len(expected)}")
    for index, (blob, shape) in enumerate(zip(blobs, expected, strict=True)):
        if not blob_shapes_match(tuple(blob.shape), shape):
            raise ModelFormatError(
                f"{source}: layer {spec.name!r} ({spec.kind}) blob {index} has shape "
                f"{tuple(blob.shape)}, the prototxt implies {shape}")
    return blobs


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _strings(spec_name: str, value: Any, key: str) -> list[str]:
    values = _as_list(value)
    if not all(isinstance(v, str) and v for v in values):
        raise ModelFormatError(f"layer {spec_name!r}: {key} must be non-empty strings, "
                               f"got {value!r}")
    return values


def _blob_shape(value: Any, where: str) -> Shape:
    """The one BlobShape message (`{ dim: ... }`) in a repeated shape field, validated."""
    shapes = _as_list(value)
    if len(shapes) != 1 or not isinstance(shapes[0], dict):
        raise ModelFormatError(f"{where}: expected one shape {{ dim: ... }}, got {value!r}")
    return _dims(shapes[0].get("dim", []), where)


def _dims(value: Any, where: str) -> Shape:
    """A list of dims -> a shape tuple of positive int32s."""
    dims = _as_list(value)
    if not dims or not all(isinstance(d, int) and not isinstance(d, bool) and 0 < d <= INT32_MAX
                           for d in dims):
        raise ModelFormatError(f"{where}: input shape needs positive integer dims, got {dims!r}")
    return tuple(dims)


def _included(layer: dict[str, Any]) -> bool:
    """Caffe's NetStateRule filtering for the TEST phase (stages and levels are ignored)."""
    def matches(rule: Any) -> bool:
        return isinstance(rule, dict) and rule.get("phase", "TEST") in ("TEST", 1)
    includes, excludes = _as_list(layer.get("include", [])), _as_list(layer.get("exclude", []))
    if includes and not any(matches(rule) for rule in includes):
        return False
    return not any(matches(rule) for rule in excludes)


def _layer_specs(net: dict[str, Any]) -> tuple[str, Shape, list[LayerSpec]]:
    """The input blob, its shape, and the remaining layers (TEST phase) in order."""
    if not isinstance(net, dict):
        raise ModelFormatError("not a NetParameter message")
    raw_layers = _as_list(net.get("layer", [])) + _as_list(net.get("layers", []))
    if net.get("layer") and net.get("layers"):
        raise ModelFormatError("mixes 'layer' and legacy 'layers' entries")
    input_name: str | None = None
    input_shape: Shape = ()
    if "input" in net:
        inputs = _strings("<net>", net["input"], "input")
        if len(inputs) != 1:
            raise ModelFormatError(f"exactly one net input is supported, got {inputs}")
        input_name = inputs[0]
        if "input_shape" in net:
            input_shape = _blob_shape(net["input_shape"], "input_shape")
        elif "input_dim" in net:
            input_shape = _dims(net["input_dim"], "input_dim")
        else:
            raise ModelFormatError(f"input {input_name!r} has no input_shape or input_dim")
    specs: list[LayerSpec] = []
    seen: set[str] = set()
    for index, layer in enumerate(raw_layers):
        if not isinstance(layer, dict):
            raise ModelFormatError(f"layer #{index} is not a message: {layer!r}")
        if not _included(layer):
            continue
        layer_name = layer.get("name", f"#{index}")
        if not isinstance(layer_name, str):
            raise ModelFormatError(f"layer #{index}: name must be a string, got {layer_name!r}")
        if layer_name in seen:
            raise ModelFormatError(f"layer name {layer_name!r} is used twice")
        seen.add(layer_name)
        kind = layer.get("type")
        kind = V1_TYPES.get(kind, kind) if isinstance(kind, int | str) else kind
        if not isinstance(kind, str):
            raise ModelFormatError(f"layer {layer_name!r}: missing or bad type {kind!r}")
        bottoms = _strings(layer_name, layer.get("bottom", []), "bottom")
        tops = _strings(layer_name, layer.get("top", []), "top")
        if kind in INPUT_TYPES:
            if input_name is not None or len(tops) != 1:
                raise ModelFormatError(f"layer {layer_name!r}: exactly one net input is "
                                       "supported")
            input_name = tops[0]
            param = layer.get("input_param", {})
            if not isinstance(param, dict) or "shape" not in param:
                raise ModelFormatError(f"layer {layer_name!r}: Input needs input_param {{ shape "
                                       "{ dim ... } }")
            input_shape = _blob_shape(param["shape"], f"layer {layer_name!r}")
            continue
        if kind not in LAYER_TYPES:
            raise ModelFormatError(
                f"layer {layer_name!r} has unsupported type {kind!r}; supported: "
                f"{', '.join(['Input', *LAYER_TYPES])}")
        specs.append(LayerSpec(layer_name, kind, bottoms, tops, layer))
    if input_name is None:
        raise ModelFormatError("no input: expected an Input layer or input + input_shape")
    return input_name, input_shape, specs


def _build_layers(input_name: str, input_shape: Shape, specs: list[LayerSpec]) -> list[CaffeLayer]:
    """Instantiate each layer (weights on the meta device), inferring every blob's shape."""
    shapes: dict[str, Shape] = {input_name: input_shape}
    layers: list[CaffeLayer] = []
    for spec in specs:
        missing = [b for b in spec.bottoms if b not in shapes]
        if missing:
            raise spec.error(f"bottom {missing[0]!r} is not produced by any earlier layer")
        bottom_shapes = [shapes[b] for b in spec.bottoms]
        with torch.device("meta"):  # weights get their memory once checked against the file
            layer = LAYER_TYPES[spec.kind](spec, bottom_shapes)
        top_shapes = layer.output_shapes(bottom_shapes)
        for top, shape in zip(spec.tops, top_shapes, strict=True):
            if any(d <= 0 for d in shape):
                raise spec.error(f"output {top!r} would have empty shape {shape}")
            shapes[top] = shape
        layers.append(layer)
    return layers


__all__ = ["CaffeNet", "build_net", "load_caffe", "parse_prototxt"]
