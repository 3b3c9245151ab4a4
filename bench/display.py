"""Row 6: the window path under Xvfb: frames/s of readback + upload + shader + flip, and the
display rate (against the 60 Hz refresh) while the dream runs at its own, slower rate.

pyglet needs the X display when it is imported, so the measurement runs in a child process
(`python -m bench.display WxH SECONDS PRESET DEVICE`) with DISPLAY set to an Xvfb this row starts.
The row is skipped, with the reason, when Xvfb is not installed or no GL context can be made.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from typing import Any

from bench.common import BenchContext, Result, parse_size, size_label


def start_xvfb(timeout: float = 20.0) -> tuple[subprocess.Popen[bytes], str]:
    """Start Xvfb on a display number it picks itself (-displayfd); return (process, ':N')."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise FileNotFoundError("Xvfb is not installed (make sysdeps)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [binary, "-displayfd", str(write_fd), "-screen", "0", "1920x1080x24", "-nolisten", "tcp",
         "+extension", "GLX"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    number = b""
    deadline = time.monotonic() + timeout
    try:
        os.set_blocking(read_fd, False)
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"Xvfb exited with status {proc.returncode}")
            try:
                number += os.read(read_fd, 64)
            except BlockingIOError:
                time.sleep(0.05)
    finally:
        os.close(read_fd)
    if not number.strip():
        proc.kill()
        raise RuntimeError(f"Xvfb reported no display number within {timeout:.0f} s")
    return proc, f":{number.decode().strip()}"


def child(size_text: str, seconds_text: str, preset: str, device_name: str = "cpu"
          ) -> dict[str, Any]:
    """Runs under Xvfb: (a) the bare window path, (b) the window while the dream runs."""
    import torch

    from bench.common import load_look, smooth_frame
    from livedream.command_queue import CommandQueue
    from livedream.live.display import WindowDisplay
    from livedream.live.loop import RenderLoop
    from livedream.models.registry import load_model
    from livedream.state import State

    size, seconds, device = parse_size(size_text), float(seconds_text), torch.device(device_name)
    look = load_look(preset)
    frames = [smooth_frame(size, device, seed=s) for s in (0, 1)]
    state = State(look=look, overlay=True)
    out: dict[str, Any] = {}

    # (a) window path alone, no vsync: readback + upload + shader + flip per frame
    display = WindowDisplay(CommandQueue(), size, vsync=False)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min(seconds, 3.0) or n < 10:
        display.show(frames[n % 2], state)
        display.window.switch_to()
        display.window.dispatch_events()
        display.draw()
        display.window.flip()
        n += 1
    out["window_fps"] = n / (time.perf_counter() - t0)
    display.close()

    # (b) the show: dream loop on a worker thread, window redrawing at refresh_hz
    queue = CommandQueue()
    display = WindowDisplay(queue, size, refresh_hz=60.0)
    loop = RenderLoop(state, queue, display, model=load_model("vgg16", None, device), size=size,
                      device=device, start_image=frames[0])
    loop.tick()  # first dream frame (warm-up) before timing
    marks: dict[str, float] = {}

    def worker(stop: threading.Event) -> None:
        marks["t0"], marks["drawn0"], marks["frames0"] = (
            time.perf_counter(), display.frames_drawn, loop.frame_index)
        loop.run(max_seconds=seconds, stop=stop)
        marks["t1"], marks["drawn1"], marks["frames1"] = (
            time.perf_counter(), display.frames_drawn, loop.frame_index)

    display.run(worker, threading.Event())
    elapsed = marks["t1"] - marks["t0"]
    out["refresh_hz"] = display.refresh_hz
    out["display_fps"] = (marks["drawn1"] - marks["drawn0"]) / elapsed
    out["dream_fps"] = (marks["frames1"] - marks["frames0"]) / elapsed
    out["uploads"] = display.uploads
    loop.close()
    return out


def measure(ctx: BenchContext, size: tuple[int, int], seconds: float) -> Result:
    case = f"{size_label(size)} Xvfb"
    try:
        xvfb, display_name = start_xvfb()
    except (FileNotFoundError, RuntimeError) as exc:
        return Result(6, "display", case, {"skipped": True}, note=f"skipped: {exc}")
    try:
        env = {**os.environ, "DISPLAY": display_name}
        proc = subprocess.run(
            [sys.executable, "-m", "bench.display", size_label(size), str(seconds), ctx.preset,
             str(ctx.device)],
            capture_output=True, text=True, timeout=600, env=env)
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return Result(6, "display", case, {"skipped": True}, note=f"skipped: {reason[:160]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return Result(6, "display", case, {
        "window_fps": data["window_fps"],
        "display_fps": data["display_fps"],
        "refresh_hz": data["refresh_hz"],
        "dream_fps": data["dream_fps"],
        "at_refresh": data["display_fps"] / data["refresh_hz"],
    }, note="Mesa llvmpipe; display fps measured while the dream runs")


def run(ctx: BenchContext) -> list[Result]:
    seconds = 6.0 if ctx.quick else 15.0
    return [measure(ctx, ctx.loop_sizes[0], seconds)]


if __name__ == "__main__":
    print(json.dumps(child(*sys.argv[1:5])))
