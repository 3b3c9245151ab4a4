"""`livedream run` refuses unusable arguments at startup with one clear line and exit code 1,
instead of a traceback or a show that silently records nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from livedream.cli import main
from livedream.command_queue import CommandQueue
from livedream.control.osc import OscControl
from livedream.errors import LivedreamError


@pytest.mark.parametrize(
    ("flag", "name", "expected"),
    [
        ("--record", "set.avi", "unknown suffix '.avi'"),
        ("--record", "missing/set.mp4", "does not exist"),
        ("--record-frames", "missing/set.gif", "does not exist"),
    ],
)
def test_unusable_record_path_fails_before_the_show_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, name: str, expected: str
) -> None:
    target = tmp_path / name
    argv = ["run", "--headless", "--device", "cpu", "--frames", "1", "--size", "32x32",
            "--osc-port", "0", flag, str(target)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"livedream run: error: {flag} {target}" in err and expected in err
    assert "Traceback" not in err
    assert not target.exists()


def test_osc_port_out_of_range_is_a_clear_error() -> None:
    with pytest.raises(LivedreamError, match="cannot listen for OSC on 127.0.0.1:99999"):
        OscControl(CommandQueue(), "127.0.0.1", 99999)
