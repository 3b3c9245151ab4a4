"""Mix a live source frame (image, video, webcam) into the feedback buffer.

Not a registered transform: it takes a second tensor, which a preset cannot name. The render and
live loops call it between dream steps with the frame their `Source` just read.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from livedream.errors import ParamError


def match_frame(source: Tensor, like: Tensor) -> Tensor:
    """`source` as [B, 3, H, W] on `like`'s device and dtype, resized (bilinear) to its H, W.

    Accepts [C, H, W] or [1 or B, C, H, W] with C = 1 (grey, repeated), 3, or 4 (alpha dropped).
    """
    if source.dim() == 3:
        source = source.unsqueeze(0)
    if source.dim() != 4 or source.shape[1] not in (1, 3, 4):
        raise ParamError(
            f"blend: source must be [B, C, H, W] with C in 1, 3, 4; got shape {tuple(source.shape)}"
        )
    b, _, h, w = like.shape
    if source.shape[0] not in (1, b):
        raise ParamError(f"blend: source batch {source.shape[0]} does not match frame batch {b}")
    source = source.to(device=like.device, dtype=like.dtype)
    if source.shape[1] == 1:
        source = source.expand(-1, 3, -1, -1)
    elif source.shape[1] == 4:
        source = source[:, :3]
    if source.shape[-2:] != (h, w):
        shrinking = source.shape[-2] > h or source.shape[-1] > w
        source = F.interpolate(
            source, size=(h, w), mode="bilinear", align_corners=False, antialias=shrinking
        )
    return source.expand(b, -1, -1, -1)


def blend(frame: Tensor, source: Tensor, weight: float) -> Tensor:
    """(1 - weight) * frame + weight * source, clamped to [0, 1]; weight in [0, 1].

    weight 0 returns the feedback frame, 1 replaces it with the live source.
    """
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
        raise ParamError(f"blend: weight must be a finite number in [0, 1], got {weight!r}")
    if not 0.0 <= weight <= 1.0:
        raise ParamError(f"blend: weight {weight!r} outside allowed range [0, 1]")
    source = match_frame(source, frame)
    return torch.lerp(frame, source, float(weight)).clamp(0.0, 1.0)
