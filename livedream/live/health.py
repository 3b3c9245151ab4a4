"""Frame health: is a frame still worth feeding back, and what to start again from if not."""

from __future__ import annotations

import torch
from torch import Tensor


def degenerate_reason(frame: Tensor, flat_tolerance: float = 1.0 / 255.0) -> str | None:
    """Why `frame` cannot feed the loop any more ('non-finite', 'flat'), or None when it is fine.

    Flat means every channel spans less than `flat_tolerance`: one colour, nothing to dream on.
    """
    finite = torch.isfinite(frame).all()
    spread = (frame.amax(dim=(2, 3)) - frame.amin(dim=(2, 3))).amax()
    # One readback for both numbers: each bool()/float() of a device tensor is a full sync.
    finite_flag, spread_value = torch.stack((finite.float(), spread.float())).tolist()
    if finite_flag != 1.0:
        return "non-finite"
    if not spread_value >= flat_tolerance:
        return "flat"
    return None


def fresh_frame(source: Tensor | None, start_image: Tensor, seed: int) -> Tensor:
    """A new buffer: the live source's frame, else the start image, else (if that is flat or
    broken too) the start image half-mixed with seeded noise."""
    frame = source
    if frame is None or degenerate_reason(frame) is not None:
        frame = start_image
    if degenerate_reason(frame) is not None:
        gen = torch.Generator().manual_seed(seed + 1)
        noise = torch.rand(frame.shape, generator=gen).to(frame.device)
        frame = (0.5 * torch.nan_to_num(frame, nan=0.5).clamp(0, 1) + 0.5 * noise)
    return frame.clone()
