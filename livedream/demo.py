"""`livedream demo` (what `make demo` runs): the live show on the default model.

With a display it opens the show fullscreen (keyboard, OSC on 127.0.0.1:9000, Esc quits). Without
one it runs the same show headless and records it to out/demo.mp4, printing the path. The frame
size follows the device: 1280x720 on a GPU, 320x180 on a CPU so the dream stays lively.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from livedream.device import add_precision_argument
    from livedream.presets import DEFAULT_PRESET

    parser.add_argument("--preset", default=None,
                        help=f"preset to show (default: {CPU_DEMO_PRESET} on a CPU, "
                        f"{DEFAULT_PRESET} on a GPU)")
    parser.add_argument("--size", help="WIDTHxHEIGHT (default: 1280x720 on GPU, 320x180 on CPU)")
    parser.add_argument("--frames", type=int, default=None,
                        help="stop after this many dream frames (headless default 60)")
    parser.add_argument("--out-dir", default="out", help="where the headless recording goes")
    parser.add_argument("--device", help="cpu, cuda, ... (default: best available)")
    add_precision_argument(parser)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--headless", action="store_true", help="record instead of opening a window")
    mode.add_argument("--window", action="store_true", help="open a window even without $DISPLAY")


#: The CPU demo's look: Inception v3 mixed_5c dreams eyes and spirals at full size within the
#: frame budget, where VGG16 relu4_3 (the dogs) must shrink its dream to a quarter to keep up
#: (bench rows 8 and 9, README).
CPU_DEMO_PRESET = "inception-zoom"


def demo_preset(device: object) -> str:
    """The look the demo shows on `device` when none is named."""
    from livedream.models.registry import BUILTINS
    from livedream.presets import DEFAULT_PRESET

    cpu = getattr(device, "type", str(device)) == "cpu"
    if cpu and BUILTINS["inception_v3"].is_installed():
        return CPU_DEMO_PRESET
    return DEFAULT_PRESET


def has_display() -> bool:
    """Whether a window can be expected to open (X11 or Wayland session)."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def show_argv(args: argparse.Namespace) -> list[str]:
    """The `livedream run` arguments the demo stands for."""
    from livedream.device import default_frame_size, pick_device

    device = pick_device(args.device)
    size = args.size or "{}x{}".format(*default_frame_size(device))
    preset = args.preset or demo_preset(device)
    argv = ["run", "--preset", preset, "--size", size, "--device", str(device)]
    if args.precision:
        argv += ["--precision", args.precision]
    windowed = args.window or (has_display() and not args.headless)
    if windowed:
        argv.append("--fullscreen")
        if args.frames:
            argv += ["--frames", str(args.frames)]
    else:
        record = Path(args.out_dir) / "demo.mp4"
        record.parent.mkdir(parents=True, exist_ok=True)
        argv += ["--headless", "--record", str(record), "--frames", str(args.frames or 60)]
    return argv


def run(args: argparse.Namespace) -> int:
    from livedream.cli import main

    argv = show_argv(args)
    if "--headless" in argv:
        record = Path(argv[argv.index("--record") + 1]).resolve()
        print(f"livedream demo: no display, recording the live show to {record}")
    else:
        print("livedream demo: live show fullscreen (Esc quits, space pauses, arrows switch "
              "presets/layers, O toggles the overlay)")
    code = main(argv)
    if "--headless" in argv and code == 0:
        print(record)
    return code
