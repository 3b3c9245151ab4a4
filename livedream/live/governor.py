"""Frame budget governor: hold `--target-fps` by choosing iterations per frame and dream scale.

`Governor` is pure: it is fed the seconds each dream frame took and answers what the next frame
should use. Too slow (the smoothed frame time above the budget by `slack`): fewer iterations,
estimated from the measured cost per iteration; at one iteration, a smaller dream scale (cost ~
scale^2); at once when a frame takes over twice the budget. Headroom (the *predicted* time of
one step up still `headroom` inside the budget): the scale comes back first, then the
iterations, never past the bounds (the look's iterations, the requested dream scale).
Hysteresis: lowering and raising use different thresholds, every change waits `patience` fresh
frames, and a raise that had to be undone soon doubles the wait before the next raise, so a
frame time near the budget does not make it oscillate.

`FrameGovernor` plugs it into the render loop as a look filter: it measures each frame with the
loop's injectable clock (call to call, so the chain, the readback and recording count), hands
the chosen iterations to the dream, the chosen scale to `ScaledDream`, and reports its choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from livedream.look import Look
from livedream.speed_params import DREAM_SCALE, SpeedReading
from livedream.state import State, setting

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
        budget, ema = self.budget, self._ema
        far_over = ema > 2.0 * budget * self.slack  # seconds-long frames: act on the first one
        if self._since < self.patience and not far_over:
            return self.choice
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


class FrameGovernor:
    """The render loop's look filter around a `Governor` (`RenderLoop(look_filters=[...])`).

    Called once per dream frame with the loop's clock time: the time since the previous call is
    the previous frame's whole cost (dream, chain, readback, recording), made with the choice then
    in force. A gap much longer than the frames before it (a pause, a model load) is not counted.
    The look's iterations are the upper bound; the returned look carries the chosen iterations,
    and `scale()` is the dream scale for `ScaledDream`. `report()` feeds the overlay and stats.
    """

    def __init__(self, governor: Governor) -> None:
        self.governor = governor
        self._bound: int | None = None  # the look's iterations last seen
        self._last_now: float | None = None
        self._last_period = 0.0
        self.dispatcher: Any = None

    def attach(self, dispatcher: Any) -> FrameGovernor:
        """Keep `State.speed` (`/livedream/speed`, `/livedream/state`) at the governor's choice:
        refreshed when the choice changes or the frame time moves by 10 %, not every frame."""
        self.dispatcher = dispatcher
        dispatcher.observers.append(self.on_state)
        return self

    def reading(self) -> SpeedReading:
        choice = self.governor.choice
        return SpeedReading(choice.iterations, choice.scale, round(choice.frame_ms or 0.0, 2))

    def _refresh(self) -> None:
        if self.dispatcher is None:
            return
        reading = self.reading()
        if reading.differs(self.dispatcher.state.speed):
            self.dispatcher.amend(lambda s: replace(s, speed=reading))

    def scale(self) -> float:
        return self.governor.scale

    def set_target(self, target_fps: float, max_scale: float | None = None) -> None:
        """Change the target (and the largest dream scale) live; 0 switches the governor off."""
        self.governor.target_fps = max(0.0, float(target_fps))
        scale = self.governor.max_scale if max_scale is None else max_scale
        self.governor.set_bounds(self.governor.max_iterations, scale,
                                 reset=not self.governor.enabled)

    def on_state(self, old: State, new: State) -> None:
        """Dispatcher observer: `speed.target_fps` / `speed.dream_scale` set live (OSC, MIDI)."""
        names = ("speed.target_fps", "speed.dream_scale")
        if any(setting(old, n) != setting(new, n) for n in names):
            target, scale = (float(setting(new, n)) for n in names)
            self.set_target(target, scale)

    def settings(self) -> dict[str, float]:
        """The show parameters to start the State with (so `/livedream/state` tells the truth)."""
        return {"speed.target_fps": self.governor.target_fps,
                "speed.dream_scale": self.governor.max_scale}

    def __call__(self, look: Look, now: float) -> Look:
        if self._last_now is not None:
            period = now - self._last_now
            if not self._last_period or period <= 2.0 * self._last_period + 1.0:  # else: a pause
                self.governor.observe(period)
            self._last_period = period
        self._last_now = now
        iterations = look.dream.iterations
        if iterations != self._bound:
            self.governor.set_bounds(iterations, self.governor.max_scale,
                                     reset=self._bound is None)
            self._bound = iterations
        chosen = self.governor.iterations
        self._refresh()
        if chosen == iterations:
            return look
        return replace(look, dream=replace(look.dream, iterations=chosen))

    def report(self) -> dict[str, Any]:
        """What the governor chose, for `LoopStats.extra` (overlay, bench)."""
        choice = self.governor.choice
        return {"governor": choice.describe(), "target_fps": choice.target_fps,
                "iterations": choice.iterations, "dream_scale": choice.scale}
