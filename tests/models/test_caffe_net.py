"""CaffeNet as a DreamModel: layer listing, early stopping, gradients, preprocessing, and the
errors a mismatched prototxt/caffemodel pair produces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from livedream.errors import ModelFormatError, UnknownNameError
from livedream.models.base import DreamModel
from livedream.models.caffe import (
    CaffeNet,
    build_net,
    googlenet_prototxt,
    load_caffe,
    parse_prototxt,
)
from livedream.models.caffe.googlenet import INCEPTION
from tests.models.caffe_writer import random_weights, write_caffemodel
from tests.models.test_caffe_oracle import VGG_STYLE

VGG_NAMES = ["conv1_1", "conv1_2", "pool1", "conv2_1", "conv2_2", "pool2", "conv3_1", "pool3",
             "fc6", "fc7", "prob"]


@pytest.fixture(scope="module")
def vgg() -> CaffeNet:
    return build_net(parse_prototxt(VGG_STYLE), None, name="vgg_style")


@pytest.fixture(scope="module")
def googlenet(tmp_path_factory: pytest.TempPathFactory) -> CaffeNet:
    path = tmp_path_factory.mktemp("googlenet") / "deploy.prototxt"
    path.write_text(googlenet_prototxt())
    return load_caffe(path, None, name="googlenet")


def write_pair(tmp_path: Path, text: str, seed: int = 0) -> tuple[Path, Path]:
    prototxt = tmp_path / "deploy.prototxt"
    prototxt.write_text(text)
    weights = random_weights(parse_prototxt(text), np.random.default_rng(seed))
    return prototxt, write_caffemodel(tmp_path / "weights.caffemodel", weights)


def test_layer_names_are_tops_in_order_with_in_place_tops_once(vgg: CaffeNet) -> None:
    assert isinstance(vgg, DreamModel)
    assert vgg.layer_names() == VGG_NAMES
    assert vgg.layer_types()["relu1_1"] == "ReLU"


def test_in_place_blob_is_the_post_relu_value(vgg: CaffeNet) -> None:
    x = torch.randn(1, 3, 36, 36) * 50
    conv = vgg.layers[0]
    blob = vgg.forward_blobs(x, ["conv1_1"])["conv1_1"]
    torch.testing.assert_close(blob, torch.relu(conv(x)))
    assert (blob >= 0).all() and (conv(x) < 0).any()


def test_forward_blobs_runs_only_up_to_the_deepest_wanted_blob(vgg: CaffeNet) -> None:
    calls: list[str] = []
    hooks = [layer.register_forward_hook(lambda m, i, o: calls.append(m.spec.name))
             for layer in vgg.layers]
    try:
        x = torch.randn(1, 3, 36, 36)
        vgg.forward_blobs(x, ["conv1_1"])
        assert calls == ["conv1_1", "relu1_1"]
        calls.clear()
        blobs = vgg.forward_blobs(x, ["pool2", "conv1_2"])
        assert calls == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1", "conv2_1",
                         "relu2_1", "conv2_2", "relu2_2", "pool2"]
        assert set(blobs) == {"pool2", "conv1_2"}
    finally:
        for hook in hooks:
            hook.remove()


def test_later_layers_are_not_touched(tmp_path: Path) -> None:
    """Breaking fc6's weights only matters to blobs at or after fc6."""
    net = build_net(parse_prototxt(VGG_STYLE), None, name="vgg_style")
    fc6 = next(layer for layer in net.layers if layer.spec.name == "fc6")
    fc6.weight.data = torch.empty(0)  # any use of it raises
    x = torch.randn(1, 3, 36, 36)
    assert net.forward_blobs(x, ["pool3"])["pool3"].shape == (1, 48, 5, 5)  # Caffe's ceil
    with pytest.raises(RuntimeError):
        net.forward_blobs(x, ["fc7"])


