"""`livedream run` options that pick defaults by device and precision."""

from __future__ import annotations

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


@pytest.mark.skipif(not registry.BUILTINS["vgg16"].is_installed(), reason="VGG16 not installed")
def test_run_without_size_on_cpu_records_320x180_in_bf16(tmp_path: Path) -> None:
    out = tmp_path / "show.mp4"
    argv = ["run", "--headless", "--device", "cpu", "--frames", "2", "--osc-port", "0",
            "--autocast", "bf16", "--preset", "zoom", "--record", str(out)]
    assert main(argv) == 0
    info = probe_video(out)
    assert (info.codec, info.frames, info.width, info.height) == ("h264", 2, 320, 180)


def test_bad_autocast_choice_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--autocast", "int8"])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err
