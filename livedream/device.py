"""Device choice: CUDA when present, else CPU. Nothing here touches CUDA at import time."""

from __future__ import annotations

import torch


def pick_device(preference: str | None = None) -> torch.device:
    """The device to run on: `preference` ('cpu', 'cuda', 'cuda:1', 'mps') or the best one."""
    if preference and preference != "auto":
        return torch.device(preference)
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")
