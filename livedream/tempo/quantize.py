"""Beat-quantised commands: look switches wait for the next beat / bar, parameter moves do not.

Pure scheduling: `due_time(tempo, mode, now, lookahead)` says when a switch sent at `now` should
be applied - the next boundary, minus the lookahead that covers the dream + display latency so
the new look *appears* on the boundary. `quantize_schedule` wraps it as the `Dispatcher`'s
schedule hook (the dispatcher holds the command until then). Which commands are switches is the
command vocabulary's decision (`livedream.commands.is_switch`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
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


def quantize_schedule(
    tempo: Any,
    is_switch: Callable[[Any], bool],
    mode: Callable[[], str],
    lookahead: float = 0.0,
) -> Callable[[Any, float], float | None]:
    """A `Dispatcher` schedule: switches (per `is_switch` on the envelope's command) are due at
    the next boundary of the current `mode()`; everything else (None) applies at once.

    The dispatcher holds a switch until its due *time*; a tempo change while it waits (rare:
    a tap, a Link peer) moves the boundary, so the switch can land up to the change off it.
    """

    def schedule(envelope: Any, now: float) -> float | None:
        command = getattr(envelope, "command", envelope)
        if not is_switch(command):
            return None
        return due_time(tempo, mode(), now, lookahead)

    return schedule
