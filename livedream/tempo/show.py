"""The tempo's seams into the live show (one object, `TempoShow`, attached to the Dispatcher).

- commands -> clock: an observer turns the state's tempo counters (SetTempo, TapTempo,
  ResyncTempo) into TempoClock calls; a tap also puts a beat on the moment it was tapped;
- clock -> state: once per frame the look filter reads the clock and, when the BPM, the beat
  number, the source or the transport changed, stores the reading in `State.tempo` (so
  `/livedream/state`, echoes and the overlay show it) - about twice a second, not every frame;
- quantisation: the Dispatcher's schedule holds look switches to the state's `quantize` mode;
- modulators: the look filter applies the look's modulators at the clock's beat, with the audio
  analyser's latest features, to the (eased) look the loop dreams with.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from livedream.commands import is_switch
from livedream.look import Look
from livedream.state import State
from livedream.tempo.clock import TempoClock, TempoState
from livedream.tempo.modulate import modulate
from livedream.tempo.quantize import quantize_schedule


def reading_changed(old: TempoState, new: TempoState) -> bool:
    """Worth a state update: BPM moved (0.01), a new beat, another source or transport."""
    return (abs(old.bpm - new.bpm) >= 0.01 or math.floor(old.beat) != math.floor(new.beat)
            or old.source != new.source or old.running != new.running
            or old.beats_per_bar != new.beats_per_bar)


def overlay_line(state: State) -> str:
    """The overlay's tempo line: `128.0 BPM  bar 12 beat 3/4  link  quantize bar`."""
    t = state.tempo
    line = (f"{t.bpm:.1f} BPM  bar {t.bar + 1} beat {t.beat_in_bar}/{t.beats_per_bar}  "
            f"{t.source}" + ("" if t.running else " (stopped)"))
    if state.quantize != "off":
        line += f"  quantize {state.quantize}"
    mods = sum(1 for m in state.look.modulators if m.enabled)
    return line + (f"  {mods} mod" + ("s" if mods != 1 else "") if mods else "")


class TempoShow:
    """Tempo clock + optional audio input, wired into a Dispatcher and the render loop."""

    def __init__(self, tempo: TempoClock, audio: Any = None, lookahead: float = 0.0) -> None:
        self.tempo = tempo
        self.audio = audio  # livedream.audio.live input (latest() -> AudioFeatures) or None
        self.lookahead = float(lookahead)
        self.dispatcher: Any = None
        self._last: TempoState | None = None
        self._features: Any = None

    def attach(self, dispatcher: Any) -> TempoShow:
        """Observe the dispatcher's state, quantise its switches, seed State.tempo."""
        self.dispatcher = dispatcher
        dispatcher.observers.append(self.on_state)
        dispatcher.schedule = quantize_schedule(
            self.tempo, is_switch, lambda: dispatcher.state.quantize, self.lookahead)
        dispatcher.replace_state(replace(dispatcher.state, tempo=self.tempo.read()))
        return self

    def on_state(self, old: State, new: State) -> None:
        """Commands -> clock (see the module docstring)."""
        if new.tempo_resyncs != old.tempo_resyncs:
            self.tempo.resync()
        if new.tempo_changes != old.tempo_changes:
            taps = new.tempo_taps
            tapped = bool(taps) and taps != old.tempo_taps
            at = taps[-1] if tapped else None
            self.tempo.set_bpm(new.tempo.bpm, now=at)
            if tapped:
                self.tempo.follow(round(self.tempo.beat(at)), now=at)

    def refresh(self, now: float | None = None) -> TempoState:
        """Read the clock; store the reading in the state when it changed meaningfully."""
        reading = self.tempo.read(now)
        self._last = reading
        dispatcher = self.dispatcher
        if dispatcher is not None and reading_changed(dispatcher.state.tempo, reading):
            dispatcher.amend(lambda s: replace(s, tempo=self.tempo.read(now)))
        return reading

    def __call__(self, look: Look, now: float) -> Look:
        """The render loop's look filter: refresh the reading, apply the modulators."""
        reading = self.refresh(now)
        self._features = self.audio.latest() if self.audio is not None else None
        if not look.modulators:
            return look
        return modulate(look, look.modulators, reading.beat, self._features)

    def report(self) -> dict[str, Any]:
        """For LoopStats.extra (overlay, stats): BPM, beat, source, audio level."""
        reading = self._last or self.tempo.read()
        out: dict[str, Any] = {"bpm": round(reading.bpm, 2), "beat": round(reading.beat, 3),
                               "tempo_source": reading.source}
        if self._features is not None:
            out["audio_rms"] = round(self._features.rms, 3)
        return out
