"""Caffe importer vs OpenCV's Caffe importer (cv2.dnn.readNetFromCaffe) on the same files.

Random-weight caffemodels are written with tests/models/caffe_writer.py for: the BVLC GoogLeNet
architecture (our generated prototxt), a small VGG-style net, a net of edge cases (BatchNorm,
Scale, Eltwise, padded/ceil pooling, LRN, InnerProduct, Softmax, Split, Flatten), and a legacy
V1 `layers` net. Every named blob must agree: relative L2 error < 1e-4.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from livedream.models.caffe import googlenet_prototxt, load_caffe, parse_prototxt
from tests.models.caffe_writer import opencv_blobs, opencv_caffe, random_weights, write_caffemodel

pytestmark = pytest.mark.skipif(
    opencv_caffe() is None,
    reason="the OpenCV oracle needs cv2.dnn.readNetFromCaffe, which OpenCV 5 removed "
    "(install opencv-python-headless<5)",
)

VGG_STYLE = """
name: "vgg_style"
input: "data"
input_dim: 1 input_dim: 3 input_dim: 36 input_dim: 36
layer { name: "conv1_1" type: "Convolution" bottom: "data" top: "conv1_1"
  convolution_param { num_output: 16 pad: 1 kernel_size: 3 } }
layer { name: "relu1_1" type: "ReLU" bottom: "conv1_1" top: "conv1_1" }
layer { name: "conv1_2" type: "Convolution" bottom: "conv1_1" top: "conv1_2"
  convolution_param { num_output: 16 pad: 1 kernel_size: 3 } }
layer { name: "relu1_2" type: "ReLU" bottom: "conv1_2" top: "conv1_2" }
layer { name: "pool1" type: "Pooling" bottom: "conv1_2" top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "conv2_1" type: "Convolution" bottom: "pool1" top: "conv2_1"
  convolution_param { num_output: 32 pad: 1 kernel_size: 3 } }
layer { name: "relu2_1" type: "ReLU" bottom: "conv2_1" top: "conv2_1" }
layer { name: "conv2_2" type: "Convolution" bottom: "conv2_1" top: "conv2_2"
  convolution_param { num_output: 32 pad: 1 kernel_size: 3 } }
layer { name: "relu2_2" type: "ReLU" bottom: "conv2_2" top: "conv2_2" }
layer { name: "pool2" type: "Pooling" bottom: "conv2_2" top: "pool2"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "conv3_1" type: "Convolution" bottom: "pool2" top: "conv3_1"
  convolution_param { num_output: 48 pad: 1 kernel_size: 3 } }
layer { name: "relu3_1" type: "ReLU" bottom: "conv3_1" top: "conv3_1" }
layer { name: "pool3" type: "Pooling" bottom: "conv3_1" top: "pool3"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "fc6" type: "InnerProduct" bottom: "pool3" top: "fc6"
  inner_product_param { num_output: 64 } }
layer { name: "relu6" type: "ReLU" bottom: "fc6" top: "fc6" }
layer { name: "drop6" type: "Dropout" bottom: "fc6" top: "fc6"
  dropout_param { dropout_ratio: 0.5 } }
layer { name: "fc7" type: "InnerProduct" bottom: "fc6" top: "fc7"
  inner_product_param { num_output: 10 } }
layer { name: "prob" type: "Softmax" bottom: "fc7" top: "prob" }
"""

# 23x29 input: odd sizes make every ceil/decrement rule of Caffe's pooling matter. LRN keeps k = 1:
# OpenCV departs from Caffe's formula for other k, and for a two-bottom Scale with a bias (both are
# checked against numpy in test_caffe_layers instead).
EDGE_CASES = """
name: "edge_cases"
layer { name: "data" type: "Input" top: "data"
  input_param { shape { dim: 1 dim: 3 dim: 23 dim: 29 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 8 kernel_h: 3 kernel_w: 5 pad_h: 1 pad_w: 2 stride_h: 1
                      stride_w: 2 } }
layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1"
  batch_norm_param { use_global_stats: true eps: 0.001 } }
