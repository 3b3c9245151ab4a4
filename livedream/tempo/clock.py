"""The tempo clock: one object holding BPM and beat position, read by the loop every frame.

The beat position is a line through one anchor: `beat(t) = anchor_beat + (t - anchor_time) *
bpm / 60`. Changing the BPM re-anchors at the current beat, so the beat never jumps; `resync`
puts a downbeat at "now"; external sources (Link, MIDI clock, audio) call `follow` with the beat
they see. Time comes from an injectable `Clock` (livedream.live.clock), so tests drive it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from livedream.errors import ParamError
from livedream.live.clock import Clock, SystemClock
from livedream.tempo.reading import (
    BEATS_PER_BAR,
    BPM,
    DEFAULT_TEMPO,
    SOURCES,
    TempoState,
)

__all__ = ["BEATS_PER_BAR", "BPM", "DEFAULT_TEMPO", "SOURCES", "TempoClock", "TempoState",
           "parse_tempo"]

def parse_tempo(text: str) -> tuple[str, float | None]:
    """'--tempo' value -> (source, bpm or None): 'link', 'midi', 'tap', 'audio', 'fixed:128'."""
    name, _, rest = str(text).strip().partition(":")
    name = name.lower()
    if name not in SOURCES:
        raise ParamError(f"--tempo {text!r}: expected one of link, midi, tap, audio, fixed:BPM")
    if name == "fixed":
        if not rest:
            return name, float(BPM.default)
        try:
            bpm = float(rest)
        except ValueError:
            raise ParamError(
                f"--tempo {text!r}: fixed:BPM needs a number, e.g. fixed:128"
            ) from None
        return name, float(BPM.validate(bpm, "--tempo fixed"))
    if rest:
        raise ParamError(f"--tempo {text!r}: only fixed takes a value (fixed:BPM)")
    return name, None


class TempoClock:
    """BPM and beat position; thread-safe (Link / MIDI / audio threads write, the loop reads)."""

    def __init__(
        self,
        bpm: float = 120.0,
        beats_per_bar: int = 4,
        clock: Clock | None = None,
        source: str = "fixed",
    ) -> None:
        self.clock = clock or SystemClock()
        self.beats_per_bar = int(BEATS_PER_BAR.validate(beats_per_bar, "--beats-per-bar"))
        if source not in SOURCES:
            raise ParamError(f"tempo source {source!r}: expected one of {', '.join(SOURCES)}")
        self.source = source
        self._lock = threading.Lock()
        self._bpm = float(BPM.validate(float(bpm), "bpm"))
        self._anchor_time = self.clock.now()
        self._anchor_beat = 0.0
        self.running = True
        #: told the BPM whenever set_bpm changes it (the Link source proposes it to the session)
        self.listeners: list[Callable[[float], None]] = []

    @property
    def bpm(self) -> float:
        with self._lock:
            return self._bpm

    def _beat_at(self, now: float) -> float:
        if not self.running:
            return self._anchor_beat
        return self._anchor_beat + (now - self._anchor_time) * self._bpm / 60.0

    def beat(self, now: float | None = None) -> float:
        """Beats since the origin at `now` (default: the clock's now)."""
        now = self.clock.now() if now is None else now
        with self._lock:
            return self._beat_at(now)

    def time_of_beat(self, beat: float) -> float:
        """Clock time at which the beat position reaches `beat` at the current tempo."""
        with self._lock:
            return self._anchor_time + (beat - self._anchor_beat) * 60.0 / self._bpm

    def read(self, now: float | None = None) -> TempoState:
        """A consistent snapshot (BPM, beat, source) for one frame."""
        now = self.clock.now() if now is None else now
        with self._lock:
            return TempoState(self._bpm, self._beat_at(now), self.beats_per_bar, self.source,
                              self.running)

    def set_bpm(self, bpm: float, now: float | None = None, propose: bool = True) -> float:
        """Change the tempo keeping the current beat position (no jump); returns the BPM set.

        `propose` tells the listeners (a Link session follows livedream's own tempo changes);
        sources that merely report the tempo they see pass False.
        """
        value = float(BPM.validate(bpm, "bpm"))
        now = self.clock.now() if now is None else now
        with self._lock:
            self._anchor_beat = self._beat_at(now)
            self._anchor_time = now
            self._bpm = value
        if propose:
            for listener in list(self.listeners):
                listener(value)
        return value

    def follow(self, beat: float, bpm: float | None = None, now: float | None = None) -> None:
        """An external source says: at `now` the beat position is `beat` (and the BPM `bpm`)."""
        now = self.clock.now() if now is None else now
        with self._lock:
            if bpm is not None:
                self._bpm = float(min(BPM.hi, max(BPM.lo, bpm)))  # type: ignore[type-var]
            self._anchor_beat = float(beat)
            self._anchor_time = now

    def resync(self, now: float | None = None) -> None:
        """Put a downbeat (beat 0 of a bar) at `now`: the VJ's 'the one is HERE' button."""
        now = self.clock.now() if now is None else now
        with self._lock:
            bar = math.floor(self._beat_at(now) / self.beats_per_bar + 0.5)
            self._anchor_beat = float(bar * self.beats_per_bar)
            self._anchor_time = now

    def set_running(self, running: bool, now: float | None = None) -> None:
        """Stop (the beat holds still) or run on (MIDI Stop / Continue)."""
        now = self.clock.now() if now is None else now
        with self._lock:
            self._anchor_beat = self._beat_at(now)
            self._anchor_time = now
            self.running = bool(running)
