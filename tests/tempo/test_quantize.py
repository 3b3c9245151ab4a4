"""Quantised switches land on the boundary of a fake tempo clock; parameter moves pass through."""

import pytest

from livedream.command_queue import CommandQueue
from livedream.commands import LoadPreset, SetParam, is_switch
from livedream.errors import ParamError
from livedream.live.clock import FakeClock
from livedream.live.dispatch import Dispatcher
from livedream.look import Look
from livedream.state import Env, State
from livedream.tempo.clock import TempoClock
from livedream.tempo.quantize import boundary_beats, due_time, next_boundary, quantize_schedule


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
    looks = {"ink": Look(name="ink"), "base": Look(name="base")}
    queue = CommandQueue()
    dispatcher = Dispatcher(State(look=looks["base"], preset="base", quantize="bar"), queue,
                            Env(presets=looks), clock=clock)
    dispatcher.schedule = quantize_schedule(tempo, is_switch, lambda: dispatcher.state.quantize)
    clock.advance(0.7)  # beat 1.4 of bar 0
    queue.put(LoadPreset("ink"))
    queue.put(SetParam("step_size", 2.0))
    dispatcher.drain()
    assert dispatcher.state.look.dream.step_size == 2.0  # parameter moves stay immediate
    assert dispatcher.state.preset == "base" and dispatcher.held == 1
    applied_at = None
    while applied_at is None:  # the render loop: one drain per 1/60 s frame
        clock.advance(1 / 60)
        if dispatcher.drain().preset == "ink":
            applied_at = clock.now()
    assert 2.0 - 1e-9 <= applied_at < 2.0 + 1 / 60  # the first frame of bar 2
    assert tempo.read(applied_at).bar_phase == pytest.approx(0.0, abs=1 / 60 / 2)


def test_lookahead_and_off() -> None:
    clock = FakeClock()
    tempo = TempoClock(120, clock=clock)
    mode = ["bar"]
    schedule = quantize_schedule(tempo, is_switch, lambda: mode[0], lookahead=0.05)
    assert schedule(LoadPreset("a"), 0.5) == pytest.approx(1.95)
    assert schedule(SetParam("step_size", 1.0), 0.5) is None
    mode[0] = "off"
    assert schedule(LoadPreset("a"), 0.5) == 0.5
