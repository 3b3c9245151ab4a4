"""Read the weights out of a binary `.caffemodel` (a serialized Caffe NetParameter).

Only what a forward pass needs is decoded: each layer's name and its blobs. Field numbers follow
Caffe's NetParameter schema: `layer` (100, LayerParameter: name 1, blobs 7), the legacy `layers`
(2, V1LayerParameter: name 4, blobs 6, or an embedded V0 `layer` 1 with name 1 and blobs 50), and
BlobProto (num/channels/height/width 1-4, data 5, shape 7 with dims in field 1, double_data 8).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from livedream.errors import ModelFormatError
from livedream.files import read_bytes
from livedream.models.caffe.wire import (
    FIXED32,
    FIXED64,
    LENGTH_DELIMITED,
    VARINT,
    Field,
    WireReader,
)

NET_LAYER, NET_LAYERS_V1 = 100, 2
LAYER_NAME, LAYER_BLOBS = 1, 7
V1_NAME, V1_BLOBS, V1_V0_LAYER = 4, 6, 1
V0_NAME, V0_BLOBS = 1, 50
BLOB_NUM, BLOB_CHANNELS, BLOB_HEIGHT, BLOB_WIDTH = 1, 2, 3, 4
BLOB_DATA, BLOB_SHAPE, BLOB_DOUBLE_DATA = 5, 7, 8
SHAPE_DIM = 1
MAX_AXES = 32  # Caffe's kMaxBlobAxes


def read_caffemodel(path: str | Path) -> dict[str, list[np.ndarray]]:
    """Map each layer name in a .caffemodel to its blobs (float32 arrays, in the file's shapes).

    Legacy blobs (num/channels/height/width) come back 4-D, as Caffe stores them. A malformed or
    truncated file raises ModelFormatError naming the byte offset and, where known, the layer.
    """
    return parse_caffemodel(read_bytes(path, "caffemodel", ModelFormatError), str(path))


def parse_caffemodel(data: bytes, source: str = "<caffemodel>") -> dict[str, list[np.ndarray]]:
    """`read_caffemodel` on bytes already in memory."""
    reader = WireReader(data, source)
    layers: dict[str, list[np.ndarray]] = {}
    for field in reader.fields(0, len(reader.data)):
        if field.number == NET_LAYER:
            reader.expect(field, LENGTH_DELIMITED, "NetParameter.layer")
            name, blobs = _read_layer(reader, field, LAYER_NAME, LAYER_BLOBS, "layer")
        elif field.number == NET_LAYERS_V1:
            reader.expect(field, LENGTH_DELIMITED, "NetParameter.layers")
            name, blobs = _read_layer(reader, field, V1_NAME, V1_BLOBS, "layers")
        else:
            continue
        if name in layers and layers[name] and blobs:
            raise reader.error(f"layer {name!r} appears twice with weights", field.offset)
        if blobs or name not in layers:
            layers[name] = blobs
    return layers


def _read_layer(
    reader: WireReader, field: Field, name_number: int, blobs_number: int, kind: str
) -> tuple[str, list[np.ndarray]]:
    """(name, blobs) of one LayerParameter / V1LayerParameter message."""
    name: str | None = None
    blob_fields: list[Field] = []
    v0: Field | None = None
    for sub in reader.fields(field.start, field.end):
        if sub.number == name_number:
            name = reader.string(sub, f"{kind}.name")
        elif sub.number == blobs_number:
            reader.expect(sub, LENGTH_DELIMITED, f"{kind}.blobs")
            blob_fields.append(sub)
        elif kind == "layers" and sub.number == V1_V0_LAYER:
            reader.expect(sub, LENGTH_DELIMITED, "layers.layer (V0)")
            v0 = sub
    if v0 is not None and name is None and not blob_fields:
        return _read_layer(reader, v0, V0_NAME, V0_BLOBS, "V0 layer")
    if name is None:
        raise reader.error(f"{kind} entry without a name", field.offset)
    blobs = []
    for index, blob in enumerate(blob_fields):
        try:
            blobs.append(_read_blob(reader, blob))
        except ModelFormatError as exc:
            raise ModelFormatError(f"{exc} (layer {name!r}, blob {index})") from None
    return name, blobs


def _read_blob(reader: WireReader, field: Field) -> np.ndarray:
    """One BlobProto as a float32 array shaped by `shape` or by legacy num/channels/height/width."""
    legacy = {BLOB_NUM: 1, BLOB_CHANNELS: 1, BLOB_HEIGHT: 1, BLOB_WIDTH: 1}
    has_legacy = False
    shape: list[int] | None = None
    floats: list[np.ndarray] = []
    doubles: list[np.ndarray] = []
    pos, end = field.start, field.end
    while pos < end:
        sub = reader.next_field(pos, end)
        pos = sub.end
        if sub.number in legacy:
            reader.expect(sub, VARINT, "blob num/channels/height/width")
            legacy[sub.number] = _int32(sub.value)
            has_legacy = True
        elif sub.number == BLOB_SHAPE:
            reader.expect(sub, LENGTH_DELIMITED, "blob shape")
            shape = _read_shape(reader, sub)
        elif sub.number in (BLOB_DATA, BLOB_DOUBLE_DATA):
            target = floats if sub.number == BLOB_DATA else doubles
            dtype, fixed = ("<f4", FIXED32) if sub.number == BLOB_DATA else ("<f8", FIXED64)
            if sub.wire_type == LENGTH_DELIMITED:
                target.append(reader.packed_array(sub, dtype, "blob data"))
            elif sub.wire_type == fixed:
                values, pos = reader.unpacked_run(sub, dtype, end)
                target.append(values)
            else:
                reader.expect(sub, LENGTH_DELIMITED, "blob data")
    if shape is None:
        shape = list(legacy.values()) if has_legacy else []
    if any(d < 0 for d in shape):
        raise reader.error(f"blob has a negative dimension {shape}", field.offset)
    count = math.prod(shape)
    values = np.concatenate(floats) if floats else np.zeros(0, np.float32)
    if doubles:
        values = np.concatenate([values.astype(np.float32),
                                 np.concatenate(doubles).astype(np.float32)])
    if values.size != count:
        raise reader.error(f"blob of shape {shape} holds {values.size} values, expected {count}",
                           field.offset)
    return values.astype(np.float32, copy=False).reshape(shape)


def _read_shape(reader: WireReader, field: Field) -> list[int]:
    """BlobShape.dim (int64, packed or not), at most Caffe's 32 axes."""
    dims: list[int] = []
    for sub in reader.fields(field.start, field.end):
        if sub.number != SHAPE_DIM:
            continue
        if sub.wire_type == LENGTH_DELIMITED:
            dims += reader.packed_varints(sub, MAX_AXES, "blob shape")
        else:
            reader.expect(sub, VARINT, "blob shape dim")
            dims.append(sub.value)
        if len(dims) > MAX_AXES:
            raise reader.error(f"blob shape has more than {MAX_AXES} axes", field.offset)
    return [d - (1 << 64) if d >= 1 << 63 else d for d in dims]


def _int32(value: int) -> int:
    """A varint read as Caffe's int32 (negative numbers are sign-extended to 64 bits)."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value
