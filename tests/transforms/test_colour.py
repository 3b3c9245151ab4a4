"""Colour transforms against numpy formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from livedream.transforms.colour import (
    channel_roll,
    hue_shift,
    invert,
    luminance,
    posterize,
    saturation,
)
from tests.transforms import random_frame, to_hwc

LUMA = np.array([0.299, 0.587, 0.114])


@pytest.mark.parametrize("degrees", [10.0, -45.0, 90.0, 180.0, -180.0])
def test_hue_shift_is_a_rotation_about_the_grey_axis(degrees: float) -> None:
    frame = random_frame(seed=1)
    axis = np.ones(3) / np.sqrt(3)
    m = Rotation.from_rotvec(np.radians(degrees) * axis).as_matrix()
    ref = np.clip(to_hwc(frame) @ m.T, 0, 1)
    np.testing.assert_allclose(to_hwc(hue_shift(frame, degrees)), ref, atol=1e-5)


def test_hue_shift_120_is_channel_roll_and_keeps_greys() -> None:
    frame = random_frame(seed=2)
    torch.testing.assert_close(hue_shift(frame, 120.0), channel_roll(frame, 1), atol=1e-5, rtol=0)
    grey = frame[:, :1].expand(-1, 3, -1, -1)
    torch.testing.assert_close(hue_shift(grey, 37.0), grey, atol=1e-5, rtol=0)
    torch.testing.assert_close(hue_shift(frame, 0.0), frame, atol=1e-6, rtol=0)


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_channel_roll(shift: int) -> None:
    frame = random_frame(seed=3)
    ref = np.roll(to_hwc(frame), shift, axis=2)
    np.testing.assert_array_equal(to_hwc(channel_roll(frame, shift)), ref)
    red = torch.zeros(1, 3, 2, 2)
    red[:, 0] = 1
    assert channel_roll(red, 1)[0, :, 0, 0].tolist() == [0.0, 1.0, 0.0]  # red -> green


@pytest.mark.parametrize("levels", [2, 3, 8, 256])
def test_posterize(levels: int) -> None:
    frame = random_frame(seed=4)
    img = to_hwc(frame).astype(np.float32)
    ref = np.round(img * (levels - 1)) / (levels - 1)
    out = to_hwc(posterize(frame, levels))
    np.testing.assert_allclose(out, ref, atol=1e-6)
    assert len(np.unique(out)) <= levels


@pytest.mark.parametrize("amount", [0.0, 0.5, 1.0, 1.2, 4.0])
def test_saturation(amount: float) -> None:
    frame = random_frame(seed=5)
    img = to_hwc(frame)
    grey = (img @ LUMA)[..., None]
    ref = np.clip(grey + amount * (img - grey), 0, 1)
    out = to_hwc(saturation(frame, amount))
    np.testing.assert_allclose(out, ref, atol=1e-5)
    if amount == 0:
        np.testing.assert_allclose(out[..., 0], out[..., 2], atol=1e-6)


def test_invert_and_luminance() -> None:
    frame = random_frame(seed=6)
    np.testing.assert_allclose(to_hwc(invert(frame)), 1 - to_hwc(frame), atol=1e-6)
    np.testing.assert_allclose(luminance(frame)[0].numpy(), to_hwc(frame) @ LUMA, atol=1e-6)
