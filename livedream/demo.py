"""`livedream demo` (what `make demo` runs): a short animation of a preset on the default model.

Renders 48 frames at 320x180 of `vertical-stretch` (the post's favourite) on VGG16 to
out/demo.mp4 and out/demo.gif and prints the paths.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default="vertical-stretch", help="preset to render")
    parser.add_argument("--frames", type=int, default=48, help="frames (default 48)")
    parser.add_argument("--size", default="320x180", help="WIDTHxHEIGHT (default 320x180)")
    parser.add_argument("--out-dir", default="out", help="output directory (default out/)")
    parser.add_argument("--device", help="cpu, cuda, ... (default: best available)")


def run(args: argparse.Namespace) -> int:
    from livedream.presets import open_preset
    from livedream.render.cli import parse_size
    from livedream.render.offline import render

    preset = open_preset(args.preset)
    out_dir = Path(args.out_dir)
    outputs = [out_dir / "demo.mp4", out_dir / "demo.gif"]
    print(f"livedream demo: rendering {args.frames} frames of {preset.name!r} "
          f"({preset.look.model} {', '.join(preset.look.layers)}) at {args.size} ...")
    result = render(
        preset.look, frames=args.frames, size=parse_size(args.size), out=outputs,
        fps=15.0, seed=preset.seed, device=args.device,
    )
    for path in result.outputs:
        print(path.resolve())
    if result.interrupted:
        print(f"interrupted after {result.frames} frames (the files above hold them)")
        return 130
    print(f"{result.frames} frames in {result.seconds:.1f} s "
          f"({result.frames_per_second:.2f} frames/s)")
    return 0
