"""Test support for the Caffe importer: a tiny .caffemodel writer and an OpenCV oracle.

The writer encodes a NetParameter with the protobuf wire format by hand, in either the modern
`layer` form (field 100: name 1, type 2, blobs 7; BlobProto.shape 7) or the legacy `layers` form
(field 2: name 4, V1 type enum 5, blobs 6; BlobProto num/channels/height/width 1-4), with float
data packed, unpacked, or as double_data. `random_weights` gives every layer of a parsed prototxt
blobs of the right shapes (computed independently of the importer, by a tiny shape walker).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

#: V1LayerParameter.LayerType numbers (legacy `layers` entries need one for OpenCV's upgrader)
V1_TYPE_NUMBERS = {
    "Concat": 3, "Convolution": 4, "Dropout": 6, "Flatten": 8, "InnerProduct": 14, "LRN": 15,
    "Pooling": 17, "ReLU": 18, "Softmax": 20, "Split": 22, "Eltwise": 25,
}
#: legacy prototxt type identifiers (CONVOLUTION, INNER_PRODUCT, ...) -> modern names
V1_TYPE_NAMES = {
    "CONCAT": "Concat", "CONVOLUTION": "Convolution", "DROPOUT": "Dropout", "FLATTEN": "Flatten",
    "INNER_PRODUCT": "InnerProduct", "LRN": "LRN", "POOLING": "Pooling", "RELU": "ReLU",
    "SOFTMAX": "Softmax", "SPLIT": "Split", "ELTWISE": "Eltwise",
}


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def length_delimited(number: int, payload: bytes) -> bytes:
    return tag(number, 2) + varint(len(payload)) + payload


def encode_blob(array: np.ndarray, *, legacy: bool = False, packed: bool = True,
                double: bool = False) -> bytes:
    """One BlobProto holding `array` (shape message, or legacy 4-D num/channels/height/width)."""
    array = np.asarray(array)
    out = bytearray()
    if legacy:
        dims = (1,) * (4 - array.ndim) + array.shape
        assert len(dims) == 4, "legacy blobs are at most 4-D"
        for number, dim in zip((1, 2, 3, 4), dims, strict=True):
            out += tag(number, 0) + varint(dim)
    else:
        out += length_delimited(7, length_delimited(1, b"".join(varint(d) for d in array.shape)))
    number, dtype, wire_type = (8, "<f8", 1) if double else (5, "<f4", 5)
    flat = array.astype(dtype).ravel()
    if packed:
        out += length_delimited(number, flat.tobytes())
    else:
        fmt = "<d" if double else "<f"
        out += b"".join(tag(number, wire_type) + struct.pack(fmt, v) for v in flat.tolist())
    return bytes(out)


def encode_layer(name: str, kind: str, blobs: Iterable[np.ndarray], *, legacy: bool = False,
                 packed: bool = True, double: bool = False) -> bytes:
    """A NetParameter `layer` (or legacy `layers`) entry with its blobs, as a top-level field."""
    encoded = [encode_blob(b, legacy=legacy, packed=packed, double=double) for b in blobs]
    if legacy:
        body = length_delimited(4, name.encode()) + tag(5, 0) + varint(V1_TYPE_NUMBERS[kind])
        body += b"".join(length_delimited(6, blob) for blob in encoded)
        return length_delimited(2, body)
    body = length_delimited(1, name.encode()) + length_delimited(2, kind.encode())
    body += b"".join(length_delimited(7, blob) for blob in encoded)
    return length_delimited(100, body)


def write_caffemodel(path: Path, layers: list[tuple[str, str, list[np.ndarray]]], *,
                     legacy: bool = False, packed: bool = True, double: bool = False) -> Path:
    """Write (name, type, blobs) layers as a NetParameter file; returns `path`."""
    data = length_delimited(1, b"test_net")
    data += b"".join(encode_layer(name, kind, blobs, legacy=legacy, packed=packed, double=double)
                     for name, kind, blobs in layers)
    path.write_bytes(data)
    return path


# --- random weights for a parsed prototxt ---------------------------------------------------------
def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _pair(p: dict[str, Any], key: str, default: int) -> tuple[int, int]:
    stem = key.replace("_size", "")
    if f"{stem}_h" in p:
        return p[f"{stem}_h"], p[f"{stem}_w"]
    values = _listed(p.get(key, default))
    return values[0], values[-1]


def random_weights(net: dict[str, Any], rng: np.random.Generator
                   ) -> list[tuple[str, str, list[np.ndarray]]]:
    """(name, type, blobs) for every weighted layer of a parsed prototxt, with random values.

    Conv/InnerProduct weights are He-scaled so activations stay O(1) through deep nets; biases,
    BatchNorm statistics and Scale factors are random too so that every term is exercised.
    """
    layers = _listed(net.get("layer", [])) + _listed(net.get("layers", []))
    shapes: dict[str, tuple[int, ...]] = {}
    if "input" in net:  # net-level input with input_shape { dim ... } or input_dim
        dims = net["input_shape"][0]["dim"] if "input_shape" in net else net["input_dim"]
        shapes[_listed(net["input"])[0]] = tuple(dims)
    out: list[tuple[str, str, list[np.ndarray]]] = []
    for layer in layers:
        kind, tops = layer["type"], _listed(layer.get("top", []))
        kind = V1_TYPE_NAMES.get(kind, kind)
        bottoms = [shapes[b] for b in _listed(layer.get("bottom", []))]
        if kind == "Input":
            shapes[tops[0]] = tuple(_listed(layer["input_param"]["shape"])[0]["dim"])
            continue
        shape = bottoms[0] if bottoms else ()
        blobs: list[np.ndarray] = []
        if kind == "Convolution":
            p = layer["convolution_param"]
            (kh, kw), (ph, pw) = _pair(p, "kernel_size", 1), _pair(p, "pad", 0)
            (sh, sw), (dh, dw) = _pair(p, "stride", 1), _pair(p, "dilation", 1)
            group, n = p.get("group", 1), p["num_output"]
            fan_in = shape[1] // group * kh * kw
            blobs.append(rng.normal(0, math.sqrt(2 / fan_in), (n, shape[1] // group, kh, kw)))
            if p.get("bias_term", True):
                blobs.append(rng.normal(0, 0.1, n))
            shape = (shape[0], n, (shape[2] + 2 * ph - dh * (kh - 1) - 1) // sh + 1,
                     (shape[3] + 2 * pw - dw * (kw - 1) - 1) // sw + 1)
        elif kind == "Pooling":
            p = layer["pooling_param"]
            if p.get("global_pooling"):
                shape = (*shape[:2], 1, 1)
            else:
                (kh, kw), (ph, pw) = _pair(p, "kernel_size", 1), _pair(p, "pad", 0)
                (sh, sw) = _pair(p, "stride", 1)
                oh = -(-(shape[2] + 2 * ph - kh) // sh) + 1
                ow = -(-(shape[3] + 2 * pw - kw) // sw) + 1
                if ph or pw:
                    oh -= (oh - 1) * sh >= shape[2] + ph
                    ow -= (ow - 1) * sw >= shape[3] + pw
                shape = (*shape[:2], oh, ow)
        elif kind == "InnerProduct":
            p = layer["inner_product_param"]
            fan_in = math.prod(shape[1:])
            blobs.append(rng.normal(0, math.sqrt(2 / fan_in), (p["num_output"], fan_in)))
            if p.get("bias_term", True):
                blobs.append(rng.normal(0, 0.1, p["num_output"]))
            shape = (shape[0], p["num_output"])
        elif kind == "BatchNorm":
            factor = rng.uniform(0.5, 2.0)
            blobs += [rng.normal(0, 0.5, shape[1]) * factor,
                      rng.uniform(0.5, 2.0, shape[1]) * factor, np.array([factor])]
        elif kind == "Scale":
            p = layer.get("scale_param", {})
            if len(bottoms) == 1:
                blobs.append(rng.uniform(0.5, 1.5, shape[1]))
            if p.get("bias_term", False):
                blobs.append(rng.normal(0, 0.2, shape[1] if len(bottoms) == 1 else bottoms[1]))
        elif kind == "Concat":
            shape = (shape[0], sum(b[1] for b in bottoms), *shape[2:])
        elif kind == "Flatten":
            shape = (shape[0], math.prod(shape[1:]))
        for top in tops:
            shapes[top] = shape
        if blobs:
            out.append((layer["name"], kind, [b.astype(np.float32) for b in blobs]))
    return out


# --- the oracle -----------------------------------------------------------------------------------
def opencv_caffe():
    """cv2 if it still has the Caffe importer (OpenCV 5 removed it), else None."""
    try:
        import cv2
    except ImportError:
        return None
    return cv2 if hasattr(cv2.dnn, "readNetFromCaffe") else None


def last_writers(net: dict[str, Any]) -> dict[str, str]:
    """Blob -> name of the last layer writing it (what OpenCV's forward() is asked for, since
    it names outputs by layer and fuses in-place layers into their producer)."""
    writers: dict[str, str] = {}
    for layer in _listed(net.get("layer", [])) + _listed(net.get("layers", [])):
        for top in _listed(layer.get("top", [])):
            writers[top] = layer["name"]
    return writers


def opencv_blobs(prototxt: Path, caffemodel: Path, x: np.ndarray, blobs: list[str],
                 net: dict[str, Any]) -> dict[str, np.ndarray]:
    """OpenCV's value of each blob for input x (float32 NCHW)."""
    cv2 = opencv_caffe()
    assert cv2 is not None
    cv_net = cv2.dnn.readNetFromCaffe(str(prototxt), str(caffemodel))
    cv_net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    cv_net.enableFusion(False)  # its concat fusion leaves the branch outputs unreadable
    cv_net.setInput(np.ascontiguousarray(x, dtype=np.float32))
    writers = last_writers(net)
    outputs = cv_net.forward([writers[b] for b in blobs])
    return {b: np.asarray(o) for b, o in zip(blobs, outputs, strict=True)}
