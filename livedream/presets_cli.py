"""`livedream presets`: list the presets (name, model, layers, chain, description)."""

from __future__ import annotations

import argparse
import textwrap


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="show one preset in full")


def _chain_text(preset: object) -> str:
    links = preset.look.chain  # type: ignore[attr-defined]
    return " -> ".join(
        link.name + (f"({', '.join(f'{k}={v}' for k, v in link.params.items())})"
                     if link.params else "")
        for link in links
    ) or "(none)"


def run(args: argparse.Namespace) -> int:
    from livedream.presets import list_presets, load_preset, open_preset, presets_dirs

    if args.name:
        preset = open_preset(args.name, allow_paths=True)
        look = preset.look
        print(f"{preset.name}  ({preset.path})")
        print(textwrap.fill(preset.description, 96, initial_indent="  ", subsequent_indent="  "))
        print(f"  model: {look.model}" + (f"  weights: {look.weights}" if look.weights else ""))
        print(f"  layers: {', '.join(look.layers)}   seed: {preset.seed}")
        print("  dream: " + ", ".join(f"{k}={v}" for k, v in vars(look.dream).items()))
        print(f"  chain: {_chain_text(preset)}")
        return 0
    found = list_presets()
    if not found:
        print("no presets in " + ", ".join(str(d) for d in presets_dirs()))
        return 1
    width = max(len(name) for name in found)
    for name, path in found.items():
        preset = load_preset(path)
        summary = f"{preset.look.model}:{','.join(preset.look.layers)}  {_chain_text(preset)}"
        print(f"{name:<{width}}  {summary}")
    return 0
