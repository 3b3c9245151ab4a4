"""Command line: `livedream <command>`. Each command lives in its own module, imported lazily
so that `livedream models` does not pay for pyglet or PyAV imports.

A command module exposes `add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from livedream.errors import LivedreamError

#: command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "models": ("livedream.models.cli", "list built-in models (or `models fetch NAME`)"),
    "layers": ("livedream.models.cli_layers", "list a model's dreamable layers and shapes"),
    "render": ("livedream.render.cli", "render a preset offline to mp4 / gif / frames"),
    "run": ("livedream.live.cli", "the live show: window or headless, OSC/MIDI/keyboard control"),
    "presets": ("livedream.presets_cli", "list shipped presets"),
    "transforms": ("livedream.transforms.cli", "list feedback transforms and their parameters"),
    "demo": ("livedream.demo", "the main job on the default model (what `make demo` runs)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="livedream", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            p.set_defaults(_missing=True)
            continue
        module.add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if getattr(args, "_missing", False):
        print(f"livedream {args.command}: not available in this build", file=sys.stderr)
        return 2
    module = importlib.import_module(args._module)
    try:
        return int(module.run(args) or 0)
    except LivedreamError as exc:
        print(f"livedream {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `livedream models | head`: the reader left, nothing to report
        sys.stderr.close()
        return 0
