"""Row 4: livedream's on-device loop against the 2015 seed-style loop, same net, size, iterations.

Seed style (the 2015 notebook's animation loop): every frame leaves the device as a numpy HxWx3
array, is zoomed with `scipy.ndimage.affine_transform([1-s, 1-s, 1], [h*s/2, w*s/2, 0], order=1)`
and goes back to a tensor on the device for the next dream step. livedream: `dream_step` then
`apply_chain` with the preset's chain, never leaving the device. Ratio = seed time / ours.
"""

from __future__ import annotations

import numpy as np
import torch

from bench.common import BenchContext, Result, interleave, load_look, size_label, smooth_frame

#: ratio targets: on a GPU the round trip dominates; on a CPU it must simply not be worse.
TARGET_GPU = 3.0
TARGET_CPU = 1.0 / 1.2  # "no worse than 1.2x slower"


def seed_zoom(img: np.ndarray, scale: float) -> np.ndarray:
    """The notebook's per-frame zoom on an HxWx3 float array (bilinear, black outside)."""
    from scipy.ndimage import affine_transform

    h, w = img.shape[:2]
    return affine_transform(img, [1 - scale, 1 - scale, 1], [h * scale / 2, w * scale / 2, 0],
                            order=1)


def measure(ctx: BenchContext, size: tuple[int, int]) -> Result:
    from livedream.dream import dream_step
    from livedream.transforms import apply_chain

    look = load_look(ctx.preset)
    zooms = [link for link in look.chain if link.name == "zoom" and link.enabled]
    scale = float(zooms[0].params.get("scale", 0.05)) if zooms else 0.05
    chain = tuple(zooms) if zooms else ()
    model, layers, settings, frames = ctx.model, list(look.layers), look.dream, ctx.loop_frames
    start = smooth_frame(size, ctx.device)
    gen_seed, gen_ours = torch.Generator().manual_seed(2), torch.Generator().manual_seed(2)
    seed_state = {"img": start[0].permute(1, 2, 0).cpu().numpy().copy()}
    ours_state = {"frame": start.clone()}

    def seed_frames() -> None:
        img = seed_state["img"]
        for _ in range(frames):
            x = torch.from_numpy(img).permute(2, 0, 1).unsqueeze(0).to(ctx.device)
            x = dream_step(model, x, layers, settings, gen_seed)
            img = x[0].permute(1, 2, 0).cpu().numpy()
            img = seed_zoom(img, scale)
        seed_state["img"] = img

    def our_frames() -> None:
        frame = ours_state["frame"]
        for t in range(frames):
            frame = dream_step(model, frame, layers, settings, gen_ours)
            frame = apply_chain(frame, chain, t=t)
        ours_state["frame"] = frame

    t_seed, t_ours = interleave(seed_frames, our_frames, ctx.repeat, ctx.device)
    ratio = t_seed.median / t_ours.median
    target = TARGET_GPU if ctx.device.type == "cuda" else TARGET_CPU
    return Result(4, "vs seed-style loop", f"{size_label(size)} {ctx.preset}", {
        "seed_fps": frames / t_seed.median,
        "ours_fps": frames / t_ours.median,
        "ratio": ratio,
        "target": target,
        "ok": ratio >= target,
        "spread": max(t_seed.spread, t_ours.spread),
    }, note=f"zoom {scale}, {'+'.join(layers)} x{settings.iterations} it")


def run(ctx: BenchContext) -> list[Result]:
    return [measure(ctx, size) for size in ctx.loop_sizes]
