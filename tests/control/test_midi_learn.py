"""MIDI learn through the one command API: armed over OSC, bound by the next knob, saved."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from livedream.command_queue import CommandQueue
from livedream.commands import LearnMidi, SetParam
from livedream.control.midi import MidiControl, MidiMap
from livedream.control.osc import decode
from livedream.errors import LivedreamError
from livedream.live.clock import FakeClock
from livedream.live.headless import HeadlessDisplay
from livedream.live.loop import RenderLoop
from livedream.look import ChainLink, Look
from livedream.state import Env, State, apply
from tests.tiny_model import TinyDreamModel

LOOK = Look(model="tiny", layers=("conv2",), chain=(ChainLink("zoom", {"scale": 0.05}),))


def test_learn_command_validates_the_parameter_name() -> None:
    state = apply(State(look=LOOK), LearnMidi("zoom.scale"), Env())
    assert state.midi_learn == "zoom.scale"
    assert apply(state, LearnMidi(None), Env()).midi_learn is None
    with pytest.raises(LivedreamError, match="unknown parameter"):
        apply(state, LearnMidi("no_such_param"), Env())


def test_osc_arms_learn_next_knob_binds_map_saved_and_state_disarmed(tmp_path: Path) -> None:
    queue = CommandQueue()
    midi = MidiControl(queue, MidiMap())
    midi.learn_path = tmp_path / "learned.toml"
    loop = RenderLoop(State(look=LOOK), queue, HeadlessDisplay(queue), model=TinyDreamModel(),
                      clock=FakeClock(), size=(32, 24), dream_fn=lambda m, f, *a, **k: f,
                      observers=[midi.on_state])

    queue.put(decode("/livedream/midi/learn", ["zoom.scale"]))
    loop.tick()
    assert loop.state.midi_learn == "zoom.scale" and midi.armed == "zoom.scale"

    midi.feed(bytes([0xB2, 21, 127]))  # channel 3, CC 21 moved to the top
    assert midi.armed is None
    saved = tomllib.loads(midi.learn_path.read_text())
    assert saved["cc"] == [{"channel": 3, "control": 21, "param": "zoom.scale"}]  # full range
    loop.tick()  # applies the learned knob's value and the disarm command
    assert loop.state.midi_learn is None
    assert loop.state.look.chain[0].params["scale"] == pytest.approx(0.5)

    midi.feed(bytes([0xB2, 21, 0]))  # the knob now drives zoom.scale
    loop.tick()
    assert loop.state.look.chain[0].params["scale"] == pytest.approx(-0.5)
    reloaded = MidiMap.load(midi.learn_path)
    assert [(b.channel, b.control, b.param) for b in reloaded.cc] == [(3, 21, "zoom.scale")]


def test_disarm_over_osc_cancels_learn() -> None:
    queue = CommandQueue()
    midi = MidiControl(queue, MidiMap())
    state = State(look=LOOK)
    armed = apply(state, decode("/livedream/midi/learn", ["zoom.scale"]), Env())
    midi.on_state(state, armed)
    assert midi.armed == "zoom.scale"
    cancelled = apply(armed, decode("/livedream/midi/learn/cancel", []), Env())
    midi.on_state(armed, cancelled)
    assert midi.armed is None
    midi.feed(bytes([0xB0, 7, 64]))
    assert not any(isinstance(e.command, SetParam) for e in queue.drain())
