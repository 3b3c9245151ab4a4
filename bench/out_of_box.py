"""Row 8: out of the box: dream fps of `livedream run --headless` with no flags (auto precision,
the frame budget, the default preset) vs the same run with the turn-1 behaviour spelled out
(`--preset vertical-stretch --precision fp32 --target-fps 0`), at 320x180. Target >= 5x.

Each side is a fresh `python -m livedream run` process (model load excluded: `--seconds`
counts from the first frame), run alternately `repeat` times; fps = dream frames / seconds.
"""

from __future__ import annotations

import re
import subprocess
import sys

from bench.common import BenchContext, Result

TARGET = 5.0
TURN_ONE = ("--preset", "vertical-stretch", "--precision", "fp32", "--target-fps", "0")
_LINE = re.compile(r"livedream run: (\d+) frames, ([\d.]+) dream fps.*re-seeds, ?(.*)$", re.M)


def show(seconds: float, *flags: str, device: str = "cpu") -> tuple[float, str]:
    """(dream frames per second, the governor's final choice) of one headless run."""
    argv = [sys.executable, "-m", "livedream", "run", "--headless", "--osc-port", "0",
            "--size", "320x180", "--seconds", f"{seconds:g}", "--device", device, *flags]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 300)
    match = _LINE.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"{' '.join(argv[2:])} failed: {done.stderr[-400:]}")
    return int(match.group(1)) / seconds, match.group(3).strip()


def run(ctx: BenchContext) -> list[Result]:
    seconds = 20.0 if ctx.quick else 40.0
    new, old, chosen = [], [], ""
    for _ in range(max(1, ctx.repeat - 1)):
        fps, chosen = show(seconds, device=str(ctx.device))
        new.append(fps)
        old.append(show(seconds, *TURN_ONE, device=str(ctx.device))[0])
    fps_new, fps_old = sum(new) / len(new), sum(old) / len(old)
    ratio = fps_new / fps_old if fps_old > 0 else float("inf")
    return [Result(8, "out of the box", "320x180 run --headless", {
        "fps": fps_new,
        "turn1_fps": fps_old,
        "speedup": ratio,
        "target": TARGET,
        "ok": ratio >= TARGET,
    }, note=f"no flags: {chosen or 'governor ?'}; turn 1: {' '.join(TURN_ONE)}; "
            f"{seconds:g} s each")]