def test_gradient_reaches_the_input_but_not_the_frozen_weights(vgg: CaffeNet) -> None:
    assert all(not p.requires_grad for p in vgg.parameters())
    assert not vgg.training
    rgb = torch.rand(1, 3, 36, 36, requires_grad=True)
    out = vgg.features(rgb, ["conv2_1", "pool1"])
    (out["conv2_1"].square().mean() + out["pool1"].mean()).backward()
    assert rgb.grad is not None and torch.isfinite(rgb.grad).all() and rgb.grad.abs().sum() > 0
    assert all(p.grad is None for p in vgg.parameters())


def test_features_applies_caffe_preprocessing(tmp_path: Path) -> None:
    mean = (100.0, 110.0, 120.0)
    path = tmp_path / "vgg.prototxt"
    path.write_text(VGG_STYLE)
    net = load_caffe(path, None, mean_bgr=mean)
    rgb = torch.rand(2, 3, 36, 36)
    bgr = rgb.flip(1) * 255.0 - torch.tensor(mean).view(1, 3, 1, 1)
    torch.testing.assert_close(net.features(rgb, ["pool2"])["pool2"],
                               net.forward_blobs(bgr, ["pool2"])["pool2"])
    assert net.name == "vgg_style"  # the prototxt's own name


def test_unknown_blob_lists_the_valid_names(vgg: CaffeNet) -> None:
    with pytest.raises(UnknownNameError, match="conv1_1") as info:
        vgg.forward_blobs(torch.zeros(1, 3, 36, 36), ["conv9"])
    assert info.value.valid == VGG_NAMES
    with pytest.raises(UnknownNameError):
        vgg.features(torch.zeros(1, 3, 36, 36), ["relu1_1"])  # a layer name, not a blob


def test_other_input_sizes_work_until_the_classifier(vgg: CaffeNet) -> None:
    blobs = vgg.forward_blobs(torch.randn(1, 3, 50, 44), ["pool3"])
    assert blobs["pool3"].shape == (1, 48, 7, 6)
    with pytest.raises(ModelFormatError, match="fc6.*expects 1200 input features but got 2016"):
        vgg.forward_blobs(torch.randn(1, 3, 50, 44), ["fc6"])


def test_googlenet_prototxt_follows_the_paper_table(googlenet: CaffeNet) -> None:
    names = googlenet.layer_names()
    assert names[:7] == ["conv1/7x7_s2", "pool1/3x3_s2", "pool1/norm1", "conv2/3x3_reduce",
                         "conv2/3x3", "conv2/norm2", "pool2/3x3_s2"]
    assert names[-3:] == ["pool5/7x7_s1", "loss3/classifier", "prob"]
    shapes = googlenet.layer_shapes(224, 224)
    for module, (n1, _, n3, _, n5, proj) in INCEPTION.items():
        assert shapes[f"inception_{module}/output"][1] == n1 + n3 + n5 + proj
    assert shapes["inception_3b/output"] == (1, 480, 28, 28)
    assert shapes["inception_4c/output"] == (1, 512, 14, 14)
    assert shapes["inception_5b/output"] == (1, 1024, 7, 7)
    assert shapes["inception_3b/5x5_reduce"] == (1, 32, 28, 28)
    assert shapes["pool5/7x7_s1"] == (1, 1024, 1, 1)
    assert shapes["prob"] == (1, 1000)
    assert len(names) == 84


def test_googlenet_early_blob_at_a_live_size(googlenet: CaffeNet) -> None:
    with torch.no_grad():
        out = googlenet.features(torch.rand(1, 3, 96, 128), ["inception_3b/5x5_reduce"])
    assert out["inception_3b/5x5_reduce"].shape == (1, 32, 12, 16)


# --- errors --------------------------------------------------------------------------------------
def test_blob_shape_mismatch_names_the_layer(tmp_path: Path) -> None:
    prototxt, caffemodel = write_pair(tmp_path, VGG_STYLE)
    wider = VGG_STYLE.replace("num_output: 32 pad: 1 kernel_size: 3 } }\nlayer { name: "
                              '"relu2_1"', "num_output: 24 pad: 1 kernel_size: 3 } }\nlayer "
                              '{ name: "relu2_1"')
    assert wider != VGG_STYLE
    prototxt.write_text(wider)
    with pytest.raises(ModelFormatError, match=r"'conv2_1'.*blob 0 has shape \(32, 16, 3, 3\)"
                       r".*\(24, 16, 3, 3\)"):
        load_caffe(prototxt, caffemodel)


