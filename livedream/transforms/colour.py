"""Colour transforms ("weird colour shifts" and "palette flattening" from the 2015 post).

Brightness everywhere is Rec. 601 luma, 0.299 R + 0.587 G + 0.114 B.

`hue_shift` rotates every RGB colour about the grey axis (1, 1, 1) by `degrees` (a rigid
rotation of the colour cube, Rodrigues' formula), so greys stay put and +120 degrees maps red to
green, green to blue and blue to red, exactly like `channel_roll(shift=1)`. Out-of-cube results
are clamped to [0, 1].
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from livedream.params import Param
from livedream.transforms.registry import transform

LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def luminance(frame: Tensor) -> Tensor:
    """Rec. 601 luma [B, H, W] of an RGB frame (channel mean if the frame is not 3-channel)."""
    if frame.shape[1] != 3:
        return frame.mean(dim=1)
    r, g, b = LUMA_WEIGHTS
    return r * frame[:, 0] + g * frame[:, 1] + b * frame[:, 2]


def hue_rotation_matrix(degrees: float) -> Tensor:
    """3x3 float64 matrix rotating RGB about the grey axis by `degrees` (Rodrigues' formula)."""
    theta = math.radians(degrees)
    cos, sin = math.cos(theta), math.sin(theta)
    # Cross-product matrix of the unit grey axis k = (1, 1, 1) / sqrt(3); k k^T = ones / 3.
    cross = torch.tensor([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], dtype=torch.float64) / math.sqrt(3)
    eye = torch.eye(3, dtype=torch.float64)
    return cos * eye + sin * cross + (1 - cos) * torch.full((3, 3), 1 / 3, dtype=torch.float64)


@transform("hue_shift", degrees=Param(10.0, -180.0, 180.0, doc="hue rotation; +120 = R->G->B"))
def hue_shift(frame: Tensor, degrees: float = 10.0) -> Tensor:
    """Rotate hues by `degrees` (RGB rotation about the grey axis; greys unchanged)."""
    if frame.shape[1] != 3:
        return frame.clamp(0.0, 1.0)
    matrix = hue_rotation_matrix(degrees).to(device=frame.device, dtype=frame.dtype)
    return torch.einsum("ij,bjhw->bihw", matrix, frame).clamp(0.0, 1.0)


@transform("channel_roll", shift=Param(1, 0, 2, doc="channels to rotate: 1 = R->G, G->B, B->R"))
def channel_roll(frame: Tensor, shift: int = 1) -> Tensor:
    """Cycle the colour channels: output channel c is input channel c - shift."""
    return torch.roll(frame, shifts=shift, dims=1).clamp(0.0, 1.0)


@transform("posterize", levels=Param(8, 2, 256, doc="distinct values per channel"))
def posterize(frame: Tensor, levels: int = 8) -> Tensor:
    """Palette flattening: round each channel to `levels` evenly spaced values in [0, 1]."""
    steps = levels - 1
    return (torch.round(frame.clamp(0.0, 1.0) * steps) / steps).clamp(0.0, 1.0)


@transform("saturation", amount=Param(1.2, 0.0, 4.0, doc="0 = grey, 1 = unchanged, > 1 = vivid"))
def saturation(frame: Tensor, amount: float = 1.2) -> Tensor:
    """Scale each pixel's distance from its own luma grey by `amount`."""
    grey = luminance(frame).unsqueeze(1)
    return (grey + amount * (frame - grey)).clamp(0.0, 1.0)


@transform("invert")
def invert(frame: Tensor) -> Tensor:
    """Photographic negative, 1 - x."""
    return (1.0 - frame).clamp(0.0, 1.0)
