"""Row 3: live loop efficiency = frames/s of the full headless RenderLoop / bare dream rate.

The loop runs the default preset (dream step + its transform chain), the headless display and
an mp4 recording through `ThreadedRecorder` (encoding on its own thread), exactly as a headless
show does. The bare rate is `deepdream` (the loop's dream function) alone with the preset's
settings (one frame's worth of gradient steps), timed interleaved with the loop so machine load
hits both alike.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from bench.common import (
    BenchContext,
    Result,
    load_look,
    loop_vs_bare,
    size_label,
    smooth_frame,
)

TARGET = 0.9


def measure(ctx: BenchContext, size: tuple[int, int], out_dir: Path, preset: str | None = None,
            model: Any = None, autocast: torch.dtype | None = None, row: int = 3,
            iterations: int | None = None) -> Result:
    """Interleave `loop_frames` bare dream frames with `loop_frames` loop ticks, `repeat` times.

    `preset` (default ctx.preset), its `model` (default ctx.model, VGG16) and the net's
    `autocast` dtype; `iterations` overrides the preset's; `row` labels the result (row 9 runs
    every shipped preset through here).
    """
    from livedream.command_queue import CommandQueue
    from livedream.live.headless import HeadlessDisplay
    from livedream.live.loop import RenderLoop
    from livedream.record import ThreadedRecorder, open_recorder, probe_video
    from livedream.state import State

    preset = preset or ctx.preset
    look = load_look(preset)
    if iterations is not None:
        look = replace(look, dream=look.dream.with_param("iterations", iterations))
    model = ctx.model if model is None else model
    layers = list(look.layers)
    video = out_dir / f"loop_{preset}_{size_label(size)}.mp4"
    loop = RenderLoop(
        State(look=look, recording=True, overlay=False), CommandQueue(), HeadlessDisplay(),
        model=model, size=size, device=ctx.device, autocast=autocast,
        recorder_factory=lambda: ThreadedRecorder(open_recorder(video, fps=30.0)),
        start_image=smooth_frame(size, ctx.device),
    )
    frames = ctx.loop_frames

    try:
        t_bare, t_loop = loop_vs_bare(loop, model, look, size, ctx, autocast)
    finally:
        loop.close()
    stats = loop.stats()
    written = probe_video(video).frames if video.exists() else 0
    bare_fps = frames / t_bare.median
    loop_fps = frames / t_loop.median
    efficiency = loop_fps / bare_fps
    return Result(row, "live loop efficiency", f"{size_label(size)} {preset}", {
        "loop_fps": loop_fps,
        "bare_fps": bare_fps,
        "efficiency": efficiency,
        "target": TARGET,
        "ok": efficiency >= TARGET,
        "recorded": written,
        "dropped": stats.dropped,
        "spread": max(t_bare.spread, t_loop.spread),
    }, note=f"{'+'.join(layers)} x{look.dream.iterations} it, chain "
            f"{'+'.join(link.name for link in look.chain)}, mp4 via ThreadedRecorder")


def run(ctx: BenchContext) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="livedream-bench-") as tmp:
        return [measure(ctx, size, Path(tmp)) for size in ctx.loop_sizes]
