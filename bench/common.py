"""Shared pieces of the benchmark rows: configuration, timing, FLOP counting, results, the table.

Every row is a module with `run(ctx) -> list[Result]`. Timings are medians of `ctx.repeat`
samples after one warm-up; rows that compare two paths interleave them (A, B, A, B...) so that a
noisy, shared machine slows both sides alike and the ratio stays meaningful.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

Size = tuple[int, int]  # (width, height), like the CLI's WxH

#: VGG16 layers row 1 dreams on: the ends of blocks 3, 4 and 5 (shallow, default, deepest).
STANDARD_LAYERS: tuple[str, ...] = ("conv3_3", "conv4_3", "conv5_3")
DEFAULT_SIZES: tuple[Size, ...] = ((320, 180), (640, 360), (1280, 720))
DEFAULT_PRESET = "zoom"


def parse_size(text: str) -> Size:
    """'640x360' -> (640, 360); sides of at least 32 px (VGG16's pool5 needs them)."""
    from livedream.params import parse_size as parse

    return parse(text, "size", minimum=32)


def size_label(size: Size) -> str:
    return f"{size[0]}x{size[1]}"


@dataclass
class Result:
    """One printed line of the table (and one JSON record)."""

    row: int
    name: str
    case: str
    metrics: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass
class BenchContext:
    """What every row needs: sizes, repetitions, the device and the (shared, loaded once) model."""

    sizes: list[Size]
    repeat: int = 3
    quick: bool = False
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    layers: tuple[str, ...] = STANDARD_LAYERS
    preset: str = DEFAULT_PRESET
    loop_frames: int = 3  # frames per interleaved sample in rows 3-4
    results: dict[int, list[Result]] = field(default_factory=dict)  # earlier rows, by number
    _model: Any = None

    @property
    def model(self) -> Any:
        """VGG16 (the default model) on `device`, loaded on first use."""
        if self._model is None:
            self._model = self.model_named("vgg16")
        return self._model

    def model_named(self, name: str) -> Any:
        """A built-in model on `device` (the registry caches it, so each loads once)."""
        from livedream.models.registry import load_model

        return load_model(name, None, self.device)

    @property
    def autocast(self) -> torch.dtype | None:
        """The precision `--precision auto` picks on this device (None = fp32)."""
        from livedream.device import pick_precision

        return pick_precision(self.device, "auto")

    @property
    def loop_sizes(self) -> list[Size]:
        """Sizes for the live-loop rows: those up to 640x360 (the targets), else the smallest."""
        small = [s for s in self.sizes if s[0] * s[1] <= 640 * 360]
        return small or [min(self.sizes, key=lambda s: s[0] * s[1])]


def sync(device: torch.device) -> None:
    """Wait for queued device work (CUDA is asynchronous; CPU needs nothing)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass(frozen=True)
class Timing:
    """Seconds per call: every sample, their median and minimum."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        return min(self.samples)

    @property
    def spread(self) -> float:
        """(max - min) / median: how noisy the samples were."""
        return (max(self.samples) - min(self.samples)) / self.median if self.median > 0 else 0.0


def time_calls(fn: Callable[[], Any], repeat: int, device: torch.device,
               warmup: int = 1) -> Timing:
    """Call `fn` `warmup` times untimed, then `repeat` times timed one by one."""
    for _ in range(warmup):
        fn()
    sync(device)
    samples = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        fn()
        sync(device)
        samples.append(time.perf_counter() - t0)
    return Timing(tuple(samples))


def interleave(a: Callable[[], Any], b: Callable[[], Any], repeat: int, device: torch.device,
               warmup: int = 1) -> tuple[Timing, Timing]:
    """Time `a` and `b` alternately (a, b, a, b...) so both see the same machine load."""
    for _ in range(warmup):
        a()
        b()
    sync(device)
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(max(1, repeat)):
        for fn, out in ((a, ta), (b, tb)):
            t0 = time.perf_counter()
            fn()
            sync(device)
            out.append(time.perf_counter() - t0)
    return Timing(tuple(ta)), Timing(tuple(tb))


def loop_vs_bare(loop: Any, model: Any, look: Any, size: Size, ctx: BenchContext,
                 autocast: torch.dtype | None = None) -> tuple[Timing, Timing]:
    """(bare, loop) timings of `ctx.loop_frames` frames each, interleaved `ctx.repeat` times: the
    bare dream alone with the look's settings (`deepdream`, the loop's own dream function, so a
    preset's octaves count on both sides) against `loop.tick()` (the whole frame)."""
    from livedream.dream import deepdream

    generator = torch.Generator().manual_seed(1)
    bare = {"frame": smooth_frame(size, ctx.device, seed=1)}
    layers, frames = list(look.layers), ctx.loop_frames

    def bare_frames() -> None:
        for _ in range(frames):
            bare["frame"] = deepdream(model, bare["frame"], layers, look.dream, generator,
                                      autocast=autocast)

    def loop_frames() -> None:
        for _ in range(frames):
            loop.tick()

    return interleave(bare_frames, loop_frames, ctx.repeat, ctx.device)


def count_flops(fn: Callable[[], Any]) -> int:
    """FLOPs of one call of `fn` (convolutions and matmuls, forward and backward) as torch counts
    them with `FlopCounterMode`."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return int(counter.get_total_flops())


def smooth_frame(size: Size, device: torch.device, seed: int = 0) -> torch.Tensor:
    """A deterministic start frame with structure (flat noise dreams slowly): [1,3,H,W] in [0,1]."""
    from livedream.sources import generated_image

    return generated_image(size, seed, device)


def load_look(name: str) -> Any:
    """The Look of a shipped preset (e.g. 'zoom', the default)."""
    from livedream.presets import find_preset, load_preset

    return load_preset(find_preset(name)).look


def machine_info(device: torch.device) -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "device": str(device),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value == 0 or 0.01 <= abs(value) < 10000:
            return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
        return f"{value:.2e}"
    return str(value)


def format_table(results: list[Result]) -> str:
    """A plain-text table: row, name, case, then key=value metrics (and a note)."""
    lines = [f"{'row':>3}  {'benchmark':<22} {'case':<24} metrics"]
    for r in results:
        metrics = "  ".join(f"{k}={_fmt(v)}" for k, v in r.metrics.items())
        note = f"  [{r.note}]" if r.note else ""
        lines.append(f"{r.row:>3}  {r.name:<22} {r.case:<24} {metrics}{note}")
    return "\n".join(lines)


def write_json(path: Path, ctx: BenchContext, results: list[Result], elapsed: float,
               argv: list[str]) -> None:
    """Machine, configuration and every result as JSON."""
    payload = {
        "machine": machine_info(ctx.device),
        "config": {
            "sizes": [size_label(s) for s in ctx.sizes],
            "repeat": ctx.repeat,
            "quick": ctx.quick,
            "layers": list(ctx.layers),
            "preset": ctx.preset,
            "loop_frames": ctx.loop_frames,
            "argv": argv,
        },
        "elapsed_s": elapsed,
        "results": [asdict(r) for r in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
