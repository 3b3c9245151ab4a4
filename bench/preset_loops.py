"""Row 9: every shipped preset's live loop efficiency (dream + chain + mp4 recording vs the bare
dream step, as row 3), at the smallest size with `ctx.loop_frames` interleaved frames per sample,
the precision `auto` picks and one iteration per frame (what the frame budget settles on on a
CPU; the harder case, as the chain's cost is then largest against the dream's); target >= 0.9
each."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import BenchContext, Result, load_look
from bench.live_loop import measure


def run(ctx: BenchContext) -> list[Result]:
    from livedream.presets import default_presets_dir, list_presets

    size = min(ctx.loop_sizes, key=lambda s: s[0] * s[1])
    results = []
    with tempfile.TemporaryDirectory(prefix="livedream-bench-") as tmp:
        for name in list_presets([default_presets_dir()]):
            model = ctx.model_named(load_look(name).model)
            results.append(measure(ctx, size, Path(tmp), preset=name, model=model,
                                   autocast=ctx.autocast, row=9, iterations=1))
    return results
