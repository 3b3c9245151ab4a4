"""OSC argument checks and the builders most addresses share: OSC arguments arrive untyped, so
each is checked (count, finite number, truth, name, plain file name) with an `OscError` naming the
address and what was wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from livedream.commands import Command
from livedream.control.osc.wire import Message, OscError
from livedream.state import State

PREFIX = "/livedream"
MAX_NAME = 200
MAX_LIST = 32
NAME = re.compile(r"[A-Za-z0-9_]+")  # a transform name in an address
_PLAIN_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")

Args = Sequence[Any]
#: (full address, the part after the route's prefix for pattern routes, args) -> command or None
Builder = Callable[[str, str, Args], Command | None]
#: (full address, command, state after it) -> echo messages
Echo = Callable[[str, Command, State], list[Message]]


# --- argument checks ----------------------------------------------------------------------------
def count(address: str, args: Args, lo: int, hi: int) -> None:
    if not lo <= len(args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise OscError("wrong argument count",
                       f"{address}: expected {want} argument(s), got {len(args)}")


def number(address: str, arg: Any) -> float | int:
    if isinstance(arg, bool) or not isinstance(arg, int | float):
        raise OscError("wrong argument type", f"{address}: expected a number, got {arg!r}")
    if not math.isfinite(arg):
        raise OscError("non-finite number", f"{address}: expected a finite number, got {arg!r}")
    return arg


def truth(address: str, arg: Any) -> bool:
    return arg if isinstance(arg, bool) else number(address, arg) != 0


def name(address: str, arg: Any, what: str) -> str:
    if not isinstance(arg, str):
        raise OscError("wrong argument type", f"{address}: expected a {what} name, got {arg!r}")
    if not arg or len(arg) > MAX_NAME:
        raise OscError("bad value", f"{address}: {what} name must be 1..{MAX_NAME} characters")
    return arg


def plain_file(address: str, arg: Any, what: str) -> str:
    text = name(address, arg, what)
    if not _PLAIN_FILE.fullmatch(text) or ".." in text or text.lower().endswith(".prototxt"):
        raise OscError("bad value", f"{address}: {what} must be a plain name (no paths or "
                       f".prototxt over OSC; load Caffe models with --model), got {text!r}")
    return text


def trigger(address: str, args: Args, command: Command) -> Command | None:
    """Trigger addresses fire with no argument, a nil/impulse (`N`/`I`, what OSCQuery clients send
    for TYPE `N`) or a non-zero one (button press), not on release (0)."""
    count(address, args, 0, 1)
    return command if not args or args[0] is None or truth(address, args[0]) else None


def one_name(what: str, make: Callable[[str], Command]) -> Builder:
    def build(address: str, _tail: str, args: Args) -> Command:
        count(address, args, 1, 1)
        return make(name(address, args[0], what))
    return build


def names(what: str, lo: int, make: Callable[[tuple[str, ...]], Command]) -> Builder:
    def build(address: str, _tail: str, args: Args) -> Command:
        count(address, args, lo, MAX_LIST)
        return make(tuple(name(address, a, what) for a in args))
    return build


def one_number(make: Callable[[float], Command]) -> Builder:
    def build(address: str, _tail: str, args: Args) -> Command:
        count(address, args, 1, 1)
        return make(float(number(address, args[0])))
    return build