def test_missing_weights_and_blob_count_errors_name_the_layer(tmp_path: Path) -> None:
    prototxt, _ = write_pair(tmp_path, VGG_STYLE)
    weights = random_weights(parse_prototxt(VGG_STYLE), np.random.default_rng(0))
    partial = write_caffemodel(tmp_path / "partial.caffemodel",
                               [w for w in weights if w[0] != "fc7"])
    with pytest.raises(ModelFormatError, match="no weights for layer 'fc7'"):
        load_caffe(prototxt, partial)
    no_bias = write_caffemodel(tmp_path / "nobias.caffemodel",
                               [(n, k, b[:1] if n == "conv1_2" else b) for n, k, b in weights])
    with pytest.raises(ModelFormatError, match="'conv1_2'.*1 blobs.*implies 2"):
        load_caffe(prototxt, no_bias)


def test_legacy_four_d_blob_shapes_are_accepted(tmp_path: Path) -> None:
    prototxt, _ = write_pair(tmp_path, VGG_STYLE)
    weights = random_weights(parse_prototxt(VGG_STYLE), np.random.default_rng(0))
    legacy = write_caffemodel(tmp_path / "legacy.caffemodel", weights, legacy=True)
    modern = write_caffemodel(tmp_path / "modern.caffemodel", weights)
    x = torch.randn(1, 3, 36, 36)
    a = load_caffe(prototxt, legacy).forward_blobs(x, ["prob"])["prob"]
    b = load_caffe(prototxt, modern).forward_blobs(x, ["prob"])["prob"]
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize("layer_text, message", [
    ('layer { name: "act" type: "PReLU" bottom: "data" top: "act" }',
     r"layer 'act' has unsupported type 'PReLU'; supported: Input, Convolution"),
    ('layer { name: "c" type: "Convolution" bottom: "nowhere" top: "c" '
     "convolution_param { num_output: 2 kernel_size: 1 } }", "'nowhere' is not produced"),
    ('layer { name: "c" type: "Convolution" bottom: "data" top: "c" }', "missing num_output"),
    ('layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { '
     "num_output: 2 } }", "missing kernel_size"),
    ('layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { '
     'num_output: "two" kernel_size: 1 } }', "num_output must be an integer"),
    ('layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { '
     "num_output: 2 kernel_size: 1 group: 2 } }", "group 2 does not divide"),
    ('layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { '
     "num_output: 2 kernel_size: 9 } }", "too small for kernel"),
    ('layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { '
     "num_output: 2 kernel_size: 1 kernel_size: 1 kernel_size: 1 } }", "only 2-D"),
    ('layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { '
     "pool: STOCHASTIC kernel_size: 2 } }", "STOCHASTIC"),
    ('layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { '
     "pool: MEDIAN kernel_size: 2 } }", "pool must be one of MAX, AVE"),
    ('layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { '
     "kernel_size: 2 pad: 2 } }", "pad .* must be smaller than kernel"),
    ('layer { name: "n" type: "LRN" bottom: "data" top: "n" lrn_param { local_size: 4 } }',
     "local_size must be odd"),
    ('layer { name: "e" type: "Eltwise" bottom: "data" bottom: "data" top: "e" '
     "eltwise_param { operation: MAX coeff: 1 coeff: 2 } }", "coeff"),
    ('layer { name: "x" type: "Concat" bottom: "data" top: "x" concat_param { axis: 7 } }',
     "axis 7 is out of range"),
    ('layer { name: "r" type: "ReLU" bottom: "data" top: "r" relu_param { negative_slope: inf } }',
     "negative_slope must be a finite number"),
    ('layer { name: "data" type: "ReLU" bottom: "data" top: "r" }', "used twice"),
])
def test_bad_layers_raise_errors_naming_them(layer_text: str, message: str) -> None:
    text = ('layer { name: "data" type: "Input" top: "data" '
            "input_param { shape { dim: 1 dim: 3 dim: 4 dim: 4 } } }\n" + layer_text)
    with pytest.raises(ModelFormatError, match=message):
        build_net(parse_prototxt(text), None, name="bad")


