"""Row 2: the machine's convolution ceiling with this torch, and the dream step as a share of it.

A large plain 3x3 convolution (256 -> 256 channels at 90x160, batch 1) forward + backward (input
and weight gradients): the best case for the conv kernels, so dream-step GFLOP/s / this = how
close the dream runs to what the machine can do.
"""

from __future__ import annotations

import torch

from bench.common import BenchContext, Result, count_flops, time_calls

CHANNELS = 256
HEIGHT, WIDTH = 90, 160


def measure_peak(ctx: BenchContext, channels: int = CHANNELS, height: int = HEIGHT,
                 width: int = WIDTH, channels_last: bool = False) -> Result:
    """GFLOP/s of forward + backward of one `channels`->`channels` 3x3 conv."""
    gen = torch.Generator().manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1).to(ctx.device, memory_format=fmt)
    x = torch.randn(1, channels, height, width, generator=gen).to(ctx.device)
    x = x.contiguous(memory_format=fmt).requires_grad_(True)

    def fwd_bwd() -> None:
        x.grad = conv.weight.grad = conv.bias.grad = None
        out = conv(x)
        out.backward(torch.ones_like(out))  # input and weight gradients

    flops = count_flops(fwd_bwd)
    timing = time_calls(fwd_bwd, max(ctx.repeat, 3), ctx.device)
    layout = "NHWC" if channels_last else "NCHW"
    return Result(2, "conv peak", f"{channels}->{channels} 3x3 {width}x{height} {layout}", {
        "gflop_s": flops / 1e9 / timing.median,
        "ms": 1000.0 * timing.median,
        "gflop": flops / 1e9,
        "spread": timing.spread,
    })


def run(ctx: BenchContext) -> list[Result]:
    """The peak (the faster memory layout), then every row-1 result as a fraction of it."""
    peaks = [measure_peak(ctx, channels_last=False), measure_peak(ctx, channels_last=True)]
    results = list(peaks)
    ceiling = max(p.metrics["gflop_s"] for p in peaks)
    for r in ctx.results.get(1, []):
        if "gflop_s" not in r.metrics:  # the A/B lines carry times only
            continue
        share = r.metrics["gflop_s"] / ceiling
        r.metrics["of_peak"] = share
        results.append(Result(2, "dream / conv peak", r.case, {"of_peak": share}))
    return results
