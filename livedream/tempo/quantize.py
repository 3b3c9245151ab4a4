"""Beat-quantised commands: look switches wait for the next beat / bar, parameter moves do not.

Pure scheduling: `due_time(tempo, mode, now, lookahead)` says when a switch sent at `now` should
be applied - the next boundary, minus the lookahead that covers the dream + display latency so
the new look *appears* on the boundary. `Quantizer` holds the waiting commands; the render
loop's command drain asks it which are due. Which commands are switches is the caller's
decision (`is_switch`), so this module knows nothing of the command vocabulary.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livedream.errors import ParamError

#: --quantize modes -> boundary length in bars (0 = off; "beat" is special-cased: one beat)
QUANTIZE_MODES = ("off", "beat", "bar", "2bars", "4bars")
_BARS = {"bar": 1, "2bars": 2, "4bars": 4}
MAX_LOOKAHEAD_MS = 2000.0


def check_mode(mode: str) -> str:
    """The mode, or ParamError listing the valid ones (CLI flag and OSC /livedream/quantize)."""
    if mode not in QUANTIZE_MODES:
        raise ParamError(f"quantize {mode!r}: expected one of {', '.join(QUANTIZE_MODES)}")
    return mode


def check_lookahead_ms(ms: float) -> float:
    if isinstance(ms, bool) or not isinstance(ms, int | float) or not 0 <= ms <= MAX_LOOKAHEAD_MS:
        raise ParamError(f"--quantize-lookahead: expected 0..{MAX_LOOKAHEAD_MS:g} ms, got {ms!r}")
    return float(ms)


def boundary_beats(mode: str, beats_per_bar: int) -> float:
    """Length of one quantisation step in beats (0 for off)."""
    check_mode(mode)
    if mode == "off":
        return 0.0
    if mode == "beat":
        return 1.0
    return float(_BARS[mode] * beats_per_bar)


def next_boundary(beat: float, step: float) -> float:
    """The first boundary (multiple of `step`) strictly after `beat`."""
    return (math.floor(beat / step + 1e-9) + 1) * step


def due_time(tempo: Any, mode: str, now: float, lookahead: float = 0.0) -> float:
    """When a switch sent at `now` is applied: the next boundary of `mode` on `tempo`, minus
    `lookahead` seconds (never before `now`); `now` itself when quantisation is off.

    `tempo` is a TempoClock (beat(now), time_of_beat(beat), beats_per_bar). A boundary closer
    than the lookahead is still taken: applying now lands nearest to it.
    """
    step = boundary_beats(mode, tempo.beats_per_bar)
    if step == 0.0 or not getattr(tempo, "running", True):
        return now
    target = tempo.time_of_beat(next_boundary(tempo.beat(now), step))
    return max(now, target - lookahead)


@dataclass(order=True)
class _Waiting:
    due_beat: float
    seq: int
    item: Any = field(compare=False)


class Quantizer:
    """Holds switch commands until their boundary; everything else passes straight through.

    The waiting commands keep their target *beat*, not a time, so a tempo change while they
    wait (Link, tap) still lands them on the boundary. `mode` and `lookahead` (seconds) can
    change live; a switch to "off" releases everything waiting at the next `ready`.
    """

    def __init__(
        self,
        tempo: Any,
        is_switch: Callable[[Any], bool],
        mode: str = "off",
        lookahead: float = 0.0,
    ) -> None:
        self.tempo = tempo
        self.is_switch = is_switch
        self.mode = check_mode(mode)
        self.lookahead = float(lookahead)
        self._waiting: list[_Waiting] = []
        self._seq = 0

    @property
    def pending(self) -> int:
        return len(self._waiting)

    def submit(self, item: Any, command: Any, now: float) -> bool:
        """Hold `item` (the queued envelope) when `command` is a switch and quantisation is on;
        False means: apply it now."""
        step = boundary_beats(self.mode, self.tempo.beats_per_bar)
        if step == 0.0 or not self.is_switch(command):
            return False
        lead = self.lookahead * self.tempo.bpm / 60.0  # lookahead in beats
        beat = self.tempo.beat(now)
        target = next_boundary(beat, step)
        self._seq += 1
        self._waiting.append(_Waiting(target - lead, self._seq, item))
        self._waiting.sort()
        return True

    def ready(self, now: float) -> list[Any]:
        """The held items whose moment has come, in the order they were sent."""
        if self.mode == "off":
            due, self._waiting = self._waiting, []
        else:
            beat = self.tempo.beat(now)
            due = [w for w in self._waiting if w.due_beat <= beat + 1e-9]
            self._waiting = [w for w in self._waiting if w.due_beat > beat + 1e-9]
        return [w.item for w in sorted(due, key=lambda w: w.seq)]
