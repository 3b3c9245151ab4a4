"""The dispatcher: owns the state, drains on its own thread (echo before the loop's next tick),
holds quantised commands until due, and lets the loop correct the state."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from livedream.command_queue import CommandQueue
from livedream.commands import LoadPreset, SetFlag, SetParam
from livedream.control.osc import OscHandler, build_message
from livedream.live.clock import FakeClock
from livedream.live.dispatch import Dispatcher
from livedream.live.headless import HeadlessDisplay
from livedream.live.loop import RenderLoop
from livedream.look import Look
from livedream.state import Env, State
from tests.tiny_model import TinyDreamModel

LOOK = Look(model="tiny", layers=("conv2",), chain=())


def test_drain_applies_replies_and_notifies_observers():
    queue = CommandQueue()
    seen: list[tuple[float, float]] = []
    dispatcher = Dispatcher(State(look=LOOK), queue, observers=[
        lambda old, new: seen.append((old.look.dream.step_size, new.look.dream.step_size))])
    replies: list[State] = []
    queue.put(SetParam("step_size", 4.0), reply=replies.append)
    queue.put(SetParam("no_such_param", 1.0), reply=replies.append)
    state = dispatcher.drain()
    assert state.look.dream.step_size == 4.0 and dispatcher.state is state
    assert [r.look.dream.step_size for r in replies] == [4.0]  # the rejected one is not echoed
    assert seen == [(1.5, 4.0)] and dispatcher.stats.applied == 1
    assert dispatcher.stats.rejected == 1


def test_schedule_holds_commands_until_due_and_keeps_their_order():
    clock = FakeClock()
    queue = CommandQueue()
    presets = {"a": replace(LOOK, name="a"), "b": replace(LOOK, name="b")}

    def on_the_bar(envelope, now):  # switches wait for the next whole second; values do not
        return float(int(now) + 1) if isinstance(envelope.command, LoadPreset) else None

    dispatcher = Dispatcher(State(look=LOOK), queue, Env(presets=presets), clock=clock,
                            schedule=on_the_bar)
    clock.advance(0.25)
    queue.put(LoadPreset("a"))
    queue.put(SetParam("step_size", 3.0))
    dispatcher.drain()
    assert dispatcher.state.preset is None and dispatcher.state.look.dream.step_size == 3.0
    assert dispatcher.held == 1 and dispatcher.next_due() == 1.0
    clock.advance(0.5)
    assert dispatcher.drain().preset is None
    clock.advance(0.25)  # t = 1.0: the boundary
    assert dispatcher.drain().preset == "a" and dispatcher.held == 0


def test_amend_corrects_the_state_and_tells_observers():
    seen: list[bool] = []
    dispatcher = Dispatcher(State(look=LOOK, recording=True), CommandQueue(),
                            observers=[lambda old, new: seen.append(new.recording)])
    dispatcher.amend(lambda s: replace(s, recording=False))
    assert dispatcher.state.recording is False and seen == [False]


class Capture:
    def __init__(self) -> None:
        self.sent: list[tuple[float, bytes]] = []

    def __call__(self, data: bytes, address: tuple) -> None:
        self.sent.append((time.monotonic(), data))


def test_echo_is_sent_before_the_loops_next_tick():
    """A command arriving mid-frame is validated and echoed at once, not after the frame."""
    started = threading.Event()

    def slow_step(model, frame, layers, settings, generator=None, guide=None):
        started.set()
        time.sleep(1.0)  # a dream frame of one second
        return frame

    queue = CommandQueue()
    loop = RenderLoop(State(look=LOOK), queue, HeadlessDisplay(), model=TinyDreamModel(),
                      size=(64, 48), dream_fn=slow_step)
    capture = Capture()
    handler = OscHandler(queue, capture)
    loop.dispatcher.start()
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, kwargs={"stop": stop}, daemon=True)
    thread.start()
    try:
        assert started.wait(30)
        frame_at_send = loop.frame_index
        sent_at = time.monotonic()
        handler.handle_datagram(build_message("/livedream/pause", [1]), ("127.0.0.1", 9999))
        deadline = time.monotonic() + 0.5
        while not capture.sent and time.monotonic() < deadline:
            time.sleep(0.002)
        assert capture.sent, "no echo within 0.5 s"
        echoed_at, data = capture.sent[0]
        assert data == build_message("/livedream/pause", [1])
        assert echoed_at - sent_at < 0.2
        assert loop.frame_index == frame_at_send  # the frame in flight has not finished yet
        assert loop.state.paused  # the state already holds it; the loop acts on its next tick
    finally:
        stop.set()
        thread.join(timeout=10)
        loop.dispatcher.close()
        loop.close()


def test_loop_state_setter_replaces_without_side_effects():
    queue = CommandQueue()
    loop = RenderLoop(State(look=LOOK), queue, HeadlessDisplay(), model=TinyDreamModel(),
                      size=(64, 48), dream_fn=lambda m, f, *a, **k: f)
    loop.state = replace(loop.state, paused=True)
    assert loop.dispatcher.state.paused
    queue.put(SetFlag("paused", False))
    loop.tick()
    assert not loop.state.paused and loop.frame_index == 1
