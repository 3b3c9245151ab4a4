"""RenderLoop unit tests: fake clock, HeadlessDisplay, the tiny model (milliseconds per frame)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

import pytest
import torch

from livedream.command_queue import CommandQueue
from livedream.commands import Quit, Reset, SetFlag, SetLayer, SetModel, SetParam, ToggleTransform
from livedream.errors import ModelUnavailableError
from livedream.live.clock import FakeClock
from livedream.live.easing import interpolate_look
from livedream.live.headless import HeadlessDisplay
from livedream.live.loop import RenderLoop, degenerate_reason
from livedream.look import ChainLink, DreamSettings, Look
from livedream.state import State
from tests.tiny_model import TinyDreamModel

SIZE = (64, 48)


def tiny_look(**kw) -> Look:
    return Look(model="tiny", layers=("conv2",), chain=(), **kw)


class SpyDream:
    """Records each dream call's settings and layers; returns the frame slightly changed."""

    def __init__(self) -> None:
        self.calls: list[tuple[DreamSettings, tuple[str, ...], str]] = []
        self.result: torch.Tensor | None = None  # forced output (degenerate tests)
        self.error: Exception | None = None

    def __call__(self, model, frame, layers, settings, generator=None, guide=None):
        self.calls.append((settings, tuple(layers), model.name))
        if self.error is not None:
            raise self.error
        if self.result is not None:
            out, self.result = self.result, None
            return out
        return (frame * 0.9 + 0.05).clamp(0, 1)


class FakeRecorder:
    def __init__(self) -> None:
        self.frames: list[torch.Tensor] = []
        self.closed = False
        self.dropped = 2

    def write(self, frame) -> None:
        assert not self.closed
        self.frames.append(frame)

    def close(self) -> None:
        self.closed = True


def make_loop(state: State | None = None, **kw):
    queue = CommandQueue()
    clock = kw.pop("clock", FakeClock())
    display = HeadlessDisplay(queue)
    dream = kw.pop("dream_fn", SpyDream())
    loop = RenderLoop(state or State(look=tiny_look()), queue, display, model=kw.pop(
        "model", TinyDreamModel()), clock=clock, size=SIZE, dream_fn=dream, **kw)
    return loop, queue, display, clock, dream


def test_commands_applied_once_per_frame_latest_value_per_target_and_replies_called():
    loop, queue, display, _, dream = make_loop()
    echoed: list[float] = []
    for value in (1.0, 2.0, 3.0):  # one fader moved three times between two frames
        queue.put(SetParam("step_size", value), reply=lambda s: echoed.append(
            s.look.dream.step_size))
    queue.put(SetParam("jitter", 4))
    loop.tick()
    assert echoed == [3.0]  # coalesced: only the latest value per target is applied and echoed
    assert len(dream.calls) == 1 and dream.calls[0][0].step_size == 3.0
    assert dream.calls[0][0].jitter == 4
    assert loop.stats().applied == 2 and loop.stats().coalesced == 2
    loop.tick()
    assert loop.stats().applied == 2 and len(dream.calls) == 2
    assert display.frames_shown == 2 and loop.frame_index == 2
    # A command queued during frame N is applied at the start of frame N+1.
    queue.put(SetParam("step_size", 4.0))
    assert loop.state.look.dream.step_size == 3.0
    loop.tick()
    assert dream.calls[-1][0].step_size == 4.0


