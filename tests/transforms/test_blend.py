"""blend: mixing a live source frame into the feedback buffer."""

from __future__ import annotations

import pytest
import torch

from livedream.errors import ParamError
from livedream.transforms.blend import blend
from tests.transforms import random_frame


def test_weights_mix_linearly() -> None:
    frame, source = random_frame(seed=1), random_frame(seed=2)
    assert torch.equal(blend(frame, source, 0.0), frame)
    torch.testing.assert_close(blend(frame, source, 1.0), source)
    torch.testing.assert_close(blend(frame, source, 0.25), 0.75 * frame + 0.25 * source)


def test_source_is_resized_and_grey_expanded() -> None:
    frame = random_frame(48, 64, seed=3)
    source = torch.full((1, 3, 120, 200), 0.8)
    out = blend(frame, source, 0.5)
    assert out.shape == frame.shape
    torch.testing.assert_close(out, 0.5 * frame + 0.4)
    ramp = torch.linspace(0, 1, 16).view(1, 1, 1, 16).expand(1, 1, 8, 16)  # grey, small
    out = blend(torch.zeros(2, 3, 48, 64), ramp, 1.0)
    assert out.shape == (2, 3, 48, 64)
    assert torch.equal(out[:, 0], out[:, 2]) and torch.equal(out[0], out[1])
    assert torch.all(out[0, 0, 10].diff() >= -1e-6)  # still a left-to-right ramp
    assert out[0, 0, 10, 0] < 0.05 and out[0, 0, 10, -1] > 0.95


@pytest.mark.parametrize("weight", [-0.1, 1.5, float("nan"), "0.5"])
def test_bad_weight_is_a_param_error(weight) -> None:
    with pytest.raises(ParamError, match="weight"):
        blend(random_frame(), random_frame(), weight)


def test_bad_source_shape_is_a_param_error() -> None:
    with pytest.raises(ParamError, match="shape"):
        blend(random_frame(), torch.zeros(1, 2, 4, 4), 0.5)
    with pytest.raises(ParamError, match="batch"):
        blend(random_frame(batch=2), torch.zeros(3, 3, 4, 4), 0.5)
