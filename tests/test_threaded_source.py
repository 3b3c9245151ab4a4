"""ThreadedSource: latest-frame slot, never blocking the renderer, demand order, flow, errors."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from livedream.errors import LivedreamError
from livedream.flow.clip import MovingSquare, write_moving_video
from livedream.sources import SourceError, StillSource
from livedream.threaded_source import ThreadedSource, open_threaded
from tests.test_sources import COLOURS, write_video


def solid(value: int) -> np.ndarray:
    return np.full((12, 16, 3), value, dtype=np.uint8)


class GatedReader:
    """A reader whose every read after the first blocks until the test releases it."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = threading.Event()
        self.entered = threading.Event()

    def __call__(self) -> np.ndarray:
        self.calls += 1
        if self.calls > 1:
            self.entered.set()
            self.release.wait(10)
        return solid(min(10 * self.calls, 250))


def test_render_thread_never_blocks_on_a_stuck_source() -> None:
    reader = GatedReader()
    src = ThreadedSource(reader, "stuck", (8, 6), demand=False, fps=100)
    try:
        assert reader.entered.wait(5)  # the thread is now inside a read that does not return
        samples = [src.latest() for _ in range(5)]  # returns at once, with the last frame
        assert [s.index for s in samples] == [0] * 5
        assert samples[0].fresh and not any(s.fresh for s in samples[1:])
        assert samples[0].frame.shape == (1, 3, 6, 8)
        torch.testing.assert_close(src.read(), torch.full((1, 3, 6, 8), 10 / 255))
        reader.release.set()
        fresh = src.latest(wait=5)
        assert fresh.fresh and fresh.index >= 1
    finally:
        reader.release.set()
        src.close()


def test_demand_mode_plays_a_file_in_order_and_loops(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.avi")
    with open_threaded(str(path), (32, 24)) as src:
        assert isinstance(src, ThreadedSource)
        frames = [src.latest(wait=5).frame for _ in range(len(COLOURS) * 2 + 1)]
    for i, frame in enumerate(frames):
        expected = torch.tensor(COLOURS[i % len(COLOURS)], dtype=torch.float32) / 255
        torch.testing.assert_close(frame[0].mean(dim=(1, 2)), expected, atol=0.05, rtol=0)
    assert isinstance(open_threaded("generated", (32, 24)), StillSource)


def test_flow_comes_with_fresh_frames_only(tmp_path: Path) -> None:
    clip = MovingSquare()
    path = write_moving_video(tmp_path / "moving.mp4", clip)
    with open_threaded(str(path), clip.size, flow=True, flow_scale=0.5) as src:
        first = src.latest(wait=5)
        assert first.flow is None  # nothing to compare the first frame with
        second = src.latest(wait=5)
        assert second.fresh and second.flow is not None
        assert second.flow.shape == (1, 2, clip.size[1] // 2, clip.size[0] // 2)
        src.configure(flow=False)
        third = src.latest(wait=5)
        while third.index < second.index + 2:  # the frame decoded ahead still had flow on
            third = src.latest(wait=5)
        assert third.flow is None
        assert src.flows >= 2 and src.flow_seconds > 0


def test_read_errors_surface_once_and_the_source_recovers() -> None:
    calls = {"n": 0}

    def flaky() -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 2:
            raise SourceError("camera unplugged")
        return solid(calls["n"])

    src = ThreadedSource(flaky, "flaky", None)
    try:
        src.latest()
        with pytest.raises(LivedreamError, match="unplugged"):
            src.latest(wait=5)
        assert src.latest(wait=5).fresh  # read 3 worked again
    finally:
        src.close()
    with pytest.raises(LivedreamError, match="closed"):
        src.latest()

    def broken() -> np.ndarray:
        raise SourceError("no signal")

    with pytest.raises(LivedreamError, match="no signal"):
        ThreadedSource(broken, "broken", None)


def test_take_sample_serves_threaded_and_plain_sources() -> None:
    from livedream.threaded_source import take_sample

    still = open_threaded("generated", (16, 12))
    sample = take_sample(still, "cpu", flow=True)
    assert sample.fresh and sample.flow is None and sample.frame.shape == (1, 3, 12, 16)
    reader = GatedReader()
    src = ThreadedSource(reader, "gated", (8, 6), demand=False, fps=100)
    try:
        first = take_sample(src, "cpu", flow=True, flow_scale=0.25)
        assert first.fresh and src.flow_on and src.flow_scale == 0.25  # configured per frame
        assert not take_sample(src, "cpu").fresh and not src.flow_on
    finally:
        reader.release.set()
        src.close()
