"""Quantised switches land on the boundary of a fake tempo clock; parameter moves pass through."""

import pytest

from livedream.errors import ParamError
from livedream.live.clock import FakeClock
from livedream.state import LoadPreset, SetParam
from livedream.tempo.clock import TempoClock
from livedream.tempo.quantize import Quantizer, boundary_beats, due_time, next_boundary


def _is_switch(cmd: object) -> bool:
    return isinstance(cmd, LoadPreset)


def test_boundaries() -> None:
    assert boundary_beats("off", 4) == 0
    assert boundary_beats("beat", 4) == 1
    assert boundary_beats("2bars", 3) == 6
    assert next_boundary(4.0, 4) == 8.0
    assert next_boundary(4.1, 4) == 8.0
    with pytest.raises(ParamError):
        boundary_beats("3bars", 4)


def test_due_time_is_the_next_bar_minus_lookahead() -> None:
    clock = FakeClock()
    tempo = TempoClock(120, clock=clock)  # a bar is 2 s
    clock.advance(2.5)
    assert due_time(tempo, "bar", clock.now()) == pytest.approx(4.0)
    assert due_time(tempo, "beat", clock.now()) == pytest.approx(3.0)
    assert due_time(tempo, "4bars", clock.now()) == pytest.approx(8.0)
    assert due_time(tempo, "bar", clock.now(), lookahead=0.1) == pytest.approx(3.9)
    assert due_time(tempo, "off", clock.now()) == pytest.approx(2.5)
    assert due_time(tempo, "bar", 3.95, lookahead=0.1) == pytest.approx(3.95)


def test_quantised_preset_switch_lands_on_the_bar_boundary() -> None:
    clock = FakeClock()
    tempo = TempoClock(120, beats_per_bar=4, clock=clock)
    quant = Quantizer(tempo, _is_switch, mode="bar")
    clock.advance(0.7)  # beat 1.4 of bar 0
    switch, move = LoadPreset("ink"), SetParam("step_size", 2.0)
    assert quant.submit("switch", switch, clock.now())
    assert not quant.submit("move", move, clock.now())  # parameter moves stay immediate
    applied_at = None
    while applied_at is None:  # the render loop: one drain per 1/60 s frame
        clock.advance(1 / 60)
        if quant.ready(clock.now()) == ["switch"]:
            applied_at = clock.now()
    assert tempo.read(applied_at).beat == pytest.approx(4.0, abs=2 / 60 * 2)
    assert applied_at >= 2.0 - 1e-9 and applied_at < 2.0 + 1 / 60
    assert quant.pending == 0


def test_a_tempo_change_while_waiting_still_hits_the_boundary() -> None:
    clock = FakeClock()
    tempo = TempoClock(120, clock=clock)
    quant = Quantizer(tempo, _is_switch, mode="bar", lookahead=0.0)
    clock.advance(0.5)  # beat 1
    quant.submit("a", LoadPreset("a"), clock.now())
    tempo.set_bpm(60)  # 3 beats left now take 3 s
    clock.advance(2.9)
    assert quant.ready(clock.now()) == []
    clock.advance(0.1)
    assert quant.ready(clock.now()) == ["a"]


def test_switching_quantize_off_releases_waiting_commands_in_order() -> None:
    clock = FakeClock()
    quant = Quantizer(TempoClock(120, clock=clock), _is_switch, mode="4bars")
    quant.submit(1, LoadPreset("a"), 0.0)
    quant.submit(2, LoadPreset("b"), 0.0)
    assert quant.ready(0.1) == []
    quant.mode = "off"
    assert quant.ready(0.2) == [1, 2]
