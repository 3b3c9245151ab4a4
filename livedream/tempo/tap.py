"""Tap tempo: the BPM from the last few taps (key, MIDI note or OSC `/livedream/tempo/tap`).

Pure: `add_tap(taps, now)` takes the recent tap times (a tuple, kept in the show `State`) and
returns the new tuple and the BPM they imply (None after the first tap of a series). A pause
longer than `RESET_AFTER` seconds starts a new series. The last tap also marks a beat, so the
tapping hand sets the phase as well (the show's tempo observer puts a beat on it).
"""

from __future__ import annotations

import statistics

from livedream.tempo.reading import BPM

#: taps further apart than this begin a new series (slower than 30 BPM is never meant)
RESET_AFTER = 2.0
#: intervals considered (their median, so one sloppy tap does not throw the tempo)
WINDOW = 6


def add_tap(
    taps: tuple[float, ...], now: float, reset_after: float = RESET_AFTER, window: int = WINDOW
) -> tuple[tuple[float, ...], float | None]:
    """(recent taps including `now`, BPM or None): 60 / the median interval of the series."""
    if taps and (now - taps[-1] > reset_after or now <= taps[-1]):
        taps = ()
    taps = (*taps, float(now))[-(window + 1):]
    if len(taps) < 2:
        return taps, None
    intervals = [b - a for a, b in zip(taps, taps[1:], strict=False)]
    bpm = 60.0 / statistics.median(intervals)
    return taps, float(min(BPM.hi, max(BPM.lo, bpm)))  # type: ignore[type-var]
