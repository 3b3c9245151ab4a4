"""The tempo, quantise and modulator addresses: decode -> apply -> echo, and the state dump."""

import pytest

from livedream.control.osc import OscError
from livedream.control.osc.addresses import decode, dump_messages, echo_messages
from livedream.look import ChainLink, Look
from livedream.state import Env, State, apply
from livedream.tempo.modulators import Modulator

STATE = State(look=Look(chain=(ChainLink("zoom", {"scale": 0.05}),),
                        modulators=(Modulator("zoom.scale", source="saw", rate=2.0),)))


def _send(state: State, address: str, args: list) -> tuple[State, list]:
    command = decode(address, args)
    new = apply(state, command, Env())
    return new, echo_messages(address, command, new)


def test_tempo_quantize_and_modulator_echoes() -> None:
    s, echo = _send(STATE, "/livedream/tempo", [128.0])
    assert echo == [("/livedream/tempo", [128.0])]
    s, echo = _send(s, "/livedream/quantize", ["2bars"])
    assert echo == [("/livedream/quantize", ["2bars"])]
    s, echo = _send(s, "/livedream/mod/0/depth", [-0.5])
    assert echo == [("/livedream/mod/0/depth", [-0.5])]
    s, echo = _send(s, "/livedream/mod/1/target", ["step_size"])  # adds a second one
    assert echo == [("/livedream/mod/1/target", ["step_size"])]
    s, echo = _send(s, "/livedream/mod/clear", [0])
    assert echo == [("/livedream/mod/count", [1])]
    assert s.look.modulators[0].target == "step_size"


def test_dump_holds_tempo_beat_quantize_and_every_modulator_field() -> None:
    dump = dict(dump_messages(STATE))
    assert dump["/livedream/tempo"] == [120.0]
    assert dump["/livedream/tempo/beat"] == [1, 1, 4, "fixed", 1]
    assert dump["/livedream/quantize"] == ["off"]
    assert dump["/livedream/mod/count"] == [1]
    assert dump["/livedream/mod/0/source"] == ["saw"] and dump["/livedream/mod/0/rate"] == [2.0]


@pytest.mark.parametrize(("address", "args"), [
    ("/livedream/mod/x/depth", [1.0]), ("/livedream/mod/0/wobble", [1.0]),
    ("/livedream/mod/0", [1.0]), ("/livedream/tempo", ["fast"]), ("/livedream/quantize", [4]),
    ("/livedream/mod/clear", [0.5]),
])
def test_bad_tempo_messages_are_clear_errors(address: str, args: list) -> None:
    with pytest.raises(OscError):
        decode(address, args)
