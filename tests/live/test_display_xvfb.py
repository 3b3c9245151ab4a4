"""The real pyglet window under Xvfb (Mesa llvmpipe): what the shader draws, and display rate."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

import livedream.transforms.geometry  # noqa: F401  (registers zoom)
from livedream.command_queue import CommandQueue
from livedream.commands import SetFlag
from livedream.live.clock import SystemClock
from livedream.live.loop import RenderLoop
from livedream.live.shaders import (
    Grading,
    chain_motion,
    grade_reference,
    motion_reference,
    motion_uv_matrix,
)
from livedream.look import ChainLink, Look
from livedream.state import State
from tests.tiny_model import TinyDreamModel

pytestmark = pytest.mark.display
W, H = 64, 48


def smooth_frame(seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 6, 8, generator=gen)
    return torch.nn.functional.interpolate(coarse, size=(H, W), mode="bicubic",
                                           align_corners=False).clamp(0, 1)


@pytest.fixture
def window(xvfb_display):
    from livedream.live.display import WindowDisplay

    queue = CommandQueue()
    display = WindowDisplay(queue, (W, H), vsync=False, grading=Grading(
        brightness=0.05, contrast=1.3, saturation=0.6, gamma=1.4))
    display.window.switch_to()
    yield display, queue
    display.close()


def draw_and_grab(display, state, frame, fraction):
    display.show(frame, state)
    display.window.switch_to()
    display.window.dispatch_events()
    display.draw(fraction=fraction)
    shot = display.screenshot()
    display.window.flip()
    return shot


def to_tensor(shot: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(shot.astype(np.float32) / 255.0).permute(2, 0, 1).unsqueeze(0)


@pytest.mark.parametrize("grading", [
    Grading(brightness=0.05, contrast=1.3, saturation=0.6, gamma=1.4),
    Grading(contrast=1.6),  # each compiles another variant of the shader (fragment_defines)
    Grading(gamma=0.5),
])
def test_window_shows_the_frame_through_the_shader(window, grading):
    display, _ = window
    display.grading = grading
    state = State(look=Look(chain=()), overlay=False)
    frame = smooth_frame()
    shot = draw_and_grab(display, state, frame, fraction=0.0)
    assert shot.shape == (H, W, 3)
    quantised = torch.round(frame * 255) / 255  # the texture holds 8-bit values
    expected = grade_reference(quantised, display.grading)
    error = (to_tensor(shot) - expected).abs()
    assert error.mean() < 1.5 / 255 and error.max() < 6 / 255
    # ...and the grading did something: the raw frame is far from the screenshot.
    assert (to_tensor(shot) - frame).abs().mean() > 10 / 255
    assert display.uploads == 1


def test_between_frame_motion_in_the_shader(window):
    display, _ = window
    display.grading = Grading()
    chain = (ChainLink("zoom", {"scale": 0.2}),)
    state = State(look=Look(chain=chain), overlay=False)
    frame = torch.round(smooth_frame(1) * 255) / 255
    still = to_tensor(draw_and_grab(display, state, frame, fraction=0.0))
    half = to_tensor(display_draw(display, fraction=0.5))
    expected = motion_reference(frame, motion_uv_matrix(chain_motion(chain, W, H), 0.5, W, H))
    inner = (slice(None), slice(None), slice(2, H - 2), slice(2, W - 2))
    assert (half - expected)[inner].abs().mean() < 2 / 255
    assert (half - still)[inner].abs().mean() > 5 / 255  # it really moved without a new frame
    assert display.uploads == 1  # no new texture upload for the motion


def test_crossfade_mixes_the_previous_and_the_current_frame(window):
    display, _ = window
    display.grading, display.motion = Grading(), "crossfade"
    state = State(look=Look(chain=(ChainLink("zoom", {"scale": 0.2}),)), overlay=False)
    first, second = (torch.round(smooth_frame(seed) * 255) / 255 for seed in (2, 3))
    draw_and_grab(display, state, first, fraction=0.0)
    shots = {f: to_tensor(draw_and_grab(display, state, second, fraction=f)) if f == 0.0
             else to_tensor(display_draw(display, fraction=f)) for f in (0.0, 0.5, 1.0)}
    for fraction, shot in shots.items():
        expected = first + (second - first) * fraction  # no motion in crossfade mode
        assert (shot - expected).abs().mean() < 1.5 / 255, fraction
    assert (shots[0.5] - shots[1.0]).abs().mean() > 5 / 255


def display_draw(display, fraction):
    display.window.switch_to()
    display.draw(fraction=fraction)
    shot = display.screenshot()
    display.window.flip()
    return shot


def test_key_press_in_window_reaches_the_queue(window):
    from livedream.live import display as display_module

    display, queue = window
    display.window.dispatch_event("on_key_press", display_module.pyglet.window.key.SPACE, 0)
    display.window.dispatch_events()  # pyglet may queue events until the window's next poll
    envelopes = queue.drain()
    assert [e.command for e in envelopes] == [SetFlag("paused")]


def test_display_rate_exceeds_slow_dream_rate(window):
    display, queue = window

    def slow_dream(model, frame, layers, settings, generator=None, guide=None):
        time.sleep(0.25)  # a net managing 4 dream frames/s
        return frame

    state = State(look=Look(model="tiny", layers=("conv2",), chain=(
        ChainLink("zoom", {"scale": 0.05}),)))
    loop = RenderLoop(state, queue, display, model=TinyDreamModel(), clock=SystemClock(),
                      size=(W, H), dream_fn=slow_dream)
    stats: list = []

    def worker(stop: threading.Event) -> None:
        stats.append(loop.run(max_seconds=2.0, stop=stop))

    started = time.monotonic()
    display.run(worker, threading.Event())
    assert time.monotonic() - started < 20
    (final,) = stats
    assert 3 <= final.frames <= 9
    assert display.uploads <= final.frames  # one texture upload per dream frame at most
    assert display.frames_drawn >= 4 * final.frames  # redrawn far more often than dreamed
    assert display.closed

def test_a_knob_turned_mid_frame_moves_the_picture_at_the_next_redraw(window):
    """Knob to screen: the in-between motion follows the show's latest state at once."""
    display, _ = window
    display.grading = Grading()
    slow = (ChainLink("zoom", {"scale": 0.02}),)
    fast = (ChainLink("zoom", {"scale": 0.3}),)
    latest = {"state": State(look=Look(chain=slow), overlay=False)}
    display.current_state = lambda: latest["state"]
    frame = torch.round(smooth_frame(2) * 255) / 255
    draw_and_grab(display, latest["state"], frame, fraction=0.0)
    before = to_tensor(display_draw(display, fraction=0.5))
    latest["state"] = State(look=Look(chain=fast), overlay=False)  # a controller moved zoom.scale
    after = to_tensor(display_draw(display, fraction=0.5))  # no new dream frame in between
    expected = motion_reference(frame, motion_uv_matrix(chain_motion(fast, W, H), 0.5, W, H))
    inner = (slice(None), slice(None), slice(2, H - 2), slice(2, W - 2))
    assert (after - expected)[inner].abs().mean() < 2 / 255
    assert (after - before)[inner].abs().mean() > 5 / 255
    assert display.uploads == 1


