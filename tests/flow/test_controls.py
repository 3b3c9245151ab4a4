"""The flow switches and parameters through the shared vocabulary: OSC addresses, the reducer,
the state dump, MIDI's look-less parameter check."""

from __future__ import annotations

import pytest

from livedream.commands import FLAGS, SetFlag, SetParam
from livedream.control.osc import decode, dump_messages
from livedream.errors import LivedreamError
from livedream.flow.feedback import flow_settings
from livedream.flow.params import FLOW_PARAMS
from livedream.paramnames import SHOW_PARAMS, param_spec
from livedream.state import apply, setting
from tests.control import ENV, initial_state


def test_flags_and_parameters_are_registered_once() -> None:
    assert FLAGS["flow"] == "flow" and FLAGS["gate"] == "gate"
    for name, spec in FLOW_PARAMS.items():
        assert SHOW_PARAMS[name] is spec and param_spec(name) is spec


def test_osc_drives_flow_and_gate() -> None:
    state = initial_state()
    assert decode("/livedream/flow", [1]) == SetFlag("flow", True)
    state = apply(state, decode("/livedream/flow", [1]), ENV)
    state = apply(state, decode("/livedream/gate", []), ENV)  # no argument toggles
    assert state.flow and state.gate
    command = decode("/livedream/param/flow/strength", [0.25])
    assert command == SetParam("flow.strength", 0.25, normalized=True)
    state = apply(state, command, ENV)
    assert setting(state, "flow.strength") == pytest.approx(0.5)  # 0.25 of 0..2
    state = apply(state, decode("/livedream/param/gate/threshold/raw", [3.0]), ENV)
    state = apply(state, decode("/livedream/param/source/key/raw", ["luma"]), ENV)
    settings = flow_settings(state)
    assert settings.flow and settings.gate and settings.flow_strength == pytest.approx(0.5)
    assert settings.gate_threshold == 3.0 and settings.source_key == "luma"
    assert settings.flow_scale == FLOW_PARAMS["flow.scale"].default
    with pytest.raises(LivedreamError, match="flow.strength"):
        apply(state, decode("/livedream/param/flow/strength/raw", [9.0]), ENV)
    dump = dict(dump_messages(state))
    assert dump["/livedream/flow"] == [1] and dump["/livedream/gate"] == [1]
    assert dump["/livedream/param/flow/strength/raw"] == [pytest.approx(0.5)]
    assert dump["/livedream/param/source/key/raw"] == ["luma"]


def test_midi_bytes_switch_flow_and_turn_its_strength() -> None:
    from livedream.control.midi import MidiControl, MidiMap
    from tests.control import PutLog

    text = """
[[cc]]
control = 20
param = "flow.strength"

[[note]]
note = 36
command = "flow"

[[note]]
note = 37
command = "gate"
"""
    queue = PutLog()
    control = MidiControl(queue, MidiMap.loads(text, "flow.toml"))
    control.feed(bytes([0x90, 36, 100, 0x90, 37, 100, 0xB0, 20, 127]))
    state = initial_state()
    for command in queue.take():
        state = apply(state, command, ENV)
    assert state.flow and state.gate
    assert setting(state, "flow.strength") == pytest.approx(2.0)
