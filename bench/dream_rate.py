"""Row 1: the bare dream step (one jittered gradient-ascent step), steps/s and achieved GFLOP/s.

FLOPs are counted by torch (`FlopCounterMode`) on one step: the forward pass up to the layer and
the input gradient. Frozen weights mean no weight-gradient FLOPs are counted (none are computed).
"""

from __future__ import annotations

import torch

from bench.common import BenchContext, Result, count_flops, size_label, smooth_frame, time_calls
from livedream.look import DreamSettings

#: One gradient step per call, the notebook's default step size and jitter.
STEP = DreamSettings(step_size=1.5, iterations=1, jitter=32, octaves=1)


def measure(ctx: BenchContext, size: tuple[int, int], layer: str) -> Result:
    """Steps/s, ms/step, GFLOP per step and GFLOP/s for one size and layer."""
    from livedream.dream import dream_step

    model = ctx.model
    generator = torch.Generator().manual_seed(0)
    state = {"frame": smooth_frame(size, ctx.device)}

    def step() -> None:
        state["frame"] = dream_step(model, state["frame"], [layer], STEP, generator)

    flops = count_flops(step)
    timing = time_calls(step, ctx.repeat, ctx.device)
    return Result(1, "dream step", f"{size_label(size)} {layer}", {
        "steps_s": 1.0 / timing.median,
        "ms_step": 1000.0 * timing.median,
        "gflop_step": flops / 1e9,
        "gflop_s": flops / 1e9 / timing.median,
        "spread": timing.spread,
    })


def run(ctx: BenchContext) -> list[Result]:
    return [measure(ctx, size, layer) for size in ctx.sizes for layer in ctx.layers]
