"""Caffe layer semantics against a numpy transcription of Caffe's CPU forward passes.

Independent of OpenCV (so it runs with any cv2): a float64 numpy interpreter walks the same
prototxt with the same random weights, and every blob must agree. Pooling is additionally
fuzzed over kernel/stride/pad/size with hypothesis, covering Caffe's ceil rounding, its
"last window starts inside the padded input" rule, AVE divisors, and pads beyond kernel/2.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from livedream.errors import ModelFormatError
from livedream.models.caffe import build_net, load_caffe, parse_prototxt, read_caffemodel
from livedream.models.caffe.layers import Pooling
from tests.models.caffe_writer import random_weights, write_caffemodel
from tests.models.test_caffe_oracle import EDGE_CASES, LEGACY, VGG_STYLE

FLT_MAX = float(np.finfo(np.float32).max)


# --- numpy reference (Caffe's CPU code, written out) ---------------------------------------------
def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def pair(p: dict[str, Any], key: str, default: int) -> tuple[int, int]:
    stem = key.replace("_size", "")
    if f"{stem}_h" in p:
        return p[f"{stem}_h"], p[f"{stem}_w"]
    values = listed(p.get(key, default))
    return values[0], values[-1]


def np_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: dict[str, Any]) -> np.ndarray:
    (kh, kw), (ph, pw) = pair(p, "kernel_size", 1), pair(p, "pad", 0)
    (sh, sw), (dh, dw) = pair(p, "stride", 1), pair(p, "dilation", 1)
    groups = p.get("group", 1)
    n, c, h, width = x.shape
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    wg = w.reshape(groups, w.shape[0] // groups, c // groups, kh, kw)
    out = np.zeros((n, groups, w.shape[0] // groups, oh, ow))
    for a in range(kh):
        for bb in range(kw):
            patch = xp[:, :, a * dh: a * dh + sh * (oh - 1) + 1: sh,
                       bb * dw: bb * dw + sw * (ow - 1) + 1: sw]
            patch = patch.reshape(n, groups, c // groups, oh, ow)
            out += np.einsum("ngchw,goc->ngohw", patch, wg[:, :, :, a, bb])
    out = out.reshape(n, w.shape[0], oh, ow)
    return out if b is None else out + b.reshape(1, -1, 1, 1)


def np_pool_size(size: int, k: int, p: int, s: int, any_pad: bool, ceil: bool = True) -> int:
    out = (math.ceil((size + 2 * p - k) / s) if ceil else (size + 2 * p - k) // s) + 1
    if any_pad and (out - 1) * s >= size + p:
        out -= 1
    return out


def np_pool(x: np.ndarray, method: str, kernel: tuple[int, int], stride: tuple[int, int],
            pad: tuple[int, int], ceil: bool = True) -> np.ndarray:
    """Caffe's PoolingLayer::Forward_cpu, loop for loop."""
    n, c, h, w = x.shape
    any_pad = bool(pad[0] or pad[1])
    oh = np_pool_size(h, kernel[0], pad[0], stride[0], any_pad, ceil)
    ow = np_pool_size(w, kernel[1], pad[1], stride[1], any_pad, ceil)
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * stride[0] - pad[0], j * stride[1] - pad[1]
            if method == "MAX":
                he, we = min(hs + kernel[0], h), min(ws + kernel[1], w)
                hs, ws = max(hs, 0), max(ws, 0)
                window = x[:, :, hs:he, ws:we].reshape(n, c, -1)
                out[:, :, i, j] = window.max(-1) if window.shape[-1] else -FLT_MAX
            else:
                he, we = min(hs + kernel[0], h + pad[0]), min(ws + kernel[1], w + pad[1])
                pool_size = (he - hs) * (we - ws)
                hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
                # an empty window (stride > kernel, no pad) is 0/0 in Caffe; we define it as 0
                out[:, :, i, j] = x[:, :, hs:he, ws:we].sum((-1, -2)) / max(pool_size, 1)
    return out