def test_a_stream_viewer_redraws_only_when_a_new_frame_arrives(xvfb_display):
    """Showing the output stream (motion "none", no overlay), a redraw without a new frame would
    draw the same picture: it is skipped (no GL work, no swap); with motion it never is."""
    from livedream.live.display import WindowDisplay

    display = WindowDisplay(CommandQueue(), (W, H), vsync=False, motion="none")
    state = State(look=Look(model="tiny", layers=("conv2",)), overlay=False)
    frames = [np.full((H, W, 3), 40 * i, dtype=np.uint8) for i in range(5)]

    def worker(stop: threading.Event) -> None:
        for pixels in frames:  # 5 frames/s against 60 redraws/s
            display.show_pixels(pixels, state)
            time.sleep(0.2)

    display.run(worker, threading.Event())
    assert display.uploads == 5
    assert display.frames_drawn <= 5 + 2  # each new frame, plus the first (damaged) redraws
    assert display.redraws_skipped >= 20

    moving = WindowDisplay(CommandQueue(), (W, H), vsync=False, motion="motion")
    moving.run(lambda stop: time.sleep(0.3), threading.Event())
    assert moving.redraws_skipped == 0 and moving.frames_drawn >= 5


class _Output:
    """Stands in for the OutputStream the window publishes to."""

    def __init__(self, wanted: bool = True) -> None:
        self.is_wanted = wanted
        self.frames: list[tuple[np.ndarray, float]] = []

    def wanted(self) -> bool:
        return self.is_wanted

    def publish(self, pixels: np.ndarray, at: float, dream_frames: int | None = None) -> None:
        self.frames.append((pixels, at))


