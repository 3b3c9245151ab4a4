"""`livedream run --headless --source moving.mp4 --flow --record out.mp4` runs and records; the
flow options reach the show's state (tiny model stands in for VGG16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from livedream.cli import build_parser, main
from livedream.flow.clip import MovingSquare, write_moving_video
from livedream.live.cli import _initial_state
from livedream.record import probe_video
from livedream.state import setting
from tests.tiny_model import tiny_load_model

CLIP = MovingSquare(size=(128, 96), side=32, x0=8, y0=32, step=3, frames=10)


def test_flow_options_set_the_initial_state() -> None:
    args = build_parser().parse_args(
        ["run", "--flow", "--gate", "--flow-strength", "0.8", "--gate-decay", "0.5",
         "--source-key", "luma"])
    state, _ = _initial_state(args)
    assert state.flow and state.gate
    assert setting(state, "flow.strength") == 0.8 and setting(state, "gate.decay") == 0.5
    assert setting(state, "source.key") == "luma" and setting(state, "flow.scale") == 0.5
    state, _ = _initial_state(build_parser().parse_args(["run"]))
    assert not state.flow and not state.gate and dict(state.settings) == {}


def test_headless_run_with_flow_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from livedream.models import registry

    monkeypatch.setattr(registry, "load_model", tiny_load_model)
    video = write_moving_video(tmp_path / "moving.mp4", CLIP)
    out = tmp_path / "out.mp4"
    argv = ["run", "--headless", "--device", "cpu", "--frames", "4", "--osc-port", "0",
            "--size", "128x96", "--layer", "relu2", "--preset", "camera-flow",
            "--source", str(video), "--flow", "--gate", "--record-source", "dream",
            "--record", str(out), "--record-timing", "frames"]
    assert main(argv) == 0
    info = probe_video(out)
    assert (info.frames, info.width, info.height) == (4, 128, 96)
    assert main([*argv[:-6], "--flow-strength", "5"]) != 0
    assert "--flow-strength" in capsys.readouterr().err
