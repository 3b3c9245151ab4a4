"""Dream step: objective, normalised step, jitter roll-back, channel/guide objectives, octaves."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from livedream.dream import (
    MIN_OCTAVE_SIDE,
    Dreamer,
    deepdream,
    dream_objective,
    dream_step,
    guide_features,
    octave_sizes,
)
from livedream.errors import ParamError, UnknownNameError
from livedream.look import DreamSettings
from livedream.models.base import DreamModel, Preprocess
from tests.tiny_model import TinyDreamModel

LAYER = ["relu3"]


def objective(
    model: DreamModel, frame: Tensor, layers=LAYER, channel: int = -1, guide=None
) -> float:
    with torch.no_grad():
        return float(dream_objective(model.features(frame, layers), layers, channel, guide))


@pytest.fixture(scope="module")
def model() -> TinyDreamModel:
    return TinyDreamModel()


@pytest.fixture
def frame() -> Tensor:
    return torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(1))


class CircularConvModel(DreamModel):
    """Translation-equivariant under torch.roll: circular-padded convs, no pooling."""

    def __init__(self) -> None:
        super().__init__("circular", Preprocess())
        gen = torch.Generator().manual_seed(3)
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1, padding_mode="circular")
        self.conv2 = nn.Conv2d(6, 6, 3, padding=1, padding_mode="circular")
        with torch.no_grad():
            for conv in (self.conv1, self.conv2):
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * 0.3)
                conv.bias.zero_()
        self.freeze()

    def layer_names(self) -> list[str]:
        return ["conv1", "conv2"]

    def forward_blobs(self, x: Tensor, wanted: Collection[str]) -> dict[str, Tensor]:
        a = self.conv1(x)
        out = {"conv1": a}
        if "conv2" in wanted:
            out["conv2"] = self.conv2(torch.relu(a))
        return {k: v for k, v in out.items() if k in wanted}


class FlatModel(DreamModel):
    """Activations that do not depend on the input: the gradient is exactly zero."""

    def __init__(self) -> None:
        super().__init__("flat", Preprocess())

    def layer_names(self) -> list[str]:
        return ["flat"]

    def forward_blobs(self, x: Tensor, wanted: Collection[str]) -> dict[str, Tensor]:
        return {"flat": x * 0.0 + 1.0}


def test_dream_step_raises_l2_objective(model: TinyDreamModel, frame: Tensor) -> None:
    settings = DreamSettings(step_size=1.5, iterations=4, jitter=8)
    out = dream_step(model, frame, LAYER, settings, torch.Generator().manual_seed(0))
    assert out.shape == frame.shape and out.dtype == frame.dtype
    assert objective(model, out) > objective(model, frame) * 1.05
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_objective_is_mean_square_of_each_layer(model: TinyDreamModel, frame: Tensor) -> None:
    layers = ["conv2", "relu3"]
    with torch.no_grad():
        acts = model.features(frame, layers)
    expected = sum(float(np.mean(acts[n].numpy().astype(np.float64) ** 2)) for n in layers)
    assert objective(model, frame, layers) == pytest.approx(expected, rel=1e-5)


def test_one_step_moves_pixels_by_step_size_on_average(model: TinyDreamModel) -> None:
    # Mid-grey frame: no clipping, so mean |change| is exactly step_size / 255.
    frame = 0.4 + 0.2 * torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(5))
    out = dream_step(model, frame, LAYER, DreamSettings(step_size=2.0, iterations=1, jitter=0))
    assert float((out - frame).abs().mean()) == pytest.approx(2.0 / 255.0, rel=1e-4)


def test_zero_step_size_leaves_frame_unchanged_despite_jitter(
    model: TinyDreamModel, frame: Tensor
) -> None:
    settings = DreamSettings(step_size=0.0, iterations=3, jitter=17)
    out = dream_step(model, frame, LAYER, settings, torch.Generator().manual_seed(0))
    assert torch.equal(out, frame)


def test_jitter_is_rolled_back() -> None:
    # For a roll-equivariant net, rolling, stepping and rolling back equals stepping in place.
    # Without the roll-back the step would land shifted and the results would differ.
    model = CircularConvModel()
    frame = 0.3 + 0.4 * torch.rand(1, 3, 32, 40, generator=torch.Generator().manual_seed(2))
    jittered = dream_step(
        model, frame, ["conv2"], DreamSettings(step_size=3.0, iterations=2, jitter=9),
        torch.Generator().manual_seed(4),
    )
    steady = DreamSettings(step_size=3.0, iterations=2, jitter=0)
    still = dream_step(model, frame, ["conv2"], steady)
    assert not torch.equal(still, frame)
    torch.testing.assert_close(jittered, still, atol=1e-5, rtol=0)


def test_jitter_is_reproducible_with_a_seeded_generator(
    model: TinyDreamModel, frame: Tensor
) -> None:
    settings = DreamSettings(iterations=2, jitter=12)
    a = dream_step(model, frame, LAYER, settings, torch.Generator().manual_seed(9))
    b = dream_step(model, frame, LAYER, settings, torch.Generator().manual_seed(9))
    c = dream_step(model, frame, LAYER, settings, torch.Generator().manual_seed(10))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_channel_objective(model: TinyDreamModel, frame: Tensor) -> None:
    with torch.no_grad():
        acts = model.features(frame, LAYER)["relu3"].numpy().astype(np.float64)
    assert objective(model, frame, channel=5) == pytest.approx(np.mean(acts[:, 5] ** 2), rel=1e-5)
    settings = DreamSettings(step_size=2.0, iterations=4, jitter=0, channel=5)
    out = dream_step(model, frame, LAYER, settings)
    gain_5 = objective(model, out, channel=5) / objective(model, frame, channel=5)
    gain_all = objective(model, out) / objective(model, frame)
    assert gain_5 > 1.1
    assert gain_5 > gain_all  # dreaming one feature map favours that map


def test_channel_out_of_range_names_layer_and_range(model: TinyDreamModel, frame: Tensor) -> None:
    with pytest.raises(ParamError, match=r"relu3.*24 channels.*0\.\.23"):
        dream_step(model, frame, LAYER, DreamSettings(channel=24))


def test_guide_objective_matches_numpy_and_rises(model: TinyDreamModel, frame: Tensor) -> None:
    guide_img = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(7))
    guide = guide_features(model, guide_img, LAYER)
    with torch.no_grad():
        x = model.features(frame, LAYER)["relu3"][0].numpy().astype(np.float64)
    y = guide["relu3"][0].numpy().astype(np.float64)
    scores = x.reshape(x.shape[0], -1).T @ y.reshape(y.shape[0], -1)  # [N_frame, N_guide]
    expected = scores.max(axis=1).mean()
    assert objective(model, frame, guide=guide) == pytest.approx(expected, rel=1e-4)
    out = dream_step(model, frame, LAYER, DreamSettings(iterations=4, jitter=4), guide=guide)
    assert objective(model, out, guide=guide) > objective(model, frame, guide=guide)


def test_guide_objective_stays_float32_under_fp16_autocast() -> None:
    """Dot products over 64 channels of activations ~60 exceed fp16's 65504: the guide scores
    must be computed in float32 even inside torch.autocast(fp16) (else inf ties spread the
    gradient over every tied guide vector)."""
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(1, 64, 4, 5, generator=gen) * 60).requires_grad_(True)
    y = torch.rand(1, 64, 3, 3, generator=gen) * 60
    want = dream_objective({"a": x}, ["a"], guide={"a": y})
    (want_grad,) = torch.autograd.grad(want, x)
    with torch.autocast("cpu", dtype=torch.float16):
        got = dream_objective({"a": x.half()}, ["a"], guide={"a": y})
    (got_grad,) = torch.autograd.grad(got, x)
    assert got.dtype == torch.float32 and torch.isfinite(got)
    # x.half() rounding only
    assert float(got.detach()) == pytest.approx(float(want.detach()), rel=1e-3)
    # the same best-matching guide vectors (rounded to fp16 by the cast's backward)
    torch.testing.assert_close(got_grad, want_grad, rtol=2e-3, atol=0.0)


def test_dream_step_and_pyramid_stay_on_the_frames_device() -> None:
    """On the meta device (a stand-in for CUDA here) any CPU-made tensor mixed into the step,
    or an autocast context the device does not support, fails; the result keeps the device."""
    model = TinyDreamModel().to("meta")
    frame = torch.empty(1, 3, 48, 64, device="meta")
    settings = DreamSettings(iterations=2, jitter=4, octaves=3)
    gen = torch.Generator().manual_seed(0)
    for out in (dream_step(model, frame, LAYER, settings, generator=gen),
                deepdream(model, frame, LAYER, settings, generator=gen)):
        assert out.device == frame.device and out.shape == frame.shape
        assert out.dtype == torch.float32


def test_flat_objective_gives_no_step_and_no_nan(frame: Tensor) -> None:
    out = dream_step(FlatModel(), frame, ["flat"], DreamSettings(iterations=2))
    assert torch.isfinite(out).all()
    assert torch.equal(out, frame)


def test_unknown_layer_lists_valid_names(model: TinyDreamModel, frame: Tensor) -> None:
    with pytest.raises(UnknownNameError, match=r"'conv9'.*conv1, relu1, pool1"):
        dream_step(model, frame, ["conv9"], DreamSettings())
    with pytest.raises(UnknownNameError):
        deepdream(model, frame, ["conv9"], DreamSettings(octaves=3))


def test_no_gradients_reach_the_weights(model: TinyDreamModel, frame: Tensor) -> None:
    dream_step(model, frame, LAYER, DreamSettings(iterations=2))
    assert all(p.grad is None and not p.requires_grad for p in model.parameters())


def test_channels_last_gives_the_same_result(model: TinyDreamModel, frame: Tensor) -> None:
    settings = DreamSettings(iterations=2, jitter=6)
    a = dream_step(model, frame, LAYER, settings, torch.Generator().manual_seed(1))
    cl = frame.contiguous(memory_format=torch.channels_last)
    b = dream_step(model, cl, LAYER, settings, torch.Generator().manual_seed(1))
    torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5)


def test_octave_sizes() -> None:
    assert octave_sizes(180, 320, 3, 1.4) == [(180, 320), (129, 229), (92, 164)]
    assert octave_sizes(180, 320, 1, 1.4) == [(180, 320)]
    # Never below MIN_OCTAVE_SIDE, however many octaves are asked for.
    sizes = octave_sizes(48, 64, 8, 1.4)
    assert min(min(s) for s in sizes) >= MIN_OCTAVE_SIDE and len(sizes) == 2


def test_octave_pyramid_keeps_size_and_raises_objective(model: TinyDreamModel) -> None:
    frame = torch.rand(1, 3, 90, 160, generator=torch.Generator().manual_seed(8))
    settings = DreamSettings(iterations=2, octaves=3, octave_scale=1.4, jitter=8)
    out = deepdream(model, frame, LAYER, settings, torch.Generator().manual_seed(0))
    assert out.shape == frame.shape and out.dtype == frame.dtype
    assert torch.isfinite(out).all() and float(out.min()) >= 0 and float(out.max()) <= 1
    assert objective(model, out) > objective(model, frame)
    # Coarse octaves contribute: the result differs from the single-octave dream.
    single = deepdream(
        model, frame, LAYER, DreamSettings(iterations=2, octaves=1, jitter=8),
        torch.Generator().manual_seed(0),
    )
    assert float((out - single).abs().mean()) > 1e-3


def test_dreamer_matches_functions_and_validates_layers(
    model: TinyDreamModel, frame: Tensor
) -> None:
    settings = DreamSettings(iterations=2, jitter=5)
    dreamer = Dreamer(model, LAYER, settings, seed=3)
    expected = dream_step(model, frame, LAYER, settings, torch.Generator().manual_seed(3))
    assert torch.equal(dreamer(frame), expected)
    with pytest.raises(UnknownNameError):
        dreamer.set_layers(["nope"])
    assert dreamer.layers == LAYER


def test_vgg16_conv4_3_dream_raises_activation() -> None:
    registry = pytest.importorskip(
        "livedream.models.registry", reason="model registry (issue 2) not merged yet"
    )
    from livedream.errors import ModelUnavailableError

    try:
        vgg = registry.load_model("vgg16", device="cpu")
    except ModelUnavailableError as exc:
        pytest.skip(f"VGG16 weights not installed: {exc}")
    frame = torch.rand(1, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    out = dream_step(vgg, frame, ["conv4_3"], DreamSettings(iterations=3, jitter=8))
    before = objective(vgg, frame, ["conv4_3"])
    assert objective(vgg, out, ["conv4_3"]) > before * 1.05


def test_lap_levels_smooths_the_step(model: TinyDreamModel, frame: Tensor) -> None:
    """lap_levels > 0 normalises the gradient per Laplacian band: a different, smoother step of
    the same mean size, still raising the objective; the meta device keeps working."""
    plain = DreamSettings(step_size=4.0, iterations=1, jitter=0)
    smooth = DreamSettings(step_size=4.0, iterations=1, jitter=0, lap_levels=3)
    a = dream_step(model, frame, LAYER, plain) - frame
    b = dream_step(model, frame, LAYER, smooth) - frame
    assert not torch.allclose(a, b)

    def fine_share(d: Tensor) -> float:  # energy in differences of neighbouring pixels
        return float(d.diff(dim=3).pow(2).mean() / d.pow(2).mean())

    assert fine_share(b) < fine_share(a)
    stepped = frame + b
    assert objective(model, stepped.clamp(0, 1)) > objective(model, frame)
    meta = dream_step(TinyDreamModel().to("meta"), torch.empty(1, 3, 48, 64, device="meta"),
                      LAYER, smooth)
    assert meta.device.type == "meta"


def test_deepdream_and_dreamer_take_autocast(model: TinyDreamModel, frame: Tensor) -> None:
    settings = DreamSettings(iterations=1, jitter=0, octaves=2)
    full = deepdream(model, frame, LAYER, settings)
    half = deepdream(model, frame, LAYER, settings, autocast=torch.bfloat16)
    assert half.dtype == torch.float32 and half.shape == frame.shape
    assert not torch.equal(full, half)  # the net really ran in bf16
    assert float((full - half).abs().max()) < 0.05
    dreamer = Dreamer(model, LAYER, settings, autocast=torch.bfloat16)
    torch.testing.assert_close(dreamer(frame), half)
