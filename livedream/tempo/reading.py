"""A tempo reading and the tempo vocabulary (BPM range, bar length, sources).

Kept apart from `livedream.tempo.clock` (which needs the live clock) so the show `State` can hold
a reading without importing the live package.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from livedream.params import Param

#: BPM range every source is clamped to / validated against (Link's own range is 20..999).
BPM = Param(120.0, 20.0, 999.0, doc="tempo in beats per minute")
BEATS_PER_BAR = Param(4, 1, 32, doc="beats in a bar (4/4 by default)")
#: `--tempo` sources; `fixed` takes its BPM after a colon (fixed:128).
SOURCES = ("fixed", "tap", "link", "midi", "audio")
DEFAULT_TEMPO = "fixed:120"


@dataclass(frozen=True)
class TempoState:
    """One reading of the clock: what the loop, the modulators, OSC and the overlay see."""

    bpm: float
    beat: float  # beats since the origin (continuous; integer values are beats)
    beats_per_bar: int
    source: str
    running: bool = True

    @property
    def beat_phase(self) -> float:
        """Position inside the current beat, 0..1."""
        return self.beat - math.floor(self.beat)

    @property
    def bar_phase(self) -> float:
        """Position inside the current bar, 0..1."""
        return (self.beat % self.beats_per_bar) / self.beats_per_bar

    @property
    def bar(self) -> int:
        return math.floor(self.beat / self.beats_per_bar)

    @property
    def beat_in_bar(self) -> int:
        """1-based beat number inside the bar (what the overlay shows: 1 2 3 4)."""
        return math.floor(self.beat % self.beats_per_bar) + 1
