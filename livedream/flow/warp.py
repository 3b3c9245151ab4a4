"""Warp the feedback buffer by a dense flow field (pure torch, device and dtype from the input).

Flow fields are [B, 2, h, w] tensors of (dx, dy) in pixels of their own grid. They are *backward*
flows: the current source frame at pixel p looks like the previous one at p + flow(p). Warping
the buffer by it (`out(p) = buffer(p + flow(p))`) moves what was dreamed on the previous frame to
where that part of the scene is now, so dreamed features stick to what they grew on.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from livedream.errors import ParamError


def check_flow(flow: Tensor) -> Tensor:
    """`flow` as [B, 2, h, w] (a [2, h, w] field gains the batch axis), or ParamError."""
    if flow.dim() == 3:
        flow = flow.unsqueeze(0)
    if flow.dim() != 4 or flow.shape[1] != 2:
        raise ParamError(f"flow must be [B, 2, H, W] (dx, dy); got shape {tuple(flow.shape)}")
    return flow


def resize_flow(flow: Tensor, size: tuple[int, int]) -> Tensor:
    """A flow field resampled to `size` = (h, w), its vectors rescaled to pixels of that grid."""
    flow = check_flow(flow)
    h, w = flow.shape[-2:]
    out_h, out_w = size
    if (h, w) == (out_h, out_w):
        return flow
    out = F.interpolate(flow, size=(out_h, out_w), mode="bilinear", align_corners=False)
    scale = torch.tensor([out_w / w, out_h / h], device=flow.device, dtype=flow.dtype)
    return out * scale.view(1, 2, 1, 1)


@functools.lru_cache(maxsize=8)
def _identity_grid(h: int, w: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    """grid_sample's identity grid [1, H, W, 2] (align_corners=True), cached per size."""
    ys = torch.linspace(-1.0, 1.0, h, device=device, dtype=dtype) if h > 1 else torch.zeros(
        1, device=device, dtype=dtype)
    xs = torch.linspace(-1.0, 1.0, w, device=device, dtype=dtype) if w > 1 else torch.zeros(
        1, device=device, dtype=dtype)
    return torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).unsqueeze(0)


def warp_by_flow(frame: Tensor, flow: Tensor, strength: float = 1.0) -> Tensor:
    """`out(y, x) = frame(y + s*dy, x + s*dx)`, bilinear, edges clamped; s = `strength`.

    `frame` is [B, C, H, W]; `flow` is [1 or B, 2, h, w] (any resolution: it is resampled to
    H x W and its vectors rescaled). Returns a new frame on `frame`'s device and dtype, clamped to
    [0, 1]. strength 0 returns `frame` unchanged. Few full-size ops (the flow is scaled to
    grid_sample's units on its own, smaller grid): this runs every frame.
    """
    if isinstance(strength, bool) or not isinstance(strength, int | float) \
            or not math.isfinite(strength):
        raise ParamError(f"warp_by_flow: strength must be a finite number, got {strength!r}")
    if frame.dim() != 4:
        raise ParamError(f"warp_by_flow: frame must be [B, C, H, W]; got {tuple(frame.shape)}")
    if strength == 0:
        return frame
    b, _, h, w = frame.shape
    flow = check_flow(flow)
    if flow.shape[0] not in (1, b):
        raise ParamError(f"warp_by_flow: flow batch {flow.shape[0]} does not match frame batch {b}")
    flow = torch.nan_to_num(flow.to(device=frame.device, dtype=frame.dtype), nan=0.0,
                            posinf=0.0, neginf=0.0)
    fh, fw = flow.shape[-2:]
    # pixels of the flow's grid -> pixels of the frame -> grid_sample's [-1, 1] units
    units = torch.tensor([w / fw * 2.0 / max(w - 1, 1), h / fh * 2.0 / max(h - 1, 1)],
                         device=frame.device, dtype=frame.dtype) * float(strength)
    flow = flow * units.view(1, 2, 1, 1)
    if (fh, fw) != (h, w):
        flow = F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False)
    grid = _identity_grid(h, w, frame.device, frame.dtype) + flow.permute(0, 2, 3, 1)
    out = F.grid_sample(frame, grid.expand(b, -1, -1, -1), mode="bilinear",
                        padding_mode="border", align_corners=True)
    return out.clamp(0.0, 1.0)
