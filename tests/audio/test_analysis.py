"""The analyser on a generated 120 BPM click track: beats within 30 ms, BPM within 1."""

import numpy as np
import pytest

from livedream.audio.analysis import Analyser, analyse_clip
from livedream.audio.decode import AudioClip

from .clicks import click_track

pytest.importorskip("aubio")


def _nearest_error(events: list[float], clicks: np.ndarray) -> np.ndarray:
    return np.array([np.min(np.abs(clicks - e)) for e in events])


@pytest.mark.parametrize("bpm", [120.0, 128.0])
def test_click_track_beats_and_bpm(bpm: float) -> None:
    samples, clicks = click_track(bpm, seconds=14.0)
    track = analyse_clip(AudioClip(samples[None, :], 44100))
    assert track.bpm == pytest.approx(bpm, abs=1.0)
    assert len(track.beats) >= 8  # aubio locks on after a few seconds, then every beat
    heard = [b for b in track.beats if b <= clicks[-1] + 0.1]  # not the ones predicted after
    assert len(heard) >= len(clicks) - 6
    assert _nearest_error(heard, clicks).max() < 0.030
    onset_err = _nearest_error(track.onsets, clicks)
    assert onset_err.max() < 0.030
    assert len(track.onsets) == pytest.approx(len(clicks), abs=1)
    beat_pos = [track.beat_at(c) for c in clicks[-6:]]
    assert np.diff(beat_pos) == pytest.approx(np.ones(5), abs=0.05)  # one beat per click


def test_levels_and_pulses_follow_the_sound() -> None:
    rate = 44100
    t = np.arange(rate * 2) / rate
    bass = (0.5 * np.sin(2 * np.pi * 60 * t)).astype(np.float32)
    hiss = (0.5 * np.sin(2 * np.pi * 8000 * t)).astype(np.float32)
    an = Analyser(rate)
    feats = [an.process(bass[i:i + 512]) for i in range(0, bass.size - 511, 512)][-1]
    assert feats.bands[0] > 0.8 and feats.bands[3] < 0.1 and feats.rms > 0.8
    feats = [an.process(hiss[i:i + 512]) for i in range(0, hiss.size - 511, 512)][-1]
    assert feats.bands[3] > 0.8 and feats.bands[0] < 0.1


def test_onset_pulse_decays_and_bad_samples_are_harmless() -> None:
    samples, clicks = click_track(120.0, seconds=3.0)
    an = Analyser(44100)
    readings = [an.process(samples[i:i + 512]) for i in range(0, samples.size, 512)]
    at_click = max(r.onset for r in readings if abs(r.time - clicks[2]) < 0.05)
    between = [r.onset for r in readings if abs(r.time - (clicks[2] + 0.4)) < 0.012]
    assert at_click > 0.7 and max(between) < 0.2
    out = an.process(np.array([np.nan, np.inf, 1.0], dtype=np.float32))
    assert np.isfinite([out.rms, *out.bands]).all()
