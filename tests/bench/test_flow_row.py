"""Bench row 13 (flow) with the tiny model: the measurements are made and hang together."""

from __future__ import annotations

import math
from pathlib import Path

from bench.common import BenchContext
from bench.flow import efficiency, flow_cost
from livedream.look import DreamSettings, Look
from tests.tiny_model import TinyDreamModel


def test_flow_row_measures_cost_and_efficiency(tmp_path: Path) -> None:
    ctx = BenchContext(sizes=[(64, 48)], repeat=1, loop_frames=2)
    ctx._model = TinyDreamModel()
    cost = flow_cost(ctx, (64, 48))
    assert cost.row == 13 and cost.case.startswith("64x48")
    m = cost.metrics
    assert all(math.isfinite(m[k]) and m[k] > 0 for k in ("flow_ms", "warp_ms"))
    assert m["frame_ms"] == m["flow_ms"] + m["warp_ms"]
    look = Look(layers=("relu2",), dream=DreamSettings(iterations=1), chain=(), name="tiny")
    eff = efficiency(ctx, (64, 48), tmp_path, look)
    e = eff.metrics
    assert e["efficiency"] == e["loop_fps"] / e["bare_fps"]
    assert e["ok"] == (e["efficiency"] >= e["target"])
    assert e["warped"] >= 1  # the flow pipeline really warped by a fresh flow field
