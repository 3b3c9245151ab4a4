"""Clocks and rate meters for the live loop.

The loop never calls `time` directly: it asks a `Clock`, so tests drive time with a `FakeClock`
(easing, fps and `--seconds` become deterministic) while the show uses the monotonic clock.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds plus a sleep that advances them."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time: `time.monotonic` and `time.sleep`."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """Manual time for tests: `sleep` and `advance` move it forward, nothing ever waits.

    `tick` (seconds) is added on every `now()` call when set, which models work taking time.
    """

    def __init__(self, start: float = 0.0, tick: float = 0.0) -> None:
        self._t = float(start)
        self.tick = float(tick)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            t = self._t
            self._t += self.tick
            return t

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._t += float(seconds)


class RateMeter:
    """Events per second over a sliding window (dream fps, display fps)."""

    def __init__(self, window: float = 2.0, max_events: int = 1024) -> None:
        self.window = float(window)
        self._times: collections.deque[float] = collections.deque(maxlen=max_events)
        self._lock = threading.Lock()
        self.count = 0

    def mark(self, now: float) -> None:
        """Record one event at time `now`."""
        with self._lock:
            self._times.append(now)
            self.count += 1

    def rate(self, now: float | None = None) -> float:
        """Events per second across the window ending at `now` (default: the last event)."""
        with self._lock:
            times = list(self._times)
        if len(times) < 2:
            return 0.0
        end = times[-1] if now is None else now
        recent = [t for t in times if t >= end - self.window]
        if len(recent) < 2:  # slower than one event per window: use the last interval
            recent = times[-2:]
        span = recent[-1] - recent[0]
        return (len(recent) - 1) / span if span > 0 else 0.0

    def interval(self) -> float | None:
        """Mean seconds between recent events (the expected time to the next one), or None."""
        r = self.rate()
        return 1.0 / r if r > 0 else None