def test_invalid_commands_logged_ignored_and_rate_limited(caplog):
    loop, queue, _, _, dream = make_loop()
    replies: list[State] = []
    queue.put(SetLayer("conv1"))
    queue.put(SetParam("step_size", 999.0), reply=replies.append)
    queue.put(ToggleTransform("no_such_transform"), reply=replies.append)
    with caplog.at_level(logging.WARNING, logger="livedream.live.loop"):
        loop.tick()
    assert replies == []  # rejected commands are not echoed
    assert loop.state.look.layers == ("conv1",) and loop.state.look.dream.step_size == 1.5
    assert dream.calls[-1][1] == ("conv1",)
    assert "999" in caplog.text and "no_such_transform" in caplog.text
    assert loop.stats().rejected == 2
    # The latest word on a target wins even when it is invalid: it is rejected, the state kept.
    queue.put(SetLayer("conv3"))
    queue.put(SetLayer("no_such_layer"), reply=replies.append)
    with caplog.at_level(logging.WARNING, logger="livedream.live.loop"):
        loop.tick()
    assert loop.state.look.layers == ("conv1",) and replies == []
    assert "no_such_layer" in caplog.text and "relu3" in caplog.text  # names the valid layers
    assert loop.stats().rejected == 3
    caplog.clear()
    for _ in range(20):  # triggers are not coalesced: each is rejected, logged once per 5 s
        queue.put(ToggleTransform("no_such_transform"))
    with caplog.at_level(logging.WARNING, logger="livedream.live.loop"):
        loop.tick()
    assert len([r for r in caplog.records if "no_such_transform" in r.getMessage()]) <= 1
    assert loop.stats().rejected == 23 and loop.frame_index == 3


def test_pause_stops_dreaming_but_keeps_applying_commands():
    loop, queue, display, clock, dream = make_loop()
    loop.tick()
    queue.put(SetFlag("paused", True))
    t0 = clock.now()
    for _ in range(5):
        loop.tick()
    assert len(dream.calls) == 1 and display.frames_shown == 1 and loop.frame_index == 1
    assert clock.now() - t0 == pytest.approx(5 * loop.pause_sleep)  # waits, does not spin
    queue.put(SetParam("step_size", 7.0))
    loop.tick()
    assert loop.state.look.dream.step_size == 7.0 and len(dream.calls) == 1
    display.press("SPACE")  # the keyboard path toggles pause back off
    loop.tick()
    assert not loop.state.paused and len(dream.calls) == 2 and dream.calls[-1][0].step_size == 7.0


def test_recording_starts_and_stops_from_state():
    recorders: list[FakeRecorder] = []

    def factory() -> FakeRecorder:
        recorders.append(FakeRecorder())
        return recorders[-1]

    loop, queue, _, _, _ = make_loop(recorder_factory=factory)
    loop.tick()
    assert recorders == []
    queue.put(SetFlag("recording", True))
    loop.tick()
    loop.tick()
    assert len(recorders) == 1 and len(recorders[0].frames) == 2
    assert torch.equal(recorders[0].frames[-1], loop.buffer)  # records exactly what is shown
    assert loop.stats().recording and loop.stats().dropped == 2
    queue.put(SetFlag("recording", False))
    loop.tick()
    assert recorders[0].closed and len(recorders[0].frames) == 2
    assert not loop.stats().recording and loop.stats().dropped == 2
    queue.put(SetFlag("recording"))  # toggle on again: a new recorder
    loop.tick()
    assert len(recorders) == 2 and len(recorders[1].frames) == 1
    loop.close()
    assert recorders[1].closed and loop.stats().dropped == 4


def test_recording_without_target_is_refused(caplog):
    loop, queue, _, _, _ = make_loop()
    queue.put(SetFlag("recording", True))
    with caplog.at_level(logging.ERROR, logger="livedream.live.loop"):
        loop.tick()
    assert loop.state.recording is False and "--record" in caplog.text


def test_initial_recording_state_starts_recorder():
    rec = FakeRecorder()
    state = State(look=tiny_look(), recording=True)
    loop, _, _, _, _ = make_loop(state, recorder_factory=lambda: rec)
    loop.tick()
    assert loop.state.recording and len(rec.frames) == 1


