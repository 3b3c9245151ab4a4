"""The output stream: one readback per output frame shared by every sink; slow sinks drop."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
import torch

from livedream.errors import LivedreamError
from livedream.live.clock import FakeClock
from livedream.look import ChainLink
from livedream.outputs.compositor import Compositor
from livedream.outputs.stream import (
    OUTPUT_NICENESS,
    OutputStream,
    RecorderSink,
    read_back,
    resolve_priority,
)

CHAIN = (ChainLink("zoom", {"scale": 0.2}),)


class ListSink:
    def __init__(self) -> None:
        self.frames = []
        self.closed = False

    def send(self, frame) -> None:
        self.frames.append(frame)

    def close(self) -> None:
        self.closed = True


class BlockedSink(ListSink):
    """Stuck until released: stands for a network sink whose peer stalls."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def send(self, frame) -> None:
        self.release.wait(10)
        super().send(frame)


class BrokenSink(ListSink):
    def send(self, frame) -> None:
        raise OSError("peer went away")


def _stream(fps: float = 30.0) -> tuple[OutputStream, FakeClock]:
    clock = FakeClock(start=100.0)
    comp = Compositor("motion")
    gen = torch.Generator().manual_seed(0)
    comp.push(torch.rand(1, 3, 24, 32, generator=gen), CHAIN, now=99.0)
    comp.push(torch.rand(1, 3, 24, 32, generator=gen), CHAIN, now=100.0)  # 1 dream frame / s
    return OutputStream(comp, fps, clock), clock


def _wait_for(cond, timeout=5.0) -> None:
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)


def test_one_readback_shared_by_every_sink_and_a_slow_sink_drops():
    stream, _ = _stream()
    fast, second, slow = ListSink(), ListSink(), BlockedSink()
    stream.subscribe(fast, "fast", max_queue=100)
    stream.subscribe(second, "second", max_queue=100)
    slow_sub = stream.subscribe(slow, "slow", max_queue=1)
    stream.run(max_frames=30)  # fake clock: runs at once, never waits for the slow sink
    assert stream.frames == 30 and stream.readbacks == 30
    _wait_for(lambda: len(fast.frames) == 30 and len(second.frames) == 30)
    assert [f.index for f in fast.frames] == list(range(30))
    # the very same host array goes to each sink: quantised and copied once
    assert all(a.pixels is b.pixels for a, b in zip(fast.frames, second.frames, strict=True))
    assert not fast.frames[0].pixels.flags.writeable
    assert slow_sub.dropped >= 28  # one being sent, at most one queued
    slow.release.set()
    stream.close()
    assert fast.closed and slow.closed and len(slow.frames) == 30 - slow_sub.dropped


def test_frames_on_the_output_grid_with_continuous_motion():
    stream, _ = _stream(fps=10.0)
    sink = ListSink()
    stream.subscribe(sink, "rec", max_queue=100)
    stream.run(max_frames=8)
    stream.close()
    times = [f.at for f in sink.frames]
    assert np.allclose(np.diff(times), 0.1)
    frames = [f.pixels.astype(int) for f in sink.frames]
    # a 1 fps dream shown at 10 fps: each output frame moves on from the last
    assert all(np.abs(a - b).mean() > 0.2 for a, b in zip(frames, frames[1:], strict=False))


def test_late_ticks_are_skipped_not_bursted():
    stream, clock = _stream(fps=10.0)
    clock.tick = 0.35  # every clock read costs 0.35 s: the stream can never keep up
    stream.subscribe(ListSink(), "s", max_queue=100)
    stream.run(max_frames=5)
    assert stream.frames == 5 and stream.late > 0


def test_a_failing_sink_is_stopped_and_the_others_go_on():
    stream, _ = _stream()
    good, bad = ListSink(), BrokenSink()
    stream.subscribe(good, "good", max_queue=100)
    bad_sub = stream.subscribe(bad, "bad", max_queue=100)
    stream.run(max_frames=5)
    _wait_for(lambda: len(good.frames) == 5 and bad_sub.error is not None)
    assert isinstance(bad_sub.error, OSError)
    stream.produce(200.0)
    assert bad_sub.dropped >= 1
    stats = stream.stats()
    assert "peer went away" in stats["sinks"]["bad"]["error"]
    stream.close()
    assert len(good.frames) == 6


def test_threaded_stream_runs_in_real_time_and_stops():
    comp = Compositor()
    comp.push(torch.rand(1, 3, 8, 8), (), now=time.monotonic())
    stream = OutputStream(comp, 50.0)
    sink = ListSink()
    stream.subscribe(sink, "s", max_queue=100)
    stream.start()
    time.sleep(0.5)
    stream.close()
    assert 10 <= stream.frames <= 30


