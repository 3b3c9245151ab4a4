"""Row 3: live loop efficiency = frames/s of the full headless RenderLoop / bare dream rate.

The loop runs the default preset (dream step + its transform chain), the headless display and
an mp4 recording through `ThreadedRecorder` (encoding on its own thread), exactly as a headless
show does. The bare rate is `dream_step` alone with the preset's settings (one frame's worth of
gradient steps), timed interleaved with the loop so machine load hits both alike.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from bench.common import (
    BenchContext,
    Result,
    interleave,
    load_look,
    size_label,
    smooth_frame,
)

TARGET = 0.9


def measure(ctx: BenchContext, size: tuple[int, int], out_dir: Path) -> Result:
    """Interleave `loop_frames` bare dream frames with `loop_frames` loop ticks, `repeat` times."""
    from livedream.command_queue import CommandQueue
    from livedream.dream import dream_step
    from livedream.live.headless import HeadlessDisplay
    from livedream.live.loop import RenderLoop
    from livedream.record import ThreadedRecorder, open_recorder, probe_video
    from livedream.state import State

    look = load_look(ctx.preset)
    model = ctx.model
    layers = list(look.layers)
    video = out_dir / f"loop_{size_label(size)}.mp4"
    loop = RenderLoop(
        State(look=look, recording=True, overlay=False), CommandQueue(), HeadlessDisplay(),
        model=model, size=size, device=ctx.device,
        recorder_factory=lambda: ThreadedRecorder(open_recorder(video, fps=30.0)),
        start_image=smooth_frame(size, ctx.device),
    )
    generator = torch.Generator().manual_seed(1)
    bare = {"frame": smooth_frame(size, ctx.device, seed=1)}
    frames = ctx.loop_frames

    def bare_frames() -> None:
        for _ in range(frames):
            bare["frame"] = dream_step(model, bare["frame"], layers, look.dream, generator)

    def loop_frames() -> None:
        for _ in range(frames):
            loop.tick()

    try:
        t_bare, t_loop = interleave(bare_frames, loop_frames, ctx.repeat, ctx.device)
    finally:
        loop.close()
    stats = loop.stats()
    written = probe_video(video).frames if video.exists() else 0
    bare_fps = frames / t_bare.median
    loop_fps = frames / t_loop.median
    efficiency = loop_fps / bare_fps
    return Result(3, "live loop efficiency", f"{size_label(size)} {ctx.preset}", {
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
