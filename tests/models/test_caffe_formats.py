"""Prototxt (protobuf text format) parsing and .caffemodel (binary wire format) reading, including
damaged input: truncated at every byte, bit-flipped, random bytes, mangled text. Bad input must
raise ModelFormatError (naming the offset / line), never hang, crash or raise anything else."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livedream.errors import ModelFormatError
from livedream.models.caffe import build_net, parse_prototxt, read_caffemodel
from livedream.models.caffe.caffemodel import parse_caffemodel
from tests.models.caffe_writer import (
    encode_blob,
    encode_layer,
    length_delimited,
    random_weights,
    tag,
    varint,
    write_caffemodel,
)
from tests.models.test_caffe_oracle import EDGE_CASES

# --- prototxt ------------------------------------------------------------------------------------
SAMPLE = r"""
# a comment line
name: "sample"   # trailing comment
layer {
  name: 'conv1'
  type: "Convolution"
  bottom: "data"
  top: "conv1"
  convolution_param: {
    num_output: 96; kernel_size: 11, stride: 4
    weight_filler < type: "gaussian" std: 1e-2 >
  }
  param { lr_mult: 1 } param { lr_mult: 2 }
}
layer {
  name: "esc\"aped\t" "+joined"
  type: "Pooling" bottom: "conv1" bottom: "x" top: "pool"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 global_pooling: false }
  scale: -0.5 offset: .25 big: 0x1F small: -7 inf_value: -inf accept: True half: 1.5f
  note: "a" note: "b"
}
input_shape { dim: [1, 3, 224, 224] }
"""


def test_parses_nested_messages_repeated_fields_and_scalars() -> None:
    net = parse_prototxt(SAMPLE)
    assert net["name"] == "sample"
    conv, pool = net["layer"]
    assert conv["name"] == "conv1" and conv["bottom"] == ["data"] and conv["top"] == ["conv1"]
    assert conv["convolution_param"] == {
        "num_output": 96, "kernel_size": [11], "stride": [4],
        "weight_filler": {"type": "gaussian", "std": 0.01},
    }
    assert conv["param"] == [{"lr_mult": 1}, {"lr_mult": 2}]
    assert pool["name"] == 'esc"aped\t+joined'
    assert pool["bottom"] == ["conv1", "x"]
    assert pool["pooling_param"] == {"pool": "MAX", "kernel_size": [3], "stride": [2],
                                     "global_pooling": False}
    assert (pool["scale"], pool["offset"], pool["big"], pool["small"]) == (-0.5, 0.25, 31, -7)
    assert pool["inf_value"] == float("-inf") and pool["accept"] is True and pool["half"] == 1.5
    assert pool["note"] == ["a", "b"]  # an unknown field seen twice becomes a list
    assert net["input_shape"] == [{"dim": [1, 3, 224, 224]}]
    assert isinstance(pool["big"], int) and isinstance(pool["offset"], float)


@pytest.mark.parametrize("text, message", [
    ("layer {\n  name: \"a\"\n", r"net\.prototxt:3:1: missing '}'"),
    ("layer { name: \"a\" } }", r":1:21: expected a field name, found '}'"),
    ("name: ", "unexpected end of text"),
    ("name \"x\"", "expected ':' or '{' after field 'name'"),
    ("name: \"unterminated", "unexpected character"),
    ("layer { name: ! }", "unexpected character '!'"),
    ("dim: [1, 2", "expected ',' or ']' in list"),
    ("dim: [1 2]", "expected ',' or ']'"),
    ("x: 1.2.3", "expected a field name"),
    ("a {" * 100 + "}" * 100, "nested deeper than 64"),
    ("x: -foo", "bad value '-foo'"),
])
def test_malformed_prototxt_names_line_and_column(text: str, message: str) -> None:
    with pytest.raises(ModelFormatError, match=message):
        parse_prototxt(text, "net.prototxt")


PROTOTXT_PIECES = st.sampled_from([
    "layer", "{", "}", "<", ">", ":", "[", "]", ",", ";", " ", "\n", "name", '"s"', "'t'",
    "1", "-2", "3.5e-2", "0x10", "inf", "-", "#c\n", "MAX", "true", "\\", '"', "dim", "é",
])


@settings(max_examples=150, deadline=None)
@given(st.lists(PROTOTXT_PIECES, max_size=40).map("".join))
def test_random_prototxt_text_parses_or_raises_model_format_error(text: str) -> None:
    try:
        result = parse_prototxt(text)
    except ModelFormatError:
        return
    assert isinstance(result, dict)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.integers(0, len(EDGE_CASES)), length=st.integers(1, 40),
       insert=st.sampled_from(["", "}", "{", "0", "-1", "99999999999", '"x"', "pad: 7",
                               "bottom: \"fc\"", "top: \"data\"", "axis: 3", "ZZZ", "1e999"]))
def test_mangled_net_loads_or_raises_model_format_error(start: int, length: int,
                                                        insert: str) -> None:
    text = EDGE_CASES[:start] + insert + EDGE_CASES[start + length:]
    try:
        net = build_net(parse_prototxt(text), None, name="mangled")
    except ModelFormatError:
        return
    assert net.layer_names()


# --- caffemodel ----------------------------------------------------------------------------------
def test_reads_modern_legacy_packed_unpacked_and_double_blobs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(4, 3, 2, 2)).astype(np.float32)
    bias = rng.normal(size=4).astype(np.float32)
    for options in ({}, {"packed": False}, {"double": True}, {"double": True, "packed": False}):
        path = write_caffemodel(tmp_path / "m.caffemodel", [("conv", "Convolution",
                                                              [weight, bias])], **options)
        blobs = read_caffemodel(path)["conv"]
        assert [b.shape for b in blobs] == [(4, 3, 2, 2), (4,)], options
        assert all(b.dtype == np.float32 for b in blobs)
        np.testing.assert_array_equal(blobs[0], weight)
        np.testing.assert_array_equal(blobs[1], bias)
    legacy = write_caffemodel(tmp_path / "l.caffemodel", [("conv", "Convolution",
                                                          [weight, bias])], legacy=True)
    blobs = read_caffemodel(legacy)["conv"]
    assert [b.shape for b in blobs] == [(4, 3, 2, 2), (1, 1, 1, 4)]
    np.testing.assert_array_equal(blobs[1].ravel(), bias)


def test_unpacked_values_interleaved_with_other_fields() -> None:
    """An unpacked run broken by another field, then continued: all values, in order."""
    values = [1.5, -2.0, 3.25, 4.0, 5.5]
    floats = [tag(5, 5) + struct.pack("<f", v) for v in values]
    shape = length_delimited(7, length_delimited(1, varint(5)))
    blob = b"".join(floats[:2]) + shape + b"".join(floats[2:])
    layer = length_delimited(100, length_delimited(1, b"x") + length_delimited(7, blob))
    assert parse_caffemodel(layer)["x"][0].tolist() == values


def test_layers_without_blobs_and_unknown_fields_are_kept_or_skipped() -> None:
    data = (length_delimited(1, b"net") + tag(5, 0) + varint(1)  # force_backward
            + length_delimited(100, length_delimited(1, b"relu") + length_delimited(2, b"ReLU"))
            + encode_layer("fc", "InnerProduct", [np.ones((2, 3), np.float32)])
            + tag(999, 1) + b"\0" * 8)  # an unknown fixed64 field
    layers = parse_caffemodel(data)
    assert layers["relu"] == [] and layers["fc"][0].shape == (2, 3)


@pytest.mark.parametrize("data, message", [
    (b"\x80" * 11, "varint longer than 10 bytes at byte 0"),
    (b"\xa2\x06\x05abc", "field 100 needs 5 bytes but only 3 remain at byte 0"),
    (b"\x0b", "unsupported wire type 3"),
    (b"\x00\x01", "invalid field number 0 at byte 0"),
    (b"\xa2", "truncated varint at byte 0"),
    (b"\xa5\x06\x00\x00\x00\x00", "NetParameter.layer has wire type 5"),
    (length_delimited(100, length_delimited(1, b"\xff")), "not valid UTF-8"),
    (length_delimited(100, length_delimited(7, b"")), "layer entry without a name"),
    (encode_layer("c", "Convolution", [np.ones(2)]) + length_delimited(
        100, length_delimited(1, b"c")), None),  # a later duplicate without blobs keeps them
    (length_delimited(100, length_delimited(1, b"c") + length_delimited(7, b"")),
     "blob of shape \\[\\] holds 0 values, expected 1"),
])
def test_malformed_wire_data_is_reported_with_offset(data: bytes, message: str | None) -> None:
    if message is None:
        assert parse_caffemodel(data)["c"][0].tolist() == [1.0, 1.0]
        return
    with pytest.raises(ModelFormatError, match=message):
        parse_caffemodel(data, "bad.caffemodel")


def blob_layer(blob_body: bytes, name: bytes = b"conv") -> bytes:
    return length_delimited(100, length_delimited(1, name) + length_delimited(7, blob_body))


@pytest.mark.parametrize("blob_body, message", [
    (length_delimited(7, length_delimited(1, varint(2) + varint(3)))
     + length_delimited(5, b"\0" * 20), r"holds 5 values, expected 6 at byte \d+ \(layer 'conv', "
     r"blob 0\)"),
    (length_delimited(7, length_delimited(1, varint(-2))), "negative dimension"),
    (length_delimited(7, length_delimited(1, varint(1) * 40)), "more than 32"),
    (length_delimited(5, b"\0" * 7), "not a multiple of 4"),
    (tag(1, 0) + varint(-1) + length_delimited(5, b""), r"negative dimension \[-1, 1, 1, 1\]"),
    (length_delimited(7, length_delimited(1, varint(1 << 62) + varint(1 << 62))),
     "expected 21267647932558653966460912964485513216"),
    (tag(5, 0) + varint(3), "blob data has wire type 0"),
])
def test_bad_blobs_name_the_layer(blob_body: bytes, message: str) -> None:
    with pytest.raises(ModelFormatError, match=message):
        parse_caffemodel(blob_layer(blob_body))


TINY = """
layer { name: "data" type: "Input" top: "data"
  input_param { shape { dim: 1 dim: 3 dim: 5 dim: 5 } } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
  convolution_param { num_output: 2 kernel_size: 3 } }
layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
layer { name: "fc" type: "InnerProduct" bottom: "conv" top: "fc"
  inner_product_param { num_output: 3 } }
"""


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, bytes]:
    parsed = parse_prototxt(TINY)
    path = tmp_path_factory.mktemp("tiny") / "tiny.caffemodel"
    write_caffemodel(path, random_weights(parsed, np.random.default_rng(1)))
    return parsed, path.read_bytes()


def test_every_truncation_is_a_model_format_error(tiny_model: tuple[dict, bytes]) -> None:
    parsed, data = tiny_model
    assert build_net(parsed, parse_caffemodel(data), name="tiny").layer_names() == ["conv", "fc"]
    for end in range(len(data)):
        with pytest.raises(ModelFormatError):
            build_net(parsed, parse_caffemodel(data[:end], "cut.caffemodel"), name="tiny")


@settings(max_examples=150, deadline=None)
@given(position=st.integers(0, 10**9), bit=st.integers(0, 7))
def test_bit_flips_load_or_raise_model_format_error(tiny_model: tuple[dict, bytes],
                                                    position: int, bit: int) -> None:
    parsed, data = tiny_model
    flipped = bytearray(data)
    flipped[position % len(data)] ^= 1 << bit
    try:
        net = build_net(parsed, parse_caffemodel(bytes(flipped)), name="tiny")
    except ModelFormatError:
        return
    assert net.layer_names() == ["conv", "fc"]  # the flip hit a value, not the structure


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_parse_or_raise_model_format_error(data: bytes) -> None:
    try:
        layers = parse_caffemodel(data)
    except ModelFormatError:
        return
    assert all(isinstance(name, str) for name in layers)


def test_huge_declared_sizes_allocate_nothing(tmp_path: Path) -> None:
    """A length prefix claiming 2**60 bytes is checked against the file, not allocated."""
    data = tag(100, 2) + varint(1 << 60) + b"\0" * 16
    with pytest.raises(ModelFormatError, match="needs 1152921504606846976 bytes"):
        parse_caffemodel(data)
    blob = encode_blob(np.zeros(3, np.float32))
    assert parse_caffemodel(blob_layer(blob))["conv"][0].tolist() == [0.0, 0.0, 0.0]


def test_oldest_v0_layer_inside_a_legacy_entry_is_read() -> None:
    """V1 `layers` entries of the first Caffe models wrap a V0 layer (name 1, blobs 50)."""
    v0 = length_delimited(1, b"conv0") + length_delimited(50, encode_blob(np.arange(
        6, dtype=np.float32).reshape(2, 3), legacy=True))
    layers = parse_caffemodel(length_delimited(2, length_delimited(1, v0)))
    assert layers["conv0"][0].reshape(2, 3).tolist() == [[0, 1, 2], [3, 4, 5]]
