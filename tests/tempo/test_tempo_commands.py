"""The tempo, quantise and modulator commands in the reducer (livedream.state.apply)."""

import pytest

from livedream.commands import (
    ClearModulator,
    LoadPreset,
    ResyncTempo,
    SetModulator,
    SetParam,
    SetQuantize,
    SetTempo,
    TapTempo,
    coalesce_key,
    is_switch,
)
from livedream.errors import LivedreamError
from livedream.look import ChainLink, Look
from livedream.state import Env, State, apply

ENV = Env()
STATE = State(look=Look(chain=(ChainLink("zoom", {"scale": 0.05}),)))


def test_set_tempo_and_taps() -> None:
    s = apply(STATE, SetTempo(128), ENV)
    assert s.tempo.bpm == 128 and s.tempo_changes == 1
    with pytest.raises(LivedreamError):
        apply(STATE, SetTempo(5000), ENV)
    s = apply(s, TapTempo(10.0), ENV)
    assert s.tempo_changes == 1 and s.tempo_taps == (10.0,)  # one tap: no BPM yet
    s = apply(s, TapTempo(10.6), ENV)
    assert s.tempo.bpm == pytest.approx(100.0) and s.tempo_changes == 2
    assert apply(s, ResyncTempo(), ENV).tempo_resyncs == 1


def test_quantize_mode() -> None:
    assert apply(STATE, SetQuantize("2bars"), ENV).quantize == "2bars"
    with pytest.raises(LivedreamError, match="4bars"):
        apply(STATE, SetQuantize("3bars"), ENV)


def test_modulators_are_added_edited_and_cleared() -> None:
    s = apply(STATE, SetModulator(0, "target", "zoom.scale"), ENV)
    s = apply(s, SetModulator(0, "source", "saw"), ENV)
    s = apply(s, SetModulator(1, "depth", 0.5), ENV)  # index == count appends one
    assert [(m.target, m.source) for m in s.look.modulators] == [("zoom.scale", "saw"),
                                                                 ("", "sine")]
    for bad in (SetModulator(3, "depth", 0.1), SetModulator(0, "target", "rotate.angle"),
                SetModulator(0, "rate", 99), SetModulator(0, "shape", "sine"),
                ClearModulator(5)):
        with pytest.raises(LivedreamError):
            apply(s, bad, ENV)
    assert len(apply(s, ClearModulator(0), ENV).look.modulators) == 1
    assert apply(s, ClearModulator(), ENV).look.modulators == ()


def test_vocabulary() -> None:
    assert is_switch(LoadPreset("x")) and not is_switch(SetParam("step_size", 1))
    assert not is_switch(SetTempo(120))
    assert coalesce_key(SetTempo(1)) == coalesce_key(SetTempo(2))
    assert coalesce_key(TapTempo(1.0)) is None  # every tap counts
    assert coalesce_key(SetModulator(0, "depth", 1)) != coalesce_key(SetModulator(0, "rate", 1))
