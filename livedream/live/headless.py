"""Display without any GL: keeps the last frame and counts frames (tests, recording-only shows).

Also holds the pieces every display shares: the one readback of a device frame to 8-bit RGB, and
the keyboard path (a key name such as "SPACE" -> `livedream.control.keys` -> the command queue),
so that a key injected here takes exactly the route a key pressed in the window takes.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from torch import Tensor

from livedream.command_queue import CommandQueue
from livedream.commands import Command
from livedream.state import State

log = logging.getLogger(__name__)

def key_command(symbol: str, modifiers: int = 0) -> Command | None:
    """The command bound to a pyglet key symbol name ("SPACE", "LEFT", "_1"...), or None."""
    from livedream.control.keys import key_command as lookup

    return lookup(symbol)


def dispatch_key(queue: CommandQueue, symbol: str, modifiers: int = 0) -> Command | None:
    """Put the command bound to `symbol` on the queue; return it (None for an unbound key)."""
    command = key_command(symbol, modifiers)
    if command is not None:
        queue.put(command, origin=f"key:{symbol}")
    return command


def frame_to_rgb8(frame: Tensor) -> np.ndarray:
    """The single readback: first image of a [B,3,H,W] [0,1] frame -> HxWx3 uint8 (C-contiguous).

    Quantisation happens on the frame's device, so only W*H*3 bytes cross to the host.
    """
    img = frame[0] if frame.ndim == 4 else frame
    img = (img.detach().float().clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8)
    return np.ascontiguousarray(img.permute(1, 2, 0).cpu().numpy())


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

    def show(self, frame: Tensor, state: State, stats: Any = None) -> None:
        """Take a new dream frame (kept as the device tensor; no readback unless `keep`)."""
        self.last_frame = frame
        self.last_state = state
        self.frames_shown += 1
        if self.keep > 0:
            self.kept.append(frame_to_rgb8(frame))
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