@pytest.mark.parametrize("text, message", [
    ('layer { name: "r" type: "ReLU" bottom: "x" top: "r" }', "no input"),
    ('input: "data" input_dim: 1 input_dim: 1 input_dim: 4 input_dim: 4', "3-channel"),
    ('input: "data" input_dim: 1 input_dim: -3 input_dim: 4 input_dim: 4', "positive integer"),
    ('input: "data"', "no input_shape or input_dim"),
    ('layer { name: "d" type: "Input" top: "data" }', "Input needs input_param"),
    ("layer: 3", "not a message"),
])
def test_bad_inputs_are_reported(text: str, message: str) -> None:
    with pytest.raises(ModelFormatError, match=message):
        build_net(parse_prototxt(text), None, name="bad")


def test_train_only_layers_are_skipped() -> None:
    text = VGG_STYLE + ('layer { name: "loss" type: "SoftmaxWithLoss" bottom: "fc7" '
                        'bottom: "label" top: "loss" include { phase: TRAIN } }')
    assert build_net(parse_prototxt(text), None, name="v").layer_names() == VGG_NAMES


def test_unreadable_files_raise_model_format_errors(tmp_path: Path) -> None:
    prototxt, _ = write_pair(tmp_path, VGG_STYLE)
    with pytest.raises(ModelFormatError, match="cannot read caffemodel"):
        load_caffe(prototxt, tmp_path / "absent.caffemodel")
    with pytest.raises(ModelFormatError, match="cannot read prototxt"):
        load_caffe(tmp_path / "absent.prototxt", None)


def test_bvlc_style_legacy_caffemodel_loads_into_the_googlenet_prototxt(tmp_path: Path) -> None:
    """BVLC's file uses legacy `layers` entries with 4-D num/channels/height/width blobs and
    also holds the auxiliary classifiers (loss1/*, loss2/*), which the deploy net ignores."""
    text = googlenet_prototxt()
    prototxt = tmp_path / "deploy.prototxt"
    prototxt.write_text(text)
    rng = np.random.default_rng(7)
    weights = random_weights(parse_prototxt(text), rng)
    auxiliary = [("loss1/conv", "Convolution", [rng.normal(size=(128, 512, 1, 1)).astype(
        np.float32), np.zeros(128, np.float32)])]
    legacy = write_caffemodel(tmp_path / "legacy.caffemodel", weights + auxiliary, legacy=True)
    modern = write_caffemodel(tmp_path / "modern.caffemodel", weights)
    x = torch.randn(1, 3, 224, 224) * 50
    wanted = ["inception_4c/output", "prob"]
    with torch.no_grad():
        a = load_caffe(prototxt, legacy).forward_blobs(x, wanted)
        b = load_caffe(prototxt, modern).forward_blobs(x, wanted)
    for blob in wanted:
        torch.testing.assert_close(a[blob], b[blob], rtol=0, atol=0)


def test_scale_num_axes_sets_the_learned_scale_shape() -> None:
    head = ('layer { name: "data" type: "Input" top: "data" '
            "input_param { shape { dim: 1 dim: 3 dim: 4 dim: 5 } } }\n")
    for num_axes, shape in ((0, ()), (1, (3,)), (2, (3, 4)), (-1, (3, 4, 5))):
        text = head + ('layer { name: "s" type: "Scale" bottom: "data" top: "s" '
                       f"scale_param {{ num_axes: {num_axes} bias_term: true }} }}")
        net = build_net(parse_prototxt(text), None, name="scale")
        layer = net.layers[0]
        assert layer.blob_shapes() == [shape, shape]
        with torch.no_grad():
            layer.weight.copy_(torch.rand(shape) + 0.5)
            layer.bias.copy_(torch.randn(shape))
        x = torch.randn(1, 3, 4, 5)
        view = shape + (1,) * (3 - len(shape))
        torch.testing.assert_close(net.forward_blobs(x, ["s"])["s"],
                                   x * layer.weight.reshape(view) + layer.bias.reshape(view))
