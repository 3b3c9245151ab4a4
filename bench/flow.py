"""Row 13: live input that moves. Flow cost per frame (DIS on the source thread + the warp on the
device) at 320x180 and 640x360, and the loop efficiency with flow on: frames/s of the headless
RenderLoop with `flow` and `gate` on, reading a moving video on its own thread (flow estimated
there), / bare dream rate, interleaved so machine load hits both alike. Target: >= 0.9 at
320x180.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.common import (
    BenchContext,
    Result,
    load_look,
    loop_vs_bare,
    size_label,
    smooth_frame,
    time_calls,
)

TARGET = 0.9
COST_SIZES = ((320, 180), (640, 360))


def clip_for(size: tuple[int, int], frames: int) -> Any:
    from livedream.flow.clip import MovingSquare

    side = max(8, min(size) // 3 // 4 * 4)
    return MovingSquare(size=size, side=side, x0=0, y0=(size[1] - side) // 2, step=4,
                        frames=frames)


def flow_cost(ctx: BenchContext, size: tuple[int, int]) -> Result:
    """Milliseconds per frame: DIS flow at flow.scale (source thread) and the warp (renderer)."""
    from livedream.flow.clip import frame_rgb
    from livedream.flow.estimate import FlowEstimator, flow_grey, flow_to_tensor
    from livedream.flow.params import FLOW_PARAMS
    from livedream.flow.warp import warp_by_flow
    from livedream.sources import rgb_to_device

    scale = float(FLOW_PARAMS["flow.scale"].default)  # type: ignore[arg-type]
    clip = clip_for(size, 2)
    rgb0, rgb1 = frame_rgb(clip, 0), frame_rgb(clip, 1)
    estimator = FlowEstimator()
    previous = flow_grey(rgb0, size, scale)
    frames = 5

    def estimate() -> None:
        for _ in range(frames):
            estimator.backward(previous, flow_grey(rgb1, size, scale))

    flow = flow_to_tensor(estimator.backward(previous, flow_grey(rgb1, size, scale)), ctx.device)
    buffer = rgb_to_device(rgb0, size, ctx.device)

    def warp() -> None:
        for _ in range(frames):
            warp_by_flow(buffer, flow, 1.0)

    t_flow = time_calls(estimate, ctx.repeat, ctx.device)
    t_warp = time_calls(warp, ctx.repeat, ctx.device)
    flow_ms, warp_ms = 1000 * t_flow.median / frames, 1000 * t_warp.median / frames
    return Result(13, "flow cost", f"{size_label(size)} scale {scale:g}", {
        "flow_ms": flow_ms,
        "warp_ms": warp_ms,
        "frame_ms": flow_ms + warp_ms,
        "spread": max(t_flow.spread, t_warp.spread),
    }, note="DIS fast preset on the source thread + grid_sample warp on the device")


def efficiency(ctx: BenchContext, size: tuple[int, int], out_dir: Path,
               look: Any = None) -> Result:
    """Render-loop fps with flow + gate on / bare dream fps at `size` (the preset's look and the
    context's model), the loop reading a moving video on its own thread as a show does."""
    from livedream.command_queue import CommandQueue
    from livedream.flow.clip import write_moving_video
    from livedream.live.headless import HeadlessDisplay
    from livedream.live.loop import RenderLoop
    from livedream.state import State, setting
    from livedream.threaded_source import ThreadedSource, open_threaded

    look = look or load_look(ctx.preset)
    model, layers, frames = ctx.model, list(look.layers), ctx.loop_frames
    state = State(look=look, overlay=False, source="moving.mp4", source_mix=0.1, flow=True,
                  gate=True)
    video = write_moving_video(out_dir / f"moving_{size_label(size)}.mp4",
                               clip_for(size, 30), fps=30)
    source = open_threaded(str(video), size, ctx.device, flow=True,
                           flow_scale=float(setting(state, "flow.scale")))
    assert isinstance(source, ThreadedSource)
    loop = RenderLoop(state, CommandQueue(), HeadlessDisplay(), model=model, size=size,
                      device=ctx.device, source=source, start_image=smooth_frame(size, ctx.device))
    warped = {"n": 0}
    warp = loop.flow.warp

    def counting_warp(buffer: Any, sample: Any, settings: Any) -> Any:
        warped["n"] += sample is not None and sample.flow is not None
        return warp(buffer, sample, settings)

    loop.flow.warp = counting_warp  # type: ignore[method-assign]

    try:
        t_bare, t_loop = loop_vs_bare(loop, model, look, size, ctx)
    finally:
        loop.close()
        source.close()
    bare_fps, loop_fps = frames / t_bare.median, frames / t_loop.median
    ratio = loop_fps / bare_fps
    return Result(13, "flow loop efficiency", f"{size_label(size)} {look.name}", {
        "loop_fps": loop_fps,
        "bare_fps": bare_fps,
        "efficiency": ratio,
        "target": TARGET,
        "ok": ratio >= TARGET,
        "warped": warped["n"],
        "flow_ms_thread": 1000 * source.flow_seconds / max(source.flows, 1),
        "spread": max(t_bare.spread, t_loop.spread),
    }, note=f"RenderLoop, {'+'.join(layers)} x{look.dream.iterations} it, chain "
            f"{'+'.join(link.name for link in look.chain)}, flow + gate on, threaded mp4 source")


def run(ctx: BenchContext) -> list[Result]:
    small = min(ctx.loop_sizes, key=lambda s: s[0] * s[1])
    sizes = sorted({*ctx.loop_sizes, *COST_SIZES}, key=lambda s: s[0] * s[1])
    results = [flow_cost(ctx, size) for size in sizes]
    with tempfile.TemporaryDirectory(prefix="livedream-bench-flow-") as tmp:
        results.append(efficiency(ctx, small, Path(tmp)))
    return results
