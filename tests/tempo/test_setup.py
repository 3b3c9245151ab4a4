"""`livedream run`'s tempo flags: bad combinations fail at startup with one clear line; a show
with --audio, --tempo audio and --quantize runs (tiny model) and a missing sound device does not
stop it."""

from pathlib import Path

import numpy as np
import pytest

from livedream.audio.decode import write_wav
from livedream.cli import main
from livedream.models import registry
from tests.audio.clicks import click_track
from tests.tiny_model import tiny_load_model

BASE = ["run", "--headless", "--device", "cpu", "--frames", "1", "--size", "32x32",
        "--osc-port", "0"]


@pytest.mark.parametrize(("extra", "expected"), [
    (["--tempo", "midi"], "--tempo midi needs --midi-in"),
    (["--tempo", "audio"], "--tempo audio needs --audio"),
    (["--tempo", "fixed:5"], "outside allowed range"),
    (["--tempo", "ableton"], "expected one of link, midi"),
    (["--quantize-lookahead", "5000"], "--quantize-lookahead"),
    (["--audio", "a.wav", "--audio-in", "0"], "not both"),
])
def test_bad_tempo_flags_fail_at_startup(extra: list[str], expected: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(BASE + extra) == 1
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "load_model", tiny_load_model)


def test_show_runs_with_audio_tempo_and_quantize(tmp_path: Path, tiny: None,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("aubio")
    samples, _ = click_track(120.0, seconds=2.0)
    track = tmp_path / "clicks.wav"
    write_wav(track, np.stack([samples, samples]))
    argv = [*BASE[:5], "12", *BASE[6:], "--preset", "pulse", "--layer", "relu3",
            "--audio", str(track), "--tempo", "audio", "--quantize", "bar"]
    assert main(argv) == 0
    assert "12 frames" in capsys.readouterr().err


def test_missing_sound_device_logs_and_the_show_goes_on(
        tiny: None, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*BASE[:5], "3", *BASE[6:], "--layer", "relu3", "--audio-in", "no-such-device",
            "--tempo", "audio"]
    assert main(argv) == 0
    assert "the show goes on without audio" in caplog.text
    assert "3 frames" in capsys.readouterr().err
