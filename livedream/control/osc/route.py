"""`Route`: one entry of the OSC address table (`addresses.ROUTES`), and the helpers that make
the common kinds of entry (a flag of the vocabulary, a trigger, an echo on an address)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livedream.commands import FLAGS, TRIGGERS, Command, SetFlag
from livedream.control.osc.arguments import PREFIX, Args, Builder, Echo, count, trigger, truth
from livedream.state import State


# --- the routes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    """One address (or a family `param/<name>`): how it decodes, echoes and reads back.

    `path` is below `/livedream/`; a `<...>` segment matches the rest of the address.
    `value` gives the current arguments (for `/livedream/state` and OSCQuery VALUE); None for
    triggers and actions. `types` are the OSC type tags of the value (OSCQuery TYPE).
    """

    path: str
    args: str
    doc: str
    echo_doc: str
    build: Builder
    echo: Echo | None = None
    value: Callable[[State], list[Any]] | None = None
    types: str = ""

    @property
    def address(self) -> str:
        return f"{PREFIX}/{self.path}"

    @property
    def prefix(self) -> str | None:
        """`toggle/` for `toggle/<transform>`; None for a fixed address."""
        head, sep, _ = self.path.partition("<")
        return head if sep else None


def same_address(value: Callable[[State], list[Any]]) -> Echo:
    return lambda address, _command, state: [(address, value(state))]


def at(address: str, value: Callable[[State], list[Any]]) -> Echo:
    return lambda _address, _command, state: [(address, value(state))]


def flag_route(control: str, doc: str) -> Route:
    """`/livedream/<control> [i]` for a flag of the vocabulary (no argument toggles)."""
    field = FLAGS[control]

    def build(address: str, _tail: str, args: Args) -> Command:
        count(address, args, 0, 1)
        return SetFlag(field, truth(address, args[0]) if args else None)

    def value(state: State) -> list[Any]:
        return [int(getattr(state, field))]

    return Route(control, "[i]", f"{doc}; no argument toggles", "same address, `i`", build,
                 at(f"{PREFIX}/{control}", value), value, "i")


def trigger_route(name_: str, doc: str, echo_doc: str, echo: Echo | None,
                  value: Callable[[State], list[Any]] | None = None) -> Route:
    """`/livedream/<name> [x]` for a trigger of the vocabulary (`value`: what it counts)."""
    def build(address: str, _tail: str, args: Args) -> Command | None:
        return trigger(address, args, TRIGGERS[name_]())

    return Route(name_, "[x]", f"{doc} (trigger)", echo_doc, build, echo, value,
                 "i" if value is not None else "")


