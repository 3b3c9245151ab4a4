"""sobel, prewitt and blur against scipy.ndimage (mode='reflect')."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as nd
import torch

from livedream.transforms.edges import blur, prewitt, sobel
from tests.transforms import from_hwc, random_frame, to_hwc

H, W = 48, 64
LUMA = np.array([0.299, 0.587, 0.114])


def smooth_frame(seed: int = 0) -> torch.Tensor:
    """Random frame with soft structure, so edge magnitudes span the range instead of clipping."""
    img = nd.gaussian_filter(to_hwc(random_frame(H, W, seed=seed)), sigma=(1.5, 1.5, 0))
    img = (img - img.min()) / (img.max() - img.min())
    return from_hwc(img)


def scipy_magnitude(plane: np.ndarray, op) -> np.ndarray:
    return np.hypot(op(plane, axis=0), op(plane, axis=1))


@pytest.mark.parametrize(("fn", "op", "norm"), [(sobel, nd.sobel, 4.0), (prewitt, nd.prewitt, 3.0)])
@pytest.mark.parametrize("gain", [1.0, 0.3, 4.0])
def test_edge_operators_match_scipy(fn, op, norm: float, gain: float) -> None:
    for frame in (smooth_frame(), random_frame(H, W, seed=1)):
        img = to_hwc(frame)
        grey = np.clip(gain * scipy_magnitude(img @ LUMA, op) / norm, 0, 1)
        out = to_hwc(fn(frame, "grey", gain))
        for c in range(3):
            np.testing.assert_allclose(out[..., c], grey, atol=1e-4)
        colour = np.stack([scipy_magnitude(img[..., c], op) for c in range(3)], axis=-1)
        np.testing.assert_allclose(
            to_hwc(fn(frame, "colour", gain)), np.clip(gain * colour / norm, 0, 1), atol=1e-4
        )


@pytest.mark.parametrize("fn", [sobel, prewitt])
def test_unit_step_edge_maps_to_one(fn) -> None:
    frame = torch.zeros(1, 3, 16, 16)
    frame[..., 8:] = 1.0
    out = fn(frame)
    assert out.max().item() == pytest.approx(1.0, abs=1e-6)
    assert torch.all(out[..., :6] == 0) and torch.all(out[..., 10:] == 0)
    torch.testing.assert_close(out[..., 7], torch.ones_like(out[..., 7]))


@pytest.mark.parametrize("sigma", [0.3, 1.0, 2.5, 7.0, 20.0])
def test_blur_matches_gaussian_filter(sigma: float) -> None:
    frame = random_frame(H, W, seed=2)
    img = to_hwc(frame)
    ref = nd.gaussian_filter(img, sigma=(sigma, sigma, 0), mode="reflect", truncate=4.0)
    np.testing.assert_allclose(to_hwc(blur(frame, sigma)), ref, atol=1e-4)


def test_blur_sigma_zero_is_identity() -> None:
    frame = random_frame(H, W, seed=3)
    assert torch.equal(blur(frame, 0.0), frame)
    assert torch.equal(blur(frame, 0.1), frame)  # scipy's radius int(4*0.1+0.5) = 0 as well
