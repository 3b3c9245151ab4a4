"""`livedream render`: render a preset offline to mp4 / GIF / a directory of numbered PNGs.

    livedream render --preset vertical-stretch --input photo.jpg --frames 200 --size 640x360 \\
        --out out.mp4 --out out.gif --reverse --loop 1
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from livedream.device import add_precision_argument
from livedream.params import parse_size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default="vertical-stretch",
                        help="preset name (see `livedream presets`) or a .toml file")
    parser.add_argument("--input", help="start image (default: a built-in generated image)")
    parser.add_argument("--frames", type=int,
                        help="frames to render (default 100, or as long as --audio lasts)")
    parser.add_argument("--audio", metavar="TRACK",
                        help="music video: render as many frames as TRACK lasts at --fps, drive "
                             "the preset's [[modulate]] from its analysis, mux it into the mp4")
    parser.add_argument("--bpm", type=float, default=120.0,
                        help="tempo of the modulators without --audio (default 120)")
    parser.add_argument("--size", default="640x360", help="WIDTHxHEIGHT (default 640x360)")
    parser.add_argument("--out", action="append", default=[], metavar="PATH",
                        help="output .mp4/.mov/.mkv (H.264) or .gif; repeat for several "
                             "(default out/PRESET.mp4)")
    parser.add_argument("--frames-dir", metavar="DIR",
                        help="also write frame_00001.png ... into DIR")
    parser.add_argument("--seed", type=int, help="seed for jitter, transforms and the start "
                                                 "image (default: the preset's)")
    parser.add_argument("--octaves", type=int, help="override the preset's octave count")
    parser.add_argument("--iterations", type=int, help="override the preset's iterations")
    parser.add_argument("--fps", type=float, default=15.0, help="frame rate (default 15)")
    order = parser.add_mutually_exclusive_group()
    order.add_argument("--reverse", action="store_true", help="GIF plays backwards")
    order.add_argument("--pingpong", action="store_true", help="GIF plays forwards then back")
    parser.add_argument("--loop", type=int, default=0,
                        help="GIF loop count as ImageMagick's -loop (0 = forever, 1 = once)")
    parser.add_argument("--model", help="model name or deploy.prototxt (default: the preset's)")
    parser.add_argument("--weights", help="weights file for --model")
    parser.add_argument("--layer", action="append", default=[], metavar="LAYER",
                        help="layer(s) to dream; repeat or comma-separate (default: preset's)")
    parser.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: best available)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_precision_argument(parser)


def run(args: argparse.Namespace) -> int:
    from livedream.device import pick_device, pick_precision, precision_name, requested_precision
    from livedream.presets import open_preset
    from livedream.render.offline import render

    size = parse_size(args.size, minimum=1, maximum=99_999)  # render() checks the bounds
    preset = open_preset(args.preset, allow_paths=True)
    look = preset.look
    if args.model:
        look = replace(look, model=args.model, weights=args.weights)
        if not args.layer and args.model != preset.look.model:
            from livedream.models.registry import default_layer

            look = replace(look, layers=(default_layer(args.model),))
    elif args.weights:
        look = replace(look, weights=args.weights)
    layers = [name.strip() for item in args.layer for name in item.split(",") if name.strip()]
    if layers:
        look = replace(look, layers=tuple(layers))
    outputs = [Path(p) for p in args.out]
    if args.frames_dir:
        outputs.append(Path(args.frames_dir))
    if not outputs:
        outputs = [Path("out") / f"{preset.name}.mp4"]
    device = pick_device(args.device)
    autocast = pick_precision(device, requested_precision(args.precision, preset.precision))
    print(f"precision {precision_name(autocast)} on {device}", file=sys.stderr)
    gif_mode = "reverse" if args.reverse else "pingpong" if args.pingpong else "forward"
    result = render(
        look,
        input=args.input,
        frames=args.frames if args.frames is not None or args.audio else 100,
        size=size,
        audio=args.audio,
        bpm=args.bpm,
        out=outputs,
        fps=args.fps,
        seed=preset.seed if args.seed is None else args.seed,
        octaves=args.octaves,
        iterations=args.iterations,
        gif_mode=gif_mode,
        loop=args.loop,
        device=device,
        progress=not args.no_progress,
        autocast=autocast,
    )
    paths = ", ".join(str(p) for p in result.outputs)
    if result.interrupted:
        print(f"interrupted: finalised {result.frames} frames into {paths}", file=sys.stderr)
        return 130
    print(f"rendered {result.frames} frames of {preset.name!r} in {result.seconds:.1f} s "
          f"({result.frames_per_second:.2f} frames/s): {paths}")
    return 0
