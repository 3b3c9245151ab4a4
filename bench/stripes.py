"""Row 12: live stripes: high-frequency energy of live frames vs a 3-octave offline render.

The same preset (vertical-stretch, VGG16 relu4_3) runs `FRAMES` frames from the same start image
three ways: live single-octave with the shipped gradient smoothing (lap_levels), live without it
(lap_levels 0, the old look), and offline with 3 octaves (the render command's quality, no
smoothing). High-frequency energy = mean square of frame - its 3x3 box blur (the 2-3 px stripe
band), relative to the frame's variance. `ratio` = live / offline: near 1 means the live show
is as free of pixel stripes as the offline render; the old look's ratio is printed beside it.
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import Tensor

from bench.common import BenchContext, Result, load_look, size_label, smooth_frame

PRESET = "vertical-stretch"


def hf_energy(frame: Tensor) -> float:
    """Share of the frame's variance in its finest band (frame minus a 3x3 box blur)."""
    x = frame.float()
    blur = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return float((x - blur).pow(2).mean() / x.var().clamp_min(1e-12))


def _render(ctx: BenchContext, look, frames: int) -> Tensor:  # noqa: ANN001 - a Look
    from livedream.dream import Dreamer
    from livedream.transforms.registry import apply_chain

    dreamer = Dreamer(ctx.model, look.layers, look.dream, seed=0, autocast=ctx.autocast)
    frame = smooth_frame(ctx.sizes[0], ctx.device)
    for t in range(frames):
        frame = dreamer(frame)
        with torch.no_grad():
            frame = apply_chain(frame, look.chain, t=t, seed=0)
    return frame


def run(ctx: BenchContext) -> list[Result]:
    frames = 4 if ctx.quick else 10
    look = load_look(PRESET)
    smooth = _render(ctx, look, frames)
    plain = _render(ctx, replace(look, dream=replace(look.dream, lap_levels=0)), frames)
    offline = _render(ctx, replace(look, dream=replace(look.dream, octaves=3, lap_levels=0)),
                      frames)
    ref = hf_energy(offline)
    return [Result(12, "live stripes", f"{size_label(ctx.sizes[0])} {PRESET}", {
        "hf_live": hf_energy(smooth),
        "hf_offline": ref,
        "ratio": hf_energy(smooth) / ref,
        "ratio_unsmoothed": hf_energy(plain) / ref,
        "ok": hf_energy(smooth) < hf_energy(plain),
    }, note=f"{frames} frames, lap_levels {look.dream.lap_levels} vs 0 vs 3 octaves")]
