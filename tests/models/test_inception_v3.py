"""Inception v3 built-in: loads offline, torchvision-style block names, shapes, preprocessing."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from livedream.errors import ModelFormatError
from livedream.models import inception_v3, registry

#: torchvision's documented Inception v3 block outputs for a 299x299 input
SHAPES_299 = {
    "conv2d_1a_3x3": (32, 149), "conv2d_2a_3x3": (32, 147), "conv2d_2b_3x3": (64, 147),
    "maxpool1": (64, 73), "conv2d_3b_1x1": (80, 73), "conv2d_4a_3x3": (192, 71),
    "maxpool2": (192, 35), "mixed_5b": (256, 35), "mixed_5c": (288, 35), "mixed_5d": (288, 35),
    "mixed_6a": (768, 17), "mixed_6b": (768, 17), "mixed_6c": (768, 17), "mixed_6d": (768, 17),
    "mixed_6e": (768, 17), "mixed_7a": (1280, 8), "mixed_7b": (2048, 8), "mixed_7c": (2048, 8),
}


@pytest.fixture(scope="module")
def model() -> inception_v3.InceptionV3:
    return registry.load_model("inception_v3", device="cpu")


def test_layers_and_shapes_at_299(model) -> None:
    assert model.layer_names() == list(SHAPES_299)
    shapes = model.layer_shapes(299, 299)
    assert shapes == {name: (1, c, s, s) for name, (c, s) in SHAPES_299.items()}


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_matches_fid_helper_pipeline(model) -> None:
    """Our blocks + preprocessing reproduce the TorchScript model fed the way fid-helper feeds it.

    fid-helper maps [0,1] images to its INPUT_RANGE_TF (-1, 0.9921875) and calls the model, which
    ends in an 8x8 average pool; that must equal the spatial mean of our mixed_7c.
    """
    scripted = torch.jit.load(str(inception_v3.checkpoint_path()), map_location="cpu").eval()
    torch.manual_seed(0)
    rgb01 = torch.rand(1, 3, 299, 299)
    with torch.no_grad():
        expected = scripted(rgb01 * (0.9921875 - -1.0) + -1.0)
        ours = model.features(rgb01, ["mixed_7c"])["mixed_7c"].mean(dim=(2, 3))
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-5)


def test_preprocess_maps_black_and_white_to_tf_range(model) -> None:
    black, white = torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2)
    assert torch.allclose(model.preprocess(black), torch.full_like(black, -1.0))
    assert torch.allclose(model.preprocess(white), torch.full_like(white, 0.9921875))
    assert model.preprocessing.bgr is False


def test_frozen_and_input_gradient_flows(model) -> None:
    assert all(not p.requires_grad for p in model.parameters())
    x = torch.rand(1, 3, 96, 96, requires_grad=True)
    model.features(x, [registry.default_layer("inception_v3")]).popitem()[1].norm().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.parameters())


class _Boom(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise AssertionError("a block after the deepest wanted one was computed")


def test_forward_blobs_stops_after_deepest_wanted(model) -> None:
    blocks = dict(model.blocks.items())
    blocks["mixed_6a"] = _Boom()
    partial = inception_v3.InceptionV3(blocks)
    blobs = partial.features(torch.rand(1, 3, 80, 80), ["maxpool1", "mixed_5d"])
    assert set(blobs) == {"maxpool1", "mixed_5d"}
    assert blobs["mixed_5d"].shape[1] == 288


def test_corrupt_file_is_a_format_error(tmp_path) -> None:
    bad = tmp_path / "default_1.pt"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelFormatError, match="default_1.pt"):
        inception_v3.load_inception_v3(bad)
