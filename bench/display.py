"""Row 6: the window path under Xvfb: frames/s of readback + upload + shader + flip, the
display rate (against the 60 Hz refresh) while the dream runs at its own, slower rate, and knob
to screen: an OSC packet changing the chain's geometry -> the first window redraw that uses the
new value, and -> the echo back at the sender (targets: one display frame, 20 ms).

pyglet needs the X display when it is imported, so the measurement runs in a child process
(`python -m bench.display WxH SECONDS PRESET DEVICE`) with DISPLAY set to an Xvfb this row starts.
The row is skipped, with the reason, when Xvfb is not installed or no GL context can be made.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
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
    from livedream.control.osc import OscControl, build_message
    from livedream.live.display import WindowDisplay
    from livedream.live.loop import RenderLoop
    from livedream.models.registry import load_model
    from livedream.paramnames import param_value
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

    # (b) the show: dream loop on a worker thread, window redrawing at refresh_hz, OSC knobs
    queue = CommandQueue()
    display = WindowDisplay(queue, size, refresh_hz=60.0)
    loop = RenderLoop(state, queue, display, model=load_model("vgg16", None, device), size=size,
                      device=device, start_image=frames[0])
    display.current_state = lambda: loop.dispatcher.state
    osc = OscControl(queue, port=0)
    loop.dispatcher.start()
    loop.tick()  # first dream frame (warm-up) before timing
    marks: dict[str, float] = {}
    draws: list[tuple[float, Any]] = []  # (time after each redraw, the state it drew)
    draw = display.draw

    def traced_draw(*args: Any, **kwargs: Any) -> bool:
        draw(*args, **kwargs)
        draws.append((time.perf_counter(), display._state))
        return True  # handled: the window's own on_draw (the untraced draw) is not called too

    display.window.push_handlers(on_draw=traced_draw)
    knob = knob_name(look)
    latencies: dict[str, list[float]] = {"redraw": [], "echo": []}

    def knobs(stop: threading.Event) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(2.0)
            for trial in range(8):
                if stop.wait(0.37):
                    return
                value = round(0.03 + 0.01 * (trial % 4), 3)
                seen = len(draws)
                sent = time.perf_counter()
                client.sendto(build_message(f"/livedream/param/{knob}/raw", [value]),
                              osc.address[:2])
                try:
                    client.recvfrom(65536)
                    latencies["echo"].append(1000 * (time.perf_counter() - sent))
                except TimeoutError:
                    continue
                deadline = time.perf_counter() + 2.0
                while time.perf_counter() < deadline:
                    hit = next((t for t, drawn in draws[seen:] if drawn is not None and
                                abs(param_value(drawn.look, knob) - value) < 1e-6), None)
                    if hit is not None:
                        latencies["redraw"].append(1000 * (hit - sent))
                        break
                    time.sleep(0.001)

    def worker(stop: threading.Event) -> None:
        marks["t0"], marks["drawn0"], marks["frames0"] = (
            time.perf_counter(), display.frames_drawn, loop.frame_index)
        sender = threading.Thread(target=knobs, args=(stop,), daemon=True)
        sender.start()
        loop.run(max_seconds=seconds, stop=stop)
        marks["t1"], marks["drawn1"], marks["frames1"] = (
            time.perf_counter(), display.frames_drawn, loop.frame_index)
        stop.set()
        sender.join(timeout=5)

    display.run(worker, threading.Event())
    osc.close()
    loop.dispatcher.close()
    elapsed = marks["t1"] - marks["t0"]
    out["refresh_hz"] = display.refresh_hz
    out["display_fps"] = (marks["drawn1"] - marks["drawn0"]) / elapsed
    out["dream_fps"] = (marks["frames1"] - marks["frames0"]) / elapsed
    out["uploads"] = display.uploads
    for key, values in latencies.items():
        out[f"{key}_ms"] = sum(values) / len(values) if values else None
        out[f"{key}_ms_max"] = max(values) if values else None
    loop.close()
    return out


def knob_name(look: Any) -> str:
    """A geometric parameter of the look's chain (the knob row 6 turns), e.g. 'zoom.scale'."""
    for link in look.chain:
        if link.name in ("zoom", "stretch", "rotate"):
            return f"{link.name}.{'degrees' if link.name == 'rotate' else 'scale'}"
    raise ValueError("row 6 needs a preset whose chain zooms, stretches or rotates")


def measure(ctx: BenchContext, size: tuple[int, int], seconds: float) -> list[Result]:
    case = f"{size_label(size)} Xvfb"
    try:
        xvfb, display_name = start_xvfb()
    except (FileNotFoundError, RuntimeError) as exc:
        return [Result(6, "display", case, {"skipped": True}, note=f"skipped: {exc}")]
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
        return [Result(6, "display", case, {"skipped": True},
                       note=f"skipped: {reason[:160]}")]
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    frame_ms = 1000.0 / data["display_fps"] if data["display_fps"] else float("inf")
    display = Result(6, "display", case, {
        "window_fps": data["window_fps"],
        "display_fps": data["display_fps"],
        "refresh_hz": data["refresh_hz"],
        "dream_fps": data["dream_fps"],
        "at_refresh": data["display_fps"] / data["refresh_hz"],
    }, note="Mesa llvmpipe; display fps measured while the dream runs")
    redraw, echo = data.get("redraw_ms"), data.get("echo_ms")
    knob = Result(6, "knob to screen", case, {
        "redraw_ms": redraw, "redraw_ms_max": data.get("redraw_ms_max"),
        "display_frame_ms": frame_ms,
        "ok_redraw": redraw is not None and redraw <= frame_ms,
        "echo_ms": echo, "echo_ms_max": data.get("echo_ms_max"), "echo_target_ms": 20.0,
        "ok_echo": echo is not None and echo <= 20.0,
    }, note="OSC packet -> first redraw using the value / -> echo at the sender, mid dream frame")
    return [display, knob]


def run(ctx: BenchContext) -> list[Result]:
    seconds = 6.0 if ctx.quick else 15.0
    return measure(ctx, ctx.loop_sizes[0], seconds)


if __name__ == "__main__":
    print(json.dumps(child(*sys.argv[1:5])))
