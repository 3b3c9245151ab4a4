"""Roll transforms against the post's np.roll loops, plus hand-computed tiny cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from livedream.look import ChainLink
from livedream.transforms import apply_transform
from livedream.transforms.roll import random_shifts, roll_linear, roll_random, roll_sine
from tests.transforms import from_hwc, random_frame, to_hwc

H, W = 48, 64


def post_column_loop(img: np.ndarray, shiftfunc) -> np.ndarray:
    """The post's loop: frame[:, n] = np.roll(frame[:, n], 3*shiftfunc(n)) on an HxWx3 array."""
    frame = img.copy()
    for n in range(frame.shape[1]):
        frame[:, n] = np.roll(frame[:, n], 3 * shiftfunc(n))
    return frame


def post_row_loop(img: np.ndarray, shiftfunc) -> np.ndarray:
    """The same loop turned sideways: row n rolled right by shiftfunc(n) whole pixels."""
    frame = img.copy()
    for n in range(frame.shape[0]):
        frame[n, :] = np.roll(frame[n, :], 3 * shiftfunc(n))
    return frame


def test_roll_linear_is_the_posts_n_over_15_loop() -> None:
    frame = random_frame(H, W)
    ref = post_column_loop(to_hwc(frame), lambda n: n // 15)  # Python 2's n/15
    np.testing.assert_array_equal(to_hwc(roll_linear(frame, 1 / 15)), ref)


@pytest.mark.parametrize("slope", [0.37, -1.3, 4.0, 0.0, 1 / 7])
def test_roll_linear_other_slopes_both_axes(slope: float) -> None:
    frame = random_frame(H, W, seed=1)
    img = to_hwc(frame)
    ref_cols = post_column_loop(img, lambda n: math.floor(slope * n + 1e-9))
    np.testing.assert_array_equal(to_hwc(roll_linear(frame, slope, "columns")), ref_cols)
    ref_rows = post_row_loop(img, lambda n: math.floor(slope * n + 1e-9))
    np.testing.assert_array_equal(to_hwc(roll_linear(frame, slope, "rows")), ref_rows)


def tiny_frame() -> torch.Tensor:
    """1x3x4x5 frame: channel c holds (0..19 + 20 c) / 60, so mixed channels would show."""
    values = torch.arange(60, dtype=torch.float32).reshape(1, 3, 4, 5)
    return values / 60.0


def test_roll_linear_tiny_hand_computed_case() -> None:
    # slope 0.5: column shifts floor(0.5 n) = 0, 0, 1, 1, 2 (down, wrapping).
    expected_channel0 = [
        [0, 1, 17, 18, 14],
        [5, 6, 2, 3, 19],
        [10, 11, 7, 8, 4],
        [15, 16, 12, 13, 9],
    ]
    out = roll_linear(tiny_frame(), 0.5, "columns") * 60
    for c in range(3):
        expected = torch.tensor(expected_channel0, dtype=torch.float32) + 20 * c
        torch.testing.assert_close(out[0, c], expected, atol=1e-4, rtol=0)
    # rows, slope 1: row n moves right by n.
    expected_rows = [
        [0, 1, 2, 3, 4],
        [9, 5, 6, 7, 8],
        [13, 14, 10, 11, 12],
        [17, 18, 19, 15, 16],
    ]
    out = roll_linear(tiny_frame(), 1.0, "rows") * 60
    torch.testing.assert_close(
        out[0, 0], torch.tensor(expected_rows, dtype=torch.float32), atol=1e-4, rtol=0
    )


def test_alternate_axis_switches_with_t() -> None:
    frame = random_frame(H, W, seed=2)
    cols, rows = roll_linear(frame, 0.5, "columns"), roll_linear(frame, 0.5, "rows")
    assert not torch.equal(cols, rows)
    assert torch.equal(roll_linear(frame, 0.5, "alternate", t=0), cols)
    assert torch.equal(roll_linear(frame, 0.5, "alternate", t=1), rows)
    assert torch.equal(roll_linear(frame, 0.5, "alternate", t=6), cols)
    sine_rows = roll_sine(frame, 7.0, 2.0, 0.5, 0.3, "rows", t=3)
    assert torch.equal(roll_sine(frame, 7.0, 2.0, 0.5, 0.3, "alternate", t=3), sine_rows)


@pytest.mark.parametrize("t", [0, 1, 17])
@pytest.mark.parametrize(("amp", "freq", "phase", "speed"), [(10, 1, 0, 0.1), (33.3, 3.5, 1.2, -2)])
def test_roll_sine_matches_loop(
    t: int, amp: float, freq: float, phase: float, speed: float
) -> None:
    frame = random_frame(H, W, seed=3)
    img = to_hwc(frame)

    def col_shift(n: int) -> int:
        return int(np.round(amp * np.sin(2 * np.pi * freq * n / W + phase + speed * t)))

    def row_shift(n: int) -> int:
        return int(np.round(amp * np.sin(2 * np.pi * freq * n / H + phase + speed * t)))

    out = roll_sine(frame, amp, freq, phase, speed, "columns", t=t)
    np.testing.assert_array_equal(to_hwc(out), post_column_loop(img, col_shift))
    out = roll_sine(frame, amp, freq, phase, speed, "rows", t=t)
    np.testing.assert_array_equal(to_hwc(out), post_row_loop(img, row_shift))


def test_roll_sine_phase_advances_with_t() -> None:
    frame = random_frame(H, W, seed=4)
    assert not torch.equal(roll_sine(frame, t=0), roll_sine(frame, t=5))
    assert torch.equal(roll_sine(frame, speed=0.0, t=0), roll_sine(frame, speed=0.0, t=5))


def test_roll_random_is_the_loop_with_its_shifts() -> None:
    frame = random_frame(H, W, seed=5)
    shifts = random_shifts(W, -5, 5, 1, 1.0, seed=3, t=9).tolist()
    ref = post_column_loop(to_hwc(frame), lambda n: shifts[n])
    out = roll_random(frame, -5, 5, 1, 1.0, "columns", t=9, seed=3)
    np.testing.assert_array_equal(to_hwc(out), ref)
    rows = random_shifts(H, 0, 5, 3, 2.0, seed=3, t=9).tolist()
    ref = post_row_loop(to_hwc(frame), lambda n: rows[n])
    out = roll_random(frame, 0, 5, 3, 2.0, "rows", t=9, seed=3)
    np.testing.assert_array_equal(to_hwc(out), ref)


def test_random_shifts_are_inclusive_grouped_and_parity_scaled() -> None:
    shifts = random_shifts(4000, -2, 3, 1, 1.0, seed=0, t=0).numpy()
    assert set(shifts.tolist()) == {-2, -1, 0, 1, 2, 3}  # randint: both ends inclusive
    swapped = random_shifts(4000, 3, -2, 1, 1.0, seed=0, t=0).numpy()
    np.testing.assert_array_equal(swapped, shifts)
    grouped = random_shifts(4002, -5, 5, 3, 1.0, seed=1, t=0).numpy()
    assert len(grouped) == 4002
    blocks = grouped.reshape(-1, 3)
    assert np.all(blocks == blocks[:, :1])  # adjacent lines in a group share a shift
    assert len(set(blocks[:, 0].tolist())) == 11
    scaled = random_shifts(4000, -2, 3, 2, 2.0, seed=2, t=0).numpy().reshape(-1, 2)[:, 0]
    even, odd = scaled[0::2], scaled[1::2]
    assert set(even.tolist()) == set(range(-2, 4))
    assert set(odd.tolist()) == set(range(-4, 7))  # odd groups: bounds doubled
    down_only = random_shifts(4000, 0, 5, 1, 1.0, seed=0, t=0).numpy()
    assert down_only.min() == 0 and down_only.max() == 5


def test_roll_random_is_deterministic_per_seed_and_t() -> None:
    frame = random_frame(H, W, seed=6)
    link = ChainLink("roll_random", {"lo": -5, "hi": 5})
    a = apply_transform(frame, link, t=4, seed=11)
    assert torch.equal(a, apply_transform(frame, link, t=4, seed=11))
    assert not torch.equal(a, apply_transform(frame, link, t=5, seed=11))
    assert not torch.equal(a, apply_transform(frame, link, t=4, seed=12))


def test_rolls_keep_every_pixel() -> None:
    """A roll only moves whole pixels: each column keeps its multiset of RGB triples."""
    frame = random_frame(H, W, seed=7)
    out = roll_random(frame, -40, 40, 2, 3.0, "columns", t=1, seed=1)
    for n in (0, 13, W - 1):
        before = sorted(map(tuple, frame[0, :, :, n].T.tolist()))
        after = sorted(map(tuple, out[0, :, :, n].T.tolist()))
        assert before == after


def test_post_loop_on_rgb_mixes_nothing() -> None:
    """Sanity check of the oracle itself: the factor 3 keeps RGB triples together."""
    img = to_hwc(tiny_frame())
    rolled = post_column_loop(img, lambda n: 1)
    np.testing.assert_array_equal(rolled, np.roll(img, 1, axis=0))
    assert from_hwc(rolled).shape == (1, 3, 4, 5)
