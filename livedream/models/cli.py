"""`livedream models` (table of built-in models) and `livedream models fetch NAME` (download)."""

from __future__ import annotations

import argparse
import sys

from livedream.models import fetch, registry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`models` alone lists; `models fetch NAME [--cache-dir DIR] [--url URL]` downloads."""
    actions = parser.add_subparsers(dest="models_action", required=False, metavar="{fetch}")
    fetch = actions.add_parser(
        "fetch", help="download a model's weights into the cache dir and verify its SHA-1"
    )
    fetch.add_argument("name", help="model to download, e.g. bvlc_googlenet")
    fetch.add_argument("--cache-dir", default=None, help="default: $LIVEDREAM_CACHE or ~/.cache")
    fetch.add_argument("--url", default=None, help="mirror URL instead of the canonical one")


def format_table(rows: list[list[str]]) -> str:
    """Left-aligned columns separated by two spaces; the first row is the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    return "\n".join(lines)


def _list_models() -> int:
    infos = registry.list_models()
    rows = [["name", "installed", "default layer", "description"]]
    rows += [[m.name + (" *" if m.name == registry.DEFAULT_MODEL else ""),
              "yes" if m.installed else "no", m.default_layer, m.description] for m in infos]
    print(format_table(rows))
    print(f"\n* default model. Cache dir: {fetch.default_cache_dir()}")
    missing = [m for m in infos if not m.installed]
    for m in missing:
        print(f"install {m.name}: {m.install}")
    print("Your own Caffe model: --model path/to/deploy.prototxt --weights path/to.caffemodel")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    rf = fetch.remote_file(args.name)
    target = fetch.cached_path(args.name, args.cache_dir)
    if fetch.verify_file(target, rf.sha1):
        print(f"{args.name}: already installed at {target} (SHA-1 verified)")
        return 0
    print(f"downloading {args.url or rf.url} -> {target}", file=sys.stderr)

    def progress(done: int, total: int | None) -> None:
        if sys.stderr.isatty():
            total_text = f"/{total / 1e6:.1f}" if total else ""
            print(f"\r  {done / 1e6:.1f}{total_text} MB", end="", file=sys.stderr, flush=True)

    path = fetch.fetch_model(args.name, cache_dir=args.cache_dir, url=args.url, progress=progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"{args.name}: installed at {path} (SHA-1 {rf.sha1} verified)")
    return 0


def run(args: argparse.Namespace) -> int:
    """List models, or fetch one."""
    if getattr(args, "models_action", None) == "fetch":
        return _fetch(args)
    return _list_models()
