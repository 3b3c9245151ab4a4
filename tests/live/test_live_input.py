"""The loop's live input: samples only when something uses them; a failing source is logged
and skipped (the dream goes on without it)."""

from __future__ import annotations

import logging
from dataclasses import replace

import torch

from livedream.control.ratelimit import RateLimitedLog
from livedream.errors import LivedreamError
from livedream.flow.params import FlowSettings
from livedream.live.live_input import LiveInput
from livedream.look import Look
from livedream.state import State

log = logging.getLogger("test_live_input")


class FrameSource:
    def __init__(self, fail: bool = False) -> None:
        self.fail, self.reads = fail, 0

    def read(self) -> torch.Tensor:
        self.reads += 1
        if self.fail:
            raise LivedreamError("camera unplugged")
        return torch.full((1, 3, 4, 6), 0.5, dtype=torch.float64)


def _input(source) -> LiveInput:
    return LiveInput(source, torch.device("cpu"), RateLimitedLog(log, 5.0))


def test_seed_frame_comes_from_the_source_as_float32():
    frame = _input(FrameSource()).frame()
    assert frame is not None and frame.dtype == torch.float32 and frame.shape == (1, 3, 4, 6)
    assert _input(None).frame() is None


def test_a_sample_is_read_only_when_the_blend_or_flow_needs_it():
    source = FrameSource()
    live = _input(source)
    state = State(look=Look())
    assert live.sample(state, FlowSettings()) is None and source.reads == 0
    sample = live.sample(replace(state, source_mix=0.3), FlowSettings())
    assert sample is not None and sample.flow is None and source.reads == 1


def test_a_failing_source_is_logged_and_the_frame_goes_on(caplog):
    live = _input(FrameSource(fail=True))
    with caplog.at_level(logging.WARNING):
        assert live.frame() is None
        assert live.sample(replace(State(look=Look()), source_mix=1.0), FlowSettings()) is None
    assert "source read failed: camera unplugged" in caplog.text
    assert caplog.text.count("camera unplugged") == 1  # rate-limited: once per 5 s
