"""Live audio: a track analysed in step with a fake clock drives a tempo; no device = error."""

import numpy as np
import pytest

from livedream.audio.decode import AudioClip, load_clip, write_wav
from livedream.audio.live import DeviceInput, FilePlayer, open_audio
from livedream.errors import LivedreamError
from livedream.live.clock import FakeClock
from livedream.tempo.clock import TempoClock

from .clicks import click_track

pytest.importorskip("aubio")


def test_file_decodes_and_plays_in_step_with_the_clock(tmp_path) -> None:
    samples, clicks = click_track(120.0, seconds=10.0)
    path = tmp_path / "clicks.wav"
    write_wav(path, np.stack([samples, samples]))
    clip = load_clip(path)
    assert clip.channels == 2 and clip.duration == pytest.approx(10.0, abs=1e-3)
    clock = FakeClock()
    tempo = TempoClock(90, clock=clock, source="audio")
    player = FilePlayer(path, clock=clock, tempo=tempo)
    clock.advance(0.5)
    player.pump()
    assert player.analyser.time == pytest.approx(0.5, abs=0.012)  # no faster than real time
    for _ in range(95):
        clock.advance(0.1)
        player.pump()
    assert tempo.bpm == pytest.approx(120.0, abs=1.0)
    phase = tempo.read(clicks[-1]).beat_phase  # the clicks fall on whole beats
    assert min(phase, 1 - phase) < 0.06
    clock.advance(2.0)
    player.pump()
    assert player.finished and player.latest().rms == 0.0  # silence after the end


def test_bad_files_are_clear_errors(tmp_path) -> None:
    with pytest.raises(LivedreamError, match="cannot read audio"):
        load_clip(tmp_path / "missing.wav")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    with pytest.raises(LivedreamError):
        load_clip(junk)


def test_missing_sound_device_is_a_clear_error() -> None:
    with pytest.raises(LivedreamError, match="audio-in"):
        DeviceInput("no such device 42")
    assert open_audio() is None


def test_player_accepts_a_clip() -> None:
    clip = AudioClip(np.zeros((1, 44100), np.float32), 44100)
    clock = FakeClock()
    player = FilePlayer(clip, clock=clock)
    clock.advance(2.0)
    player.pump()
    assert player.finished
