"""Classic glitch effects (the 2015 post suggests pairing deep dreams with pixel sorting)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from livedream.params import Param
from livedream.transforms.colour import luminance
from livedream.transforms.registry import transform


def pixel_sort_order(brightness: Tensor, lo: float, hi: float, reverse: bool = False) -> Tensor:
    """Permutation [..., N] that sorts each maximal run of values in [lo, hi] along the last dim.

    Entry j is the index of the pixel that lands at position j. Pixels outside [lo, hi] stay where
    they are; ties keep their order. Two stable sorts (by value, then by run id) do the work of a
    composite key without float precision limits.
    """
    lo, hi = min(lo, hi), max(lo, hi)
    in_run = (brightness >= lo) & (brightness <= hi)
    prev_in_run = F.pad(in_run[..., :-1], (1, 0), value=False)
    # A new segment starts at every pixel outside a run and at the first pixel of each run.
    segment = torch.cumsum((~in_run | ~prev_in_run).long(), dim=-1)
    by_value = torch.sort(brightness, dim=-1, descending=reverse, stable=True).indices
    by_segment = torch.sort(segment.gather(-1, by_value), dim=-1, stable=True).indices
    return by_value.gather(-1, by_segment)


@transform(
    "pixel_sort",
    lo=Param(0.25, 0.0, 1.0, doc="lowest brightness that joins a sorted run"),
    hi=Param(0.8, 0.0, 1.0, doc="highest brightness that joins a sorted run"),
    axis=Param("rows", choices=("rows", "columns"), doc="sort along rows or along columns"),
    reverse=Param(False, doc="sort bright to dark instead of dark to bright"),
)
def pixel_sort(
    frame: Tensor, lo: float = 0.25, hi: float = 0.8, axis: str = "rows", reverse: bool = False
) -> Tensor:
    """Pixel sort: within each row, runs of pixels with luma in [lo, hi] sorted by luma."""
    if axis == "columns":
        return pixel_sort(frame.transpose(2, 3), lo, hi, "rows", reverse).transpose(2, 3)
    order = pixel_sort_order(luminance(frame), lo, hi, reverse)  # [B, H, W]
    return frame.gather(3, order.unsqueeze(1).expand_as(frame)).clamp(0.0, 1.0)
