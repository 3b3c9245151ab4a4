"""Row 10: precision A/B per model: one dream step in fp32 vs the precision `auto` picks here
(bf16 on AMX / AVX512-BF16 CPUs, bf16/fp16 on CUDA), interleaved; `max_diff` is the largest pixel
difference of one jitter-free step. Where auto picks fp32 the row times bf16 to show why."""

from __future__ import annotations

import torch

from bench.common import BenchContext, Result, interleave, size_label, smooth_frame
from livedream.look import DreamSettings

#: (model, layer): the VGG16 dogs layer and Inception v3's cheap early mixed layers
CASES = (("vgg16", "relu4_3"), ("inception_v3", "mixed_5b"), ("inception_v3", "mixed_5d"))
STEP = DreamSettings(step_size=1.5, iterations=1, jitter=32)
STILL = DreamSettings(step_size=1.5, iterations=1, jitter=0)


def measure(ctx: BenchContext, size: tuple[int, int], name: str, layer: str) -> Result:
    from livedream.device import precision_name
    from livedream.dream import dream_step

    model = ctx.model_named(name)
    frame = smooth_frame(size, ctx.device)
    auto = ctx.autocast
    reduced = auto if auto is not None else torch.bfloat16

    def fp32() -> torch.Tensor:
        return dream_step(model, frame, [layer], STEP, torch.Generator().manual_seed(0))

    def half() -> torch.Tensor:
        return dream_step(model, frame, [layer], STEP, torch.Generator().manual_seed(0),
                          autocast=reduced)

    t_full, t_half = interleave(fp32, half, ctx.repeat, ctx.device)
    diff = (dream_step(model, frame, [layer], STILL)
            - dream_step(model, frame, [layer], STILL, autocast=reduced)).abs().max()
    return Result(10, "precision A/B", f"{size_label(size)} {name} {layer}", {
        "fp32_ms": 1000.0 * t_full.median,
        f"{precision_name(reduced)}_ms": 1000.0 * t_half.median,
        "speedup": t_full.median / t_half.median,
        "max_diff": float(diff),
        "auto": precision_name(auto),
    })


def run(ctx: BenchContext) -> list[Result]:
    size = ctx.sizes[0]
    return [measure(ctx, size, name, layer) for name, layer in CASES]
