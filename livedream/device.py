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


#: dream frame size per device type: a GPU dreams 720p live; a CPU stays lively at 320x180
DEFAULT_FRAME_SIZE = {"cuda": (1280, 720), "mps": (640, 360)}
CPU_FRAME_SIZE = (320, 180)

#: `--autocast` choices -> dtype (None = full precision, the default)
AUTOCAST_DTYPES: dict[str, torch.dtype | None] = {
    "off": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def default_frame_size(device: torch.device) -> tuple[int, int]:
    """The live frame size used when none is given, by device type."""
    return DEFAULT_FRAME_SIZE.get(device.type, CPU_FRAME_SIZE)
