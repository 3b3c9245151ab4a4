"""Row 11: the output stream: cost per output frame (compositor + the one readback) at 320x180
and 1280x720 (`--quick`: the --sizes only), readbacks per output frame, which composite is
cheaper with a window (torch, or the window's shader + PBO readback: the show uses the latter),
and the loop's efficiency while the outputs feed a window, NDI and an mp4 recording.

Efficiency = dream frames/s of the loop with the outputs running / without them, timed
interleaved (in the bare phases the outputs are stopped and the window does not redraw) so
machine load hits both alike: with the window composing (the show's path) and the sinks at the
default priority (auto: idle on a CPU dream), the target's case; the same with niced sinks
(low); and headless (NDI + mp4 from the torch compositor), each with the output frame rate it
achieved. NDI may only send inside a private network namespace, so that part runs in a child
process under `unshare -n` (loopback only, NDI_CONFIG_DIR set like the tests), with DISPLAY
pointing at an Xvfb this row starts; pieces that are not available (no unshare, no Xvfb, no
cyndilib) are left out and named.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.common import (
    BenchContext,
    Result,
    interleave,
    load_look,
    parse_size,
    size_label,
    smooth_frame,
    time_calls,
)

TARGET = 0.9
#: the default (auto: idle output threads on a CPU dream) and niced ones, for the trade-off
PRIORITIES = ("auto", "low")
COST_SIZES = ((320, 180), (1280, 720))
NETNS = "ip link set lo up; ip link set lo multicast on; ip route add 224.0.0.0/4 dev lo"


class _NullSink:
    def send(self, frame: Any) -> None:
        pass

    def close(self) -> None:
        pass


def measure_cost(ctx: BenchContext, size: tuple[int, int]) -> Result:
    """Milliseconds per output frame: compose (zoom continued half-way, grading) + quantise +
    readback, the stream's whole per-frame work before the sinks."""
    from livedream.live.clock import FakeClock
    from livedream.live.shaders import Grading
    from livedream.outputs.compositor import Compositor
    from livedream.outputs.stream import OutputStream

    look = load_look(ctx.preset)
    clock = FakeClock()
    stream = OutputStream(Compositor("motion", Grading(contrast=1.1)), 60.0, clock)
    stream.subscribe(_NullSink(), "null", max_queue=1000)
    stream.push(smooth_frame(size, ctx.device, 0), look.chain, now=0.0)
    stream.push(smooth_frame(size, ctx.device, 1), look.chain, now=1.0)
    ticks = {"t": 1.0}

    def one() -> None:
        ticks["t"] += 1 / 120  # between dream frames: the motion is computed every time
        stream.produce(1.0 + (ticks["t"] % 1.0))

    calls = 20 if ctx.quick else 60
    timed: dict[str, Any] = {}

    def on_a_stream_thread() -> None:  # as the stream's own thread: one intra-op thread
        torch.set_num_threads(1)
        timed["t"] = time_calls(lambda: [one() for _ in range(calls)], ctx.repeat, ctx.device)

    worker = threading.Thread(target=on_a_stream_thread)
    worker.start()
    worker.join()
    timing = timed["t"]
    stream.close()
    per_frame = timing.median / calls
    return Result(11, "output stream cost", f"{size_label(size)}", {
        "ms_per_frame": per_frame * 1000,
        "max_fps": 1.0 / per_frame,
        "readbacks_per_frame": stream.readbacks / max(1, stream.frames),
        "spread": timing.spread,
    }, note=f"compositor (chain {'+'.join(link.name for link in look.chain)} motion, grading) "
            f"+ quantise + 1 readback on {ctx.device}, on one intra-op thread like the stream")


