"""The benchmark suite end to end at a tiny size (64x48, one sample): every row prints a line
with numbers and the JSON file is valid. No timing is asserted; only that the measurements are
made, are finite and hang together (ratios equal the quotients they are made of)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from bench import __main__ as bench_main
from bench.common import Timing, format_table, interleave, parse_size
from bench.seed_loop import seed_zoom

ROW_KEYS = {
    1: ("steps_s", "ms_step", "gflop_step", "gflop_s", "of_peak"),
    2: ("gflop_s",),
    3: ("loop_fps", "bare_fps", "efficiency"),
    4: ("seed_fps", "ours_fps", "ratio"),
    5: ("frames", "ms_mean", "frame_ms"),
    6: ("window_fps", "display_fps", "dream_fps"),
    7: ("peak_rss_mb",),
    11: ("ms_per_frame", "max_fps", "readbacks_per_frame"),
    13: ("flow_ms", "warp_ms", "frame_ms"),
}
#: Rows smoked here; the speed rows 8-12 (seconds-long shows, every preset, both models) are not
#: (their measurements are tested in test_speed_rows.py).
SMOKE_ROWS = sorted(ROW_KEYS)


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "results.json"
    args = ["--quick", "--rows", ",".join(map(str, SMOKE_ROWS)), "--sizes", "64x48",
            "--repeat", "1", "--frames", "1", "--layers", "conv3_3,conv5_3", "--json", str(out)]
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        code = bench_main.main(args)
    return code, buf.getvalue(), json.loads(out.read_text())


def _finite_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def test_every_row_prints_and_writes_numbers(bench_run):
    code, text, data = bench_run
    assert code == 0, text
    assert data["config"]["sizes"] == ["64x48"] and data["machine"]["torch"] == torch.__version__
    by_row: dict[int, list[dict]] = {}
    for record in data["results"]:
        by_row.setdefault(record["row"], []).append(record)
    assert sorted(by_row) == SMOKE_ROWS
    for row, keys in ROW_KEYS.items():
        records = by_row[row]
        if row == 6 and records[0]["metrics"].get("skipped"):
            assert records[0]["note"].startswith("skipped:")
            continue
        for key in keys:
            assert _finite_number(records[0]["metrics"][key]), (row, key, records[0])
            assert records[0]["metrics"][key] > 0, (row, key)
        # the printed table has a line for this row's case
        assert any(line.split()[:1] == [str(row)] and records[0]["case"] in line
                   for line in text.splitlines()), (row, text)


def test_rows_hang_together(bench_run):
    _, _, data = bench_run
    rec = {(r["row"], r["case"]): r["metrics"] for r in data["results"]}
    step = rec[(1, "64x48 conv5_3")]
    assert step["steps_s"] == pytest.approx(1000.0 / step["ms_step"])
    assert step["gflop_s"] == pytest.approx(step["gflop_step"] * step["steps_s"])
    # deeper layer = more FLOPs per step (the net stops after the layer asked for)
    assert step["gflop_step"] > rec[(1, "64x48 conv3_3")]["gflop_step"]
    peak = max(rec[(2, f"256->256 3x3 160x90 {fmt}")]["gflop_s"] for fmt in ("NCHW", "NHWC"))
    assert step["of_peak"] == pytest.approx(step["gflop_s"] / peak)
    loop = rec[(3, "64x48 zoom")]
    assert loop["efficiency"] == pytest.approx(loop["loop_fps"] / loop["bare_fps"])
    assert loop["recorded"] == 2 and loop["dropped"] == 0  # warm-up + one sample, all in the mp4
    seed = rec[(4, "64x48 zoom")]
    assert seed["ratio"] == pytest.approx(seed["ours_fps"] / seed["seed_fps"])
    latency = rec[(5, "64x48 OSC loopback")]
    assert latency["frames"] in (1, 2)  # applied at the start of the next frame


def test_flops_of_one_step_match_hand_count():
    """FLOPs torch counts for a dream step at conv1_1 = forward conv + its input gradient."""
    from bench.common import count_flops
    from livedream.dream import dream_step
    from livedream.look import DreamSettings
    from livedream.models.registry import load_model

    model = load_model("vgg16")
    frame = torch.rand(1, 3, 40, 48)
    flops = count_flops(lambda: dream_step(model, frame, ["conv1_1"], DreamSettings(jitter=0)))
    conv = 2 * 40 * 48 * 64 * 3 * 9  # multiply-adds x 2 for one 3x3 conv, 3 -> 64 channels
    assert flops == 2 * conv  # forward + input gradient, no weight gradient (frozen)


def test_seed_zoom_matches_livedream_zoom():
    """Row 4 compares like with like: the notebook's scipy zoom = livedream's zoom transform."""
    from livedream.transforms import apply_chain
    from livedream.transforms.registry import make_link

    gen = torch.Generator().manual_seed(3)
    frame = torch.rand(1, 3, 36, 52, generator=gen)
    ours = apply_chain(frame, (make_link("zoom", {"scale": 0.05}),))[0].permute(1, 2, 0).numpy()
    theirs = seed_zoom(frame[0].permute(1, 2, 0).numpy().astype(np.float64), 0.05)
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_helpers():
    assert parse_size("640x360") == (640, 360)
    with pytest.raises(ValueError, match="WIDTHxHEIGHT"):
        parse_size("640*360")
    with pytest.raises(ValueError, match="32 px"):
        parse_size("16x16")
    calls: list[str] = []
    ta, tb = interleave(lambda: calls.append("a"), lambda: calls.append("b"), 3,
                        torch.device("cpu"))
    assert calls == ["a", "b"] * 4 and len(ta.samples) == len(tb.samples) == 3
    timing = Timing((1.0, 2.0, 4.0))
    assert timing.median == 2.0 and timing.best == 1.0 and timing.spread == 1.5
    from bench.common import Result

    table = format_table([Result(3, "live loop efficiency", "320x180 zoom", {"efficiency": 0.95})])
    assert "efficiency=0.95" in table


def test_bad_options_exit_with_a_message():
    with pytest.raises(SystemExit, match="valid rows"):
        bench_main.parse_rows("0,9")
    with pytest.raises(SystemExit, match="--sizes"):
        bench_main.make_context(bench_main.parse_args(["--sizes", "big"]))
