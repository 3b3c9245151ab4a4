"""The window's overlay text: a function of the state and the loop's stats (testable without a
window; the window draws it, headless displays have none)."""

from __future__ import annotations

from typing import Any

from livedream.state import State
from livedream.tempo.show import overlay_line


def overlay_text(state: State | None, stats: Any, display_fps: float) -> str:
    """The window overlay: layer, chain, dream and display fps, recording state, tempo, MIDI
    learn (a function of the state and stats, so it is testable without a window)."""
    if state is None:
        return ""
    look = state.look
    chain = " > ".join(link.name for link in look.chain if link.enabled) or "(none)"
    dream_fps = stats.dream_fps if stats is not None else 0.0
    rec = "REC" if state.recording else "not recording"
    dropped = stats.dropped if stats is not None else 0
    lines = [f"{look.model} {', '.join(look.layers)}   chain: {chain}",
             f"dream {dream_fps:.1f} fps   display {display_fps:.0f} fps   {rec}"
             + (f" ({dropped} dropped)" if dropped else "")
             + ("   PAUSED" if state.paused else "")]
    governor = (getattr(stats, "extra", None) or {}).get("governor")
    if governor:  # the frame budget's choice: "gov 12 fps: 1 it @0.75"
        lines[-1] += f"   {governor}"
    lines.append(overlay_line(state))
    if state.midi_learn:
        lines.append(f"MIDI learn: move a knob to control {state.midi_learn}")
    return "\n".join(lines)
