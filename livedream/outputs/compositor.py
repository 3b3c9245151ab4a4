"""The output compositor: the picture the audience sees at an output time, in torch on the device.

Between two dream frames the output keeps the chain's geometric motion going: the latest dream
frame warped by the chain's per-frame motion (declared once by each transform, see
`livedream.transforms.registry`) raised to the fraction of the expected dream interval elapsed;
or, in `crossfade` mode, a fade from the previous dream frame to the latest. Then the colour
grading of `livedream.live.shaders.Grading`. It is the display shader's arithmetic (same uv
matrix, same bilinear sampling with a black outside, same grading), so the window, NDI, the
virtual camera and the recorder can all get these pixels.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from livedream.errors import LivedreamError
from livedream.live.clock import RateMeter
from livedream.live.shaders import (
    NO_GRADING,
    Grading,
    chain_motion,
    grade_reference,
    motion_uv_matrix,
)
from livedream.look import ChainLink

#: What the output does between dream frames.
MOTION_MODES = ("motion", "crossfade", "none")


def warp_uv(frame: Tensor, uv_matrix: np.ndarray) -> Tensor:
    """The shader's motion sampling on the frame's device: output uv samples `uv_matrix @ uv`
    bilinearly, black outside [0, 1]^2 (what `shaders.motion_reference` computes in float64).

    One `affine_grid` (uv in [0, 1] rewritten for grid_sample's [-1, 1]: x' = 2u - 1), one
    `grid_sample`, one mask: a handful of ops per output frame, each over the frame once.
    """
    if np.allclose(uv_matrix, np.eye(3)):
        return frame
    m = uv_matrix
    theta = [[float(m[r][0]), float(m[r][1]), float(m[r][0] + m[r][1] + 2 * m[r][2] - 1)]
             for r in (0, 1)]
    work = frame if frame.dtype in (torch.float32, torch.float64) else frame.float()
    batch = frame.shape[0]
    sample = torch.nn.functional.affine_grid(
        torch.tensor([theta], dtype=work.dtype, device=frame.device).expand(batch, 2, 3),
        list(frame.shape), align_corners=False)
    out = torch.nn.functional.grid_sample(work, sample, mode="bilinear", padding_mode="border",
                                          align_corners=False)
    inside = (sample.abs().amax(-1) <= 1.0).unsqueeze(1)
    return (out * inside).to(frame.dtype)


def composite(
    current: Tensor,
    previous: Tensor | None,
    uv_matrix: np.ndarray,
    crossfade: float,
    grading: Grading = NO_GRADING,
) -> Tensor:
    """One output frame: mix(previous, warped current, crossfade), then the grading (in [0, 1])."""
    colour = warp_uv(current, uv_matrix)
    if previous is not None and crossfade < 1.0:
        colour = previous + (colour - previous) * float(crossfade)
    if grading == NO_GRADING:
        return colour.clamp(0.0, 1.0)
    return grade_reference(colour, grading)


class Compositor:
    """Holds the latest two dream frames and their timing; `render(now)` composes an output frame.

    `push` is called from the render loop's thread, `render` from the output stream's thread.
    """

    def __init__(
        self, motion: str = "motion", grading: Grading | None = None, meter_window: float = 3.0
    ) -> None:
        if motion not in MOTION_MODES:
            raise LivedreamError(f"output motion {motion!r}; valid: {', '.join(MOTION_MODES)}")
        self.motion = motion
        self.grading = grading or Grading()
        self._arrivals = RateMeter(window=meter_window)
        self._lock = threading.Lock()
        self._current: Tensor | None = None
        self._previous: Tensor | None = None
        self._per_frame = np.eye(3)
        self._chain: tuple[ChainLink, ...] | None = None
        self._last_arrival: float | None = None
        self.pushed = 0

    def push(self, frame: Tensor, chain: Sequence[ChainLink], now: float) -> None:
        """A new dream frame (kept by reference: the loop never writes into a frame it showed)."""
        chain = tuple(chain)
        frame = frame.detach()
        _, _, h, w = frame.shape
        with self._lock:
            if self._chain != chain or self._current is None or \
                    self._current.shape[-2:] != frame.shape[-2:]:
                self._per_frame = chain_motion(chain, w, h)
                self._chain = chain
            if self._current is not None and self._current.shape != frame.shape:
                self._previous = None
            else:
                self._previous = self._current
            self._current = frame
            self._last_arrival = now
            self.pushed += 1
        self._arrivals.mark(now)

    def follow(self, chain: Sequence[ChainLink]) -> None:
        """Use `chain`'s motion from now on (the show's latest state: a knob turned between
        dream frames moves the picture at the next output frame)."""
        chain = tuple(chain)
        with self._lock:
            if chain == self._chain or self._current is None:
                return
            _, _, h, w = self._current.shape
            self._per_frame = chain_motion(chain, w, h)
            self._chain = chain

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) of the latest dream frame, None before the first."""
        frame = self._current
        return None if frame is None else (int(frame.shape[-1]), int(frame.shape[-2]))

    def fraction(self, now: float) -> float:
        """How far (0..1) `now` is between the last dream frame and the expected next one."""
        last, interval = self._last_arrival, self._arrivals.interval()
        if last is None or interval is None:
            return 0.0
        return min(1.0, max(0.0, (now - last) / interval))

    def render(self, now: float) -> Tensor | None:
        """The output frame for time `now` ([1,3,H,W] on the dream's device), None before any."""
        with self._lock:
            current, previous, per_frame = self._current, self._previous, self._per_frame
        if current is None:
            return None
        _, _, h, w = current.shape
        f = self.fraction(now)
        uv = motion_uv_matrix(per_frame, f, w, h) if self.motion == "motion" else np.eye(3)
        crossfade = f if (self.motion == "crossfade" and previous is not None) else 1.0
        return composite(current, previous, uv, crossfade, self.grading)
