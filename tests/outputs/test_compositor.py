"""The compositor computes the display shader's pixels (oracle: shaders.motion_reference)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from livedream.errors import LivedreamError
from livedream.live.shaders import (
    Grading,
    chain_motion,
    grade_reference,
    motion_reference,
    motion_uv_matrix,
)
from livedream.look import ChainLink
from livedream.outputs.compositor import Compositor, composite, warp_uv

H, W = 36, 52
CHAIN = (ChainLink("zoom", {"scale": 0.1}), ChainLink("rotate", {"degrees": 12.0}))


def _frame(seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.nn.functional.interpolate(torch.rand(1, 3, 5, 7, generator=gen), size=(H, W),
                                           mode="bicubic", align_corners=False).clamp(0, 1)


@pytest.mark.parametrize("fraction", [0.25, 0.5, 1.0])
def test_warp_matches_the_shader_oracle(fraction):
    frame = _frame(0)
    uv = motion_uv_matrix(chain_motion(CHAIN, W, H), fraction, W, H)
    expected = motion_reference(frame.double(), uv).float()
    got = warp_uv(frame, uv)
    assert got.shape == frame.shape and got.dtype == frame.dtype
    assert (got - expected).abs().max() < 1e-4
    assert (got - frame).abs().mean() > 0.01  # it did move


def test_composite_grades_like_the_shader():
    frame, previous = _frame(1), _frame(2)
    grading = Grading(brightness=0.05, contrast=1.3, saturation=0.6, gamma=1.4)
    uv = motion_uv_matrix(chain_motion(CHAIN, W, H), 0.5, W, H)
    got = composite(frame, previous, uv, 0.3, grading)
    mixed = previous.double() * 0.7 + motion_reference(frame.double(), uv) * 0.3
    expected = grade_reference(mixed, grading).float()
    assert (got - expected).abs().max() < 1e-4


def test_compositor_continues_the_motion_between_dream_frames():
    comp = Compositor("motion")
    assert comp.render(0.0) is None
    first, second = _frame(3), _frame(4)
    comp.push(first, CHAIN, now=10.0)
    comp.push(second, CHAIN, now=11.0)  # one dream frame a second
    assert torch.equal(comp.render(11.0), second.clamp(0, 1))  # fraction 0: the frame itself
    per_frame = chain_motion(CHAIN, W, H)
    for now, fraction in ((11.5, 0.5), (11.25, 0.25), (30.0, 1.0)):
        expected = motion_reference(second.double(), motion_uv_matrix(per_frame, fraction, W, H))
        assert (comp.render(now) - expected.float()).abs().max() < 1e-4
    # consecutive output frames differ: the motion is continuous, not a step per dream frame
    a, b = comp.render(11.4), comp.render(11.433)
    assert (a - b).abs().mean() > 1e-4


def test_crossfade_and_none_modes():
    first, second = _frame(5), _frame(6)
    fade = Compositor("crossfade")
    fade.push(first, CHAIN, 0.0)
    assert torch.equal(fade.render(0.5), first)  # one frame: nothing to fade from
    fade.push(second, CHAIN, 1.0)
    assert torch.allclose(fade.render(1.5), (first + second) / 2, atol=1e-6)
    still = Compositor("none")
    still.push(first, CHAIN, 0.0)
    still.push(second, CHAIN, 1.0)
    assert torch.equal(still.render(1.7), second)


def test_chain_change_changes_the_motion_and_bad_mode_is_clear():
    comp = Compositor()
    comp.push(_frame(7), (), 0.0)
    comp.push(_frame(8), (), 1.0)
    assert torch.equal(comp.render(1.5), _frame(8))  # no geometric link: no motion
    comp.push(_frame(8), CHAIN, 2.0)
    assert not torch.equal(comp.render(2.5), _frame(8))
    with pytest.raises(LivedreamError, match="crossfade"):
        Compositor("wobble")


def test_meta_device_keeps_device_and_dtype():
    frame = torch.empty(1, 3, H, W, device="meta")
    out = warp_uv(frame, np.diag([0.9, 0.9, 1.0]))
    assert out.device.type == "meta" and out.shape == frame.shape


def test_follow_switches_the_motion_between_dream_frames():
    comp = Compositor()
    comp.push(_frame(7), (), 0.0)
    comp.push(_frame(8), (), 1.0)
    comp.follow(CHAIN)  # a knob turned mid-frame: the next output frame moves with it
    expected = motion_reference(_frame(8).double(),
                                motion_uv_matrix(chain_motion(CHAIN, W, H), 0.5, W, H))
    assert (comp.render(1.5) - expected.float()).abs().max() < 1e-4
