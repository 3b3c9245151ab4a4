"""Row 5: control latency, from an OSC packet sent on loopback to the first frame reflecting it.

A real `OscControl` listens on 127.0.0.1 (a free port); the RenderLoop runs the default preset on
its own thread with a display hook that notes, for every frame shown, the state it was rendered
with. The bench sends `/livedream/param/step_size/raw <v>` (a fresh value each trial) half-way
through a frame and waits for the first shown frame whose state carries `v`. Frames = frames
shown after the send up to and including that one (1 = the very next frame).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bench.common import BenchContext, Result, load_look, size_label, smooth_frame


class _HookDisplay:
    """Headless display calling back on every frame with (time shown, frame index, state)."""

    def __init__(self) -> None:
        self.shown: list[tuple[float, Any]] = []
        self.cond = threading.Condition()

    def show(self, frame: Any, state: Any, stats: Any = None) -> None:
        with self.cond:
            self.shown.append((time.perf_counter(), state))
            self.cond.notify_all()

    def set_fullscreen(self, on: bool) -> None:
        pass

    def display_fps(self) -> float | None:
        return None

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: len(self.shown) >= count, timeout)


def measure(ctx: BenchContext, size: tuple[int, int], trials: int) -> Result:
    from pythonosc.udp_client import SimpleUDPClient

    from livedream.command_queue import CommandQueue
    from livedream.control.osc import OscControl
    from livedream.live.loop import RenderLoop
    from livedream.state import State

    look = load_look(ctx.preset)
    queue = CommandQueue()
    display = _HookDisplay()
    loop = RenderLoop(State(look=look, overlay=False), queue, display, model=ctx.model,
                      size=size, device=ctx.device, start_image=smooth_frame(size, ctx.device))
    stop = threading.Event()
    errors: list[BaseException] = []

    def render() -> None:
        try:
            loop.run(stop=stop)
        except BaseException as exc:  # reported below
            errors.append(exc)

    osc = OscControl(queue, host="127.0.0.1", port=0)
    client = SimpleUDPClient("127.0.0.1", osc.address[1])
    thread = threading.Thread(target=render, name="bench-render", daemon=True)
    frames_list: list[int] = []
    ms_list: list[float] = []
    frame_ms: list[float] = []
    try:
        thread.start()
        if not display.wait_for(2, timeout=600):
            raise RuntimeError("render loop produced no frames")
        for trial in range(trials):
            with display.cond:
                count = len(display.shown)
            display.wait_for(count + 1, timeout=600)  # a frame just finished: the next started
            with display.cond:
                (t_prev, _), (t_last, _) = display.shown[-2], display.shown[-1]
                count = len(display.shown)
            interval = t_last - t_prev
            frame_ms.append(1000.0 * interval)
            time.sleep(interval / 2)  # half-way through the frame being rendered
            value = round(1.0 + 0.25 * (trial + 1), 3)
            t_send = time.perf_counter()
            client.send_message("/livedream/param/step_size/raw", value)
            deadline = time.monotonic() + 60 * max(1.0, interval)
            found, seen = None, count
            while found is None and time.monotonic() < deadline:
                display.wait_for(seen + 1, timeout=max(1.0, 3 * interval))
                with display.cond:
                    shown = list(display.shown)
                for i in range(seen, len(shown)):
                    if shown[i][1].look.dream.step_size == value:
                        found = i
                        break
                seen = len(shown)
            if found is None:
                raise RuntimeError(f"OSC step_size={value} never reached a frame")
            frames_list.append(found - count + 1)
            ms_list.append(1000.0 * (shown[found][0] - t_send))
    finally:
        stop.set()
        thread.join(timeout=600)
        osc.close()
        loop.close()
    if errors:
        raise errors[0]
    return Result(5, "control latency", f"{size_label(size)} OSC loopback", {
        "frames": max(frames_list),
        "ms_mean": sum(ms_list) / len(ms_list),
        "ms_max": max(ms_list),
        "frame_ms": sum(frame_ms) / len(frame_ms),
        "trials": trials,
    }, note="sent mid-frame; applied at the next frame's start")


def run(ctx: BenchContext) -> list[Result]:
    size = ctx.loop_sizes[0]
    return [measure(ctx, size, trials=max(2, min(ctx.repeat, 5)))]
