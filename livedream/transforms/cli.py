"""`livedream transforms [NAME...]`: list feedback transforms, their docs and parameters."""

from __future__ import annotations

import argparse

from livedream.params import Param
from livedream.transforms.registry import get_transform, transform_names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help="only these transforms")


def describe_param(name: str, param: Param) -> str:
    """One line: name, default, allowed values, doc."""
    if param.kind is bool:
        allowed = "true/false"
    elif param.choices is not None:
        allowed = " | ".join(param.choices)
    else:
        allowed = f"[{_number(param.lo)}, {_number(param.hi)}]"
    default = str(param.default).lower() if param.kind is bool else _number(param.default)
    return f"    {name:<10} = {default:<9} {allowed:<24} {param.doc}".rstrip()


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def format_transforms(names: list[str] | None = None) -> str:
    """Text listing of the given (default: all) transforms; unknown names raise UnknownNameError."""
    lines: list[str] = []
    for name in names or transform_names():
        spec = get_transform(name)
        lines.append(f"{spec.name:<14} {spec.doc}")
        lines.extend(describe_param(key, param) for key, param in spec.params.items())
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    print(format_transforms(list(args.names)))
    return 0
