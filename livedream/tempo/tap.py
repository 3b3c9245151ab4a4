"""Tap tempo: the BPM from the last few taps (key, MIDI note or OSC `/livedream/tempo/tap`).

Pure apart from the injected clock: `tap(now)` returns the new BPM once two taps are close
enough, else None. A pause longer than `reset_after` seconds starts a new series, and the last
tap of a series marks a beat, so the tapping hand also sets the phase.
"""

from __future__ import annotations

import statistics

from livedream.tempo.clock import BPM, TempoClock

#: taps further apart than this begin a new series (slower than 20 BPM is never meant)
RESET_AFTER = 2.0
#: intervals averaged (the median, so one sloppy tap does not throw the tempo)
WINDOW = 6


class TapTempo:
    """Collects tap times; the BPM is 60 / the median interval of the recent series."""

    def __init__(self, reset_after: float = RESET_AFTER, window: int = WINDOW) -> None:
        self.reset_after = float(reset_after)
        self.window = int(window)
        self._taps: list[float] = []

    def tap(self, now: float) -> float | None:
        """Register a tap at `now` (seconds); the BPM it implies, or None (first of a series)."""
        if self._taps and (now - self._taps[-1] > self.reset_after or now <= self._taps[-1]):
            self._taps.clear()
        self._taps.append(float(now))
        del self._taps[: -(self.window + 1)]
        if len(self._taps) < 2:
            return None
        intervals = [b - a for a, b in zip(self._taps, self._taps[1:], strict=False)]
        bpm = 60.0 / statistics.median(intervals)
        return float(min(BPM.hi, max(BPM.lo, bpm)))  # type: ignore[type-var]

    @property
    def last_tap(self) -> float | None:
        return self._taps[-1] if self._taps else None

    def reset(self) -> None:
        self._taps.clear()


def tap_into(tempo: TempoClock, taps: TapTempo, now: float | None = None) -> float | None:
    """Register a tap and, from the second tap on, set the tempo's BPM and put a beat on it."""
    now = tempo.clock.now() if now is None else now
    bpm = taps.tap(now)
    if bpm is not None:
        tempo.set_bpm(bpm, now)
        tempo.follow(round(tempo.beat(now)), now=now)
    return bpm
