"""DIS optical flow: direction (backward), the reduced grid, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from livedream.errors import LivedreamError
from livedream.flow.clip import MovingSquare, frame_rgb
from livedream.flow.estimate import FlowEstimator, flow_grey, flow_size, flow_to_tensor


def test_backward_flow_of_a_square_moving_right() -> None:
    clip = MovingSquare(step=4)
    previous = flow_grey(frame_rgb(clip, 0), clip.size, 1.0)
    current = flow_grey(frame_rgb(clip, 1), clip.size, 1.0)
    flow = FlowEstimator().backward(previous, current)
    assert flow.shape == (clip.size[1], clip.size[0], 2) and flow.dtype == np.float32
    x, y, s = clip.x(1), clip.y0, clip.side
    inside = flow[y + 6 : y + s - 6, x + 6 : x + s - 6]
    np.testing.assert_allclose(inside.mean(axis=(0, 1)), [-4.0, 0.0], atol=0.5)
    assert np.abs(flow[:16, :].mean(axis=(0, 1))).max() < 0.2  # the still background
    tensor = flow_to_tensor(flow)
    assert tensor.shape == (1, 2, clip.size[1], clip.size[0])


def test_flow_grid_and_errors() -> None:
    assert flow_size((320, 180), 0.5) == (160, 90)
    assert flow_size((40, 20), 0.1) == (16, 16)
    clip = MovingSquare()
    assert flow_grey(frame_rgb(clip, 0), (64, 64), 0.5).shape == (32, 32)  # cover-cropped
    with pytest.raises(LivedreamError, match="flow.scale"):
        flow_size((320, 180), 0.0)
    with pytest.raises(LivedreamError, match="one size"):
        FlowEstimator().backward(np.zeros((16, 16), np.uint8), np.zeros((16, 20), np.uint8))
