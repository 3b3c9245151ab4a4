"""Frame budget governor: hold `--target-fps` by choosing iterations per frame and dream scale.

`Governor` is pure: it is fed the seconds each dream frame took and answers what the next frame
should use. Too slow (the smoothed frame time above the budget by `slack`): fewer iterations,
estimated from the measured cost per iteration; at one iteration, a smaller dream scale (cost ~
scale^2). Headroom (the *predicted* time of one step up still `headroom` inside the budget): the
scale comes back first, then the iterations, never past the bounds (the look's iterations, the
requested dream scale). Hysteresis: lowering and raising use different thresholds, every change
waits `patience` fresh frames, and a raise that had to be undone soon doubles the wait before
the next raise, so a frame time near the budget does not make it oscillate.

`GovernedStep` is the render loop's dream function built on it: it measures each frame with the
injectable clock (call to call, so the chain, the readback and recording count), applies the
net's precision and the dream scale, and exposes what it chose for the overlay and the state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor

from livedream.dream import dream_step
from livedream.dream_scale import DREAM_SCALE, scaled_step
from livedream.live.clock import Clock, SystemClock
from livedream.look import DreamSettings
from livedream.models.base import DreamModel

#: Scales the governor moves between are multiples of this (no needless tiny resizes).
SCALE_QUANTUM = 0.05
MIN_SCALE = float(DREAM_SCALE.lo)


@dataclass(frozen=True)
class GovernorChoice:
    """What the governor chose for the next frame (and what it aims at)."""

    iterations: int
    scale: float
    target_fps: float  # 0 = governor off
    frame_ms: float | None = None  # smoothed measured frame time, None before any measurement

    def describe(self) -> str:
        """Short overlay text, e.g. 'gov 12 fps: 1 it @0.75'."""
        if self.target_fps <= 0:
            return "gov off"
        return f"gov {self.target_fps:g} fps: {self.iterations} it @{self.scale:.2f}"


def _quantise(scale: float, lo: float, hi: float) -> float:
    q = round(scale / SCALE_QUANTUM) * SCALE_QUANTUM
    return float(min(hi, max(lo, round(q, 4))))


class Governor:
    """Adapts iterations (1..max_iterations) and scale (min_scale..max_scale) to a frame budget."""

    def __init__(
        self,
        target_fps: float,
        max_iterations: int,
        max_scale: float = 1.0,
        *,
        min_scale: float = MIN_SCALE,
        slack: float = 1.15,
        headroom: float = 0.85,
        patience: int = 3,
        smoothing: float = 0.5,
        raise_wait: int = 6,
        max_raise_wait: int = 200,
    ) -> None:
        self.target_fps = max(0.0, float(target_fps))
        self.min_scale = float(min_scale)
        self.slack, self.headroom = slack, headroom
        self.patience, self.smoothing = patience, smoothing
        self.base_raise_wait, self.max_raise_wait = raise_wait, max_raise_wait
        self.raise_wait = raise_wait
        self.max_iterations, self.max_scale = 1, 1.0
        self.iterations, self.scale = 1, 1.0
        self._ema: float | None = None
        self._since = 0  # frames measured since the last change
        self._last_raise_at: int | None = None
        self._frames = 0
        self.changes = 0
        self.set_bounds(max_iterations, max_scale, reset=True)

    @property
    def enabled(self) -> bool:
        return self.target_fps > 0

    @property
    def budget(self) -> float:
        """Seconds one frame may take."""
        return 1.0 / self.target_fps if self.enabled else math.inf

    def set_bounds(self, max_iterations: int, max_scale: float = 1.0, reset: bool = False) -> None:
        """New upper bounds (a preset or `iterations` changed); the choice is clipped to them.
        `reset` (or the governor being off) starts at the bounds."""
        self.max_iterations = max(0, int(max_iterations))
        self.max_scale = _quantise(float(max_scale), self.min_scale, 1.0)
        if reset or not self.enabled:
            self.iterations, self.scale = self.max_iterations, self.max_scale
        self.iterations = min(self.iterations, self.max_iterations)
        if self.max_iterations > 0:
            self.iterations = max(1, self.iterations)
        self.scale = min(self.scale, self.max_scale)

    @property
    def choice(self) -> GovernorChoice:
        ms = None if self._ema is None else 1000.0 * self._ema
        return GovernorChoice(self.iterations, self.scale, self.target_fps, ms)

    def _changed(self, raised: bool) -> None:
        self._ema, self._since = None, 0
        self.changes += 1
        if raised:
            self._last_raise_at = self._frames
        elif (self._last_raise_at is not None
              and self._frames - self._last_raise_at <= 2 * (self.patience + 1)):
            self.raise_wait = min(self.max_raise_wait, 2 * self.raise_wait)  # undone: wait more
            self._last_raise_at = None

    def observe(self, seconds: float) -> GovernorChoice:
        """Feed the time the last frame took (made with the current choice); returns the next."""
        self._frames += 1
        if not self.enabled or self.max_iterations <= 0 or not math.isfinite(seconds):
            return self.choice
        seconds = max(0.0, float(seconds))
        self._ema = seconds if self._ema is None else (
            self._ema + self.smoothing * (seconds - self._ema))
        self._since += 1
        if self._since < self.patience:
            return self.choice
        budget, ema = self.budget, self._ema
        if ema > budget * self.slack:
            self._lower(ema, budget)
        elif self._since >= self.raise_wait:
            self._raise(ema, budget)
        return self.choice

    def _lower(self, ema: float, budget: float) -> None:
        if self.iterations > 1:
            fit = int(self.iterations * budget / ema)  # cost per iteration ~ ema / iterations
            self.iterations = max(1, min(self.iterations - 1, fit))
            self._changed(raised=False)
        elif self.scale > self.min_scale:
            factor = min(0.9, math.sqrt(budget / ema))  # cost ~ scale^2
            lower = _quantise(self.scale * factor, self.min_scale, self.max_scale)
            self.scale = min(lower, round(self.scale - SCALE_QUANTUM, 4))
            self.scale = max(self.scale, self.min_scale)
            self._changed(raised=False)

    def _raise(self, ema: float, budget: float) -> None:
        if self.scale < self.max_scale:
            up = _quantise(self.scale / 0.85, self.min_scale, self.max_scale)
            up = max(up, min(self.max_scale, round(self.scale + SCALE_QUANTUM, 4)))
            if ema * (up / self.scale) ** 2 <= budget * self.headroom:
                self.scale = up
                self._changed(raised=True)
        elif self.iterations < self.max_iterations:
            if ema * (self.iterations + 1) / self.iterations <= budget * self.headroom:
                self.iterations += 1
                self._changed(raised=True)


class GovernedStep:
    """The live dream function: precision + dream scale + governor around a dream step.

    Called like `dream_step(model, frame, layers, settings, generator=...)`. The frame before
    this call took `now - previous call` seconds (a pause, model load or other gap longer than
    `gap` seconds beyond the step itself counts only the step).
    """

    def __init__(
        self,
        governor: Governor,
        *,
        autocast: torch.dtype | None = None,
        clock: Clock | None = None,
        step: Callable[..., Tensor] | None = None,
        gap: float = 1.0,
    ) -> None:
        self.governor = governor
        self.autocast = autocast
        self.clock: Clock = clock or SystemClock()
        self.step = step or dream_step
        self.gap = gap
        self._max_iterations: int | None = None  # the look's iterations last seen
        self._last_start: float | None = None
        self._last_step = 0.0

    @property
    def choice(self) -> GovernorChoice:
        return self.governor.choice

    def __call__(self, model: DreamModel, frame: Tensor, layers: Sequence[str],
                 settings: DreamSettings, generator: torch.Generator | None = None,
                 **kwargs: Any) -> Tensor:
        now = self.clock.now()
        if self._last_start is not None:
            period = now - self._last_start
            if period > self._last_step + self.gap:  # paused, loading: count the step only
                period = self._last_step
            self.governor.observe(period)
        if settings.iterations != self._max_iterations:  # the look's bound changed
            self.governor.set_bounds(settings.iterations, self.governor.max_scale,
                                     reset=self._max_iterations is None)
            self._max_iterations = settings.iterations
        self._last_start = now
        choice = self.governor.choice
        if choice.iterations != settings.iterations:
            settings = replace(settings, iterations=choice.iterations)
        if self.autocast is not None:
            kwargs.setdefault("autocast", self.autocast)

        def one(x: Tensor) -> Tensor:
            return self.step(model, x, layers, settings, generator=generator, **kwargs)

        out = scaled_step(one, frame, choice.scale)
        self._last_step = self.clock.now() - now
        return out
