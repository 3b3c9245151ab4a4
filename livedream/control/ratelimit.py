"""Rate-limited logging: each kind of rejection is logged once per interval, with a count.

A fuzzer or a misconfigured controller can send thousands of bad messages per second; logging
each one would flood the console and slow the show. `RateLimitedLog` logs the first of each kind
at once, counts the rest, and reports the count with the next message of that kind after the
interval (or on `flush()`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Window:
    started: float
    suppressed: int = 0


class RateLimitedLog:
    """Log each `kind` at most once per `interval` seconds; `total` counts every occurrence."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        level: int = logging.WARNING,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self.level = level
        self.total: Counter[str] = Counter()
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def log(self, kind: str, message: str, level: int | None = None) -> bool:
        """Record one `kind` event; log it unless one was logged within the interval.

        Returns True when a line was actually logged.
        """
        now = self.clock()
        with self._lock:
            self.total[kind] += 1
            window = self._windows.get(kind)
            if window is not None and now - window.started < self.interval:
                window.suppressed += 1
                return False
            suppressed = window.suppressed if window is not None else 0
            self._windows[kind] = _Window(now)
        suffix = f" (+{suppressed} more {kind} suppressed)" if suppressed else ""
        self.logger.log(self.level if level is None else level, "%s: %s%s", kind, message, suffix)
        return True

    def flush(self) -> None:
        """Log the counts still suppressed (e.g. when the adapter closes)."""
        with self._lock:
            pending = {k: w.suppressed for k, w in self._windows.items() if w.suppressed}
            for kind in pending:
                self._windows[kind].suppressed = 0
        for kind, count in sorted(pending.items()):
            self.logger.log(self.level, "%s: %d more suppressed", kind, count)
