"""Gradient smoothing: Laplacian-pyramid normalisation (the TensorFlow DeepDream tutorial's
`lap_normalize`).

The raw input gradient of a CNN is dominated by its finest frequencies; single-octave live
dreaming adds it frame after frame and paints a 2-3 px stripe pattern over everything. Splitting
the gradient into `levels` Laplacian bands and dividing each band by its own RMS gives every
scale an equal say, so the step carries coarse structure instead of pixel-level stripes (what the
octave pyramid achieves offline, at a fraction of the cost).

Pure functions on tensors: device and dtype come from the input; the pyramid uses the 5-tap
binomial kernel [1, 4, 6, 4, 1] / 16 per channel with zero padding, as the tutorial does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

#: RMS floor of a band (a flat band stays zero instead of dividing by 0).
EPS = 1e-10


def _kernel(x: Tensor, gain: float = 1.0) -> Tensor:
    """The 5x5 binomial kernel, one per channel (depthwise), on x's device and dtype."""
    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], device=x.device, dtype=x.dtype)
    k2 = torch.outer(k, k) / 256.0 * gain
    return k2.expand(x.shape[1], 1, 5, 5).contiguous()


def _down(x: Tensor) -> Tensor:
    """Blur and keep every second pixel: [B,C,H,W] -> [B,C,ceil(H/2),ceil(W/2)]."""
    return F.conv2d(x, _kernel(x), stride=2, padding=2, groups=x.shape[1])


def _up(x: Tensor, size: tuple[int, int]) -> Tensor:
    """The transposed blur (x4, so a constant survives): back to `size` (h, w)."""
    h, w = size
    pad = (1 - h % 2, 1 - w % 2)  # output_padding: 2m-1+pad == size
    return F.conv_transpose2d(x, _kernel(x, 4.0), stride=2, padding=2, output_padding=pad,
                              groups=x.shape[1])


def lap_split(x: Tensor, levels: int) -> list[Tensor]:
    """The Laplacian pyramid of x: [coarsest low-pass, coarsest band, ..., finest band]."""
    bands = []
    for _ in range(levels):
        low = _down(x)
        bands.append(x - _up(low, (x.shape[2], x.shape[3])))
        x = low
    bands.append(x)
    return bands[::-1]


def lap_merge(bands: list[Tensor]) -> Tensor:
    """Inverse of `lap_split` (exact: merging the split returns the input)."""
    x = bands[0]
    for band in bands[1:]:
        x = _up(x, (band.shape[2], band.shape[3])) + band
    return x


def max_levels(height: int, width: int) -> int:
    """How many bands an image of this size has room for (the coarsest keeps >= 2 px a side)."""
    side, levels = min(height, width), 0
    while side >= 4:
        side = (side + 1) // 2
        levels += 1
    return levels


def lap_normalize(grad: Tensor, levels: int = 4) -> Tensor:
    """`grad` ([B,C,H,W]) with every Laplacian band divided by its RMS (per image), then merged.

    `levels` <= 0 returns `grad` unchanged; more levels than the size allows are clipped. The
    result keeps grad's shape, device and dtype (the pyramid itself runs in float32 at least).
    """
    levels = min(int(levels), max_levels(grad.shape[2], grad.shape[3]))
    if levels <= 0:
        return grad
    x = grad.float() if grad.dtype in (torch.float16, torch.bfloat16) else grad
    bands = [b / b.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp_min(EPS)
             for b in lap_split(x, levels)]
    return lap_merge(bands).to(grad.dtype)
