"""`livedream run` options that pick defaults by device and precision."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from livedream.cli import main
from livedream.device import AUTOCAST_DTYPES, default_frame_size
from livedream.models import registry
from livedream.record import probe_video


def test_default_frame_size_follows_the_device() -> None:
    assert default_frame_size(torch.device("cpu")) == (320, 180)
    assert default_frame_size(torch.device("cuda")) == (1280, 720)
    assert AUTOCAST_DTYPES["bf16"] is torch.bfloat16 and AUTOCAST_DTYPES["off"] is None


def test_a_preset_switches_its_show_settings_on_unless_the_command_line_says_otherwise() -> None:
    from livedream.cli import build_parser
    from livedream.live.cli import _initial_state

    args = build_parser().parse_args(["run", "--headless", "--preset", "camera-still"])
    state, _ = _initial_state(args)
    assert (state.flow, state.gate, state.source_mix) == (True, True, 0.05)
    args = build_parser().parse_args(["run", "--headless", "--preset", "camera-still",
                                      "--source-mix", "0.5", "--flow-strength", "0.3"])
    state, _ = _initial_state(args)
    assert state.source_mix == 0.5 and state.settings["flow.strength"] == 0.3


@pytest.mark.skipif(not registry.BUILTINS["vgg16"].is_installed(), reason="VGG16 not installed")
def test_run_without_size_on_cpu_records_320x180_in_bf16(tmp_path: Path) -> None:
    out = tmp_path / "show.mp4"
    argv = ["run", "--headless", "--device", "cpu", "--frames", "2", "--osc-port", "0",
            "--autocast", "bf16", "--preset", "zoom", "--record", str(out),
            "--record-source", "dream"]
    assert main(argv) == 0
    info = probe_video(out)
    assert (info.codec, info.frames, info.width, info.height) == ("h264", 2, 320, 180)


def test_bad_autocast_choice_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--autocast", "int8"])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_run_without_preset_starts_from_the_default_preset() -> None:
    from livedream.cli import build_parser
    from livedream.live.cli import _initial_state
    from livedream.presets import DEFAULT_PRESET, find_preset, load_preset

    args = build_parser().parse_args(["run", "--headless"])
    state, _ = _initial_state(args)
    assert state.preset == DEFAULT_PRESET
    assert state.look == load_preset(find_preset(DEFAULT_PRESET)).look
    args = build_parser().parse_args(["run", "--model", "inception_v3"])
    state, _ = _initial_state(args)  # --model keeps the preset's chain, swaps model and layer
    assert state.look.model == "inception_v3" and state.look.layers == ("mixed_6c",)
    assert state.look.chain == load_preset(find_preset(DEFAULT_PRESET)).look.chain


@pytest.mark.skipif(not registry.BUILTINS["vgg16"].is_installed(), reason="VGG16 not installed")
def test_recording_keeps_the_show_timing_unless_asked_for_a_time_lapse(tmp_path: Path) -> None:
    from tests.record.helpers import frame_times

    base = ["run", "--headless", "--device", "cpu", "--frames", "4", "--osc-port", "0",
            "--size", "160x96", "--preset", "zoom", "--record-source", "dream"]
    live, lapse = tmp_path / "live.mp4", tmp_path / "lapse.mp4"
    assert main([*base, "--record", str(live)]) == 0
    assert main([*base, "--record", str(lapse), "--record-timing", "frames"]) == 0
    assert frame_times(lapse) == pytest.approx([0, 1 / 30, 2 / 30, 3 / 30], abs=1e-3)
    times = frame_times(live)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # a VGG16 dream frame takes longer than one 1/30 s tick: the real gaps are kept (on average:
    # the governor may make one frame much faster than the others), never under one tick
    assert len(times) == 4 and min(gaps) >= 1 / 30 - 1e-3
    assert times[-1] - times[0] > 3 * 1.5 / 30, times


def _speed_of(*flags: str, preset_precision: str | None = None,
              flags_cpu: frozenset[str] = frozenset({"amx_bf16"}),
              monkeypatch: pytest.MonkeyPatch):
    from livedream import device as device_mod
    from livedream.cli import build_parser
    from livedream.live import cli
    from livedream.presets import DEFAULT_PRESET, open_preset

    monkeypatch.setattr(device_mod, "cpu_flags", lambda: flags_cpu)
    if preset_precision is not None:
        preset = replace(open_preset(DEFAULT_PRESET), precision=preset_precision)
        monkeypatch.setattr(cli, "_start_preset", lambda args: preset)
    args = build_parser().parse_args(["run", *flags])
    state, _ = cli._initial_state(args)
    return cli._speed(args, torch.device("cpu"), state)


def test_out_of_the_box_speed_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No flags on an AMX CPU: bf16, the 12 fps budget bounded by the preset's iterations."""
    autocast, governor, dream_fn = _speed_of(monkeypatch=monkeypatch)
    assert autocast is torch.bfloat16
    report = governor.report()
    assert report["target_fps"] == 12 and report["dream_scale"] == 1.0
    assert report["iterations"] == 3  # vertical-stretch's
    assert dream_fn.scale() == 1.0
    autocast, _, _ = _speed_of(monkeypatch=monkeypatch, flags_cpu=frozenset({"avx2"}))
    assert autocast is None


def test_turn_one_flags_and_the_autocast_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    autocast, governor, dream_fn = _speed_of("--precision", "fp32", "--target-fps", "0",
                                             "--dream-scale", "0.5", monkeypatch=monkeypatch)
    assert autocast is None and governor.report()["governor"] == "gov off"
    assert dream_fn.scale() == 0.5
    assert _speed_of("--autocast", "off", monkeypatch=monkeypatch)[0] is None
    assert _speed_of("--autocast", "fp16", monkeypatch=monkeypatch)[0] is torch.float16
    # a preset's precision applies when the command line does not choose
    assert _speed_of(preset_precision="fp32", monkeypatch=monkeypatch)[0] is None
    assert _speed_of("--precision", "auto", preset_precision="fp32",
                     monkeypatch=monkeypatch)[0] is torch.bfloat16


@pytest.mark.parametrize(("flags", "message"), [
    (["--target-fps", "-1"], "--target-fps"),
    (["--dream-scale", "0.1"], "--dream-scale"),
])
def test_bad_speed_flags_are_clear_errors(flags: list[str], message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--headless", "--osc-port", "0", *flags]) != 0
    assert message in capsys.readouterr().err


def test_bad_precision_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--precision", "int8"])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err
