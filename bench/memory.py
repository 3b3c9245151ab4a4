"""Row 7: peak memory per frame size: peak RSS of a fresh process, and peak CUDA memory on a GPU.

Peak RSS never goes down within a process, so each size is measured in its own child process
(`python -m bench.memory WxH LAYER DEVICE`): import, load VGG16, one dream step at the deepest
standard layer. Reported: the process's peak RSS (loading included), the peak RSS during the step
alone (kernel peak counter reset after loading), and CUDA's peak allocation.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
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
    proc = subprocess.run(
        [sys.executable, "-m", "bench.memory", size_label(size), layer, str(ctx.device)],
        capture_output=True, text=True, timeout=900,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory child for {size_label(size)} failed: {proc.stderr[-2000:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
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
    return [measure(ctx, size) for size in ctx.sizes]


if __name__ == "__main__":
    print(json.dumps(child(*sys.argv[1:4])))
