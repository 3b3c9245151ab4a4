"""TempoClock: beat and bar phase from BPM, tempo changes without jumps, resync, follow."""

import pytest

from livedream.errors import ParamError
from livedream.live.clock import FakeClock
from livedream.tempo.clock import TempoClock, parse_tempo


def test_beat_and_bar_phase_follow_bpm() -> None:
    clock = FakeClock()
    tempo = TempoClock(120, beats_per_bar=4, clock=clock)
    clock.advance(1.25)  # 2.5 beats at 120 BPM
    state = tempo.read()
    assert state.beat == pytest.approx(2.5)
    assert state.beat_phase == pytest.approx(0.5)
    assert state.bar_phase == pytest.approx(2.5 / 4)
    assert state.beat_in_bar == 3
    clock.advance(1.0)  # beat 4.5: second bar
    assert tempo.read().bar == 1


def test_set_bpm_keeps_the_beat_continuous() -> None:
    clock = FakeClock()
    tempo = TempoClock(120, clock=clock)
    clock.advance(1.0)
    before = tempo.beat()
    tempo.set_bpm(60)
    assert tempo.beat() == pytest.approx(before)
    clock.advance(1.0)
    assert tempo.beat() == pytest.approx(before + 1.0)
    assert tempo.time_of_beat(before + 2) == pytest.approx(clock.now() + 1.0)


def test_set_bpm_tells_listeners_unless_only_reported() -> None:
    tempo = TempoClock(120, clock=FakeClock())
    heard: list[float] = []
    tempo.listeners.append(heard.append)
    tempo.set_bpm(128)
    tempo.set_bpm(100, propose=False)
    assert heard == [128.0]


def test_resync_puts_a_downbeat_now_and_follow_sets_beat() -> None:
    clock = FakeClock()
    tempo = TempoClock(120, beats_per_bar=4, clock=clock)
    clock.advance(3.3)  # beat 6.6
    tempo.resync()
    assert tempo.read().bar_phase == pytest.approx(0.0)
    tempo.follow(10.25, bpm=133)
    state = tempo.read()
    assert (state.beat, state.bpm) == (pytest.approx(10.25), 133)


def test_stopped_clock_holds_the_beat() -> None:
    clock = FakeClock()
    tempo = TempoClock(120, clock=clock)
    clock.advance(0.5)
    tempo.set_running(False)
    clock.advance(5)
    assert tempo.beat() == pytest.approx(1.0)
    tempo.set_running(True)
    clock.advance(0.5)
    assert tempo.beat() == pytest.approx(2.0)


def test_parse_tempo_and_bad_values() -> None:
    assert parse_tempo("fixed:128") == ("fixed", 128.0)
    assert parse_tempo("fixed") == ("fixed", 120.0)
    assert parse_tempo("LINK") == ("link", None)
    for bad in ("fixed:abc", "fixed:5", "link:120", "ableton"):
        with pytest.raises(ParamError):
            parse_tempo(bad)
    with pytest.raises(ParamError):
        TempoClock(0)
    with pytest.raises(ParamError):
        TempoClock(120, beats_per_bar=0)