def test_recorder_sink_gets_the_pixels_and_times(tmp_path):
    from livedream.record import Mp4Writer, probe_video

    stream, _ = _stream(fps=30.0)
    path = tmp_path / "out.mp4"
    stream.subscribe(RecorderSink(Mp4Writer(path, 30.0, realtime=True)), "rec", max_queue=100)
    stream.run(max_frames=15)
    stream.close()
    info = probe_video(path)
    assert info.frames == 15 and (info.width, info.height) == (32, 24)


def test_no_subscriber_no_work():
    stream, _ = _stream()
    stream.run(max_frames=3)
    assert stream.frames == 0 and stream.readbacks == 0


def test_read_back_quantises_like_the_recorder_and_bad_fps_is_clear():
    frame = torch.tensor([0.0, 0.5, 1.0]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    pixels = read_back(frame)
    assert pixels.shape == (2, 2, 3) and pixels.dtype == np.uint8
    assert pixels[0, 0].tolist() == [0, 128, 255]
    with pytest.raises(LivedreamError, match="output-fps"):
        OutputStream(Compositor(), 0)


class PrioritySink(ListSink):
    """Notes the CPU priority (niceness, scheduling policy) of the thread delivering to it."""

    def __init__(self) -> None:
        super().__init__()
        self.niceness: list[int] = []
        self.policies: list[int] = []

    def send(self, frame) -> None:
        me = threading.get_native_id()
        self.niceness.append(os.getpriority(os.PRIO_PROCESS, me))
        self.policies.append(os.sched_getscheduler(me))
        super().send(frame)


def _delivered_by_threads_of(priority: str) -> PrioritySink:
    """Run a stream with `priority` until its sink thread has delivered; the sink's notes."""
    comp = Compositor()
    comp.push(torch.rand(1, 3, 8, 8), (), now=time.monotonic())
    stream = OutputStream(comp, 50.0, priority=priority)
    sink = PrioritySink()
    stream.subscribe(sink, "s", max_queue=100)
    stream.start()
    _wait_for(lambda: sink.niceness)
    stream.close()
    return sink


def _my_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no per-thread priorities here")
def test_output_threads_yield_the_cpu_to_the_dream():
    mine = _my_niceness()
    sink = _delivered_by_threads_of("low")
    assert sink.niceness and set(sink.niceness) == {min(19, mine + OUTPUT_NICENESS)}
    assert _my_niceness() == mine  # the caller's thread is unchanged


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="no SCHED_IDLE here")
def test_idle_priority_runs_the_output_threads_on_cpu_time_the_dream_leaves():
    sink = _delivered_by_threads_of("idle")
    assert sink.policies and set(sink.policies) == {os.SCHED_IDLE}
    assert os.sched_getscheduler(threading.get_native_id()) != os.SCHED_IDLE  # caller unchanged


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no per-thread priorities here")
def test_normal_priority_leaves_the_output_threads_alone():
    mine = _my_niceness()
    sink = _delivered_by_threads_of("normal")
    assert sink.niceness and set(sink.niceness) == {mine}


def test_auto_priority_follows_the_dream_device():
    assert resolve_priority("auto", "cpu") == "idle"
    assert resolve_priority("auto", torch.device("cuda", 0)) == "normal"
    assert resolve_priority("auto", "mps") == "normal"
    assert resolve_priority("low", "cuda") == "low"
    with pytest.raises(LivedreamError, match="output-priority 'fast'"):
        resolve_priority("fast", "cpu")
    with pytest.raises(LivedreamError, match="resolve auto first"):
        OutputStream(Compositor(), 30.0, priority="auto")


def test_publish_fans_out_a_picture_composed_elsewhere():
    """The window's shader picture (read back by the window) goes to every sink as is."""
    stream = OutputStream(Compositor(), 30.0)
    assert not stream.wanted()
    assert stream.publish(np.zeros((4, 6, 3), np.uint8), at=1.0) is None  # nobody subscribed
    first, second = ListSink(), ListSink()
    stream.subscribe(first, "a", max_queue=10)
    stream.subscribe(second, "b", max_queue=10)
    assert stream.wanted()
    pixels = np.full((4, 6, 3), 7, np.uint8)
    frame = stream.publish(pixels, at=2.5, dream_frames=3)
    stream.close()
    assert frame is not None and (frame.index, frame.at, frame.dream_frames) == (0, 2.5, 3)
    assert first.frames[0].pixels is pixels and second.frames[0].pixels is pixels
    assert not pixels.flags.writeable  # shared by every sink: nobody may write into it
    assert (stream.frames, stream.readbacks) == (1, 1)
