"""Tap tempo: median interval of a series, new series after a pause."""

import pytest

from livedream.tempo.tap import add_tap


def _tap_all(times: list[float]) -> list[float | None]:
    taps: tuple[float, ...] = ()
    out = []
    for t in times:
        taps, bpm = add_tap(taps, t)
        out.append(bpm)
    return out


def test_taps_give_the_bpm_and_a_sloppy_tap_does_not_throw_it() -> None:
    bpms = _tap_all([10.0, 10.5, 11.0, 11.62, 12.0, 12.5])  # one tap 120 ms late
    assert bpms[0] is None
    assert bpms[1] == pytest.approx(120.0)
    assert bpms[-1] == pytest.approx(120.0)


def test_a_pause_starts_a_new_series_and_the_window_is_bounded() -> None:
    assert _tap_all([0.0, 0.4, 5.0, 5.75]) == [None, pytest.approx(150.0), None,
                                              pytest.approx(80.0)]
    taps: tuple[float, ...] = ()
    for i in range(20):
        taps, bpm = add_tap(taps, i * 0.5)
    assert len(taps) == 7 and bpm == pytest.approx(120.0)
    assert add_tap(taps, taps[-1] - 1.0)[1] is None  # time going backwards: a new series
