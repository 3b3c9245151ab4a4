"""Dream scale: the step runs on a smaller copy, the detail comes back at full size."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from livedream.dream import dream_step
from livedream.dream_scale import dream_size, scaled_step
from livedream.look import DreamSettings
from livedream.speed_params import DREAM_SCALE
from tests.tiny_model import TinyDreamModel

SETTINGS = DreamSettings(step_size=3.0, iterations=2, jitter=4)


def test_scale_one_is_exactly_the_plain_step() -> None:
    model = TinyDreamModel()
    frame = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(0))
    plain = dream_step(model, frame, ["relu2"], SETTINGS, torch.Generator().manual_seed(1))
    scaled = scaled_step(
        lambda x: dream_step(model, x, ["relu2"], SETTINGS, torch.Generator().manual_seed(1)),
        frame, 1.0)
    assert torch.equal(plain, scaled)


def test_the_net_sees_the_small_frame_and_the_output_keeps_the_size() -> None:
    model = TinyDreamModel()
    frame = torch.rand(1, 3, 90, 160, generator=torch.Generator().manual_seed(0))
    seen: list[tuple[int, ...]] = []

    def step(x: Tensor) -> Tensor:
        seen.append(tuple(x.shape))
        return dream_step(model, x, ["relu2"], SETTINGS, torch.Generator().manual_seed(1))

    out = scaled_step(step, frame, 0.5)
    assert seen == [(1, 3, 45, 80)]
    assert out.shape == frame.shape and out.dtype == frame.dtype
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0
    change = (out - frame).abs().mean()
    assert float(change) > 1e-3  # the dream's detail reached the full-size frame


def test_only_the_detail_is_upsampled() -> None:
    """A step that changes nothing leaves the full-size frame untouched (no resampling blur)."""
    frame = torch.rand(1, 3, 64, 96, generator=torch.Generator().manual_seed(0)) * 0.8 + 0.1
    out = scaled_step(lambda x: x.clone(), frame, 0.5)
    torch.testing.assert_close(out, frame)


def test_device_dtype_and_memory_format_are_kept() -> None:
    meta = torch.empty(1, 3, 180, 320, device="meta")
    out = scaled_step(lambda x: x + 0.01, meta, 0.5)
    assert out.device.type == "meta" and out.shape == meta.shape
    double = torch.rand(1, 3, 64, 64, dtype=torch.float64)
    assert scaled_step(lambda x: x * 0.9, double, 0.5).dtype == torch.float64


@pytest.mark.parametrize(("size", "scale", "expected"), [
    ((180, 320), 0.5, (90, 160)),
    ((180, 320), 0.25, (45, 80)),
    ((40, 64), 0.25, (32, 32)),  # never below the 32-px octave minimum
    ((20, 64), 0.25, (20, 32)),  # nor above the frame itself
])
def test_dream_size(size: tuple[int, int], scale: float, expected: tuple[int, int]) -> None:
    assert dream_size(*size, scale) == expected


def test_dream_scale_param_bounds() -> None:
    assert DREAM_SCALE.validate(0.5) == 0.5
    with pytest.raises(Exception, match="0.25"):
        DREAM_SCALE.validate(0.1, "--dream-scale")


def test_scaled_dream_plugs_into_the_dreamer() -> None:
    from livedream.dream import Dreamer
    from livedream.dream_scale import ScaledDream

    model = TinyDreamModel()
    frame = torch.rand(1, 3, 72, 128, generator=torch.Generator().manual_seed(0))
    seen: list[tuple[int, ...]] = []

    def spy(model: object, x: Tensor, layers: object, settings: DreamSettings,
            **kwargs: object) -> Tensor:
        seen.append(tuple(x.shape))
        assert kwargs["autocast"] is torch.bfloat16
        return x * 0.5

    scale = {"now": 0.5}
    dreamer = Dreamer(model, ["relu2"], SETTINGS, autocast=torch.bfloat16,
                      dream_fn=ScaledDream(lambda: scale["now"], spy))
    assert dreamer(frame).shape == frame.shape
    scale["now"] = 1.0
    dreamer(frame)
    assert seen == [(1, 3, 36, 64), (1, 3, 72, 128)]
