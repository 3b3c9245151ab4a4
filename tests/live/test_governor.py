"""The frame budget governor, driven by a fake clock and a fake step of known cost."""

from __future__ import annotations

import torch
from torch import Tensor

from livedream.command_queue import CommandQueue
from livedream.dream_scale import ScaledDream
from livedream.live.clock import FakeClock
from livedream.live.governor import FrameGovernor, Governor, GovernorChoice
from livedream.live.headless import HeadlessDisplay
from livedream.live.loop import RenderLoop
from livedream.look import ChainLink, DreamSettings, Look
from livedream.state import State
from tests.tiny_model import TinyDreamModel


def run(gov: Governor, cost_per_iteration: float, frames: int,
        overhead: float = 0.0) -> list[GovernorChoice]:
    """Feed `frames` frames whose time is overhead + cost * iterations * scale^2."""
    seen = []
    for _ in range(frames):
        choice = gov.choice
        seen.append(choice)
        gov.observe(overhead + cost_per_iteration * choice.iterations * choice.scale ** 2)
    return seen


def test_lowers_iterations_under_a_slow_step_and_raises_them_back() -> None:
    gov = Governor(target_fps=10, max_iterations=4)
    assert gov.choice.iterations == 4 and gov.choice.scale == 1.0
    slow = run(gov, cost_per_iteration=0.045, frames=40)  # 4 it = 180 ms > 100 ms budget
    assert slow[-1].iterations == 2 and slow[-1].scale == 1.0  # 90 ms fits
    fast = run(gov, cost_per_iteration=0.010, frames=200)  # machine got quiet: 4 it = 40 ms
    assert fast[-1].iterations == 4
    assert max(c.iterations for c in fast) == 4  # never past the look's iterations


def test_at_one_iteration_it_lowers_the_scale_then_restores_it() -> None:
    gov = Governor(target_fps=12, max_iterations=2)
    slow = run(gov, cost_per_iteration=0.25, frames=80)  # 1 it at full scale = 250 ms
    last = slow[-1]
    assert last.iterations == 1 and last.scale < 0.75
    assert 0.25 * last.scale ** 2 <= gov.budget * gov.slack  # it holds the budget
    assert last.scale >= gov.min_scale
    back = run(gov, cost_per_iteration=0.02, frames=300)
    assert back[-1].scale == 1.0 and back[-1].iterations == 2


def test_no_oscillation_near_the_budget() -> None:
    """A frame time that sits right at the budget: it settles and stops changing."""
    gov = Governor(target_fps=10, max_iterations=6)
    run(gov, cost_per_iteration=0.031, frames=60, overhead=0.01)
    changes = gov.changes
    steady = run(gov, cost_per_iteration=0.031, frames=300, overhead=0.01)
    assert gov.changes - changes <= 3  # a failed raise or two, then it backs off
    assert len({c.iterations for c in steady[-100:]}) == 1
    assert steady[-1].iterations == 3  # 0.01 + 3 * 0.031 = 103 ms: inside the 15 % slack


def test_off_keeps_the_bounds() -> None:
    gov = Governor(target_fps=0, max_iterations=3, max_scale=0.5)
    seen = run(gov, cost_per_iteration=10.0, frames=20)
    assert {(c.iterations, c.scale) for c in seen} == {(3, 0.5)}
    assert seen[-1].describe() == "gov off"


def test_bounds_follow_the_look() -> None:
    gov = Governor(target_fps=10, max_iterations=5)
    gov.set_bounds(2)
    assert gov.choice.iterations == 2
    gov.set_bounds(0)  # dreaming switched off: nothing to govern
    assert gov.choice.iterations == 0
    assert run(gov, 1.0, 10)[-1].iterations == 0


class FakeStep:
    """A dream function that takes `cost * iterations * pixels / 128x72` fake seconds."""

    def __init__(self, clock: FakeClock, cost: float) -> None:
        self.clock, self.cost = clock, cost
        self.calls: list[tuple[int, tuple[int, ...], object]] = []

    def __call__(self, model: object, frame: Tensor, layers: list[str], settings: DreamSettings,
                 generator: object = None, guide: object = None, autocast: object = None) -> Tensor:
        self.calls.append((settings.iterations, tuple(frame.shape), autocast))
        self.clock.advance(self.cost * settings.iterations * frame.shape[2] * frame.shape[3]
                           / (72 * 128))
        return (frame + 0.01).clamp(0, 1)


