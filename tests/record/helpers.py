"""Synthetic frames and quality measures shared by the recording tests."""

from __future__ import annotations

import os

import av
import numpy as np
import torch


def smooth_frame(height: int, width: int, t: int = 0) -> np.ndarray:
    """A smooth uint8 RGB image (low-frequency waves) that moves slowly with `t`."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    red = 0.5 + 0.4 * np.sin(2 * np.pi * (xx / width + t / 50))
    green = 0.5 + 0.4 * np.cos(2 * np.pi * (yy / height - t / 70))
    blue = 0.3 + 0.5 * (xx + yy) / (width + height)
    return np.round(np.stack([red, green, blue], -1) * 255).astype(np.uint8)


def as_tensor(pixels: np.ndarray) -> torch.Tensor:
    """uint8 HxWx3 -> float [1,3,H,W] in [0, 1], the pipeline's frame format."""
    return torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255.0


def psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two uint8 images."""
    mse = np.mean((reference.astype(np.float64) - test.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def frame_times(path: str | os.PathLike[str]) -> list[float]:
    """Presentation time in seconds of every decoded frame."""
    with av.open(os.fspath(path)) as container:
        stream = container.streams.video[0]
        return [float(f.time) for packet in container.demux(stream) for f in packet.decode()]