def child(size_text: str, preset: str, device_name: str, frames_text: str,
          repeat_text: str, priority: str) -> dict[str, Any]:
    """Runs in the namespace (and under Xvfb when DISPLAY is set): the efficiency measurement."""
    from livedream.command_queue import CommandQueue
    from livedream.live.headless import HeadlessDisplay
    from livedream.live.loop import RenderLoop
    from livedream.models.registry import load_model
    from livedream.outputs.compositor import Compositor
    from livedream.outputs.show import StreamFeed
    from livedream.outputs.stream import OutputStream, RecorderSink, resolve_priority
    from livedream.record import open_recorder
    from livedream.state import State

    size, device = parse_size(size_text), torch.device(device_name)
    frames, repeat = int(frames_text), int(repeat_text)
    look = load_look(preset)
    model = load_model("vgg16", None, device)
    stream = OutputStream(Compositor("motion"), 60.0,
                          priority=resolve_priority(priority, device))
    feed = StreamFeed(stream)
    parts: list[str] = []
    window = None
    if os.environ.get("DISPLAY"):
        try:
            from livedream.live.display import WindowDisplay

            window = WindowDisplay(CommandQueue(), size, vsync=False, motion="motion",
                                   output=stream)  # as in a show: its shader composes
            parts.append("window (composing)")
        except Exception as exc:  # noqa: BLE001 - reported in the row's note
            parts.append(f"no window ({exc})")
    try:
        from livedream.outputs.ndi import NdiSender

        ndi = NdiSender("livedream-bench", 60.0)
        stream.subscribe(ndi, "ndi")
        parts.append("NDI")
    except Exception as exc:  # noqa: BLE001
        parts.append(f"no NDI ({exc})")
    tmp = Path(tempfile.mkdtemp(prefix="livedream-bench-outputs-"))
    stream.subscribe(RecorderSink(open_recorder(tmp / "out.mp4", 60.0, realtime=True)), "mp4",
                     max_queue=16)
    parts.append("mp4")
    state = State(look=look, overlay=False)
    start = smooth_frame(size, device)
    bare_loop = RenderLoop(state, CommandQueue(), HeadlessDisplay(), model=model, size=size,
                           device=device, start_image=start)
    out_loop = RenderLoop(state, CommandQueue(), window or feed, model=model, size=size,
                          device=device, start_image=start)

    produced = {"frames": 0, "seconds": 0.0}

    def bare() -> None:  # no outputs at all: the window does not even redraw
        redraw = window.window.draw if window is not None else None
        if window is not None:
            window.window.draw = lambda _dt: None
        for _ in range(frames):
            bare_loop.tick()
        if window is not None:
            window.window.draw = redraw

    def with_outputs() -> None:
        first, start = stream.frames, time.perf_counter()
        if window is None:  # headless: the torch compositor's thread; else the window's redraws
            stream.start()
        for _ in range(frames):
            out_loop.tick()
        stream.stop()
        produced["frames"] += stream.frames - first
        produced["seconds"] += time.perf_counter() - start

    timings: dict[str, Any] = {}

    def worker(_stop: threading.Event | None = None) -> None:
        timings["bare"], timings["out"] = interleave(bare, with_outputs, repeat, device)

    if window is not None:  # the window redraws at 60 Hz on this thread, as in a show
        window.run(worker, threading.Event())
    else:
        worker()
    t_bare, t_out = timings["bare"], timings["out"]
    output_frames, readbacks = stream.frames, stream.readbacks
    sinks = stream.stats()["sinks"]
    stream.close()
    return {"bare_fps": frames / t_bare.median, "loop_fps": frames / t_out.median,
            "output_frames": output_frames, "readbacks": readbacks, "sinks": sinks,
            "parts": parts, "priority": stream.priority,
            "output_fps": produced["frames"] / max(1e-9, produced["seconds"]),
            "spread": max(t_bare.spread, t_out.spread)}


def composite_child(size_text: str, frames_text: str) -> dict[str, Any]:
    """Runs under Xvfb: per output frame with a window, (a) the torch compositor + the one
    readback + the window presenting those pixels, against (b) the window's own path: the
    display shader composing (motion in GLSL) at output size, the blit to the window and the
    asynchronous PBO readback (mapped one redraw later). Each in process CPU ms (every thread,
    the software GL's included) and wall ms."""
    from livedream.command_queue import CommandQueue
    from livedream.live.display import WindowDisplay
    from livedream.live.display.gl import gl
    from livedream.outputs.compositor import Compositor
    from livedream.outputs.stream import read_back
    from livedream.state import State

    size, frames = parse_size(size_text), int(frames_text)
    w, h = size
    look = load_look("zoom")
    state = State(look=look, overlay=False)
    dream = [smooth_frame(size, torch.device("cpu"), seed) for seed in (0, 1)]

    def timed(step: Any) -> tuple[float, float]:
        for i in range(5):
            step(i)
        gl.glFinish()
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(frames):
            step(i)
        gl.glFinish()
        return ((time.process_time() - cpu) * 1000 / frames,
                (time.perf_counter() - wall) * 1000 / frames)

    compositor = Compositor("motion")
    compositor.push(dream[0], look.chain, 0.0)
    compositor.push(dream[1], look.chain, 1.0)
    viewer = WindowDisplay(CommandQueue(), size, vsync=False, motion="none")

    def torch_path(i: int) -> None:
        viewer.show_pixels(read_back(compositor.render(1.0 + (i % 60) / 60)), state)
        viewer.window.switch_to()
        viewer.draw()
        viewer.window.flip()

    out = {"torch": timed(torch_path)}
    viewer.close()

    class Wanted:  # an output that always wants the picture (the stream's side is timed above)
        def wanted(self) -> bool:
            return True

        def publish(self, pixels: np.ndarray, at: float, dream_frames: int | None = None) -> None:
            pass

    shader = WindowDisplay(CommandQueue(), size, vsync=False, motion="motion", output=Wanted())
    shader.show(dream[1], state)

    def shader_path(i: int) -> None:  # what a show's window does per redraw
        shader.window.switch_to()
        shader.draw(fraction=(i % 60) / 60)
        shader.window.flip()

    out["shader"] = timed(shader_path)
    shader.close()
    return out


