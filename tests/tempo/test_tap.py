"""Tap tempo: median interval of a series, new series after a pause, phase set by the taps."""

import pytest

from livedream.live.clock import FakeClock
from livedream.tempo.clock import TempoClock
from livedream.tempo.tap import TapTempo, tap_into


def test_taps_give_the_bpm_and_a_sloppy_tap_does_not_throw_it() -> None:
    taps = TapTempo()
    assert taps.tap(10.0) is None
    times = [10.5, 11.0, 11.62, 12.0, 12.5]  # one tap 120 ms late
    bpms = [taps.tap(t) for t in times]
    assert bpms[0] == pytest.approx(120.0)
    assert bpms[-1] == pytest.approx(120.0)


def test_a_pause_starts_a_new_series() -> None:
    taps = TapTempo(reset_after=2.0)
    taps.tap(0.0)
    assert taps.tap(0.4) == pytest.approx(150.0)
    assert taps.tap(5.0) is None  # long pause: first tap of a new series
    assert taps.tap(5.75) == pytest.approx(80.0)


def test_tap_into_sets_the_tempo_and_the_beat() -> None:
    clock = FakeClock()
    tempo = TempoClock(120, clock=clock)
    taps = TapTempo()
    clock.advance(0.3)
    for _ in range(4):
        tap_into(tempo, taps)
        clock.advance(0.6)  # 100 BPM
    assert tempo.bpm == pytest.approx(100.0)
    clock.advance(-0.6 + 0.3)  # half a beat after the last tap
    assert tempo.read().beat_phase == pytest.approx(0.5)
