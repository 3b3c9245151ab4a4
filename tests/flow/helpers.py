"""Shared pieces of the flow done-means tests: the clip, the dream settings, and the
cross-correlation that finds how far the dreamed pattern moved."""

from __future__ import annotations

import numpy as np
import torch

from livedream.flow.clip import MovingSquare
from livedream.look import DreamSettings

CLIP = MovingSquare(size=(128, 96), side=32, x0=16, y0=32, step=3, frames=12)
DREAM = DreamSettings(step_size=4.0, iterations=2, jitter=4)
SOURCE_MIX = 0.1


def peak_shift(a: np.ndarray, b: np.ndarray, box: tuple[int, int, int, int],
               search: int = 8) -> tuple[int, int]:
    """(dx, dy) maximising the normalised cross-correlation of a's `box` (x, y, w, h) in b."""
    x, y, w, h = box
    template = a[:, y : y + h, x : x + w]
    template = template - template.mean()
    best, best_shift = -np.inf, (0, 0)
    for dy in range(-search, search + 1):
        for dx in range(-search, search + 1):
            window = b[:, y + dy : y + dy + h, x + dx : x + dx + w]
            window = window - window.mean()
            score = (template * window).sum() / (
                np.linalg.norm(template) * np.linalg.norm(window) + 1e-12)
            if score > best:
                best, best_shift = score, (dx, dy)
    return best_shift


def dreamed_shifts(buffers: list[torch.Tensor], sources: list[torch.Tensor]) -> list[int]:
    """Per frame pair: the x shift of the dreamed pattern (buffer minus scene) on the square."""
    shifts = []
    for i in range(2, len(buffers) - 1):  # frame i of the loop shows clip frame i + 1
        dream_a = (buffers[i] - sources[i])[0].numpy()
        dream_b = (buffers[i + 1] - sources[i + 1])[0].numpy()
        x = CLIP.x(i + 1)
        box = (x + 4, CLIP.y0 + 4, CLIP.side - 8, CLIP.side - 8)
        dx, dy = peak_shift(dream_a, dream_b, box)
        assert abs(dy) <= 1
        shifts.append(dx)
    return shifts
