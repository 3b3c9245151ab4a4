"""Dense optical flow between consecutive source frames: OpenCV's DIS (fast preset) on the CPU.

Runs on the source's own thread (never the render thread) at a reduced resolution
(`flow.scale` x the frame size). It returns the *backward* flow that `warp_by_flow` wants: the
new frame at p looks like the previous one at p + flow(p).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from livedream.errors import LivedreamError
from livedream.sources import Size, fit_cover

MIN_FLOW_SIDE = 16  # DIS needs a few 8-px patches per side


class FlowError(LivedreamError):
    """Optical flow cannot be computed (bad scale, mismatched frames)."""


def flow_size(size: Size, scale: float) -> Size:
    """The (w, h) grid flow is estimated on: `size` x `scale`, at least MIN_FLOW_SIDE a side."""
    if not 0 < scale <= 1:
        raise FlowError(f"flow.scale must be in (0, 1], got {scale!r}")
    w, h = size
    return max(MIN_FLOW_SIDE, round(w * scale)), max(MIN_FLOW_SIDE, round(h * scale))


def flow_grey(rgb: np.ndarray, size: Size | None, scale: float) -> np.ndarray:
    """HxWx3 uint8 RGB (native size) -> uint8 grey picture of the flow grid: cover-fitted to
    `size` (the frame size the renderer uses; None = native) shrunk by `scale`."""
    import cv2

    target = size if size is not None else (rgb.shape[1], rgb.shape[0])
    small = fit_cover(rgb, flow_size(target, scale))
    return cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2GRAY)


class FlowEstimator:
    """DIS optical flow (fast preset). One instance per thread: OpenCV's object is stateful."""

    def __init__(self) -> None:
        import cv2

        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)

    def backward(self, previous: np.ndarray, current: np.ndarray) -> np.ndarray:
        """HxWx2 float32 (dx, dy) in pixels with current(p) ~ previous(p + flow(p))."""
        if previous.shape != current.shape or previous.ndim != 2:
            raise FlowError(f"flow needs two grey frames of one size; got {previous.shape} "
                            f"and {current.shape}")
        return self._dis.calc(current, previous, None)


def flow_to_tensor(flow: np.ndarray, device: torch.device | str | None = None) -> Tensor:
    """HxWx2 float32 numpy flow -> [1, 2, H, W] float32 tensor on `device`."""
    field = torch.from_numpy(np.ascontiguousarray(flow, dtype=np.float32))
    return field.permute(2, 0, 1).unsqueeze(0).to(device=device or "cpu")
