"""Dream scale: run the dream step on a smaller copy of the frame and carry its detail back up.

The net's cost grows with the pixel count, so dreaming on a frame `scale` times the output size
costs about scale^2 as much. The step's *detail* (dreamed minus the downscaled input) is
upsampled bicubically and added to the full-size feedback buffer on its device, so the output,
the display and the recording keep their size (the same way `deepdream` carries detail up the
octave pyramid).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch.nn.functional as F
from torch import Tensor

from livedream.dream import MIN_OCTAVE_SIDE, DreamFn, deepdream
from livedream.look import DreamSettings
from livedream.models.base import DreamModel


def dream_size(height: int, width: int, scale: float,
               minimum: int = MIN_OCTAVE_SIDE) -> tuple[int, int]:
    """(h, w) of the dreamed copy: `scale` times the size, no side below `minimum` (or the
    frame's own side when that is smaller)."""
    h = max(min(minimum, height), round(height * scale))
    w = max(min(minimum, width), round(width * scale))
    return min(h, height), min(w, width)


def scaled_step(step: Callable[[Tensor], Tensor], frame: Tensor, scale: float) -> Tensor:
    """`step(frame)` computed on a `scale`-times smaller copy ([B,3,H,W] in, same shape out).

    scale >= 1 (or a frame too small to shrink) is exactly `step(frame)`. Otherwise the frame is
    area-downscaled, stepped, and `frame + bicubic_up(stepped - small)` clipped to [0, 1] is
    returned on frame's device, dtype and size.
    """
    height, width = frame.shape[2], frame.shape[3]
    size = dream_size(height, width, scale)
    if scale >= 1.0 or size == (height, width):
        return step(frame)
    small = F.interpolate(frame, size=size, mode="area")
    detail = step(small) - small
    up = F.interpolate(detail, size=(height, width), mode="bicubic", align_corners=False)
    return (frame + up).clamp_(0.0, 1.0)


class ScaledDream:
    """A dream function (`Dreamer(dream_fn=...)`) that dreams at `scale()` of the frame size.

    `scale` is a number or a callable read every frame (the frame-budget governor's choice);
    `step` is the underlying dream function (default `deepdream`).
    """

    def __init__(self, scale: float | Callable[[], float], step: DreamFn = deepdream) -> None:
        self._scale = scale
        self.step = step

    def scale(self) -> float:
        return float(self._scale() if callable(self._scale) else self._scale)

    def __call__(self, model: DreamModel, frame: Tensor, layers: Sequence[str],
                 settings: DreamSettings, **kwargs: Any) -> Tensor:
        return scaled_step(lambda x: self.step(model, x, layers, settings, **kwargs), frame,
                           self.scale())