def make_loop(cost: float, iterations: int = 3, target: float = 12.0):
    clock = FakeClock()
    fake = FakeStep(clock, cost)
    governor = FrameGovernor(Governor(target, max_iterations=1, raise_wait=3))
    look = Look(model="tiny", layers=("relu2",), dream=DreamSettings(iterations=iterations),
                chain=(ChainLink("zoom", {"scale": 0.02}),))
    loop = RenderLoop(State(look=look), CommandQueue(), HeadlessDisplay(), model=TinyDreamModel(),
                      clock=clock, size=(128, 72), dream_fn=ScaledDream(governor.scale, fake),
                      autocast=torch.bfloat16, look_filters=[governor])
    return loop, fake, governor


def test_in_the_loop_it_holds_the_budget_and_recovers() -> None:
    """Through the render loop's seams: look filter (iterations) + ScaledDream (scale)."""
    loop, fake, governor = make_loop(cost=0.1)
    loop.run(max_frames=40)
    iterations, shape, autocast = fake.calls[-1]
    assert autocast is torch.bfloat16
    assert iterations == 1 and shape[2] < 72  # 3 it -> 1 it, then a smaller dream
    assert loop.display.last_frame.shape == (1, 3, 72, 128)  # the output keeps its size
    extra = loop.stats().extra
    assert extra is not None and extra["iterations"] == 1 and extra["dream_scale"] < 1.0
    assert extra["governor"].startswith("gov 12 fps: 1 it @")
    fake.cost = 0.002  # headroom again: back to the look's 3 iterations at full size
    loop.run(max_frames=200)
    assert fake.calls[-1][:2] == (3, (1, 3, 72, 128))
    assert loop.stats().extra["dream_scale"] == 1.0


def test_a_pause_does_not_count_as_a_slow_frame() -> None:
    clock = FakeClock()
    governor = FrameGovernor(Governor(10, max_iterations=2))
    look = Look(dream=DreamSettings(iterations=2))
    for i in range(40):
        look_now = governor(look, clock.now())
        clock.advance(0.03 * look_now.dream.iterations)
        if i % 5 == 0:
            clock.advance(5.0)  # paused for 5 s
    assert governor.governor.iterations == 2 and governor.scale() == 1.0


def test_set_target_live() -> None:
    governor = FrameGovernor(Governor(10, max_iterations=4))
    look = Look(dream=DreamSettings(iterations=4))
    clock = FakeClock()
    for _ in range(30):
        clock.advance(0.05 * governor(look, clock.now()).dream.iterations)
    assert governor.governor.iterations < 4
    governor.set_target(0)  # off: the look's own iterations at once
    assert governor(look, clock.now()).dream.iterations == 4
    assert governor.report()["governor"] == "gov off"


def test_speed_params_over_the_command_api_reach_the_governor() -> None:
    """`/livedream/param/speed/target_fps` and `.../dream_scale` are show parameters: applied to
    the State (so `/livedream/state` reports them) and followed by the governor's observer."""
    from livedream.commands import SetParam
    from livedream.control.osc import dump_messages
    from livedream.state import Env, apply

    governor = FrameGovernor(Governor(12, max_iterations=3))
    old = State(settings=governor.settings())
    new = apply(old, SetParam("speed.target_fps", 24.0), Env())
    new = apply(new, SetParam("speed.dream_scale", 0.0, normalized=True), Env())  # 0..1 -> 0.25
    governor.on_state(old, new)
    assert governor.governor.target_fps == 24 and governor.governor.max_scale == 0.25
    assert governor.scale() == 0.25
    dumped = dict((address, args) for address, args in dump_messages(new))
    assert dumped["/livedream/param/speed/target_fps/raw"] == [24.0]
    off = apply(new, SetParam("speed.target_fps", 0.0), Env())
    governor.on_state(new, off)
    assert governor.report()["governor"] == "gov off"


