"""TempoShow: commands reach the clock, the clock's reading reaches the state, modulators and
quantisation run through a real Dispatcher on a fake clock."""

import pytest

from livedream.command_queue import CommandQueue
from livedream.commands import LoadPreset, ResyncTempo, SetTempo, TapTempo
from livedream.live.clock import FakeClock
from livedream.live.dispatch import Dispatcher
from livedream.look import DREAM_PARAMS, ChainLink, DreamSettings, Look
from livedream.state import Env, State
from livedream.tempo.clock import TempoClock
from livedream.tempo.modulators import Modulator
from livedream.tempo.show import TempoShow, overlay_line

LOOK = Look(dream=DreamSettings(step_size=10.0), chain=(ChainLink("zoom", {"scale": 0.05}),),
            modulators=(Modulator("step_size", source="square", rate=2.0, depth=0.25),))


def _show(clock: FakeClock, **state) -> tuple[TempoShow, Dispatcher, CommandQueue]:
    queue = CommandQueue()
    dispatcher = Dispatcher(State(look=LOOK, **state), queue, Env(presets={"b": Look()}),
                            clock=clock)
    show = TempoShow(TempoClock(120, clock=clock)).attach(dispatcher)
    return show, dispatcher, queue


def test_tempo_commands_drive_the_clock() -> None:
    clock = FakeClock()
    show, dispatcher, queue = _show(clock)
    queue.put(SetTempo(90))
    dispatcher.drain()
    assert show.tempo.bpm == 90
    for i in range(4):  # taps at 150 BPM, every 0.4 s starting at 1.1
        clock.advance(1.1 if i == 0 else 0.4)
        queue.put(TapTempo(clock.now()))
        dispatcher.drain()
    assert show.tempo.bpm == pytest.approx(150.0)
    assert show.tempo.read().beat_phase == pytest.approx(0.0, abs=1e-6)  # beat on the tap
    clock.advance(0.9)
    queue.put(ResyncTempo())
    dispatcher.drain()
    assert show.tempo.read().bar_phase == pytest.approx(0.0)


def test_reading_reaches_the_state_on_each_beat_and_the_overlay() -> None:
    clock = FakeClock()
    show, dispatcher, _ = _show(clock, quantize="bar")
    applied = dispatcher.stats.applied
    changes = []
    dispatcher.observers.append(lambda old, new: changes.append(new.tempo.beat))
    for _ in range(60):  # 1 s of frames at 60 fps: two beats at 120 BPM
        clock.advance(1 / 60)
        show(dispatcher.state.look, clock.now())
    assert len(changes) == 2  # one state update per beat, not per frame
    assert dispatcher.state.tempo.beat_in_bar == 3
    assert dispatcher.stats.applied == applied  # readings are not commands
    line = overlay_line(dispatcher.state)
    assert "120.0 BPM" in line and "beat 3/4" in line and "quantize bar" in line
    assert show.report()["bpm"] == 120.0


def test_look_filter_applies_the_modulators_on_the_beat() -> None:
    clock = FakeClock()
    show, dispatcher, _ = _show(clock)
    spec = DREAM_PARAMS["step_size"]
    high = show(LOOK, 0.1).dream.step_size  # square: first half of the 2-beat cycle is +1
    low = show(LOOK, 0.6).dream.step_size  # beat 1.2: second half
    assert high == pytest.approx(spec.from_normalized(0.75))
    assert low == pytest.approx(spec.from_normalized(0.25))
    assert dispatcher.state.look.dream.step_size == 10.0  # the state keeps the base


def test_switches_wait_for_the_bar_through_the_attached_schedule() -> None:
    clock = FakeClock()
    show, dispatcher, queue = _show(clock, quantize="bar")
    clock.advance(0.5)
    queue.put(LoadPreset("b"))
    assert dispatcher.drain().preset is None
    clock.advance(1.5)
    assert dispatcher.drain().preset == "b"