def test_the_output_picture_keeps_the_output_size_in_a_larger_window(xvfb_display):
    """Fullscreen or resized, the window shows the picture scaled; the outputs still get it
    at --size, read back once per redraw only while an output wants it."""
    from livedream.live.display import WindowDisplay

    output = _Output(wanted=False)
    display = WindowDisplay(CommandQueue(), (W, H), vsync=False, motion="none", output=output)
    try:
        state = State(look=Look(chain=()), overlay=False)
        display.window.set_size(2 * W, 2 * H)
        time.sleep(0.2)  # the X server resizes the window asynchronously
        display.window.dispatch_events()
        frame = smooth_frame(2)
        draw_and_grab(display, state, frame, fraction=0.0)
        assert output.frames == [] and display.published == 0  # nobody wants it: no readback
        output.is_wanted = True
        for _ in range(3):
            big = display_draw(display, fraction=0.0)  # (the X server resizes meanwhile)
        assert display.published == 2  # the third is still in flight
        pixels, at = output.frames[0]
        assert pixels.shape == (H, W, 3) and not pixels.flags.writeable
        assert at <= output.frames[1][1]
        expected = np.round(grade_reference(torch.round(frame * 255) / 255, display.grading)[0]
                            .permute(1, 2, 0).numpy() * 255)
        assert np.abs(pixels.astype(float) - expected).mean() < 1.5
        ww, wh = display.window.get_framebuffer_size()
        assert big.shape == (wh, ww, 3) and (ww, wh) != (W, H)
        # the window shows the same picture, scaled (bilinear) to fit
        scaled = torch.nn.functional.interpolate(
            torch.from_numpy(pixels.astype(np.float32)).permute(2, 0, 1)[None], size=(wh, ww),
            mode="bilinear", align_corners=False)[0].permute(1, 2, 0).numpy()
        assert np.abs(big.astype(float) - scaled)[4:-4, 4:-4].mean() < 3.0
    finally:
        display.close()
    assert display.published == 3  # closing collects the last picture


def test_a_still_window_hands_its_picture_over_at_the_next_redraw(xvfb_display):
    """Motion "none" with a slow dream: the picture drawn for a dream frame reaches the outputs
    one refresh later (a skipped redraw collects it), not with the next dream frame."""
    from livedream.live.display import WindowDisplay

    output = _Output()
    display = WindowDisplay(CommandQueue(), (W, H), vsync=False, motion="none", output=output)
    state = State(look=Look(model="tiny", layers=("conv2",)), overlay=False)
    counts: list[int] = []

    def worker(stop: threading.Event) -> None:
        display.show_pixels(np.full((H, W, 3), 90, dtype=np.uint8), state)
        time.sleep(0.5)  # ~30 redraws, all but the first skipped: no new dream frame
        counts.append(display.published)

    display.run(worker, threading.Event())
    assert counts == [display.frames_drawn] and counts[0] >= 1
    assert output.frames[-1][0].mean() == pytest.approx(90, abs=1)


def test_a_failing_readback_stops_the_outputs_not_the_window(xvfb_display, caplog):
    from livedream.live.display import WindowDisplay

    output = _Output()
    display = WindowDisplay(CommandQueue(), (W, H), vsync=False, motion="none", output=output)
    try:
        def broken(*_args):
            raise RuntimeError("context lost")

        display._target.start_readback = broken
        state = State(look=Look(chain=()), overlay=False)
        with caplog.at_level("ERROR"):
            shot = draw_and_grab(display, state, smooth_frame(3), fraction=0.0)
            display_draw(display, fraction=0.0)
        assert display.output is None and output.frames == []
        assert caplog.text.count("context lost") == 1  # said once
        assert shot.mean() > 10  # the window still shows the picture
    finally:
        display.close()