def test_model_switch_loads_off_thread_while_frames_keep_coming():
    release = threading.Event()
    load_threads: list[str] = []

    def loader(name, weights, device):
        load_threads.append(threading.current_thread().name)
        assert release.wait(10), "test never released the loader"
        return TinyDreamModel(seed=1, name=name)

    loop, queue, display, _, dream = make_loop(model_loader=loader)
    queue.put(SetModel("other", layer="conv3"))
    for _ in range(5):
        loop.tick()
    assert display.frames_shown == 5
    assert {call[2] for call in dream.calls} == {"tiny"}  # still the old model...
    assert {call[1] for call in dream.calls} == {("conv2",)}  # ...with its own layers
    assert loop.stats().loading_model == "other"
    assert load_threads and load_threads[0] != threading.current_thread().name
    release.set()
    deadline = time.monotonic() + 10
    while loop.stats().loading_model and time.monotonic() < deadline:
        loop.tick()
        time.sleep(0.01)
    loop.tick()
    assert dream.calls[-1][2] == "other" and dream.calls[-1][1] == ("conv3",)
    assert loop.state.look.model == "other" and loop.stats().model == "other"


def test_failed_model_switch_keeps_old_model(caplog):
    def loader(name, weights, device):
        raise ModelUnavailableError(f"model {name} is not installed")

    loop, queue, _, _, dream = make_loop(model_loader=loader)
    queue.put(SetModel("missing", layer="conv1"))
    with caplog.at_level(logging.ERROR, logger="livedream.live.loop"):
        deadline = time.monotonic() + 10
        loop.tick()
        while loop.stats().loading_model and time.monotonic() < deadline:
            time.sleep(0.01)
            loop.tick()
    loop.tick()
    assert "missing" in caplog.text and "not installed" in caplog.text
    assert loop.state.look.model == "tiny" and loop.state.look.layers == ("conv2",)
    assert dream.calls[-1][2] == "tiny" and dream.calls[-1][1] == ("conv2",)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "flat"])
def test_degenerate_frame_is_detected_and_buffer_reseeded(bad, caplog):
    start = torch.rand(1, 3, SIZE[1], SIZE[0], generator=torch.Generator().manual_seed(3))
    loop, _, display, _, dream = make_loop(start_image=start)
    loop.tick()
    forced = torch.full_like(start, 0.3)
    if bad != "flat":
        forced[0, 1, 5, 7] = bad
    dream.result = forced
    with caplog.at_level(logging.WARNING, logger="livedream.live.loop"):
        loop.tick()
    assert loop.stats().reseeds == 1
    assert torch.equal(loop.buffer, start) and torch.equal(display.last_frame, start)
    assert "re-seeded" in caplog.text
    loop.tick()
    assert torch.isfinite(loop.buffer).all() and loop.stats().reseeds == 1


def test_degenerate_reason():
    frame = torch.rand(1, 3, 8, 8)
    assert degenerate_reason(frame) is None
    assert degenerate_reason(torch.zeros(1, 3, 8, 8)) == "flat"
    flat_colour = torch.tensor([0.1, 0.5, 0.9]).view(1, 3, 1, 1).expand(1, 3, 8, 8)
    assert degenerate_reason(flat_colour) == "flat"
    frame[0, 2, 0, 0] = float("-inf")
    assert degenerate_reason(frame) == "non-finite"