def np_lrn(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    size, alpha, beta = p.get("local_size", 5), p.get("alpha", 1.0), p.get("beta", 0.75)
    half = (size - 1) // 2
    if p.get("norm_region", "ACROSS_CHANNELS") == "WITHIN_CHANNEL":
        padded = np.pad(x * x, ((0, 0), (0, 0), (half, half), (half, half)))
        h, w = x.shape[-2:]
        mean = sum(padded[:, :, a:a + h, b:b + w] for a in range(size) for b in range(size))
        return x * (1 + alpha * mean / size**2) ** -beta
    padded = np.pad(x * x, ((0, 0), (half, half), (0, 0), (0, 0)))
    total = sum(padded[:, a:a + x.shape[1]] for a in range(size))
    return x * (p.get("k", 1.0) + alpha / size * total) ** -beta


def numpy_forward(net: dict[str, Any], weights: dict[str, list[np.ndarray]],
                  x: np.ndarray) -> dict[str, np.ndarray]:
    """Run a parsed prototxt in float64 numpy, Caffe's way (in-place tops overwrite)."""
    blobs: dict[str, np.ndarray] = {}
    if "input" in net:
        blobs[listed(net["input"])[0]] = x
    v1 = {"CONVOLUTION": "Convolution", "POOLING": "Pooling", "RELU": "ReLU", "LRN": "LRN",
          "CONCAT": "Concat", "ELTWISE": "Eltwise", "INNER_PRODUCT": "InnerProduct",
          "SOFTMAX": "Softmax"}
    for layer in listed(net.get("layer", [])) + listed(net.get("layers", [])):
        kind = v1.get(layer["type"], layer["type"])
        tops = listed(layer.get("top", []))
        if kind == "Input":
            blobs[tops[0]] = x
            continue
        bottoms = [blobs[b] for b in listed(layer.get("bottom", []))]
        w = [b.astype(np.float64) for b in weights.get(layer["name"], [])]
        x0 = bottoms[0]
        if kind == "Convolution":
            p = layer["convolution_param"]
            y = np_conv(x0, w[0], w[1] if len(w) > 1 else None, p)
        elif kind == "Pooling":
            p = layer["pooling_param"]
            if p.get("global_pooling"):
                kernel, stride, pad = x0.shape[-2:], (1, 1), (0, 0)
            else:
                kernel, stride, pad = (pair(p, "kernel_size", 1), pair(p, "stride", 1),
                                       pair(p, "pad", 0))
            y = np_pool(x0, p.get("pool", "MAX"), kernel, stride, pad)
        elif kind == "LRN":
            y = np_lrn(x0, layer.get("lrn_param", {}))
        elif kind == "ReLU":
            slope = layer.get("relu_param", {}).get("negative_slope", 0.0)
            y = np.where(x0 > 0, x0, x0 * slope)
        elif kind == "BatchNorm":
            factor = 0.0 if w[2][0] == 0 else 1.0 / w[2][0]
            eps = layer.get("batch_norm_param", {}).get("eps", 1e-5)
            y = (x0 - w[0].reshape(1, -1, 1, 1) * factor) / np.sqrt(
                w[1].reshape(1, -1, 1, 1) * factor + eps)
        elif kind == "Scale":
            p = layer.get("scale_param", {})
            axis = p.get("axis", 1)
            scale = bottoms[1] if len(bottoms) == 2 else w.pop(0)
            shape = (1,) * axis + scale.shape + (1,) * (x0.ndim - axis - scale.ndim)
            y = x0 * scale.reshape(shape)
            if p.get("bias_term"):
                y = y + w[0].reshape(shape)
        elif kind == "Eltwise":
            p = layer.get("eltwise_param", {})
            op = p.get("operation", "SUM")
            if op == "PROD":
                y = math.prod(bottoms[1:], start=bottoms[0])
            elif op == "MAX":
                y = np.maximum.reduce(bottoms)
            else:
                coeffs = listed(p.get("coeff", [1.0] * len(bottoms)))
                y = sum(c * b for c, b in zip(coeffs, bottoms, strict=True))
        elif kind == "Concat":
            y = np.concatenate(bottoms, layer.get("concat_param", {}).get("axis", 1))
        elif kind == "Flatten":
            y = x0.reshape(x0.shape[0], -1)
        elif kind == "InnerProduct":
            y = x0.reshape(x0.shape[0], -1) @ w[0].T + (w[1] if len(w) > 1 else 0)
        elif kind == "Softmax":
            e = np.exp(x0 - x0.max(1, keepdims=True))
            y = e / e.sum(1, keepdims=True)
        elif kind in ("Dropout", "Split"):
            y = x0
        else:
            raise AssertionError(f"no numpy reference for {kind}")
        for top in tops:
            blobs[top] = y
    return blobs


# --- whole nets vs numpy -------------------------------------------------------------------------
SCALE_VARIANTS = """
layer { name: "data" type: "Input" top: "data"
  input_param { shape { dim: 2 dim: 3 dim: 9 dim: 7 } } }
layer { name: "lrn_k" type: "LRN" bottom: "data" top: "lrn_k"
  lrn_param { local_size: 3 alpha: 0.5 beta: 0.6 k: 2.5 } }
layer { name: "gap" type: "Pooling" bottom: "lrn_k" top: "gap"
  pooling_param { pool: AVE global_pooling: true } }
layer { name: "gate" type: "Flatten" bottom: "gap" top: "gate" }
layer { name: "gated" type: "Scale" bottom: "lrn_k" bottom: "gate" top: "gated"
  scale_param { axis: 0 bias_term: true } }
layer { name: "bn0" type: "BatchNorm" bottom: "gated" top: "bn0" }
layer { name: "scaled" type: "Scale" bottom: "bn0" top: "scaled" }
"""


@pytest.mark.parametrize("text", [EDGE_CASES, VGG_STYLE, LEGACY, SCALE_VARIANTS],
                         ids=["edge", "vgg", "legacy", "scale"])
def test_every_blob_matches_numpy_caffe(tmp_path: Path, text: str) -> None:
    rng = np.random.default_rng(11)
    parsed = parse_prototxt(text)
    weights = random_weights(parsed, rng)
    if "bn0" in text:  # a zero scale factor means "no statistics yet": mean = var = 0
        weights = [(n, k, [b * 0 for b in blobs] if n == "bn0" else blobs)
                   for n, k, blobs in weights]
    (tmp_path / "net.prototxt").write_text(text)
    caffemodel = write_caffemodel(tmp_path / "net.caffemodel", weights)
    net = load_caffe(tmp_path / "net.prototxt", caffemodel)
    x = rng.normal(0, 3, net.input_shape)
    with torch.no_grad():
        ours = net.forward_blobs(torch.from_numpy(x.astype(np.float32)), net.layer_names())
    reference = numpy_forward(parsed, read_caffemodel(caffemodel), x)
    for name in net.layer_names():
        want = reference[name]
        got = ours[name].double().numpy()
        assert got.shape == want.shape, name
        assert np.linalg.norm(got - want) <= 1e-5 * np.linalg.norm(want) + 1e-9, name


# --- pooling fuzz ---------------------------------------------------------------------------------
def pooling_net(h: int, w: int, method: str, kernel: tuple[int, int], stride: tuple[int, int],
                pad: tuple[int, int], ceil: bool) -> str:
    return (
        'layer { name: "data" type: "Input" top: "data" '
        f"input_param {{ shape {{ dim: 1 dim: 3 dim: {h} dim: {w} }} }} }}\n"
        'layer { name: "pool" type: "Pooling" bottom: "data" top: "pool" pooling_param { '
        f"pool: {method} kernel_h: {kernel[0]} kernel_w: {kernel[1]} stride_h: {stride[0]} "
        f"stride_w: {stride[1]} pad_h: {pad[0]} pad_w: {pad[1]} "
        f"round_mode: {'CEIL' if ceil else 'FLOOR'} }} }}\n"
    )


@settings(max_examples=80, deadline=None)
@given(h=st.integers(1, 11), w=st.integers(1, 11), kh=st.integers(1, 5), kw=st.integers(1, 5),
       sh=st.integers(1, 4), sw=st.integers(1, 4), data=st.data(),
       method=st.sampled_from(["MAX", "AVE"]), ceil=st.booleans())
def test_pooling_matches_caffe_rules(h: int, w: int, kh: int, kw: int, sh: int, sw: int,
                                     data: st.DataObject, method: str, ceil: bool) -> None:
    ph, pw = data.draw(st.integers(0, kh - 1)), data.draw(st.integers(0, kw - 1))
    text = pooling_net(h, w, method, (kh, kw), (sh, sw), (ph, pw), ceil)
    any_pad = bool(ph or pw)
    if min(np_pool_size(h, kh, ph, sh, any_pad, ceil),
           np_pool_size(w, kw, pw, sw, any_pad, ceil)) < 1:
        with pytest.raises(ModelFormatError, match="pool"):
            build_net(parse_prototxt(text), None, name="pool")
        return
    net = build_net(parse_prototxt(text), None, name="pool")
    x = np.random.default_rng(h * 100 + w).normal(size=(2, 3, h, w))
    got = net.forward_blobs(torch.from_numpy(x.astype(np.float32)), ["pool"])["pool"]
    want = np_pool(x, method, (kh, kw), (sh, sw), (ph, pw), ceil)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.double().numpy(), want, rtol=1e-5, atol=1e-6)


