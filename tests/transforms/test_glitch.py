"""pixel_sort: a hand-computed row and a loop-over-runs numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from livedream.transforms.glitch import pixel_sort
from tests.transforms import random_frame, to_hwc

LUMA = np.array([0.299, 0.587, 0.114])


def grey_row(values: list[float]) -> torch.Tensor:
    row = torch.tensor(values, dtype=torch.float32).view(1, 1, 1, -1)
    return row.expand(1, 3, 1, len(values)).contiguous()


ROW = [0.9, 0.5, 0.3, 0.7, 0.1, 0.6, 0.4, 0.95, 0.45, 0.3]
# in [0.25, 0.8]: runs at 1..3, 5..6, 8..9; 0.9, 0.1 and 0.95 stay put.
SORTED = [0.9, 0.3, 0.5, 0.7, 0.1, 0.4, 0.6, 0.95, 0.3, 0.45]
SORTED_REVERSE = [0.9, 0.7, 0.5, 0.3, 0.1, 0.6, 0.4, 0.95, 0.45, 0.3]


def test_single_row_hand_computed() -> None:
    out = pixel_sort(grey_row(ROW), 0.25, 0.8)
    torch.testing.assert_close(out[0, 0, 0], torch.tensor(SORTED))
    out = pixel_sort(grey_row(ROW), 0.25, 0.8, reverse=True)
    torch.testing.assert_close(out[0, 1, 0], torch.tensor(SORTED_REVERSE))
    swapped = pixel_sort(grey_row(ROW), 0.8, 0.25)
    torch.testing.assert_close(swapped[0, 2, 0], torch.tensor(SORTED))
    untouched = pixel_sort(grey_row(ROW), 0.96, 1.0)
    torch.testing.assert_close(untouched, grey_row(ROW))


def reference_sort(img: np.ndarray, lo: float, hi: float, reverse: bool) -> np.ndarray:
    """Loop over rows and runs; sort each run's whole RGB pixels by luma with a stable sort."""
    out = img.copy()
    luma = img @ LUMA
    for y in range(img.shape[0]):
        x = 0
        while x < img.shape[1]:
            if not lo <= luma[y, x] <= hi:
                x += 1
                continue
            end = x
            while end < img.shape[1] and lo <= luma[y, end] <= hi:
                end += 1
            keys = luma[y, x:end]
            order = np.argsort(-keys if reverse else keys, kind="stable")
            out[y, x:end] = img[y, x:end][order]
            x = end
    return out


@pytest.mark.parametrize(
    ("lo", "hi", "reverse"), [(0.25, 0.8, False), (0.1, 0.6, True), (0, 1, False)]
)
def test_matches_reference_on_random_frames(lo: float, hi: float, reverse: bool) -> None:
    frame = random_frame(24, 40, seed=1)
    img = to_hwc(frame).astype(np.float32).astype(np.float64)
    out = pixel_sort(frame, lo, hi, "rows", reverse)
    np.testing.assert_array_equal(to_hwc(out), reference_sort(img, lo, hi, reverse))
    out_cols = pixel_sort(frame, lo, hi, "columns", reverse)
    ref_cols = reference_sort(img.transpose(1, 0, 2), lo, hi, reverse).transpose(1, 0, 2)
    np.testing.assert_array_equal(to_hwc(out_cols), ref_cols)


def test_batch_frames_sorted_independently() -> None:
    frames = random_frame(8, 12, batch=2, seed=2)
    both = pixel_sort(frames)
    torch.testing.assert_close(both[1:], pixel_sort(frames[1:]))