def test_degenerate_check_reads_back_at_most_once():
    """The check runs every frame: on CUDA every bool()/float()/item() of a device tensor is a
    full sync, so both of its numbers must come back in one host copy."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class CountReadbacks(TorchDispatchMode):
        count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            name = func.overloadpacket.__name__
            if name == "_local_scalar_dense" or (
                    name == "_to_copy" and str(kwargs.get("device", "")) == "cpu"):
                self.count += 1
            return func(*args, **kwargs)

    for frame in (torch.rand(1, 3, 8, 8), torch.zeros(1, 3, 8, 8)):
        with CountReadbacks() as mode:
            degenerate_reason(frame)
        assert mode.count <= 1


def test_dream_exception_is_logged_and_the_show_continues(caplog):
    loop, _, display, _, dream = make_loop()
    dream.error = RuntimeError("boom")
    with caplog.at_level(logging.ERROR, logger="livedream.live.loop"):
        for _ in range(3):
            assert loop.tick()
    assert display.frames_shown == 3 and loop.stats().errors == 3
    assert caplog.text.count("boom") == 1  # rate-limited


def test_reset_reseeds_and_quit_ends_run():
    start = torch.rand(1, 3, SIZE[1], SIZE[0], generator=torch.Generator().manual_seed(4))
    loop, queue, _, _, _ = make_loop(start_image=start)
    loop.run(max_frames=3)
    assert not torch.equal(loop.buffer, start)
    queue.put(Reset())
    loop.tick()
    assert torch.allclose(loop.buffer, (start * 0.9 + 0.05).clamp(0, 1))  # one step from start
    queue.put(Quit())
    stats = loop.run(max_frames=100)
    assert stats.frames == 4 and not loop.running


def test_easing_glides_numeric_parameters_over_ease_seconds():
    state = State(look=tiny_look(dream=DreamSettings(step_size=1.5, jitter=0)), ease_seconds=2.0)
    loop, queue, _, clock, dream = make_loop(state)
    queue.put(SetParam("step_size", 5.5))
    queue.put(SetParam("jitter", 10))
    seen = []
    for _ in range(6):
        loop.tick()
        seen.append((dream.calls[-1][0].step_size, dream.calls[-1][0].jitter))
        clock.advance(0.5)
    assert seen == [(1.5, 0), (2.5, 2), (3.5, 5), (4.5, 8), (5.5, 10), (5.5, 10)]
    assert loop.state.look.dream.step_size == 5.5  # the state itself jumps at once
    # Retarget mid-ease: the glide restarts from the value in use, without a jump.
    loop.state = replace(loop.state, ease_seconds=1.0)
    queue.put(SetParam("step_size", 1.5))
    loop.tick()
    clock.advance(0.5)
    loop.tick()
    assert [c[0].step_size for c in dream.calls[-2:]] == [5.5, 3.5]


def test_no_easing_when_ease_seconds_is_zero():
    loop, queue, _, _, dream = make_loop()
    queue.put(SetParam("step_size", 5.5))
    loop.tick()
    assert dream.calls[-1][0].step_size == 5.5


def test_interpolate_look_chain_params():
    import livedream.transforms.geometry  # noqa: F401  (registers zoom/rotate)

    a = Look(chain=(ChainLink("zoom", {"scale": 0.0}), ChainLink("rotate", {"degrees": 10.0})))
    b = Look(chain=(ChainLink("zoom", {"scale": 0.1}), ChainLink("rotate", {})))
    half = interpolate_look(a, b, 0.5)
    assert half.chain[0].params["scale"] == pytest.approx(0.05)
    assert half.chain[1].params["degrees"] == pytest.approx(5.5)  # halfway to the default 1.0
    other = Look(chain=(ChainLink("rotate", {"degrees": 30.0}),))
    assert interpolate_look(a, other, 0.5).chain == other.chain  # different transform: jump
    assert interpolate_look(a, b, 1.0) is b


def test_real_dream_step_with_tiny_model_changes_the_frame():
    queue = CommandQueue()
    display = HeadlessDisplay(queue)
    state = State(look=tiny_look(dream=DreamSettings(step_size=4.0, jitter=4)))
    clock = FakeClock()

    def slow_dream(*args, **kwargs):  # a dream step that takes 0.1 s of (fake) time
        from livedream.dream import dream_step

        clock.advance(0.1)
        return dream_step(*args, **kwargs)

    loop = RenderLoop(state, queue, display, model=TinyDreamModel(), clock=clock, size=SIZE,
                      dream_fn=slow_dream)
    start = loop.buffer.clone()
    stats = loop.run(max_frames=4)
    assert stats.frames == 4 and stats.errors == 0 and stats.reseeds == 0
    frame = display.last_frame
    assert frame.shape == (1, 3, SIZE[1], SIZE[0]) and frame.device == start.device
    assert 0.0 <= frame.min() and frame.max() <= 1.0
    assert (frame - start).abs().mean() > 1e-3
    assert stats.dream_fps == pytest.approx(10.0)
