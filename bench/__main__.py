"""`python -m bench [--sizes 320x180,640x360,1280x720] [--repeat N] [--quick] [--rows 1,3]
[--json bench/results.json]`: run the rows in one process, print the table, write the JSON."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path

import torch

from bench.common import (
    DEFAULT_PRESET,
    DEFAULT_SIZES,
    STANDARD_LAYERS,
    BenchContext,
    Result,
    format_table,
    machine_info,
    parse_size,
    write_json,
)

ROWS: dict[int, str] = {
    1: "bench.dream_rate",
    2: "bench.conv_peak",
    3: "bench.live_loop",
    4: "bench.seed_loop",
    5: "bench.control_latency",
    6: "bench.display",
    7: "bench.memory",
    8: "bench.out_of_box",
    9: "bench.preset_loops",
    10: "bench.precision_ab",
    11: "bench.outputs",
    12: "bench.stripes",
    13: "bench.flow",  # issue 13: live input that moves
    14: "bench.dream_scale_ab",
}
QUICK_SIZES = ((320, 180),)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--sizes", help="comma-separated WxH (default 320x180,640x360,1280x720; "
                   "--quick: 320x180)")
    p.add_argument("--repeat", type=int, help="timed samples per measurement (default 3; quick 2)")
    p.add_argument("--quick", action="store_true", help="small sizes and few samples (~3 min)")
    p.add_argument("--rows", default=",".join(map(str, ROWS)),
                   help="which rows to run, e.g. 1,2")
    p.add_argument("--layers", default=",".join(STANDARD_LAYERS), help="row 1 layers")
    p.add_argument("--preset", default=DEFAULT_PRESET, help="preset for rows 3-6")
    p.add_argument("--frames", type=int, help="frames per sample in rows 3-4 (default 3; quick 1)")
    p.add_argument("--device", default="auto", help="cpu, cuda, ... (default: cuda if present)")
    p.add_argument("--json", default="bench/results.json", help="where to write the results")
    return p.parse_args(argv)


def make_context(args: argparse.Namespace) -> BenchContext:
    from livedream.device import pick_device

    try:
        sizes = ([parse_size(s) for s in args.sizes.split(",")] if args.sizes
                 else list(QUICK_SIZES if args.quick else DEFAULT_SIZES))
    except ValueError as exc:
        raise SystemExit(f"--sizes: {exc}") from None
    repeat = args.repeat if args.repeat is not None else (2 if args.quick else 3)
    frames = args.frames if args.frames is not None else (1 if args.quick else 3)
    if repeat < 1 or frames < 1:
        raise SystemExit("--repeat and --frames must be at least 1")
    return BenchContext(sizes=sizes, repeat=repeat, quick=args.quick,
                        device=pick_device(args.device),
                        layers=tuple(x for x in args.layers.split(",") if x),
                        preset=args.preset, loop_frames=frames)


def parse_rows(text: str) -> list[int]:
    try:
        rows = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise SystemExit(f"--rows {text!r}: expected row numbers, e.g. 1,3") from None
    bad = [r for r in rows if r not in ROWS]
    if bad or not rows:
        raise SystemExit(f"--rows {text!r}: valid rows are {', '.join(map(str, ROWS))}")
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    ctx = make_context(args)
    rows = parse_rows(args.rows)
    info = machine_info(ctx.device)
    print(f"livedream bench on {info['cpu']} ({info['cpu_count']} cpus, torch {info['torch']}, "
          f"{info['torch_threads']} threads, device {info['device']}), load {info['load_average']}",
          flush=True)
    start = time.perf_counter()
    results: list[Result] = []
    failed = 0
    for row in rows:
        t0 = time.perf_counter()
        try:
            row_results = importlib.import_module(ROWS[row]).run(ctx)
        except Exception as exc:  # one broken row must not lose the others
            failed += 1
            traceback.print_exc()
            row_results = [Result(row, ROWS[row].split(".")[1], "error", {"error": True},
                                  note=f"{type(exc).__name__}: {exc}"[:200])]
        ctx.results[row] = row_results
        results.extend(row_results)
        print(f"  row {row} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - start
    print(format_table(results))
    print(f"total {elapsed:.1f} s")
    write_json(Path(args.json), ctx, results, elapsed, argv)
    print(f"wrote {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    torch.set_grad_enabled(True)
    raise SystemExit(main())
