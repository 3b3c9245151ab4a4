"""Every registered transform takes device and dtype from its input (CONTRIBUTING.md).

A CUDA build is not available here, so device discipline is checked on the `meta` device: an op
that mixes in a tensor created on the CPU (an `arange` or a kernel without `device=`) fails
there just as it would on CUDA. Reduced-precision frames (bf16 under autocast, fp16) must come
back in their own dtype, finite and inside [0, 1]; float64 likewise.
"""

from __future__ import annotations

import pytest
import torch

from livedream.look import ChainLink
from livedream.transforms import apply_transform, transform_names
from livedream.transforms.geometry import zoom

GEOMETRIC = ("zoom", "stretch", "rotate", "affine", "tile_affine")


def _frame(dtype: torch.dtype, h: int = 180, w: int = 320) -> torch.Tensor:
    gen = torch.Generator().manual_seed(3)
    return torch.rand(1, 3, h, w, generator=gen).to(dtype)


@pytest.mark.parametrize("name", transform_names())
def test_output_stays_on_the_input_device(name: str) -> None:
    frame = torch.empty(1, 3, 18, 32, device="meta")
    out = apply_transform(frame, ChainLink(name, {}), t=3, seed=1)
    assert out.device == frame.device
    assert out.shape == frame.shape
    assert out.dtype == frame.dtype


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("name", transform_names())
def test_dtype_kept_finite_and_in_range(name: str, dtype: torch.dtype) -> None:
    frame = _frame(dtype)
    out = apply_transform(frame, ChainLink(name, {}), t=3, seed=1)
    assert out.dtype == dtype
    assert out.device == frame.device
    assert torch.isfinite(out).all(), f"{name} gave non-finite values for {dtype}"
    assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("name", GEOMETRIC)
def test_geometry_in_reduced_precision_matches_float32(name: str, dtype: torch.dtype) -> None:
    """The sampling grid must not be quantised to the frame's 8-11 bit mantissa."""
    frame = _frame(dtype)
    link = ChainLink(name, {})
    expected = apply_transform(frame.float(), link, t=3, seed=1)
    got = apply_transform(frame, link, t=3, seed=1).float()
    # only the output rounding to `dtype` may differ (half an ulp near 1: 2**-9 for bf16)
    assert (got - expected).abs().max() <= 2.0**-8


def test_bf16_zoom_by_zero_is_the_identity() -> None:
    frame = _frame(torch.bfloat16, 360, 640)
    assert (zoom(frame, 0.0).float() - frame.float()).abs().max() <= 2.0**-8
