"""The coalescing command queue between control adapters (any thread) and the show (one drain).

A controller's fader can send thousands of values a second; only its last position matters. Value
commands (`coalesce_key` not None) therefore keep only the latest per target between two drains,
in the arrival order of their latest; triggers (toggles, steps, reset, quit) stay in order and
count, bounded separately (`max_triggers`, extra ones are dropped and counted). Memory is bounded
by the number of targets (`max_targets`), not by the traffic.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from livedream.commands import Command, coalesce_key

if TYPE_CHECKING:
    from livedream.state import State

Reply = Callable[["State"], None]


@dataclass(frozen=True)
class Envelope:
    """A command with an optional reply callback (echo to the controller that sent it)."""

    command: Command
    reply: Reply | None = None
    origin: str = ""


class CommandQueue:
    """Thread-safe, coalescing queue; `put` never blocks, `drain` takes everything queued."""

    def __init__(self, max_triggers: int = 1024, max_targets: int = 4096) -> None:
        self.max_triggers = max_triggers
        self.max_targets = max_targets
        self._items: OrderedDict[Hashable, Envelope] = OrderedDict()
        self._triggers = 0
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self.dropped = 0  # triggers (or new targets) refused because their bound was reached
        self.coalesced = 0  # value commands superseded by a later one before a drain
        self.last_dropped: Command | None = None

    def on_put(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after every accepted put (wakes the dispatcher)."""
        self._listeners.append(listener)

    def put(self, command: Command, reply: Reply | None = None, origin: str = "") -> bool:
        """Enqueue without blocking; False when the command was dropped (bound reached)."""
        envelope = Envelope(command, reply, origin)
        key = coalesce_key(command, origin)
        with self._lock:
            if key is None:
                if self._triggers >= self.max_triggers:
                    self.dropped += 1
                    self.last_dropped = command
                    return False
                self._triggers += 1
                self._items[("trigger", next(self._seq))] = envelope
            elif key in self._items:
                self.coalesced += 1
                del self._items[key]  # re-inserted at the end: arrival order of the latest
                self._items[key] = envelope
            elif len(self._items) - self._triggers >= self.max_targets:
                self.dropped += 1
                self.last_dropped = command
                return False
            else:
                self._items[key] = envelope
        for listener in self._listeners:
            listener()
        return True

    def drain(self, limit: int | None = None) -> list[Envelope]:
        """Everything queued so far (at most `limit`), oldest first."""
        with self._lock:
            if limit is None or limit >= len(self._items):
                items, self._items = list(self._items.items()), OrderedDict()
                self._triggers = 0
            else:
                items = [self._items.popitem(last=False) for _ in range(limit)]
                self._triggers -= sum(1 for key, _ in items if key[0] == "trigger")
        return [envelope for _, envelope in items]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
