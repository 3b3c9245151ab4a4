"""Display without any GL: keeps the last frame and counts frames (tests, recording-only shows)."""

from __future__ import annotations

import numpy as np
from torch import Tensor

from livedream.command_queue import CommandQueue
from livedream.commands import Command
from livedream.live.display_base import LoopStats, dispatch_key
from livedream.record.convert import to_uint8_hwc
from livedream.state import State


class HeadlessDisplay:
    """A display that shows nothing: the last frame, a frame counter and optional kept copies.

    `keep` > 0 keeps that many most recent frames as 8-bit host copies (for tests).
    """

    def __init__(self, queue: CommandQueue | None = None, keep: int = 0) -> None:
        self.queue = queue
        self.keep = keep
        self.frames_shown = 0
        self.last_frame: Tensor | None = None
        self.last_state: State | None = None
        self.kept: list[np.ndarray] = []
        self.fullscreen = False
        self.closed = False

    def show(self, frame: Tensor, state: State, stats: LoopStats | None = None) -> None:
        """Take a new dream frame (kept as the device tensor; no readback unless `keep`)."""
        self.last_frame = frame
        self.last_state = state
        self.frames_shown += 1
        if self.keep > 0:
            self.kept.append(to_uint8_hwc(frame))
            del self.kept[: -self.keep]

    def set_fullscreen(self, on: bool) -> None:
        self.fullscreen = bool(on)

    def display_fps(self) -> float | None:
        """Headless shows every dream frame once: no separate display rate."""
        return None

    def press(self, symbol: str, modifiers: int = 0) -> Command | None:
        """Inject a key press, routed like a window key press (needs `queue`)."""
        if self.queue is None:
            raise RuntimeError("HeadlessDisplay.press needs the command queue")
        return dispatch_key(self.queue, symbol, modifiers)

    def close(self) -> None:
        self.closed = True
