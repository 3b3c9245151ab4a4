"""Edge and blur transforms from the 2015 post: Sobel, Prewitt, Gaussian blur.

All three match `scipy.ndimage` with its default `mode='reflect'` border (the edge pixel is
repeated: d c b a | a b c d | d c b a).

Edge normalisation: the raw gradient magnitude of a unit step edge (0 -> 1) is 4 for Sobel
(difference 1 times smoothing weights 1+2+1) and 3 for Prewitt (1+1+1). Both are divided by that
number, so a full black/white step maps to 1.0 (times `gain`), and the result is clamped to
[0, 1] (corners and diagonal edges can exceed 1 before the clamp).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from livedream.params import Param
from livedream.transforms.colour import luminance
from livedream.transforms.registry import transform

_EDGE_MODE = Param(
    "grey", choices=("grey", "colour"), doc="grey: luminance edges; colour: per channel"
)
_GAIN = Param(1.0, 0.0, 8.0, doc="multiplier on the normalised magnitude (unit step edge = 1)")


def reflect_index(n: int, radius: int, device: torch.device | str | None = None) -> Tensor:
    """Indices of a length-n axis padded by `radius` on both sides, scipy 'reflect' style."""
    idx = torch.arange(-radius, n + radius, device=device)
    period = torch.remainder(idx, 2 * n)
    return torch.where(period >= n, 2 * n - 1 - period, period)


def _pad_reflect(frame: Tensor, radius: int) -> Tensor:
    """Pad H and W by `radius` with scipy's reflect rule (works for any radius, even > size)."""
    _, _, h, w = frame.shape
    frame = frame.index_select(2, reflect_index(h, radius, frame.device))
    return frame.index_select(3, reflect_index(w, radius, frame.device))


def _gradient_magnitude(image: Tensor, smooth: tuple[float, float, float]) -> Tensor:
    """sqrt(gy^2 + gx^2) of a 3x3 derivative-times-smoothing operator (Sobel/Prewitt family)."""
    p = _pad_reflect(image, 1)  # [B, C, H+2, W+2]
    s0, s1, s2 = smooth
    d_y = p[:, :, 2:, :] - p[:, :, :-2, :]  # derivative down the rows, [B, C, H, W+2]
    g_y = s0 * d_y[..., :-2] + s1 * d_y[..., 1:-1] + s2 * d_y[..., 2:]
    d_x = p[..., 2:] - p[..., :-2]  # derivative along the columns, [B, C, H+2, W]
    g_x = s0 * d_x[:, :, :-2] + s1 * d_x[:, :, 1:-1] + s2 * d_x[:, :, 2:]
    return torch.sqrt(g_y * g_y + g_x * g_x)


def _edges(frame: Tensor, mode: str, gain: float, smooth: tuple[float, float, float]) -> Tensor:
    norm = gain / sum(smooth)
    if mode == "grey":
        magnitude = _gradient_magnitude(luminance(frame).unsqueeze(1), smooth)
        out = (magnitude * norm).expand_as(frame)
    else:
        out = _gradient_magnitude(frame, smooth) * norm
    return out.clamp(0.0, 1.0)


@transform("sobel", mode=_EDGE_MODE, gain=_GAIN)
def sobel(frame: Tensor, mode: str = "grey", gain: float = 1.0) -> Tensor:
    """Sobel edge magnitude (the post's 'You Wow or You Die'), /4 so a unit step edge = 1."""
    return _edges(frame, mode, gain, (1.0, 2.0, 1.0))


@transform("prewitt", mode=_EDGE_MODE, gain=_GAIN)
def prewitt(frame: Tensor, mode: str = "grey", gain: float = 1.0) -> Tensor:
    """Prewitt edge magnitude (falls apart faster than Sobel), /3 so a unit step edge = 1."""
    return _edges(frame, mode, gain, (1.0, 1.0, 1.0))


def gaussian_kernel(sigma: float, truncate: float = 4.0) -> Tensor:
    """scipy's 1-D Gaussian weights: radius int(truncate*sigma + 0.5), normalised to sum 1."""
    radius = int(truncate * sigma + 0.5)
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    weights = torch.exp(-0.5 * (x / sigma) ** 2)
    return weights / weights.sum()


@transform("blur", sigma=Param(1.0, 0.0, 20.0, doc="Gaussian sigma in pixels; 0 = off"))
def blur(frame: Tensor, sigma: float = 1.0) -> Tensor:
    """Gaussian blur per channel, as gaussian_filter(mode='reflect', truncate=4); sigma 0 = off."""
    if sigma <= 0:
        return frame.clamp(0.0, 1.0)
    kernel = gaussian_kernel(sigma).to(device=frame.device, dtype=frame.dtype)
    radius = (kernel.numel() - 1) // 2
    if radius == 0:
        return frame.clamp(0.0, 1.0)
    b, c, h, w = frame.shape
    planes = frame.reshape(b * c, 1, h, w)
    planes = planes.index_select(2, reflect_index(h, radius, frame.device))
    planes = _correlate(planes, kernel, dim=2)
    planes = planes.index_select(3, reflect_index(w, radius, frame.device))
    planes = _correlate(planes, kernel, dim=3)
    return planes.reshape(b, c, h, w).clamp(0.0, 1.0)


#: Kernels up to this many taps are applied as a sum of shifted slices (several times faster
#: than a one-channel conv2d on the CPU); longer ones go through conv2d.
_SHIFTED_SUM_MAX_TAPS = 49


def _correlate(planes: Tensor, kernel: Tensor, dim: int) -> Tensor:
    """'valid' 1-D correlation of [N, 1, H, W] planes with `kernel` along `dim` (2 or 3)."""
    taps = kernel.numel()
    if taps > _SHIFTED_SUM_MAX_TAPS:
        shape = (1, 1, -1, 1) if dim == 2 else (1, 1, 1, -1)
        return F.conv2d(planes, kernel.view(shape))
    length = planes.shape[dim] - taps + 1
    out = planes.narrow(dim, 0, length) * kernel[0]
    for i in range(1, taps):
        out = out + planes.narrow(dim, i, length) * kernel[i]
    return out
