"""The show's live source as the render loop reads it: a frame to seed the buffer from, or this
frame's sample (frame + optical flow) when the blend, the flow warp or a key needs one. A read
that fails is logged (rate-limited: it can repeat every frame) and the frame goes on without
the source: a camera unplugged mid-show does not stop the dream."""

from __future__ import annotations

import logging

import torch
from torch import Tensor

from livedream.control.ratelimit import RateLimitedLog
from livedream.errors import LivedreamError
from livedream.flow.params import FlowSettings
from livedream.sources import Source
from livedream.state import State
from livedream.threaded_source import SourceSample, ThreadedSource, take_sample


class LiveInput:
    """Reads `source` (None: no live input) onto `device` for the render loop."""

    def __init__(self, source: Source | ThreadedSource | None, device: torch.device,
                 limiter: RateLimitedLog) -> None:
        self.source = source
        self.device = device
        self._limiter = limiter

    def frame(self) -> Tensor | None:
        """One frame to seed the buffer from, or None (no source, or it failed)."""
        if self.source is None:
            return None
        try:
            frame = self.source.read()
        except (LivedreamError, OSError, RuntimeError) as exc:
            self._limiter.log("source", f"source read failed: {exc}", logging.WARNING)
            return None
        return frame.to(device=self.device, dtype=torch.float32)

    def sample(self, state: State, settings: FlowSettings) -> SourceSample | None:
        """This frame's sample (frame + flow) when the blend, flow or a key needs it."""
        if self.source is None or not (state.source_mix > 0 or settings.active):
            return None
        try:
            return take_sample(self.source, self.device, settings.needs_flow, settings.flow_scale)
        except (LivedreamError, OSError, RuntimeError) as exc:
            self._limiter.log("source", f"source read failed: {exc}", logging.WARNING)
            return None
