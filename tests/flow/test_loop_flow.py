"""Flow wired into the render loop: the warp before the dream step follows `state.flow` (switched
by a command), the gate opens the source blend, and a stuck source never stalls a tick."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from livedream.command_queue import CommandQueue
from livedream.commands import SetFlag
from livedream.flow.clip import write_moving_video
from livedream.live.clock import FakeClock
from livedream.live.headless import HeadlessDisplay
from livedream.live.loop import RenderLoop
from livedream.look import Look
from livedream.sources import CaptureSource, open_source
from livedream.state import State
from livedream.threaded_source import ThreadedSource
from tests.flow.helpers import CLIP, DREAM, SOURCE_MIX, dreamed_shifts
from tests.tiny_model import TinyDreamModel


class Lockstep(ThreadedSource):
    """The clip's threaded source, but `latest` waits for each frame (a deterministic test)."""

    def latest(self, wait: float = 0.0):  # noqa: ANN201
        return super().latest(wait=5.0)


def make_loop(source, **state_kw) -> RenderLoop:  # noqa: ANN001
    look = Look(model="tiny", layers=("relu2",), dream=DREAM, chain=())
    state = State(look=look, source="clip", source_mix=SOURCE_MIX, **state_kw)
    return RenderLoop(state, CommandQueue(), HeadlessDisplay(), model=TinyDreamModel(),
                      clock=FakeClock(), size=CLIP.size, source=source)


def lockstep_clip(path: Path) -> Lockstep:
    capture = CaptureSource(str(path), "clip", CLIP.size, None)
    return Lockstep(capture.read_rgb, "clip", CLIP.size, on_close=capture.close)


def run_loop(video: Path, flow: bool) -> list[torch.Tensor]:
    source = lockstep_clip(video)
    loop = make_loop(source)
    if flow:
        loop.submit(SetFlag("flow", True))  # over the command API, as OSC/MIDI would
    frames = []
    try:
        for _ in range(6):
            assert loop.tick()
            frames.append(loop.buffer)
    finally:
        loop.close()
        source.close()
    assert loop.state.flow is flow
    return frames


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_moving_video(tmp_path_factory.mktemp("loopclip") / "moving.mp4", CLIP)


def clip_frames(video: Path, count: int) -> list[torch.Tensor]:
    with open_source(str(video), CLIP.size) as src:
        return [src.read() for _ in range(count)]


def test_loop_warps_by_flow_only_when_the_flag_is_on(video: Path) -> None:
    scenes = clip_frames(video, 7)[1:]  # tick i blends clip frame i + 1 (the seed took frame 0)
    with_flow = run_loop(video, flow=True)
    without = run_loop(video, flow=False)
    moving = dreamed_shifts(with_flow, scenes)
    still = dreamed_shifts(without, scenes)
    assert all(abs(dx - CLIP.step) <= 1 for dx in moving), moving
    assert all(abs(dx) <= 1 for dx in still), still


def test_gate_in_the_loop_shows_the_moving_square(video: Path) -> None:
    source = lockstep_clip(video)
    loop = make_loop(source, gate=True)
    try:
        for _ in range(5):
            loop.tick()
        mask = loop.flow.mask
    finally:
        loop.close()
        source.close()
    assert mask is not None
    x = CLIP.x(5)
    square = mask[0, 0, CLIP.y0 + 4 : CLIP.y0 + CLIP.side - 4, x + 4 : x + CLIP.side - 4]
    assert square.mean() > 0.6 and mask[0, 0, : CLIP.y0 - 8].mean() < 0.05


def test_a_stuck_source_never_stalls_the_loop() -> None:
    release = threading.Event()
    calls = {"n": 0}

    def reader() -> np.ndarray:
        calls["n"] += 1
        if calls["n"] > 1:
            release.wait(30)  # stuck (a camera that stopped delivering)
        return np.full((48, 64, 3), 100, np.uint8)

    source = ThreadedSource(reader, "stuck camera", CLIP.size, demand=False, flow=True)
    loop = make_loop(source, flow=True, gate=True)
    done = threading.Event()

    def show() -> None:
        loop.run(max_frames=6)
        done.set()

    runner = threading.Thread(target=show, daemon=True)
    runner.start()
    try:
        assert done.wait(60), "the loop blocked on its source"
        assert loop.frame_index == 6 and calls["n"] == 2
    finally:
        release.set()
        runner.join(5)
        loop.close()
        source.close()
