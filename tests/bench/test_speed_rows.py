"""The speed rows' own measurements (no timing asserted): the stripe metric and the run parser."""

from __future__ import annotations

import torch

from bench import __main__ as bench_main
from bench.out_of_box import _LINE
from bench.stripes import hf_energy


def test_hf_energy_sees_pixel_stripes_not_smooth_structure() -> None:
    smooth = torch.linspace(0, 1, 64).expand(1, 3, 48, 64).contiguous()
    stripes = smooth.clone()
    stripes[..., ::2] += 0.1
    assert hf_energy(smooth) < 1e-3
    assert hf_energy(stripes) > 10 * hf_energy(smooth) + 0.01
    assert abs(hf_energy(stripes * 0.5) - hf_energy(stripes)) < 1e-6  # contrast-independent


def test_out_of_the_box_row_reads_the_run_summary() -> None:
    line = ("livedream run: 57 frames, 2.85 dream fps, 0 recorded, 0 dropped, 0 commands "
            "rejected, 0 re-seeds, gov 12 fps: 1 it @0.50")
    match = _LINE.search("INFO x\n" + line + "\n")
    assert match is not None
    assert (match.group(1), match.group(3)) == ("57", "gov 12 fps: 1 it @0.50")


def test_speed_rows_are_registered() -> None:
    rows = {bench_main.ROWS[n] for n in bench_main.parse_rows("8,9,10,12,14")}
    assert rows == {"bench.out_of_box", "bench.preset_loops", "bench.precision_ab",
                    "bench.dream_scale_ab", "bench.stripes"}
