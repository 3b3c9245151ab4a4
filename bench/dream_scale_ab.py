"""Row 14: dream-scale A/B: one frame of the default preset's dream (its iterations, the auto
precision) at full size vs dreamed at 0.75 and 0.5 of it with the detail upsampled back
(`ScaledDream`), interleaved. `change_corr`: correlation of what the scaled and the full-size
step add to the frame (1 = the same picture change; the cost of the look, in one number)."""

from __future__ import annotations

import torch

from bench.common import (
    BenchContext,
    Result,
    interleave,
    load_look,
    size_label,
    smooth_frame,
)

SCALES = (0.75, 0.5)


def run(ctx: BenchContext) -> list[Result]:
    from livedream.dream import dream_step
    from livedream.dream_scale import ScaledDream

    look = load_look("vertical-stretch")
    model = ctx.model
    size = ctx.sizes[0]
    frame = smooth_frame(size, ctx.device)
    layers = list(look.layers)
    settings = look.dream
    results = []
    for scale in SCALES:
        scaled = ScaledDream(scale, dream_step)

        def full() -> torch.Tensor:
            return dream_step(model, frame, layers, settings, torch.Generator().manual_seed(0),
                              autocast=ctx.autocast)

        def small(fn: ScaledDream = scaled) -> torch.Tensor:
            return fn(model, frame, layers, settings, generator=torch.Generator().manual_seed(0),
                      autocast=ctx.autocast)

        t_full, t_small = interleave(full, small, ctx.repeat, ctx.device)
        a, b = (full() - frame).flatten(), (small() - frame).flatten()
        corr = float(torch.corrcoef(torch.stack((a, b)))[0, 1])
        results.append(Result(14, "dream scale A/B", f"{size_label(size)} x{scale:g}", {
            "full_ms": 1000.0 * t_full.median,
            "scaled_ms": 1000.0 * t_small.median,
            "speedup": t_full.median / t_small.median,
            "change_corr": corr,
        }, note=f"{look.name}: {'+'.join(layers)} x{settings.iterations} it"))
    return results