def test_seconds_long_frames_are_cut_at_once() -> None:
    """A frame 20x over budget: the first measurement cuts iterations, the next the scale."""
    gov = Governor(target_fps=12, max_iterations=3)
    gov.observe(3.0)  # 3 it at full size took 3 s
    assert gov.choice.iterations == 1
    gov.observe(1.0)
    assert gov.choice.scale <= 0.35
    clock = FakeClock()
    governor = FrameGovernor(Governor(12, max_iterations=3))
    look = Look(dream=DreamSettings(iterations=3))
    for _ in range(3):  # the first measured frame counts even when it is seconds long
        clock.advance(1.0 * governor(look, clock.now()).dream.iterations)
    assert governor.governor.iterations == 1


def test_the_state_carries_the_governors_choice_for_osc() -> None:
    """Attached to the loop's dispatcher, the governor keeps `State.speed` at its choice (a
    state update when it changes, not every frame); `/livedream/speed` and the dump read it."""
    from livedream.control.osc import decode, dump_messages, echo_messages

    loop, fake, governor = make_loop(cost=0.1)
    governor.attach(loop.dispatcher)
    updates = []
    loop.dispatcher.observers.append(
        lambda old, new: updates.append(new.speed) if new.speed != old.speed else None)
    loop.run(max_frames=40)
    speed = loop.dispatcher.state.speed
    assert speed.iterations == 1 and speed.scale == governor.scale() < 1.0
    assert speed.frame_ms > 0 and len(updates) < 30  # refreshed on changes, not per frame
    assert [u.iterations for u in updates][:1] == [3]  # the look's 3 iterations came first
    command = decode("/livedream/speed", [])
    assert echo_messages("/livedream/speed", command, loop.dispatcher.state) == [
        ("/livedream/speed", [1, speed.scale, speed.frame_ms])]
    assert dict(dump_messages(loop.dispatcher.state))["/livedream/speed"] == [
        1, speed.scale, speed.frame_ms]
    fake.cost = 0.002
    loop.run(max_frames=200)
    assert loop.dispatcher.state.speed.iterations == 3
    assert loop.dispatcher.state.speed.scale == 1.0


def test_speed_reading_changes_worth_a_state_update() -> None:
    from livedream.speed_params import SpeedReading

    base = SpeedReading(2, 0.75, 100.0)
    assert not base.differs(SpeedReading(2, 0.75, 95.0))  # frame time within 10 %
    assert base.differs(SpeedReading(2, 0.75, 85.0))
    assert base.differs(SpeedReading(1, 0.75, 100.0)) and base.differs(SpeedReading(2, 0.7, 100.0))
    assert SpeedReading(2, 1.0, 5.0).differs(SpeedReading())  # the first measurement


def test_livedream_run_answers_speed_with_the_live_choice(monkeypatch) -> None:
    """End to end: `/livedream/speed` to a running show returns what its governor chose."""
    import socket
    import time

    from livedream.control.osc import build_message, parse_datagram
    from tests.live.show_in_process import run_with_controller
    from tests.reliability.show import free_udp_port

    osc_port = free_udp_port()
    controller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    controller.bind(("127.0.0.1", 0))
    controller.settimeout(0.2)
    got: list[list[object]] = []

    def ask() -> None:  # until a reply carries a measured frame time
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (got and got[-1][2] > 0):
            controller.sendto(build_message("/livedream/speed", []), ("127.0.0.1", osc_port))
            try:
                for address, args in parse_datagram(controller.recvfrom(65536)[0]):
                    if address == "/livedream/speed":
                        got.append(list(args))
            except TimeoutError:
                continue

    try:
        code = run_with_controller(monkeypatch, ask, "--osc-port", str(osc_port),
                                   "--target-fps", "12")
    finally:
        controller.close()
    assert code == 0 and got, "no /livedream/speed reply"
    iterations, scale, frame_ms = got[-1]
    assert iterations >= 1 and 0.25 <= scale <= 1.0 and frame_ms > 0
