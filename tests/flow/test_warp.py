"""warp_by_flow against a scipy oracle; flow resampling; shapes, dtypes and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from livedream.errors import LivedreamError
from livedream.flow.warp import resize_flow, warp_by_flow


def oracle_warp(frame: np.ndarray, flow: np.ndarray, strength: float) -> np.ndarray:
    """out[c, y, x] = frame[c, y + s*fy, x + s*fx], bilinear, edge values outside."""
    _, h, w = frame.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    coords = [ys + strength * flow[1], xs + strength * flow[0]]
    return np.stack([ndimage.map_coordinates(ch, coords, order=1, mode="nearest")
                     for ch in frame])


def test_warp_matches_scipy_oracle() -> None:
    gen = torch.Generator().manual_seed(0)
    frame = torch.rand(1, 3, 20, 28, generator=gen)
    flow = (torch.rand(1, 2, 20, 28, generator=gen) - 0.5) * 8  # includes out-of-frame samples
    for strength in (1.0, 0.5, 1.7):
        out = warp_by_flow(frame, flow, strength)
        expected = oracle_warp(frame[0].double().numpy(), flow[0].double().numpy(), strength)
        np.testing.assert_allclose(out[0].numpy(), expected, atol=1e-5)


def test_integer_flow_moves_content_with_the_scene() -> None:
    frame = torch.zeros(1, 3, 16, 24)
    frame[..., 4:8, 5:9] = 1.0
    flow = torch.zeros(1, 2, 16, 24)
    flow[:, 0] = -3.0  # backward flow of content moving right by 3 px
    out = warp_by_flow(frame, flow)
    expected = torch.zeros_like(frame)
    expected[..., 4:8, 8:12] = 1.0
    torch.testing.assert_close(out, expected)
    assert warp_by_flow(frame, flow, 0.0) is frame


def test_low_resolution_flow_is_rescaled_to_the_frame() -> None:
    flow = torch.full((1, 2, 8, 12), -1.5)  # -1.5 px on a half-resolution grid
    big = resize_flow(flow, (16, 24))
    assert big.shape == (1, 2, 16, 24)
    torch.testing.assert_close(big, torch.full_like(big, -3.0))
    frame = torch.rand(1, 3, 16, 24, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(warp_by_flow(frame, flow), warp_by_flow(frame, big))


def test_dtype_batch_and_bad_input() -> None:
    frame = torch.rand(2, 3, 10, 12, dtype=torch.float64)
    out = warp_by_flow(frame, torch.ones(2, 10, 12))  # [2, H, W] gains a batch axis
    assert out.dtype == torch.float64 and out.shape == frame.shape
    assert out.min() >= 0 and out.max() <= 1
    nan_flow = torch.full((1, 2, 10, 12), float("nan"))
    torch.testing.assert_close(warp_by_flow(frame, nan_flow), frame)  # NaN flow = no motion
    with pytest.raises(LivedreamError, match="flow must be"):
        warp_by_flow(frame, torch.zeros(1, 3, 10, 12))
    with pytest.raises(LivedreamError, match="batch"):
        warp_by_flow(frame, torch.zeros(3, 2, 10, 12))
    with pytest.raises(LivedreamError, match="strength"):
        warp_by_flow(frame, torch.zeros(1, 2, 10, 12), float("inf"))
