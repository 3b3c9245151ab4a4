"""`livedream run` options for live input that moves, generated from the one parameter table:
`--flow`, `--gate`, `--source-realtime` and one option per FLOW_PARAMS entry
(`flow.strength` -> `--flow-strength`)."""

from __future__ import annotations

import argparse
from typing import Any

from livedream.flow.params import FLOW_FLAGS, FLOW_PARAMS
from livedream.params import Value


def option_name(name: str) -> str:
    """'source.key_level' -> '--source-key-level'."""
    return "--" + name.replace(".", "-").replace("_", "-")


def _dest(name: str) -> str:
    return "flow_param_" + name.replace(".", "_")


def add_flow_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flow switches and parameters to the `run` parser."""
    for flag, doc in FLOW_FLAGS.items():
        parser.add_argument(f"--{flag}", action="store_true", help=f"start with: {doc} "
                            f"(OSC /livedream/{flag})")
    parser.add_argument("--source-realtime", action="store_true",
                        help="play a video file --source at its own frame rate (default: one "
                        "video frame per dream frame)")
    for name, spec in FLOW_PARAMS.items():
        extra: dict[str, Any] = {"choices": spec.choices} if spec.choices else {
            "type": spec.kind}
        parser.add_argument(option_name(name), dest=_dest(name), default=None, metavar="X",
                            help=f"{spec.doc} (default {spec.default}; OSC "
                            f"/livedream/param/{name.replace('.', '/')})", **extra)


def flow_settings_from_args(args: argparse.Namespace) -> dict[str, Value]:
    """The FLOW_PARAMS values given on the command line, validated (ParamError names the
    option)."""
    values: dict[str, Value] = {}
    for name, spec in FLOW_PARAMS.items():
        raw = getattr(args, _dest(name), None)
        if raw is not None:
            values[name] = spec.validate(raw, option_name(name))
    return values