def measure_composite_paths(ctx: BenchContext, size: tuple[int, int]) -> Result:
    """Which composite is cheaper with a window: torch (what the show uses) or shader + PBO."""
    case = size_label(size)
    env = dict(os.environ)
    try:
        from bench.display import start_xvfb

        xvfb, env["DISPLAY"] = start_xvfb()
    except (FileNotFoundError, RuntimeError, ImportError) as exc:
        return Result(11, "composite: torch vs shader", case, {"error": True}, note=str(exc))
    try:
        proc = subprocess.run([sys.executable, "-m", "bench.outputs", "composite", case,
                               str(60 if ctx.quick else 240)],
                              capture_output=True, text=True, timeout=600, env=env)
    finally:
        xvfb.kill()
    if proc.returncode != 0:
        return Result(11, "composite: torch vs shader", case, {"error": True},
                      note=proc.stderr.strip().splitlines()[-1][:200] if proc.stderr else "failed")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    (torch_cpu, torch_wall), (shader_cpu, shader_wall) = data["torch"], data["shader"]
    return Result(11, "composite: torch vs shader", case, {
        "torch_cpu_ms": torch_cpu, "shader_cpu_ms": shader_cpu,
        "torch_wall_ms": torch_wall, "shader_wall_ms": shader_wall,
        "shader_vs_torch_cpu": shader_cpu / torch_cpu,
    }, note="per output frame with a window: torch compositor + 1 readback + window present, "
            "vs the window's path (shader composes at output size, blit, async PBO readback; "
            "what the show uses); under Xvfb the GL is Mesa llvmpipe on the same CPUs")


def measure_efficiency(ctx: BenchContext, size: tuple[int, int], priority: str,
                       window: bool = True) -> Result:
    case = f"{size_label(size)} {ctx.preset} {priority}" + ("" if window else " headless")
    cmd = [sys.executable, "-m", "bench.outputs", "child", size_label(size), ctx.preset,
           str(ctx.device), str(ctx.loop_frames), str(ctx.repeat), priority]
    env = dict(os.environ)
    notes = []
    xvfb = None
    env.pop("DISPLAY", None)
    try:
        from bench.display import start_xvfb

        if window:
            xvfb, env["DISPLAY"] = start_xvfb()
    except (FileNotFoundError, RuntimeError, ImportError) as exc:
        notes.append(f"no Xvfb: {exc}")
    with tempfile.TemporaryDirectory() as cfg:
        Path(cfg, "ndi-config.v1.json").write_text(
            json.dumps({"ndi": {"networks": {"ips": "127.0.0.1", "discovery": ""}}}))
        env["NDI_CONFIG_DIR"] = cfg
        if shutil.which("unshare") and subprocess.run(
                ["unshare", "-n", "true"], capture_output=True).returncode == 0:
            cmd = ["unshare", "-n", "bash", "-c",
                   NETNS + "; exec " + " ".join(f"'{c}'" for c in cmd)]
        else:
            env["LIVEDREAM_BENCH_NO_NDI"] = "1"
            notes.append("no unshare -n: NDI left out")
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
        finally:
            if xvfb is not None:
                xvfb.kill()
    if proc.returncode != 0:
        return Result(11, "output loop efficiency", case, {"error": True},
                      note=proc.stderr.strip().splitlines()[-1][:200] if proc.stderr else "failed")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    efficiency = data["loop_fps"] / data["bare_fps"]
    return Result(11, "output loop efficiency", case, {
        "loop_fps": data["loop_fps"],
        "bare_fps": data["bare_fps"],
        "efficiency": efficiency,
        **({"target": TARGET, "ok": efficiency >= TARGET}
           if priority == "auto" and window else {}),
        "readbacks_per_frame": data["readbacks"] / max(1, data["output_frames"]),
        "output_fps": data["output_fps"],
        "spread": data["spread"],
    }, note=f"outputs at 60 fps ({data['priority']} priority sinks): "
            + ", ".join(data["parts"]) + "; "
            + ", ".join(f"{k} {v['delivered']} sent/{v['dropped']} dropped"
                        for k, v in data["sinks"].items()) + ("; " + "; ".join(notes)
                                                               if notes else ""))


def run(ctx: BenchContext) -> list[Result]:
    sizes = list(ctx.sizes) if ctx.quick else sorted(set(COST_SIZES) | set(ctx.sizes))
    results = [measure_cost(ctx, size) for size in sizes]
    results += [measure_composite_paths(ctx, size) for size in sizes]
    results += [measure_efficiency(ctx, size, priority)
                for size in ctx.loop_sizes for priority in PRIORITIES]
    results += [measure_efficiency(ctx, size, "auto", window=False) for size in ctx.loop_sizes]
    return results


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    torch.set_grad_enabled(True)
    if os.environ.get("LIVEDREAM_BENCH_NO_NDI"):
        sys.modules["cyndilib"] = None  # type: ignore[assignment]
    print(json.dumps(child(*sys.argv[2:8])))
elif __name__ == "__main__" and sys.argv[1:2] == ["composite"]:
    print(json.dumps(composite_child(*sys.argv[2:4])))
