"""Roll transforms from the 2015 post: shift each column (or row) by a whole number of pixels.

The post does `frame[:, n] = np.roll(frame[:, n], 3*shiftfunc(n))` on an HxWx3 array: column n
moves down by shiftfunc(n) pixels, wrapping round, whole RGB pixels at a time (the factor 3 is
only there so numpy's flattened roll does not mix channels). Here each op computes a shift per
line and one `gather` moves every line at once; channels never mix.

Axis: "columns" shifts column n down by shift(n); "rows" shifts row n right by shift(n);
"alternate" uses columns on even frames and rows on odd ones (the post's "alternating between
horizontal and vertical").
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from livedream.params import Param
from livedream.transforms.registry import transform

AXES = ("columns", "rows", "alternate")
_AXIS = Param("columns", choices=AXES, doc="columns (shift down), rows (shift right), alternate")


def resolve_axis(axis: str, t: int) -> str:
    """'columns' or 'rows' for frame `t` ('alternate': columns on even t, rows on odd t)."""
    if axis == "alternate":
        return "columns" if t % 2 == 0 else "rows"
    return axis


def roll_lines(frame: Tensor, shifts: Tensor, axis: str) -> Tensor:
    """Shift column n down (axis 'columns') or row n right (axis 'rows') by `shifts[n]` pixels,
    wrapping round like np.roll. `shifts` is an integer tensor, one entry per column/row."""
    b, c, h, w = frame.shape
    shifts = shifts.to(device=frame.device, dtype=torch.long)
    if axis == "columns":
        rows = torch.arange(h, device=frame.device).unsqueeze(1)
        index = torch.remainder(rows - shifts.unsqueeze(0), h)  # [H, W]: source row per pixel
        return frame.gather(2, index.expand(b, c, h, w))
    if axis == "rows":
        cols = torch.arange(w, device=frame.device).unsqueeze(0)
        index = torch.remainder(cols - shifts.unsqueeze(1), w)  # [H, W]: source column per pixel
        return frame.gather(3, index.expand(b, c, h, w))
    raise ValueError(f"roll axis must be 'columns' or 'rows', got {axis!r}")


def _line_count(frame: Tensor, axis: str) -> int:
    return frame.shape[3] if axis == "columns" else frame.shape[2]


def linear_shifts(n: int, slope: float) -> Tensor:
    """floor(slope * k) for k in 0..n-1 (slope 1/15 gives Python 2's k/15 = k // 15)."""
    k = torch.arange(n, dtype=torch.float64)
    # The epsilon keeps exact multiples exact although 1/15 is not representable in binary.
    return torch.floor(slope * k + 1e-9).long()


def sine_shifts(
    n: int, amplitude: float, frequency: float, phase: float, speed: float, t: int
) -> Tensor:
    """round(amplitude * sin(2 pi frequency k / n + phase + speed t)) for k in 0..n-1."""
    k = torch.arange(n, dtype=torch.float64)
    angle = 2 * math.pi * frequency * k / max(n, 1) + phase + speed * t
    return torch.round(amplitude * torch.sin(angle)).long()


def frame_generator(seed: int, t: int) -> torch.Generator:
    """A CPU generator determined by (seed, t), so random transforms are pure functions."""
    mixed = (seed * 0x9E3779B97F4A7C15 + (t + 1) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    mixed ^= mixed >> 31
    return torch.Generator().manual_seed(mixed)


def random_shifts(
    n: int, lo: int, hi: int, group: int, odd_scale: float, seed: int, t: int
) -> Tensor:
    """Per-line random shifts like `randint(lo, hi)` (both ends inclusive, lo > hi swapped).

    Lines are taken in groups of `group` adjacent lines that share one shift; odd-numbered groups
    draw from the bounds multiplied by `odd_scale` (rounded to whole pixels).
    """
    lo, hi = min(lo, hi), max(lo, hi)
    groups = -(-n // max(group, 1))
    g = torch.arange(groups)
    scale = torch.where(g % 2 == 1, float(odd_scale), 1.0).double()
    lo_g = torch.round(lo * scale)
    hi_g = torch.round(hi * scale)
    u = torch.rand(groups, generator=frame_generator(seed, t), dtype=torch.float64)
    shift = torch.minimum(lo_g + torch.floor(u * (hi_g - lo_g + 1)), hi_g).long()
    return shift.repeat_interleave(max(group, 1))[:n]


@transform(
    "roll_linear",
    slope=Param(1 / 15, -4.0, 4.0, doc="pixels of shift per line: line n moves floor(slope*n)"),
    axis=_AXIS,
)
def roll_linear(frame: Tensor, slope: float = 1 / 15, axis: str = "columns", t: int = 0) -> Tensor:
    """The post's linear roll: column n shifted down by floor(n * slope) pixels (n/15 there)."""
    axis = resolve_axis(axis, t)
    return roll_lines(frame, linear_shifts(_line_count(frame, axis), slope), axis)


@transform(
    "roll_sine",
    amplitude=Param(10.0, 0.0, 200.0, doc="largest shift in pixels"),
    frequency=Param(1.0, 0.0, 20.0, doc="sine cycles across the frame"),
    phase=Param(0.0, 0.0, 2 * math.pi, doc="phase offset in radians"),
    speed=Param(0.1, -3.0, 3.0, doc="phase advance per frame, in radians"),
    axis=_AXIS,
)
def roll_sine(
    frame: Tensor,
    amplitude: float = 10.0,
    frequency: float = 1.0,
    phase: float = 0.0,
    speed: float = 0.1,
    axis: str = "columns",
    t: int = 0,
) -> Tensor:
    """Sine roll: line n shifted by round(amplitude * sin(2 pi f n / N + phase + speed t))."""
    axis = resolve_axis(axis, t)
    n = _line_count(frame, axis)
    return roll_lines(frame, sine_shifts(n, amplitude, frequency, phase, speed, t), axis)


@transform(
    "roll_random",
    lo=Param(-5, -100, 100, doc="smallest shift in pixels (inclusive, like randint)"),
    hi=Param(5, -100, 100, doc="largest shift in pixels (inclusive); lo > hi is swapped"),
    group=Param(1, 1, 64, doc="adjacent lines shifted together"),
    odd_scale=Param(1.0, 0.0, 4.0, doc="bounds multiplier for odd-numbered groups"),
    axis=_AXIS,
)
def roll_random(
    frame: Tensor,
    lo: int = -5,
    hi: int = 5,
    group: int = 1,
    odd_scale: float = 1.0,
    axis: str = "columns",
    t: int = 0,
    seed: int = 0,
) -> Tensor:
    """Stochastic roll ('shimmer'): each line group shifted by randint(lo, hi), seeded (seed, t)."""
    axis = resolve_axis(axis, t)
    n = _line_count(frame, axis)
    return roll_lines(frame, random_shifts(n, lo, hi, group, odd_scale, seed, t), axis)
