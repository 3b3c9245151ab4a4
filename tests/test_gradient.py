"""Laplacian-pyramid gradient normalisation against a numpy/scipy oracle of the same maths."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from livedream.gradient import lap_merge, lap_normalize, lap_split, max_levels

K1 = np.array([1.0, 4.0, 6.0, 4.0, 1.0])
K2 = np.outer(K1, K1) / 256.0


def _down(x: np.ndarray) -> np.ndarray:
    return ndimage.correlate(x, K2, mode="constant")[::2, ::2]


def _up(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    holes = np.zeros(shape)
    holes[::2, ::2] = x
    return ndimage.correlate(holes, 4.0 * K2, mode="constant")


def oracle_lap_normalize(img: np.ndarray, levels: int) -> np.ndarray:
    """TF tutorial's lap_normalize on [C,H,W] (channels independent, std over the whole band)."""
    bands_per_channel = []
    for channel in img:
        bands, x = [], channel
        for _ in range(levels):
            low = _down(x)
            bands.append(x - _up(low, x.shape))
            x = low
        bands.append(x)
        bands_per_channel.append(bands[::-1])
    merged = []
    rms = [np.sqrt(np.mean([np.mean(b[i] ** 2) for b in bands_per_channel]))
           for i in range(levels + 1)]
    for bands in bands_per_channel:
        x = bands[0] / max(rms[0], 1e-10)
        for i, band in enumerate(bands[1:], start=1):
            x = _up(x, band.shape) + band / max(rms[i], 1e-10)
        merged.append(x)
    return np.stack(merged)


@pytest.mark.parametrize("shape", [(3, 48, 64), (3, 45, 80), (3, 33, 17)])
def test_lap_normalize_matches_the_oracle(shape: tuple[int, int, int]) -> None:
    rng = np.random.default_rng(0)
    img = rng.standard_normal(shape)
    got = lap_normalize(torch.from_numpy(img)[None], levels=3)[0].numpy()
    np.testing.assert_allclose(got, oracle_lap_normalize(img, 3), rtol=1e-6, atol=1e-9)


def test_merge_inverts_split_exactly() -> None:
    x = torch.randn(2, 3, 45, 80, dtype=torch.float64)
    bands = lap_split(x, 4)
    assert [b.shape[-2:] for b in bands][0] == (3, 5)
    torch.testing.assert_close(lap_merge(bands), x)


def test_each_image_of_a_batch_is_normalised_alone() -> None:
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    scaled = x.clone()
    scaled[1] *= 1000.0
    out = lap_normalize(scaled, 3)
    torch.testing.assert_close(out[1], lap_normalize(x[1:], 3)[0])
    torch.testing.assert_close(out[0], lap_normalize(x[:1], 3)[0])


def test_it_damps_pixel_stripes_relative_to_coarse_structure() -> None:
    """2-px stripes on a smooth ramp: after normalisation the stripes no longer dominate."""
    h, w = 64, 64
    ramp = torch.linspace(0, 1, w).expand(h, w)
    stripes = torch.tensor([1.0, -1.0]).repeat(w // 2).expand(h, w)
    grad = (0.05 * ramp + 1.0 * stripes).expand(1, 3, h, w).double()

    def stripe_share(g: torch.Tensor) -> float:
        spectrum = torch.fft.rfft(g[0, 0].mean(0)).abs()
        return float(spectrum[-1] / spectrum.sum())

    assert stripe_share(lap_normalize(grad, 4)) < 0.5 * stripe_share(grad)


def test_levels_zero_or_tiny_frames_return_the_input_and_keep_dtype_device() -> None:
    g = torch.randn(1, 3, 3, 3)
    assert lap_normalize(g, 4) is g  # too small for one level
    assert lap_normalize(torch.ones(1, 3, 8, 8), 0).eq(1).all()
    assert max_levels(180, 320) >= 4
    half = torch.randn(1, 3, 32, 32).to(torch.bfloat16)
    assert lap_normalize(half, 3).dtype == torch.bfloat16
    meta = torch.empty(1, 3, 64, 64, device="meta")
    out = lap_normalize(meta, 3)
    assert out.device.type == "meta" and out.shape == meta.shape
