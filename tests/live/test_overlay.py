"""The window's overlay text (a function of the state and the loop's stats)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from livedream.live.overlay import overlay_text
from livedream.look import ChainLink, Look
from livedream.state import State


def _state(**changes) -> State:
    look = Look(model="vgg16", layers=("relu4_3",), chain=(
        ChainLink("zoom", {"scale": 0.05}), ChainLink("blur", {}, enabled=False)))
    return replace(State(look=look), **changes)


def test_overlay_names_layer_enabled_chain_rates_and_recording():
    stats = SimpleNamespace(dream_fps=12.34, dropped=0, extra=None)
    text = overlay_text(_state(recording=True), stats, 59.6)
    first, second = text.splitlines()[:2]
    assert first == "vgg16 relu4_3   chain: zoom"  # the disabled blur is not listed
    assert second == "dream 12.3 fps   display 60 fps   REC"


def test_overlay_shows_drops_pause_governor_and_midi_learn():
    stats = SimpleNamespace(dream_fps=1.0, dropped=3, extra={"governor": "gov 12 fps: 1 it @0.5"})
    text = overlay_text(_state(paused=True, midi_learn="zoom.scale"), stats, 30.0)
    lines = text.splitlines()
    assert lines[1] == ("dream 1.0 fps   display 30 fps   not recording (3 dropped)   PAUSED"
                        "   gov 12 fps: 1 it @0.5")
    assert lines[-1] == "MIDI learn: move a knob to control zoom.scale"


def test_overlay_before_any_state_is_empty():
    assert overlay_text(None, None, 0.0) == ""
