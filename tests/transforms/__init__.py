"""Tests of the feedback transforms against numpy/scipy oracles. Shared helpers below."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def random_frame(h: int = 48, w: int = 64, batch: int = 1, seed: int = 0) -> Tensor:
    """Uniform random float32 frame [batch, 3, h, w] in [0, 1]."""
    return torch.rand(batch, 3, h, w, generator=torch.Generator().manual_seed(seed))


def to_hwc(frame: Tensor) -> np.ndarray:
    """First frame of a batch as a float64 HxWx3 array, the layout the 2015 post works on."""
    return frame[0].permute(1, 2, 0).double().numpy()


def from_hwc(array: np.ndarray) -> Tensor:
    """HxWx3 array -> float32 [1, 3, H, W]."""
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).unsqueeze(0).float()
