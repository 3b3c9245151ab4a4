"""What every display shares: the `Display` protocol the render loop talks to, the stats it shows,
and the keyboard path (a key name such as "SPACE" ->
`livedream.control.keys` -> the command queue), so that a key injected into the headless display
takes exactly the route a key pressed in the window takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from torch import Tensor

from livedream.command_queue import CommandQueue
from livedream.commands import Command
from livedream.control.keys import key_command
from livedream.state import State


@dataclass(frozen=True)
class LoopStats:
    """A snapshot for the overlay, the bench and the tests."""

    frames: int  # dream frames produced
    dream_fps: float
    display_fps: float | None  # None when the display shows each dream frame once (headless)
    recording: bool
    recorded: int  # frames handed to recorders
    dropped: int  # frames recorders dropped (full queue)
    applied: int  # commands applied
    rejected: int  # commands rejected (logged, state kept)
    reseeds: int  # degenerate frames recovered
    errors: int  # dream-step exceptions survived
    model: str
    layers: tuple[str, ...]
    chain: tuple[str, ...]
    loading_model: str | None  # model being loaded off-thread, if any
    coalesced: int = 0  # value commands superseded in the queue before they were applied
    extra: Mapping[str, Any] | None = None  # what look filters report (e.g. the governor)


class Display(Protocol):
    """Where frames go: `HeadlessDisplay`, the pyglet `WindowDisplay`, or any output."""

    def show(self, frame: Tensor, state: State, stats: LoopStats | None = None) -> None: ...

    def set_fullscreen(self, on: bool) -> None: ...

    def display_fps(self) -> float | None: ...


def dispatch_key(queue: CommandQueue, symbol: str, modifiers: int = 0) -> Command | None:
    """Put the command bound to `symbol` on the queue; return it (None for an unbound key)."""
    command = key_command(symbol)
    if command is not None:
        queue.put(command, origin=f"key:{symbol}")
    return command
