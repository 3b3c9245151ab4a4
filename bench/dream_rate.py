"""Row 1: the bare dream step (one jittered gradient-ascent step), steps/s and achieved GFLOP/s.

FLOPs are counted by torch (`FlopCounterMode`) on one step: the forward pass up to the layer and
the input gradient. Frozen weights mean no weight-gradient FLOPs are counted (none are computed).
"""

from __future__ import annotations

import copy

import torch

from bench.common import (
    BenchContext,
    Result,
    count_flops,
    interleave,
    size_label,
    smooth_frame,
    time_calls,
)
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


def _nchw_copy(model: torch.nn.Module) -> torch.nn.Module:
    """The same network in the default (NCHW) memory format, for the channels_last A/B."""
    plain = copy.deepcopy(model).to(memory_format=torch.contiguous_format)
    if hasattr(plain, "channels_last"):
        plain.channels_last = False
    return plain


def ab(ctx: BenchContext, size: tuple[int, int], layer: str) -> list[Result]:
    """Before/after of the kept optimisations, interleaved: NCHW -> channels_last (the default
    now), and fp32 -> bf16 autocast (opt-in). `max_diff`: largest pixel difference of one step."""
    from livedream.dream import dream_step

    model = ctx.model
    frame = smooth_frame(size, ctx.device)
    still = DreamSettings(step_size=1.5, iterations=1, jitter=0)
    variants = {
        "channels_last": (_nchw_copy(model), None, model, None),
        "bf16 autocast": (model, None, model, torch.bfloat16),
    }
    results = []
    for name, (model_a, cast_a, model_b, cast_b) in variants.items():
        def before(m=model_a, c=cast_a) -> torch.Tensor:
            return dream_step(m, frame, [layer], STEP, torch.Generator().manual_seed(0),
                              autocast=c)

        def after(m=model_b, c=cast_b) -> torch.Tensor:
            return dream_step(m, frame, [layer], STEP, torch.Generator().manual_seed(0),
                              autocast=c)

        t_a, t_b = interleave(before, after, ctx.repeat, ctx.device)
        diff = (dream_step(model_a, frame, [layer], still, autocast=cast_a)
                - dream_step(model_b, frame, [layer], still, autocast=cast_b)).abs().max()
        results.append(Result(1, "dream step A/B", f"{size_label(size)} {layer} {name}", {
            "before_ms": 1000.0 * t_a.median,
            "after_ms": 1000.0 * t_b.median,
            "speedup": t_a.median / t_b.median,
            "max_diff": float(diff),
        }))
    return results


def run(ctx: BenchContext) -> list[Result]:
    results = [measure(ctx, size, layer) for size in ctx.sizes for layer in ctx.layers]
    layer = ctx.layers[len(ctx.layers) // 2]
    return results + ab(ctx, ctx.sizes[0], layer)
