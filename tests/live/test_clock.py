"""RateMeter: events per second over a window, including rates slower than the window."""

import pytest

from livedream.live.clock import RateMeter


def test_rate_counts_events_in_window() -> None:
    meter = RateMeter(window=2.0)
    for i in range(11):
        meter.mark(i * 0.1)  # 10 intervals of 0.1 s
    assert meter.rate() == pytest.approx(10.0)


def test_rate_slower_than_window_uses_last_interval() -> None:
    meter = RateMeter(window=2.0)
    for t in (0.0, 4.5, 9.0):  # a slow CPU dream: one frame every 4.5 s
        meter.mark(t)
    assert meter.rate() == pytest.approx(1 / 4.5)
    assert meter.interval() == pytest.approx(4.5)


def test_rate_needs_two_events() -> None:
    meter = RateMeter()
    assert meter.rate() == 0.0
    meter.mark(1.0)
    assert meter.rate() == 0.0 and meter.interval() is None