layer { name: "scale1" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" relu_param { negative_slope: 0.1 } }
layer { name: "split1" type: "Split" bottom: "conv1" top: "branch_a" top: "branch_b" }
layer { name: "conv_group" type: "Convolution" bottom: "branch_a" top: "conv_group"
  convolution_param { num_output: 8 kernel_size: 3 pad: 2 dilation: 2 group: 4 } }
layer { name: "conv_nobias" type: "Convolution" bottom: "branch_b" top: "conv_nobias"
  convolution_param { num_output: 8 kernel_size: 1 bias_term: false } }
layer { name: "sum" type: "Eltwise" bottom: "conv_group" bottom: "conv_nobias" top: "sum"
  eltwise_param { operation: SUM coeff: 0.5 coeff: -1.5 } }
layer { name: "prod" type: "Eltwise" bottom: "conv_group" bottom: "sum" top: "prod"
  eltwise_param { operation: PROD } }
layer { name: "max" type: "Eltwise" bottom: "prod" bottom: "conv_nobias" bottom: "sum" top: "max"
  eltwise_param { operation: MAX } }
layer { name: "lrn_across" type: "LRN" bottom: "max" top: "lrn_across"
  lrn_param { local_size: 3 alpha: 0.3 beta: 0.6 } }
layer { name: "lrn_within" type: "LRN" bottom: "sum" top: "lrn_within"
  lrn_param { local_size: 3 alpha: 0.2 beta: 0.75 norm_region: WITHIN_CHANNEL } }
layer { name: "ave_pad" type: "Pooling" bottom: "lrn_across" top: "ave_pad"
  pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "max_pad" type: "Pooling" bottom: "lrn_within" top: "max_pad"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "ave_wide_pad" type: "Pooling" bottom: "lrn_across" top: "ave_wide_pad"
  pooling_param { pool: AVE kernel_size: 3 stride: 3 pad: 2 } }
layer { name: "max_wide_pad" type: "Pooling" bottom: "lrn_within" top: "max_wide_pad"
  pooling_param { pool: MAX kernel_h: 2 kernel_w: 4 stride_h: 2 stride_w: 3 pad_h: 1 pad_w: 3 } }
layer { name: "ave_nopad" type: "Pooling" bottom: "max_pad" top: "ave_nopad"
  pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
layer { name: "global" type: "Pooling" bottom: "ave_pad" top: "global"
  pooling_param { pool: AVE global_pooling: true } }
layer { name: "global_max" type: "Pooling" bottom: "max_pad" top: "global_max"
  pooling_param { pool: MAX global_pooling: true } }
layer { name: "concat" type: "Concat" bottom: "global" bottom: "global_max" top: "concat"
  concat_param { axis: 1 } }
layer { name: "flat" type: "Flatten" bottom: "concat" top: "flat" }
layer { name: "gate" type: "Flatten" bottom: "global" top: "gate" }
layer { name: "gated" type: "Scale" bottom: "ave_pad" bottom: "gate" top: "gated"
  scale_param { axis: 0 } }
layer { name: "fc" type: "InnerProduct" bottom: "flat" top: "fc"
  inner_product_param { num_output: 7 } }
layer { name: "fc_from_map" type: "InnerProduct" bottom: "ave_nopad" top: "fc_from_map"
  inner_product_param { num_output: 5 } }
layer { name: "prob" type: "Softmax" bottom: "fc" top: "prob" }
"""

LEGACY = """
name: "legacy"
input: "data"
input_shape { dim: 1 dim: 3 dim: 19 dim: 17 }
layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1"
  convolution_param { num_output: 6 kernel_size: 3 stride: 2 pad: 1 } }
layers { name: "relu1" type: RELU bottom: "conv1" top: "conv1" }
layers { name: "norm1" type: LRN bottom: "conv1" top: "norm1"
  lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }
layers { name: "pool1" type: POOLING bottom: "norm1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layers { name: "conv2a" type: CONVOLUTION bottom: "pool1" top: "conv2a"
  convolution_param { num_output: 4 kernel_size: 1 } }
layers { name: "conv2b" type: CONVOLUTION bottom: "pool1" top: "conv2b"
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layers { name: "cat" type: CONCAT bottom: "conv2a" bottom: "conv2b" top: "cat" }
layers { name: "sum" type: ELTWISE bottom: "conv2a" bottom: "conv2b" top: "sum" }
layers { name: "pool2" type: POOLING bottom: "cat" top: "pool2"
  pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
layers { name: "fc" type: INNER_PRODUCT bottom: "pool2" top: "fc"
  inner_product_param { num_output: 5 } }
layers { name: "prob" type: SOFTMAX bottom: "fc" top: "prob" }
"""


def relative_error(ours: np.ndarray, theirs: np.ndarray) -> float:
    theirs = theirs.reshape(ours.shape)
    return float(np.linalg.norm(ours - theirs) / max(np.linalg.norm(theirs), 1e-12))


def compare_with_opencv(tmp_path: Path, prototxt_text: str, seed: int, *, legacy: bool = False,
                        packed: bool = True, scale: float = 50.0) -> list[str]:
    """Write prototxt + random caffemodel, run both importers, assert every blob agrees."""
    rng = np.random.default_rng(seed)
    parsed = parse_prototxt(prototxt_text)
    prototxt = tmp_path / "deploy.prototxt"
    prototxt.write_text(prototxt_text)
    caffemodel = write_caffemodel(tmp_path / "weights.caffemodel", random_weights(parsed, rng),
                                  legacy=legacy, packed=packed)
    net = load_caffe(prototxt, caffemodel)
    shape = net.input_shape
    x = rng.normal(0.0, scale, shape).astype(np.float32)
    names = net.layer_names()
    with torch.no_grad():
        ours = net.forward_blobs(torch.from_numpy(x), names)
    theirs = opencv_blobs(prototxt, caffemodel, x, names, parsed)
    errors = {name: relative_error(ours[name].numpy(), theirs[name]) for name in names}
    bad = {name: err for name, err in errors.items() if not err < 1e-4}
    assert not bad, f"blobs disagreeing with OpenCV: {bad}"
    for name in names:  # not all-zero blobs: the comparison means something
        assert np.abs(theirs[name]).max() > 0, name
    return names


def test_googlenet_architecture_matches_opencv_on_every_blob(tmp_path: Path) -> None:
    names = compare_with_opencv(tmp_path, googlenet_prototxt(224, 224), seed=1)
    for expected in ("conv1/7x7_s2", "pool1/norm1", "conv2/norm2", "inception_3b/5x5_reduce",
                     "inception_4c/output", "inception_5b/output", "pool5/7x7_s1",
                     "loss3/classifier", "prob"):
        assert expected in names
    assert len(names) == 84


def test_vgg_style_net_matches_opencv(tmp_path: Path) -> None:
    names = compare_with_opencv(tmp_path, VGG_STYLE, seed=2)
    assert names == ["conv1_1", "conv1_2", "pool1", "conv2_1", "conv2_2", "pool2", "conv3_1",
                     "pool3", "fc6", "fc7", "prob"]


def test_edge_case_net_matches_opencv(tmp_path: Path) -> None:
    names = compare_with_opencv(tmp_path, EDGE_CASES, seed=3, scale=3.0)
    assert {"branch_a", "branch_b", "max_wide_pad", "ave_wide_pad", "gated"} <= set(names)


def test_legacy_layers_net_with_unpacked_legacy_blobs_matches_opencv(tmp_path: Path) -> None:
    names = compare_with_opencv(tmp_path, LEGACY, seed=4, legacy=True, packed=False)
    assert names[:3] == ["conv1", "norm1", "pool1"]