def test_explicit_pooling_path_equals_torch_path_where_both_apply() -> None:
    """The hand-padded path (used when torch's rules differ) agrees with torch's pooling."""
    x = torch.randn(1, 3, 13, 10)
    cases = [("MAX", (3, 3), (2, 2), (1, 1)), ("AVE", (3, 2), (2, 1), (1, 0)),
             ("AVE", (5, 5), (3, 2), (2, 2)), ("MAX", (2, 2), (2, 2), (0, 0))]
    for method, kernel, stride, pad in cases:
        net = build_net(parse_prototxt(pooling_net(13, 10, method, kernel, stride, pad, True)),
                        None, name="pool")
        layer = net.layers[0]
        assert isinstance(layer, Pooling)
        _, out = layer._sizes(13, 10)
        assert layer._torch_agrees((13, 10), kernel, out)
        torch.testing.assert_close(layer._explicit(x, kernel, out), layer(x))


# --- reduced precision --------------------------------------------------------------------------
def lrn_net(region: str) -> str:
    return (
        'layer { name: "data" type: "Input" top: "data" '
        "input_param { shape { dim: 1 dim: 3 dim: 6 dim: 6 } } }\n"
        'layer { name: "norm" type: "LRN" bottom: "data" top: "norm" lrn_param { '
        f"local_size: 3 alpha: 0.0001 beta: 0.75 norm_region: {region} }} }}\n"
    )


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("region", ["ACROSS_CHANNELS", "WITHIN_CHANNEL"])
def test_lrn_in_half_precision_does_not_overflow(region: str, dtype: torch.dtype) -> None:
    """GoogLeNet's norm1/norm2 see activations of a few hundred (0..255 Caffe input): under fp16
    autocast x*x overflows 65504, so the layer must square in float32 and return its dtype."""
    net = build_net(parse_prototxt(lrn_net(region)), None, name="lrn")
    x = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(0)) * 400
    assert torch.isinf(x.half() * x.half()).any()  # the regime this test is about
    want = net.forward_blobs(x, ["norm"])["norm"]
    got = net.forward_blobs(x.to(dtype), ["norm"])["norm"]
    assert got.dtype == dtype
    tol = 2.0**-10 if dtype == torch.float16 else 2.0**-7  # the inputs' own rounding
    torch.testing.assert_close(got.float(), want, rtol=4 * tol, atol=0.0)
