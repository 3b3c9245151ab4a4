"""The output stream wired to the render loop: window and recording get the same pixels (the
window's shader picture), a slow dream recorded at the output rate moves continuously (torch
compositor, headless), recording toggles the stream recorder."""

from __future__ import annotations

import time

import av
import numpy as np
import pytest
import torch
from PIL import Image

from livedream.command_queue import CommandQueue
from livedream.commands import SetFlag
from livedream.live.clock import FakeClock
from livedream.live.headless import HeadlessDisplay
from livedream.live.loop import RenderLoop
from livedream.live.shaders import Grading, chain_motion, motion_reference, motion_uv_matrix
from livedream.look import ChainLink, Look
from livedream.outputs.compositor import Compositor, composite
from livedream.outputs.show import StreamFeed, StreamRecording
from livedream.outputs.stream import OutputStream, RecorderSink
from livedream.record import FrameDirWriter, Mp4Writer
from livedream.state import State
from tests.tiny_model import TinyDreamModel

W, H = 64, 48
ZOOM = (ChainLink("zoom", {"scale": 0.1}),)


def _wait(cond, timeout=10.0) -> None:
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)
    assert cond()


def _loop(clock, display, **kw) -> RenderLoop:
    state = State(look=Look(model="tiny", layers=("conv2",), chain=ZOOM), overlay=False)
    return RenderLoop(state, CommandQueue(), display, model=TinyDreamModel(), clock=clock,
                      size=(W, H), **kw)


@pytest.mark.display
def test_window_screenshot_is_the_recorded_frame(xvfb_display, tmp_path):
    """With a window its shader's picture is the output frame: the window shows it and the
    recording gets it read back (PBO), the same pixels; and it is the torch compositor's
    picture (the headless path) within GL's 8-bit filtering."""
    from livedream.live.display import WindowDisplay

    clock = FakeClock(10.0)
    grading = Grading(brightness=0.05, contrast=1.2, saturation=0.7, gamma=1.3)
    stream = OutputStream(Compositor("motion", grading), 30.0, clock)
    window = WindowDisplay(CommandQueue(), (W, H), vsync=False, motion="motion", grading=grading,
                           output=stream)
    try:
        rec_sub = stream.subscribe(RecorderSink(FrameDirWriter(tmp_path)), "rec", max_queue=8)
        loop = _loop(clock, window)
        for _ in range(2):  # two dream frames, one second apart
            loop.tick()
            clock.advance(1.0)
        window.window.switch_to()
        window.window.dispatch_events()
        window.draw(fraction=0.5)  # half-way: the zoom is continued; its readback starts
        shot = window.screenshot()
        window.window.flip()
        assert window.published == 0  # collected one redraw later, when the copy is done
        window.draw(fraction=0.5)
        window.window.flip()
        _wait(lambda: rec_sub.delivered == 1)
    finally:
        window.close()
        stream.close()
    assert window.published == 2  # the second picture, collected when the window closed
    recorded = np.asarray(Image.open(sorted(tmp_path.glob("*.png"))[0]).convert("RGB"))
    error = np.abs(shot.astype(int) - recorded.astype(int))
    print(f"window vs recording: mean abs error {error.mean():.3f}/255, max {error.max()}/255")
    assert error.mean() < 0.5 and error.max() <= 2
    shown = torch.round(loop.buffer.clamp(0, 1) * 255) / 255  # the 8-bit texture the GL sampled
    torch_picture = composite(shown, None, motion_uv_matrix(chain_motion(ZOOM, W, H), 0.5, W, H),
                              1.0, grading)
    expected = (torch_picture[0].permute(1, 2, 0).numpy() * 255).round()
    inner = (slice(2, H - 2), slice(2, W - 2))
    assert np.abs(recorded - expected)[inner].mean() < 2.0
    # ...and it is the moving, graded picture, not the raw dream frame
    raw = (loop.buffer[0].permute(1, 2, 0).numpy() * 255).round()
    assert np.abs(raw - recorded).mean() > 5


def test_a_one_fps_dream_recorded_at_30_fps_moves_continuously(tmp_path):
    clock = FakeClock(0.0)
    stream = OutputStream(Compositor("motion"), 30.0, clock)
    path = tmp_path / "show.mp4"
    feed = StreamFeed(stream)
    loop = _loop(clock, HeadlessDisplay(), outputs=[feed],
                 recorder_factory=lambda: StreamRecording(  # a queue for all: no drops
                     stream, [Mp4Writer(path, 30.0, crf=0, realtime=True)], max_queue=200))
    loop.submit(SetFlag("recording", True))
    dream = []
    for _ in range(3):  # 3 dream frames, 1 s apart; 30 output frames each
        loop.tick()
        dream.append(loop.buffer.clone())
        for k in range(30):
            stream.produce(clock.now() + k / 30)
        clock.advance(1.0)
    loop.close()
    stream.close()
    with av.open(str(path)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    assert len(frames) == 91  # 90 + the last picture, recorded when the recording closes
    steps = np.abs(np.diff(frames.astype(np.float32), axis=0)).mean(axis=(1, 2, 3))
    # the first second holds still: the dream rate is not known before the second dream frame
    assert (steps[30:] > 0.3).all(), "consecutive recorded frames must differ (continuous motion)"
    per_frame = chain_motion(ZOOM, W, H)

    def error(frame: np.ndarray, fraction: float) -> float:
        expected = motion_reference(dream[1].double(), motion_uv_matrix(per_frame, fraction, W, H))
        return float(np.abs(frame - (expected[0].permute(1, 2, 0).numpy() * 255)).mean())

    grid = [j / 30 for j in range(31)]
    for k in (5, 15, 25):  # in the second dream frame's second: k/30 of the chain's zoom
        errors = [error(frames[30 + k], f) for f in grid]
        best = int(np.argmin(errors))
        assert abs(best - k) <= 1 and errors[best] < 4.0, (k, best, errors[best])


def test_recording_switches_the_stream_recorder_on_and_off(tmp_path):
    clock = FakeClock(0.0)
    stream = OutputStream(Compositor("none"), 30.0, clock)
    opened = []

    def factory():
        writer = FrameDirWriter(tmp_path / f"take{len(opened)}")
        opened.append(writer)
        return StreamRecording(stream, [writer])

    loop = _loop(clock, HeadlessDisplay(), outputs=[StreamFeed(stream)], recorder_factory=factory)
    loop.submit(SetFlag("recording", True))
    loop.tick()
    for k in range(4):
        stream.produce(clock.now() + k / 30)
    loop.submit(SetFlag("recording", False))
    loop.tick()
    stream.produce(clock.now() + 1)  # not recording: nobody subscribed
    # 4 output frames + the picture shown when recording stopped; then nothing is composed
    assert loop.recorder is None and len(opened) == 1 and opened[0].frames_written == 5
    assert stream.frames == 5 and stream.readbacks == 5
    stream.close()
    loop.close()


def test_feed_hands_dream_frames_to_the_stream_without_a_readback():
    clock = FakeClock(0.0)
    stream = OutputStream(Compositor(), 30.0, clock)
    feed = StreamFeed(stream)
    loop = _loop(clock, feed)
    loop.tick()
    assert stream.compositor.pushed == 1 and stream.readbacks == 0
    assert torch.equal(stream.compositor.render(clock.now()), loop.buffer.clamp(0, 1))
    assert feed.display_fps() is None
    feed.set_fullscreen(True)
    assert feed.fullscreen
