"""Where the source shows through: motion mask, luma/chroma key, and the masked source blend.

Masks are [B, 1, H, W] tensors in [0, 1] (1 = the source shows, 0 = the dream). The per-pixel
source weight is `mix + (1 - mix) * mask`: the show's `source_mix` everywhere, rising to the
full source where the scene moves (or passes the key). Pure torch; device and dtype from inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from livedream.errors import ParamError
from livedream.flow.params import KEY_MODES
from livedream.flow.warp import resize_flow
from livedream.transforms.blend import blend, match_frame

KEY_SOFTNESS = 0.1  # width of the key's soft edge, in luma / greenness units


def _number(value: object, name: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParamError(f"{name}: expected a finite number, got {value!r}")
    if not lo <= value <= hi:
        raise ParamError(f"{name}: {value!r} outside allowed range [{lo}, {hi}]")
    return float(value)


def motion_mask(
    flow: Tensor,
    threshold: float,
    size: tuple[int, int] | None = None,
    previous: Tensor | None = None,
    decay: float = 0.0,
) -> Tensor:
    """Mask of where the scene moves, from a flow field ([B, 2, h, w], pixels of its grid).

    The magnitude (in pixels of the `size` = (H, W) grid, default the flow's own) ramps the mask
    from 0 at threshold/2 to 1 at 1.5 x threshold. With `previous`, the mask keeps
    `decay * previous` where that is higher, so motion fades out over frames instead of blinking.
    """
    threshold = _number(threshold, "gate.threshold", 1e-6, math.inf)
    decay = _number(decay, "gate.decay", 0.0, 1.0)
    if size is not None:
        flow = resize_flow(flow, size)
    magnitude = torch.linalg.vector_norm(flow, dim=1, keepdim=True)
    mask = ((magnitude - 0.5 * threshold) / threshold).clamp(0.0, 1.0)
    mask = torch.nan_to_num(mask, nan=0.0)
    if previous is not None and decay > 0:
        previous = resize_mask(previous.to(device=mask.device, dtype=mask.dtype), mask.shape[-2:])
        if previous.shape == mask.shape:
            mask = torch.maximum(mask, previous * decay)
    return mask


def luma(frame: Tensor) -> Tensor:
    """Rec. 601 luma of an RGB frame, [B, 1, H, W]."""
    weights = torch.tensor([0.299, 0.587, 0.114], device=frame.device, dtype=frame.dtype)
    return (frame[:, :3] * weights.view(1, 3, 1, 1)).sum(dim=1, keepdim=True)


def key_mask(source: Tensor, mode: str, level: float, softness: float = KEY_SOFTNESS) -> Tensor:
    """Key of a source frame: 'luma' -> 1 where luma > level (bright parts of the scene show);
    'chroma' -> 0 where greenness (g - max(r, b)) > level (a green screen gets dreamed on);
    'off' -> zeros. Soft edges `softness` wide."""
    if mode not in KEY_MODES:
        raise ParamError(f"source.key: expected one of {', '.join(KEY_MODES)}, got {mode!r}")
    level = _number(level, "source.key_level", 0.0, 1.0)
    softness = _number(softness, "key softness", 1e-6, 1.0)
    source = match_frame(source, source)  # [B, 3, H, W]
    if mode == "off":
        return torch.zeros_like(source[:, :1])
    if mode == "luma":
        return ((luma(source) - level) / softness + 0.5).clamp(0.0, 1.0)
    r, g, b = source[:, 0:1], source[:, 1:2], source[:, 2:3]
    greenness = g - torch.maximum(r, b)
    return ((level - greenness) / softness + 0.5).clamp(0.0, 1.0)


def resize_mask(mask: Tensor, size: Sequence[int]) -> Tensor:
    """A [B, 1, h, w] mask resampled (bilinear) to `size` = (H, W)."""
    if mask.dim() != 4 or mask.shape[1] != 1:
        raise ParamError(f"mask must be [B, 1, H, W]; got shape {tuple(mask.shape)}")
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask
    return F.interpolate(mask, size=tuple(size), mode="bilinear", align_corners=False)


def source_weight(mix: float, masks: Sequence[Tensor]) -> float | Tensor:
    """Per-pixel source weight `mix + (1 - mix) * max(masks)`; just `mix` without masks."""
    mix = _number(mix, "source_mix", 0.0, 1.0)
    if not masks:
        return mix
    size = masks[0].shape[-2:]
    combined = resize_mask(masks[0], size)
    for mask in masks[1:]:
        combined = torch.maximum(combined, resize_mask(mask.to(combined), size))
    return mix + (1.0 - mix) * combined


def masked_blend(frame: Tensor, source: Tensor, weight: float | Tensor) -> Tensor:
    """`lerp(frame, source, weight)` clamped to [0, 1]; `weight` a number or a [B, 1, h, w] mask
    (resampled to the frame). The source is matched to the frame's size, device and dtype."""
    if not isinstance(weight, Tensor):
        return blend(frame, source, weight)
    source = match_frame(source, frame)
    weight = resize_mask(weight.to(device=frame.device, dtype=frame.dtype), frame.shape[-2:])
    return torch.lerp(frame, source, weight.clamp(0.0, 1.0)).clamp(0.0, 1.0)
