"""Row 7: peak memory per frame size: peak RSS of a fresh process, and peak CUDA memory on a GPU;
and whether an offline render's memory stays flat with its length.

Peak RSS never goes down within a process, so each size is measured in its own child process
(`python -m bench.memory WxH LAYER DEVICE`): import, load VGG16, one dream step at the deepest
standard layer. Reported: the process's peak RSS (loading included), the peak RSS during the step
alone (kernel peak counter reset after loading), and CUDA's peak allocation.

The render case (`python -m bench.memory render WxH FRAMES LAYER DEVICE`, one child per length)
renders the vertical-stretch preset to a ping-pong GIF and an mp4, as `livedream render` does, for
100 and 1,000 frames at the smallest size, and reports both peaks and their ratio (target <= 1.1)
plus the growth per extra frame. The dream runs one iteration at VGG16's first layer, so 1,100
frames stay affordable on a CPU; memory held per frame comes from the loop and the recorders.
On glibc the longer render peaks some 50 MB higher on CPU (ratio ~1.09 at 320x180): large
tensors freed to the heap under malloc's dynamic mmap threshold fragment it up to a plateau
(RSS swings 420-520 MB and stops rising by ~500 frames). `MALLOC_MMAP_THRESHOLD_=4194304` makes
the two peaks equal (1.002) but costs ~15% CPU per dream step, so it is not the default.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.common import BenchContext, Result, parse_size, size_label


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def reset_peak_rss() -> bool:
    """Restart the kernel's peak-RSS count (VmHWM) from the current RSS; False if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def vm_hwm_mb() -> float | None:
    """Peak RSS since the last `reset_peak_rss`, in MiB, from /proc/self/status (Linux)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def current_rss_mb() -> float | None:
    """Resident set size of this process now, in MiB (Linux /proc), else None."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


RENDER_FRAMES = (100, 1000)
RENDER_PRESET = "vertical-stretch"
RENDER_LAYER = "conv1_1"


def render_peak(model: Any, layer: str, size: tuple[int, int], frames: int) -> dict[str, Any]:
    """Render `frames` frames of the vertical-stretch preset (one iteration at `layer`) to a
    ping-pong GIF and an mp4 in this process; report the peak RSS during that render.

    A 2-frame warm-up render first loads the codecs and kernels, so the peak counter (reset
    just before the measured render) sees only what the render itself holds.
    """
    from livedream.presets import open_preset
    from livedream.render.offline import render

    preset = open_preset(RENDER_PRESET)
    look = replace(preset.look, model=model.name, layers=(layer,),
                   dream=replace(preset.look.dream, iterations=1, octaves=1))
    with tempfile.TemporaryDirectory(prefix="livedream-bench-") as tmp:
        out = [Path(tmp) / "render.gif", Path(tmp) / "render.mp4"]
        common: dict[str, Any] = dict(size=size, out=out, gif_mode="pingpong", model=model,
                                      seed=preset.seed, progress=False)
        render(look, frames=2, **common)
        before = current_rss_mb()
        resettable = reset_peak_rss()
        render(look, frames=frames, **common)
        peak = vm_hwm_mb() if resettable else None
        gif_bytes = out[0].stat().st_size
    return {"frames": frames, "peak_rss_mb": peak if peak is not None else peak_rss_mb(),
            "before_mb": before, "gif_mb": gif_bytes / 2**20}


def render_child(size_text: str, frames: str, layer: str, device_name: str) -> dict[str, Any]:
    """`render_peak` on VGG16 (runs in the child process)."""
    import torch

    from livedream.models.registry import load_model

    model = load_model("vgg16", None, torch.device(device_name))
    return render_peak(model, layer, parse_size(size_text), int(frames))


def run_child(args: list[str], timeout: float = 1800) -> dict[str, Any]:
    """Run `python -m bench.memory ARGS` and return the JSON it prints last."""
    proc = subprocess.run([sys.executable, "-m", "bench.memory", *args],
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"memory child {args} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def flatness(short: dict[str, Any], long: dict[str, Any]) -> dict[str, Any]:
    """Peaks of a short and a long render, their ratio, and the growth per extra frame (KiB)."""
    extra = long["frames"] - short["frames"]
    return {
        "peak_rss_mb": long["peak_rss_mb"],
        f"peak_{short['frames']}_mb": short["peak_rss_mb"],
        f"peak_{long['frames']}_mb": long["peak_rss_mb"],
        "ratio": long["peak_rss_mb"] / short["peak_rss_mb"],
        "kib_per_frame": (long["peak_rss_mb"] - short["peak_rss_mb"]) * 1024.0 / extra,
    }


def measure_render(ctx: BenchContext) -> Result:
    size = min(ctx.sizes, key=lambda s: s[0] * s[1])
    runs = [run_child(["render", size_label(size), str(n), RENDER_LAYER, str(ctx.device)])
            for n in RENDER_FRAMES]
    metrics = flatness(*runs)
    return Result(7, "memory", f"{size_label(size)} render {RENDER_FRAMES[0]} vs "
                  f"{RENDER_FRAMES[1]} frames", metrics,
                  note="GIF ping-pong + mp4; ratio target <= 1.1")


def child(size_text: str, layer: str, device_name: str) -> dict[str, Any]:
    """Load the model, take one dream step, report peaks (runs in the child process)."""
    import torch

    from bench.common import smooth_frame
    from livedream.dream import dream_step
    from livedream.look import DreamSettings
    from livedream.models.registry import load_model

    device = torch.device(device_name)
    size = parse_size(size_text)
    model = load_model("vgg16", None, device)
    frame = smooth_frame(size, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    # getrusage's ru_maxrss survives fork+exec (it starts at the parent's peak), so the kernel's
    # per-process VmHWM is preferred; getrusage is the fallback where /proc is missing.
    load_peak = vm_hwm_mb()
    resettable = reset_peak_rss()
    dream_step(model, frame, [layer], DreamSettings(iterations=1))
    step_peak = vm_hwm_mb() if resettable else None
    process_peak = (max(load_peak, step_peak or 0.0) if load_peak is not None
                    else peak_rss_mb())
    out: dict[str, Any] = {"peak_rss_mb": process_peak, "step_peak_rss_mb": step_peak}
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        out["cuda_peak_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


def measure(ctx: BenchContext, size: tuple[int, int]) -> Result:
    layer = ctx.layers[-1]
    data = run_child([size_label(size), layer, str(ctx.device)], timeout=900)
    metrics: dict[str, Any] = {
        "peak_rss_mb": data["peak_rss_mb"],
    }
    if data["step_peak_rss_mb"] is not None:
        metrics["step_peak_rss_mb"] = data["step_peak_rss_mb"]
    if "cuda_peak_mb" in data:
        metrics["cuda_peak_mb"] = data["cuda_peak_mb"]
    return Result(7, "memory", f"{size_label(size)} {layer}", metrics,
                  note="fresh process: model + one step" + (
                      "" if "cuda_peak_mb" in data else "; no GPU"))


def run(ctx: BenchContext) -> list[Result]:
    return [*(measure(ctx, size) for size in ctx.sizes), measure_render(ctx)]


if __name__ == "__main__":
    if sys.argv[1] == "render":
        print(json.dumps(render_child(*sys.argv[2:6])))
    else:
        print(json.dumps(child(*sys.argv[1:4])))
