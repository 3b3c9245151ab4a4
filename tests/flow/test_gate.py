"""Motion mask, luma/chroma key, per-pixel source weight and the masked blend."""

from __future__ import annotations

import pytest
import torch

from livedream.errors import LivedreamError
from livedream.flow.gate import key_mask, masked_blend, motion_mask, source_weight


def test_motion_mask_ramps_around_the_threshold_and_decays() -> None:
    flow = torch.zeros(1, 2, 4, 4)
    flow[0, 0, 0, 0] = 3.0  # 3 px, well above threshold 1
    flow[0, 1, 0, 1] = 1.0  # exactly the threshold: half way up the ramp
    flow[0, 0, 0, 2] = 0.3  # below threshold / 2
    mask = motion_mask(flow, threshold=1.0)
    assert mask.shape == (1, 1, 4, 4)
    assert mask[0, 0, 0, 0] == 1.0 and mask[0, 0, 0, 2] == 0.0
    assert mask[0, 0, 0, 1] == pytest.approx(0.5)
    still = motion_mask(torch.zeros(1, 2, 4, 4), 1.0, previous=mask, decay=0.5)
    assert still[0, 0, 0, 0] == pytest.approx(0.5)  # half of last frame's motion lingers
    assert motion_mask(torch.zeros(1, 2, 4, 4), 1.0, previous=mask, decay=0.0).max() == 0
    # A half-resolution flow in pixels of its own grid: magnitudes double at full size.
    small = torch.full((1, 2, 2, 2), 0.0)
    small[:, 0] = 0.6
    assert motion_mask(small, 1.0).max() < 0.2
    assert motion_mask(small, 1.0, size=(4, 4)).min() > 0.6


def test_luma_and_chroma_keys() -> None:
    source = torch.zeros(1, 3, 1, 3)
    source[0, :, 0, 0] = 1.0  # white
    source[0, :, 0, 1] = torch.tensor([0.1, 0.9, 0.1])  # green screen
    source[0, :, 0, 2] = torch.tensor([0.2, 0.2, 0.3])  # dark blue-grey
    luma = key_mask(source, "luma", 0.5)[0, 0, 0]
    assert luma[0] == 1.0 and luma[2] == 0.0
    chroma = key_mask(source, "chroma", 0.5)[0, 0, 0]
    assert chroma[0] == 1.0 and chroma[1] == 0.0 and chroma[2] == 1.0
    assert key_mask(source, "off", 0.5).max() == 0
    with pytest.raises(LivedreamError, match="source.key"):
        key_mask(source, "purple", 0.5)
    with pytest.raises(LivedreamError, match="key_level"):
        key_mask(source, "luma", 2.0)


def test_source_weight_and_masked_blend() -> None:
    assert source_weight(0.25, []) == 0.25
    a = torch.tensor([[[[0.0, 1.0]]]])
    b = torch.tensor([[[[0.5, 0.0]]]])
    weight = source_weight(0.2, [a, b])
    torch.testing.assert_close(weight, torch.tensor([[[[0.6, 1.0]]]]))
    frame = torch.zeros(1, 3, 1, 2)
    source = torch.ones(1, 3, 2, 4)  # resized to the frame
    out = masked_blend(frame, source, weight)
    torch.testing.assert_close(out, torch.tensor([0.6, 1.0]).expand(1, 3, 1, 2))
    torch.testing.assert_close(masked_blend(frame, source, 0.3), torch.full_like(frame, 0.3))
    with pytest.raises(LivedreamError, match="gate.threshold"):
        motion_mask(torch.zeros(1, 2, 2, 2), 0.0)
    with pytest.raises(LivedreamError, match="source_mix"):
        source_weight(1.5, [a])
