"""The tempo in the render loop (tiny model, fake clock): the loop dreams with the modulated look
every frame, and a quantised preset switch reaches the first frame of the next bar."""

import math

import pytest

from livedream.commands import LoadPreset, SetParam
from livedream.live.clock import FakeClock
from livedream.look import DREAM_PARAMS, DreamSettings, Look
from livedream.state import State
from livedream.tempo.clock import TempoClock
from livedream.tempo.modulators import Modulator
from livedream.tempo.show import TempoShow
from tests.live.test_loop import make_loop, tiny_look

FPS = 30
SINE = Modulator("step_size", source="sine", rate=4.0, depth=0.25)  # one cycle per 4/4 bar


def _loop(state: State):
    clock = FakeClock()
    show = TempoShow(TempoClock(120, clock=clock))
    loop, queue, _, clock, dream = make_loop(
        state, clock=clock, look_filters=[show],
        presets={"other": tiny_look(name="other")})
    show.attach(loop.dispatcher)
    return loop, queue, clock, dream, show


def test_the_loop_dreams_with_the_modulated_look_each_frame() -> None:
    state = State(look=tiny_look(dream=DreamSettings(step_size=10.0), modulators=(SINE,)))
    loop, _, clock, dream, _ = _loop(state)
    for _ in range(2 * FPS):  # two seconds: one bar at 120 BPM
        loop.tick()
        clock.advance(1 / FPS)
    spec = DREAM_PARAMS["step_size"]
    got = [settings.step_size for settings, _, _ in dream.calls]
    want = [spec.from_normalized(0.5 + 0.25 * math.sin(2 * math.pi * (i / FPS * 2) / 4))
            for i in range(len(got))]
    assert got == pytest.approx(want, abs=1e-6)
    assert loop.state.look.dream.step_size == 10.0  # the state keeps the base value
    assert loop.state.tempo.beat_in_bar == 4  # the reading reached the state


def test_quantised_preset_switch_reaches_the_first_frame_of_the_next_bar() -> None:
    loop, queue, clock, dream, show = _loop(State(look=tiny_look(), quantize="bar"))
    for _ in range(10):
        loop.tick()
        clock.advance(1 / FPS)
    queue.put(LoadPreset("other"))
    queue.put(SetParam("step_size", 3.0))
    loop.tick()
    clock.advance(1 / FPS)
    assert dream.calls[-1][0].step_size == 3.0  # the parameter move is immediate
    switched = None
    for _ in range(3 * FPS):
        now = clock.now()
        loop.tick()
        if switched is None and loop.state.preset == "other":
            switched = now
        clock.advance(1 / FPS)
    assert switched is not None
    assert show.tempo.read(switched).bar == 1
    assert show.tempo.read(switched).bar_phase < 1 / FPS / 2  # first frame of bar 2


def test_a_look_without_modulators_passes_through_unchanged() -> None:
    loop, _, _, _, show = _loop(State(look=tiny_look()))
    look = Look(model="tiny", layers=("conv2",), chain=())
    assert show(look, 0.3) is look


def test_easing_still_glides_under_a_modulator() -> None:
    hold = Modulator("step_size", source="square", rate=16.0, depth=0.25)  # +1 for 8 beats
    state = State(look=tiny_look(dream=DreamSettings(step_size=10.0), modulators=(hold,)),
                  ease_seconds=1.0)
    loop, queue, clock, dream, _ = _loop(state)
    loop.tick()
    queue.put(SetParam("step_size", 14.0))
    for _ in range(2 * FPS):
        clock.advance(1 / FPS)
        loop.tick()
    spec = DREAM_PARAMS["step_size"]
    got = [settings.step_size for settings, _, _ in dream.calls]
    start, end = (spec.from_normalized(spec.to_normalized(v) + 0.25) for v in (10.0, 14.0))
    assert got[0] == pytest.approx(start) and got[-1] == pytest.approx(end)
    glide = got[1:FPS]
    assert all(a <= b for a, b in zip(glide, glide[1:], strict=False))
    assert any(start < v < end for v in glide)  # it glides, it does not jump
